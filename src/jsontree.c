#include "config.h"

#include "jsontree.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "xalloc.h"

/*
 * Allocation follows yajl_tree.c, because yajl_tree_free() is what frees these trees: every node
 * is one malloc'd struct yajl_val_s; a string's u.string and a number's u.number.r are malloc'd;
 * an object's keys (each malloc'd) and values live in two malloc'd arrays of u.object.len
 * entries, an array's elements in one malloc'd array (NULL when empty, or any malloc'd block:
 * only free() ever sees them). Arrays may be larger than len: free() does not care.
 */

/* keys is const char ** in yajl's API, yet yajl_tree_free frees them: they are ours to free. */
static void
jt_free_key(const char *key)
{
	union {
		const char *c;
		char *m;
	} u = { .c = key };

	free(u.m);
}

static yajl_val
jt_node(yajl_type type)
{
	yajl_val v = xcalloc(1, sizeof *v);

	v->type = type;
	return v;
}

/* i and d of a number node from its text r, which yajl's lexer has checked is a JSON number. */
static void
jt_number_values(yajl_val v)
{
	char *end;
	long long i;
	double d;

	v->u.number.flags = 0;
	errno = 0;
	i = strtoll(v->u.number.r, &end, 10);
	if (errno == 0 && *end == '\0') {
		v->u.number.i = i;
		v->u.number.flags |= YAJL_NUMBER_INT_VALID;
	}
	/*
	 * strtod follows LC_NUMERIC. The service never leaves the C locale, and should a decimal
	 * comma ever be in force, the '.' would stop strtod early: *end is then not the end and the
	 * number merely lacks a double, rather than getting a wrong one.
	 */
	d = strtod(v->u.number.r, &end);
	if (*end == '\0' && isfinite(d)) {
		v->u.number.d = d;
		v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
	}
}

/* ---- Parsing ---------------------------------------------------------------------------- */

struct jt_frame {
	yajl_val v;    /* an open array or object, already linked into its parent */
	char *key;     /* an object's member name whose value has not come yet */
	size_t cap;    /* room in v's arrays */
};

enum jt_stop { JT_STOP_NONE, JT_STOP_DEPTH, JT_STOP_INVALID };

struct jt_parser {
	yajl_val root;              /* linked as soon as it starts, so one free releases it all */
	struct jt_frame *frames;
	size_t depth;               /* open containers */
	size_t frames_cap;
	size_t max_depth;
	enum jt_stop stop;          /* why a callback cancelled the parse */
};

/* Links v into the innermost open container, or makes it the root. */
static void
jt_add(struct jt_parser *p, yajl_val v)
{
	struct jt_frame *f;
	yajl_val c;

	if (p->depth == 0) {
		/* yajl refuses a second top-level value (no yajl_allow_multiple_values). */
		p->root = v;
		return;
	}
	f = &p->frames[p->depth - 1];
	c = f->v;
	if (c->type == yajl_t_object) {
		if (c->u.object.len == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 4;
			c->u.object.keys = xrealloc(c->u.object.keys, f->cap * sizeof *c->u.object.keys);
			c->u.object.values = xrealloc(c->u.object.values, f->cap * sizeof *c->u.object.values);
		}
		/* yajl calls map_key before every member value. */
		c->u.object.keys[c->u.object.len] = f->key;
		c->u.object.values[c->u.object.len] = v;
		c->u.object.len++;
		f->key = NULL;
	} else {
		if (c->u.array.len == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 4;
			c->u.array.values = xrealloc(c->u.array.values, f->cap * sizeof *c->u.array.values);
		}
		c->u.array.values[c->u.array.len++] = v;
	}
}

static int
jt_open(struct jt_parser *p, yajl_type type)
{
	yajl_val v;

	if (p->depth >= p->max_depth) {
		p->stop = JT_STOP_DEPTH;
		return 0;
	}
	v = jt_node(type);
	jt_add(p, v);
	if (p->depth == p->frames_cap) {
		p->frames_cap = p->frames_cap ? p->frames_cap * 2 : 8;
		p->frames = xrealloc(p->frames, p->frames_cap * sizeof *p->frames);
	}
	p->frames[p->depth].v = v;
	p->frames[p->depth].key = NULL;
	p->frames[p->depth].cap = 0;
	p->depth++;
	return 1;
}

static int
jt_close(struct jt_parser *p)
{
	struct jt_frame *f = &p->frames[p->depth - 1];
	yajl_val c = f->v;

	/* Give back the growth slack: a stored tree may live as long as the process. */
	if (c->type == yajl_t_object && f->cap > c->u.object.len) {
		c->u.object.keys = xrealloc(c->u.object.keys, c->u.object.len * sizeof *c->u.object.keys);
		c->u.object.values = xrealloc(c->u.object.values,
		    c->u.object.len * sizeof *c->u.object.values);
	} else if (c->type == yajl_t_array && f->cap > c->u.array.len) {
		c->u.array.values = xrealloc(c->u.array.values, c->u.array.len * sizeof *c->u.array.values);
	}
	p->depth--;
	return 1;
}

/* A decoded string or member name: strict UTF-8 and no NUL (see jt_prescan for why). */
static bool
jt_string_ok(const unsigned char *s, size_t len)
{
	const char *c = (const char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = c[i] == '\0' ? 0 : jsontree_utf8_char(c + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static int
jt_on_null(void *ctx)
{
	jt_add(ctx, jt_node(yajl_t_null));
	return 1;
}

static int
jt_on_boolean(void *ctx, int value)
{
	jt_add(ctx, jt_node(value ? yajl_t_true : yajl_t_false));
	return 1;
}

static int
jt_on_number(void *ctx, const char *s, size_t len)
{
	yajl_val v = jt_node(yajl_t_number);

	v->u.number.r = xstrndup(s, len);
	jt_number_values(v);
	jt_add(ctx, v);
	return 1;
}

static int
jt_on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct jt_parser *p = ctx;
	yajl_val v;

	if (!jt_string_ok(s, len)) {
		p->stop = JT_STOP_INVALID;
		return 0;
	}
	v = jt_node(yajl_t_string);
	v->u.string = xstrndup((const char *)s, len);
	jt_add(p, v);
	return 1;
}

static int
jt_on_key(void *ctx, const unsigned char *s, size_t len)
{
	struct jt_parser *p = ctx;

	if (!jt_string_ok(s, len)) {
		p->stop = JT_STOP_INVALID;
		return 0;
	}
	p->frames[p->depth - 1].key = xstrndup((const char *)s, len);
	return 1;
}

static int
jt_on_start_map(void *ctx)
{
	return jt_open(ctx, yajl_t_object);
}

static int
jt_on_start_array(void *ctx)
{
	return jt_open(ctx, yajl_t_array);
}

static int
jt_on_end(void *ctx)
{
	return jt_close(ctx);
}

static const yajl_callbacks jt_callbacks = {
	.yajl_null = jt_on_null,
	.yajl_boolean = jt_on_boolean,
	/* With yajl_number set, yajl hands over every number as its text, never converted. */
	.yajl_number = jt_on_number,
	.yajl_string = jt_on_string,
	.yajl_start_map = jt_on_start_map,
	.yajl_map_key = jt_on_key,
	.yajl_end_map = jt_on_end,
	.yajl_start_array = jt_on_start_array,
	.yajl_end_array = jt_on_end,
};

/* yajl's own buffers abort on out-of-memory like everything else, so yajl_alloc never fails. */
static void *
jt_yajl_malloc(void *ctx, size_t size)
{
	(void)ctx;
	return xmalloc(size);
}

static void *
jt_yajl_realloc(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	return xrealloc(ptr, size);
}

static void
jt_yajl_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static yajl_alloc_funcs jt_alloc_funcs = {
	.malloc = jt_yajl_malloc,
	.realloc = jt_yajl_realloc,
	.free = jt_yajl_free,
	.ctx = NULL,
};

static void
jt_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
jt_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
jt_hex4(const char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * What yajl lets through and strict JSON does not, found before yajl runs: a NUL byte (the text
 * reaches C strings, where it would cut everything after it), \v and \f (yajl takes them for
 * whitespace; inside a string they are raw control characters, which yajl refuses anyway), an
 * escaped NUL (our strings are C strings, and PostgreSQL's text and jsonb refuse it too) and a
 * lone surrogate escape (yajl silently turns it into '?'). Also tells an empty body apart.
 * A backslash is only ever followed as an escape: outside a string yajl refuses it.
 */
static bool
jt_prescan(const char *text, size_t len, char *err, size_t errlen)
{
	bool blank = true;
	size_t bad = 0;   /* the offending byte, counted from 1 */

	for (size_t i = 0; i < len && bad == 0; i++) {
		char c = text[i];
		int cp;

		if (c == '\0') {
			jt_err(err, errlen, "The body contains a NUL byte.");
			return false;
		}
		if (c == '\v' || c == '\f')
			bad = i + 1;
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			blank = false;
		if (c != '\\' || i + 1 >= len)
			continue;
		if (text[i + 1] != 'u' || len - i < 6 || (cp = jt_hex4(text + i + 2)) < 0) {
			/* Another escape, or a broken one that yajl reports: skipped, bar a NUL. */
			if (text[i + 1] != '\0')
				i++;
		} else if (cp == 0) {
			jt_err(err, errlen, "The body contains an escaped NUL character (\\u0000).");
			return false;
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			bad = i + 1;
		} else if (cp >= 0xd800 && cp <= 0xdbff) {
			if (len - i < 12 || text[i + 6] != '\\' || text[i + 7] != 'u' ||
			    jt_hex4(text + i + 8) < 0xdc00 || jt_hex4(text + i + 8) > 0xdfff)
				bad = i + 1;
			i += 11;
		} else {
			i += 5;
		}
	}
	if (bad != 0) {
		jt_err(err, errlen, "The body is not valid JSON (near byte %zu).", bad);
		return false;
	}
	if (blank) {
		jt_err(err, errlen, "The body is empty.");
		return false;
	}
	return true;
}

yajl_val
jsontree_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	struct jt_parser p = { .max_depth = max_depth > 0 ? (size_t)max_depth : 0 };
	yajl_handle h;
	yajl_status st;
	size_t at;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL)
		len = 0;
	if (!jt_prescan(text, len, err, errlen))
		return NULL;
	/* yajl's defaults are the strict ones: no comments, strings validated as UTF-8, one value. */
	h = yajl_alloc(&jt_callbacks, &jt_alloc_funcs, &p);
	st = yajl_parse(h, (const unsigned char *)text, len);
	/* Bytes consumed ends at or just before the offending token (yajl's lexer may step back over
	 * the character it rejects), so the message says "near". */
	at = yajl_get_bytes_consumed(h);
	if (st == yajl_status_ok) {
		st = yajl_complete_parse(h);
		at = len;
	}
	yajl_free(h);
	if (st == yajl_status_ok && p.root != NULL && p.depth == 0) {
		free(p.frames);
		return p.root;
	}
	if (p.stop == JT_STOP_DEPTH)
		jt_err(err, errlen, "The JSON nests deeper than %d levels.", max_depth > 0 ? max_depth : 0);
	else
		jt_err(err, errlen, "The body is not valid JSON (near byte %zu).", at > 0 ? at : 1);
	for (size_t i = 0; i < p.depth; i++)
		free(p.frames[i].key);
	free(p.frames);
	yajl_tree_free(p.root);
	return NULL;
}

/* ---- Lookup and comparison -------------------------------------------------------------- */

static unsigned char
jt_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

int
jsontree_name_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	while (*x != '\0' && jt_fold(*x) == jt_fold(*y)) {
		x++;
		y++;
	}
	return (int)jt_fold(*x) - (int)jt_fold(*y);
}

static bool
jt_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t
jsontree_utf8_char(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	if (n == 0)
		return 0;
	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		return n >= 2 && jt_cont(u[1]) ? 2 : 0;
	if (u[0] >= 0xe0 && u[0] <= 0xef) {
		if (n < 3 || !jt_cont(u[1]) || !jt_cont(u[2]))
			return 0;
		/* Overlong forms, and UTF-16 surrogates, are not UTF-8. */
		if ((u[0] == 0xe0 && u[1] < 0xa0) || (u[0] == 0xed && u[1] > 0x9f))
			return 0;
		return 3;
	}
	if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		if (n < 4 || !jt_cont(u[1]) || !jt_cont(u[2]) || !jt_cont(u[3]))
			return 0;
		/* Overlong forms, and anything past U+10FFFF. */
		if ((u[0] == 0xf0 && u[1] < 0x90) || (u[0] == 0xf4 && u[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

bool
jsontree_member_index(yajl_val object, const char *name, size_t *index)
{
	if (!YAJL_IS_OBJECT(object))
		return false;
	for (size_t i = 0; i < object->u.object.len; i++) {
		if (jsontree_name_cmp(object->u.object.keys[i], name) == 0) {
			*index = i;
			return true;
		}
	}
	return false;
}

yajl_val
jsontree_member(yajl_val object, const char *name, bool *duplicate)
{
	yajl_val found = NULL;

	if (duplicate != NULL)
		*duplicate = false;
	if (!YAJL_IS_OBJECT(object))
		return NULL;
	for (size_t i = 0; i < object->u.object.len; i++) {
		if (jsontree_name_cmp(object->u.object.keys[i], name) != 0)
			continue;
		if (found == NULL) {
			found = object->u.object.values[i];
			if (duplicate == NULL)
				break;
		} else {
			*duplicate = true;
			break;
		}
	}
	return found;
}

static bool
jt_integer_text(const char *r)
{
	return strpbrk(r, ".eE") == NULL;
}

static bool
jt_numbers_equal(yajl_val a, yajl_val b)
{
	unsigned int fa = a->u.number.flags, fb = b->u.number.flags;

	if ((fa & YAJL_NUMBER_INT_VALID) && (fb & YAJL_NUMBER_INT_VALID))
		return a->u.number.i == b->u.number.i;
	/* JSON spells an integer one way only (bar -0, which fits): exact where a double rounds. */
	if (jt_integer_text(a->u.number.r) && jt_integer_text(b->u.number.r))
		return strcmp(a->u.number.r, b->u.number.r) == 0;
	if ((fa & YAJL_NUMBER_DOUBLE_VALID) && (fb & YAJL_NUMBER_DOUBLE_VALID))
		return a->u.number.d == b->u.number.d;
	return strcmp(a->u.number.r, b->u.number.r) == 0;
}

struct jt_entry {
	const char *name;
	size_t index;
};

static int
jt_entry_cmp(const void *x, const void *y)
{
	const struct jt_entry *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	if (c != 0)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

static struct jt_entry *
jt_sorted_members(yajl_val object)
{
	size_t n = object->u.object.len;
	struct jt_entry *e = xmalloc(n * sizeof *e);

	for (size_t i = 0; i < n; i++) {
		e[i].name = object->u.object.keys[i];
		e[i].index = i;
	}
	qsort(e, n, sizeof *e, jt_entry_cmp);
	return e;
}

/*
 * Members pair up by name after a sort (by name, then position), which keeps a "test" on a large
 * object at n log n rather than n squared. Duplicate names pair up in their order.
 */
static bool
jt_objects_equal(yajl_val a, yajl_val b)
{
	size_t n = a->u.object.len;
	struct jt_entry *ea, *eb;
	bool equal = true;

	if (n != b->u.object.len)
		return false;
	if (n == 0)
		return true;
	if (n == 1)
		return strcmp(a->u.object.keys[0], b->u.object.keys[0]) == 0 &&
		    jsontree_equal(a->u.object.values[0], b->u.object.values[0]);
	ea = jt_sorted_members(a);
	eb = jt_sorted_members(b);
	for (size_t i = 0; i < n && equal; i++) {
		equal = strcmp(ea[i].name, eb[i].name) == 0 &&
		    jsontree_equal(a->u.object.values[ea[i].index], b->u.object.values[eb[i].index]);
	}
	free(ea);
	free(eb);
	return equal;
}

bool
jsontree_equal(yajl_val a, yajl_val b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case yajl_t_string:
		return strcmp(a->u.string, b->u.string) == 0;
	case yajl_t_number:
		return jt_numbers_equal(a, b);
	case yajl_t_object:
		return jt_objects_equal(a, b);
	case yajl_t_array:
		if (a->u.array.len != b->u.array.len)
			return false;
		for (size_t i = 0; i < a->u.array.len; i++) {
			if (!jsontree_equal(a->u.array.values[i], b->u.array.values[i]))
				return false;
		}
		return true;
	case yajl_t_true:
	case yajl_t_false:
	case yajl_t_null:
		return true;
	case yajl_t_any:
		break;
	}
	return false;
}

yajl_val
jsontree_clone(yajl_val v)
{
	yajl_val c;
	size_t n;

	if (v == NULL)
		return NULL;
	c = jt_node(v->type);
	switch (v->type) {
	case yajl_t_string:
		c->u.string = xstrdup(v->u.string);
		break;
	case yajl_t_number:
		c->u.number = v->u.number;
		c->u.number.r = xstrdup(v->u.number.r);
		break;
	case yajl_t_object:
		n = v->u.object.len;
		if (n == 0)
			break;
		c->u.object.keys = xmalloc(n * sizeof *c->u.object.keys);
		c->u.object.values = xmalloc(n * sizeof *c->u.object.values);
		for (size_t i = 0; i < n; i++) {
			c->u.object.keys[i] = xstrdup(v->u.object.keys[i]);
			c->u.object.values[i] = jsontree_clone(v->u.object.values[i]);
		}
		c->u.object.len = n;
		break;
	case yajl_t_array:
		n = v->u.array.len;
		if (n == 0)
			break;
		c->u.array.values = xmalloc(n * sizeof *c->u.array.values);
		for (size_t i = 0; i < n; i++)
			c->u.array.values[i] = jsontree_clone(v->u.array.values[i]);
		c->u.array.len = n;
		break;
	case yajl_t_true:
	case yajl_t_false:
	case yajl_t_null:
	case yajl_t_any:
		break;
	}
	return c;
}

bool
jsontree_deeper_than(yajl_val v, long depth)
{
	if (!YAJL_IS_OBJECT(v) && !YAJL_IS_ARRAY(v))
		return depth < 0;
	if (depth <= 0)
		return true;
	if (v->type == yajl_t_object) {
		for (size_t i = 0; i < v->u.object.len; i++) {
			if (jsontree_deeper_than(v->u.object.values[i], depth - 1))
				return true;
		}
	} else {
		for (size_t i = 0; i < v->u.array.len; i++) {
			if (jsontree_deeper_than(v->u.array.values[i], depth - 1))
				return true;
		}
	}
	return false;
}

/* ---- Construction ----------------------------------------------------------------------- */

yajl_val
jsontree_new_null(void)
{
	return jt_node(yajl_t_null);
}

yajl_val
jsontree_new_bool(bool value)
{
	return jt_node(value ? yajl_t_true : yajl_t_false);
}

yajl_val
jsontree_new_string(const char *s)
{
	yajl_val v = jt_node(yajl_t_string);

	v->u.string = xstrdup(s);
	return v;
}

yajl_val
jsontree_new_integer(long long value)
{
	yajl_val v = jt_node(yajl_t_number);
	char text[32];

	snprintf(text, sizeof text, "%lld", value);
	v->u.number.r = xstrdup(text);
	jt_number_values(v);
	return v;
}

yajl_val
jsontree_new_object(void)
{
	return jt_node(yajl_t_object);
}

yajl_val
jsontree_new_array(void)
{
	return jt_node(yajl_t_array);
}

/* ---- Changing containers ---------------------------------------------------------------- */

void
jsontree_object_append(yajl_val object, const char *name, yajl_val value)
{
	size_t n = object->u.object.len;

	object->u.object.keys = xrealloc(object->u.object.keys, (n + 1) * sizeof *object->u.object.keys);
	object->u.object.values = xrealloc(object->u.object.values,
	    (n + 1) * sizeof *object->u.object.values);
	object->u.object.keys[n] = xstrdup(name);
	object->u.object.values[n] = value;
	object->u.object.len = n + 1;
}

void
jsontree_object_set(yajl_val object, const char *name, yajl_val value)
{
	size_t i;

	if (jsontree_member_index(object, name, &i))
		jsontree_object_set_at(object, i, value);
	else
		jsontree_object_append(object, name, value);
}

void
jsontree_object_set_at(yajl_val object, size_t index, yajl_val value)
{
	yajl_tree_free(object->u.object.values[index]);
	object->u.object.values[index] = value;
}

/* An empty container holds no arrays, as yajl_tree_parse leaves it. */
static void
jt_object_emptied(yajl_val object)
{
	if (object->u.object.len == 0) {
		free(object->u.object.keys);
		free(object->u.object.values);
		object->u.object.keys = NULL;
		object->u.object.values = NULL;
	}
}

void
jsontree_object_remove_at(yajl_val object, size_t index)
{
	size_t tail = object->u.object.len - index - 1;

	jt_free_key(object->u.object.keys[index]);
	yajl_tree_free(object->u.object.values[index]);
	memmove(object->u.object.keys + index, object->u.object.keys + index + 1,
	    tail * sizeof *object->u.object.keys);
	memmove(object->u.object.values + index, object->u.object.values + index + 1,
	    tail * sizeof *object->u.object.values);
	object->u.object.len--;
	jt_object_emptied(object);
}

void
jsontree_object_remove_marked(yajl_val object, const bool *remove)
{
	size_t kept = 0;

	for (size_t i = 0; i < object->u.object.len; i++) {
		if (remove[i]) {
			jt_free_key(object->u.object.keys[i]);
			yajl_tree_free(object->u.object.values[i]);
		} else {
			object->u.object.keys[kept] = object->u.object.keys[i];
			object->u.object.values[kept] = object->u.object.values[i];
			kept++;
		}
	}
	object->u.object.len = kept;
	jt_object_emptied(object);
}

void
jsontree_array_insert(yajl_val array, size_t index, yajl_val value)
{
	size_t n = array->u.array.len;

	array->u.array.values = xrealloc(array->u.array.values, (n + 1) * sizeof *array->u.array.values);
	memmove(array->u.array.values + index + 1, array->u.array.values + index,
	    (n - index) * sizeof *array->u.array.values);
	array->u.array.values[index] = value;
	array->u.array.len = n + 1;
}

void
jsontree_array_set(yajl_val array, size_t index, yajl_val value)
{
	yajl_tree_free(array->u.array.values[index]);
	array->u.array.values[index] = value;
}

void
jsontree_array_remove(yajl_val array, size_t index)
{
	yajl_tree_free(array->u.array.values[index]);
	memmove(array->u.array.values + index, array->u.array.values + index + 1,
	    (array->u.array.len - index - 1) * sizeof *array->u.array.values);
	array->u.array.len--;
	if (array->u.array.len == 0) {
		free(array->u.array.values);
		array->u.array.values = NULL;
	}
}
