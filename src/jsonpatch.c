#include "config.h"

#include "jsonpatch.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsontree.h"
#include "xalloc.h"

/* Client text quoted in a message: at most this many bytes, then "...". */
#define JP_QUOTE_MAX 64

enum jp_op { JP_ADD, JP_REMOVE, JP_REPLACE, JP_TEST, JP_UNSUPPORTED };

static const char *const jp_op_names[] = {
	[JP_ADD] = "add",
	[JP_REMOVE] = "remove",
	[JP_REPLACE] = "replace",
	[JP_TEST] = "test",
};

/* ---- Messages --------------------------------------------------------------------------- */

/*
 * Client text fit for a message: whole UTF-8 characters only (a cut never splits one, so the
 * message stays valid UTF-8 for the JSON and XML writers), control characters (C0, DEL, C1) and
 * bytes that are not UTF-8 as '?', and "..." past JP_QUOTE_MAX bytes.
 */
static void
jp_quote(char out[JP_QUOTE_MAX + 4], const char *s)
{
	size_t len = strlen(s), i = 0, o = 0;

	while (i < len) {
		size_t n = jsontree_utf8_char(s + i, len - i);
		unsigned char c = (unsigned char)s[i];
		bool control = c < 0x20 || c == 0x7f ||
		    (n == 2 && c == 0xc2 && (unsigned char)s[i + 1] < 0xa0);

		if (o + (n == 0 || control ? 1 : n) > JP_QUOTE_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0 || control) {
			out[o++] = '?';
			i += n == 0 ? 1 : n;
		} else {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
}

static enum jsonpatch_result
jp_fail(enum jsonpatch_result r, char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum jsonpatch_result
jp_fail(enum jsonpatch_result r, char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (msg == NULL || msglen == 0)
		return r;
	va_start(ap, fmt);
	n = vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n >= msglen) {
		/* Cut short by a small buffer: drop a character the cut split. */
		size_t end = strlen(msg), start = end;

		while (start > 0 && ((unsigned char)msg[start - 1] & 0xc0) == 0x80)
			start--;
		if (start > 0 && jsontree_utf8_char(msg + start - 1, end - start + 1) == 0)
			msg[start - 1] = '\0';
	}
	return r;
}

/* ---- JSON Pointer (RFC 6901) ------------------------------------------------------------ */

struct jp_pointer {
	const char *next;   /* the next token's first byte, NULL when there are no more */
	char *token;        /* the token last read, unescaped; room for the whole path */
};

/* "~" only as "~0" (for '~') and "~1" (for '/'). */
static bool
jp_pointer_valid(const char *path)
{
	for (const char *p = strchr(path, '~'); p != NULL; p = strchr(p + 1, '~')) {
		if (p[1] != '0' && p[1] != '1')
			return false;
	}
	return true;
}

/* "" is the whole document; a path without its leading '/' is read as if it had one. */
static void
jp_pointer_init(struct jp_pointer *ptr, const char *path)
{
	ptr->token = xmalloc(strlen(path) + 1);
	ptr->token[0] = '\0';
	if (path[0] == '\0')
		ptr->next = NULL;
	else
		ptr->next = path[0] == '/' ? path + 1 : path;
}

/* Reads the next token (there must be one); false when it is the last. */
static bool
jp_pointer_next(struct jp_pointer *ptr)
{
	const char *p = ptr->next;
	size_t o = 0;

	while (*p != '\0' && *p != '/') {
		if (*p == '~') {
			ptr->token[o++] = p[1] == '0' ? '~' : '/';
			p += 2;
		} else {
			ptr->token[o++] = *p++;
		}
	}
	ptr->token[o] = '\0';
	ptr->next = *p == '/' ? p + 1 : NULL;
	return ptr->next != NULL;
}

enum jp_index { JP_INDEX_OK, JP_INDEX_DASH, JP_INDEX_BAD };

/* An array index: decimal, no sign, no leading zero; too large ones saturate (out of range). */
static enum jp_index
jp_index(const char *token, size_t *index)
{
	size_t v = 0;

	if (strcmp(token, "-") == 0)
		return JP_INDEX_DASH;
	if (token[0] == '\0' || (token[0] == '0' && token[1] != '\0'))
		return JP_INDEX_BAD;
	for (const char *p = token; *p != '\0'; p++) {
		size_t d;

		if (*p < '0' || *p > '9')
			return JP_INDEX_BAD;
		d = (size_t)(*p - '0');
		v = v > (SIZE_MAX - d) / 10 ? SIZE_MAX : v * 10 + d;
	}
	*index = v;
	return JP_INDEX_OK;
}

enum jp_walk { JP_FOUND, JP_MISSING, JP_BAD_INDEX };

/*
 * Follows every token but the last from root. On JP_FOUND, *parent is the array or object the
 * last token (left in ptr->token) names a place in, or NULL for the whole-document path, and
 * *depth counts the containers from the root down to *parent, both included.
 */
static enum jp_walk
jp_walk(yajl_val root, struct jp_pointer *ptr, yajl_val *parent, long *depth)
{
	yajl_val cur = root;

	*parent = NULL;
	*depth = 0;
	if (ptr->next == NULL)
		return JP_FOUND;
	for (;;) {
		bool more = jp_pointer_next(ptr);
		size_t i = 0;

		if (YAJL_IS_OBJECT(cur)) {
			(*depth)++;
			if (!more)
				break;
			cur = jsontree_member(cur, ptr->token, NULL);
			if (cur == NULL)
				return JP_MISSING;
		} else if (YAJL_IS_ARRAY(cur)) {
			(*depth)++;
			if (!more)
				break;
			switch (jp_index(ptr->token, &i)) {
			case JP_INDEX_BAD:
				return JP_BAD_INDEX;
			case JP_INDEX_DASH:
				return JP_MISSING;
			case JP_INDEX_OK:
				if (i >= cur->u.array.len)
					return JP_MISSING;
				cur = cur->u.array.values[i];
				break;
			}
		} else {
			return JP_MISSING;
		}
	}
	*parent = cur;
	return JP_FOUND;
}

/* ---- JSON Patch (RFC 6902) -------------------------------------------------------------- */

/* The operation being checked or applied, for its messages. */
struct jp_op_ctx {
	size_t index;
	enum jp_op op;
	char path[JP_QUOTE_MAX + 4];   /* quoted */
	char *msg;
	size_t msglen;
};

/* A member of an operation object: false (with the message) when missing, repeated or mistyped. */
static bool
jp_field(struct jp_op_ctx *c, yajl_val op, const char *name, bool string, yajl_val *out)
{
	bool duplicate;

	*out = jsontree_member(op, name, &duplicate);
	if (duplicate) {
		jp_fail(JSONPATCH_INVALID, c->msg, c->msglen, "Operation %zu has more than one \"%s\".",
		    c->index, name);
		return false;
	}
	if (*out == NULL) {
		if (c->op == JP_UNSUPPORTED)
			jp_fail(JSONPATCH_INVALID, c->msg, c->msglen, "Operation %zu has no \"%s\".", c->index,
			    name);
		else
			jp_fail(JSONPATCH_INVALID, c->msg, c->msglen, "Operation %zu (\"%s\") has no \"%s\".",
			    c->index, jp_op_names[c->op], name);
		return false;
	}
	if (string && !YAJL_IS_STRING(*out)) {
		jp_fail(JSONPATCH_INVALID, c->msg, c->msglen, "Operation %zu: \"%s\" must be a string.",
		    c->index, name);
		return false;
	}
	return true;
}

static enum jsonpatch_result
jp_missing(struct jp_op_ctx *c)
{
	return jp_fail(JSONPATCH_INVALID, c->msg, c->msglen,
	    "Operation %zu: the path \"%s\" does not exist.", c->index, c->path);
}

/* Whether value may go where its parent sits at depth, with the message when not. */
static bool
jp_depth_ok(struct jp_op_ctx *c, yajl_val value, long depth)
{
	if (!jsontree_deeper_than(value, JSONPATCH_MAX_DEPTH - depth))
		return true;
	jp_fail(JSONPATCH_INVALID, c->msg, c->msglen,
	    "Operation %zu: the result would nest deeper than %d levels.", c->index,
	    JSONPATCH_MAX_DEPTH);
	return false;
}

static enum jsonpatch_result
jp_test_result(struct jp_op_ctx *c, yajl_val target, yajl_val value)
{
	if (jsontree_equal(target, value))
		return JSONPATCH_OK;
	return jp_fail(JSONPATCH_TEST_FAILED, c->msg, c->msglen,
	    "Operation %zu (\"test\") failed: the value at \"%s\" is different.", c->index, c->path);
}

/* The operation at the whole document. */
static enum jsonpatch_result
jp_at_root(struct jp_op_ctx *c, yajl_val *doc, yajl_val value)
{
	switch (c->op) {
	case JP_ADD:
	case JP_REPLACE:
		if (!jp_depth_ok(c, value, 0))
			return JSONPATCH_INVALID;
		yajl_tree_free(*doc);
		*doc = jsontree_clone(value);
		return JSONPATCH_OK;
	case JP_REMOVE:
		return jp_fail(JSONPATCH_INVALID, c->msg, c->msglen,
		    "Operation %zu: the whole document cannot be removed.", c->index);
	case JP_TEST:
		return jp_test_result(c, *doc, value);
	case JP_UNSUPPORTED:
		break;
	}
	return JSONPATCH_INVALID;
}

static enum jsonpatch_result
jp_in_object(struct jp_op_ctx *c, yajl_val object, const char *name, yajl_val value, long depth)
{
	size_t i;

	if (c->op == JP_ADD) {
		if (!jp_depth_ok(c, value, depth))
			return JSONPATCH_INVALID;
		jsontree_object_set(object, name, jsontree_clone(value));
		return JSONPATCH_OK;
	}
	if (!jsontree_member_index(object, name, &i))
		return jp_missing(c);
	switch (c->op) {
	case JP_REPLACE:
		if (!jp_depth_ok(c, value, depth))
			return JSONPATCH_INVALID;
		jsontree_object_set_at(object, i, jsontree_clone(value));
		return JSONPATCH_OK;
	case JP_REMOVE:
		jsontree_object_remove_at(object, i);
		return JSONPATCH_OK;
	case JP_TEST:
		return jp_test_result(c, object->u.object.values[i], value);
	case JP_ADD:
	case JP_UNSUPPORTED:
		break;
	}
	return JSONPATCH_INVALID;
}

static enum jsonpatch_result
jp_in_array(struct jp_op_ctx *c, yajl_val array, const char *token, yajl_val value, long depth)
{
	size_t i = 0, len = array->u.array.len;

	switch (jp_index(token, &i)) {
	case JP_INDEX_BAD:
		return jp_fail(JSONPATCH_INVALID, c->msg, c->msglen,
		    "Operation %zu: the path \"%s\" has an invalid array index.", c->index, c->path);
	case JP_INDEX_DASH:
		/* "-" is the place after the last element: only add can go there. */
		if (c->op != JP_ADD)
			return jp_missing(c);
		i = len;
		break;
	case JP_INDEX_OK:
		if (i > len || (i == len && c->op != JP_ADD))
			return jp_missing(c);
		break;
	}
	switch (c->op) {
	case JP_ADD:
		if (!jp_depth_ok(c, value, depth))
			return JSONPATCH_INVALID;
		jsontree_array_insert(array, i, jsontree_clone(value));
		return JSONPATCH_OK;
	case JP_REPLACE:
		if (!jp_depth_ok(c, value, depth))
			return JSONPATCH_INVALID;
		jsontree_array_set(array, i, jsontree_clone(value));
		return JSONPATCH_OK;
	case JP_REMOVE:
		jsontree_array_remove(array, i);
		return JSONPATCH_OK;
	case JP_TEST:
		return jp_test_result(c, array->u.array.values[i], value);
	case JP_UNSUPPORTED:
		break;
	}
	return JSONPATCH_INVALID;
}

static enum jp_op
jp_op_named(const char *name)
{
	/* ASP.NET parses the operation type ignoring case; so do we. */
	for (size_t i = 0; i < sizeof jp_op_names / sizeof jp_op_names[0]; i++) {
		if (jsontree_name_cmp(name, jp_op_names[i]) == 0)
			return (enum jp_op)i;
	}
	return JP_UNSUPPORTED;
}

/* An operation whose shape has been checked. */
struct jp_operation {
	enum jp_op op;
	const char *path;   /* the patch's */
	yajl_val value;     /* the patch's; NULL for remove */
};

/* Checks an operation object's shape, with the message when it is wrong. */
static bool
jp_check(struct jp_op_ctx *c, yajl_val op, struct jp_operation *out)
{
	yajl_val opv, pathv;

	if (!YAJL_IS_OBJECT(op)) {
		jp_fail(JSONPATCH_INVALID, c->msg, c->msglen, "Operation %zu is not a JSON object.", c->index);
		return false;
	}
	if (!jp_field(c, op, "op", true, &opv))
		return false;
	c->op = jp_op_named(opv->u.string);
	if (c->op == JP_UNSUPPORTED) {
		char name[JP_QUOTE_MAX + 4];

		jp_quote(name, opv->u.string);
		jp_fail(JSONPATCH_INVALID, c->msg, c->msglen,
		    "Operation %zu (\"%s\") is not supported: use add, replace, remove or test.", c->index,
		    name);
		return false;
	}
	if (!jp_field(c, op, "path", true, &pathv))
		return false;
	out->op = c->op;
	out->path = pathv->u.string;
	out->value = NULL;
	if (c->op != JP_REMOVE && !jp_field(c, op, "value", false, &out->value))
		return false;
	if (!jp_pointer_valid(out->path)) {
		jp_quote(c->path, out->path);
		jp_fail(JSONPATCH_INVALID, c->msg, c->msglen,
		    "Operation %zu: the path \"%s\" is not a valid JSON Pointer.", c->index, c->path);
		return false;
	}
	return true;
}

static enum jsonpatch_result
jp_perform(struct jp_op_ctx *c, yajl_val *doc, const struct jp_operation *o)
{
	struct jp_pointer ptr;
	enum jsonpatch_result r;
	yajl_val parent;
	long depth;

	jp_quote(c->path, o->path);
	jp_pointer_init(&ptr, o->path);
	switch (jp_walk(*doc, &ptr, &parent, &depth)) {
	case JP_FOUND:
		if (parent == NULL)
			r = jp_at_root(c, doc, o->value);
		else if (YAJL_IS_OBJECT(parent))
			r = jp_in_object(c, parent, ptr.token, o->value, depth);
		else
			r = jp_in_array(c, parent, ptr.token, o->value, depth);
		break;
	case JP_BAD_INDEX:
		r = jp_fail(JSONPATCH_INVALID, c->msg, c->msglen,
		    "Operation %zu: the path \"%s\" has an invalid array index.", c->index, c->path);
		break;
	case JP_MISSING:
	default:
		r = jp_missing(c);
		break;
	}
	free(ptr.token);
	return r;
}

enum jsonpatch_result
jsonpatch_apply(yajl_val *doc, yajl_val patch, char *msg, size_t msglen)
{
	struct jp_operation *ops;
	enum jsonpatch_result r = JSONPATCH_OK;
	size_t n;
	yajl_val work;

	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if (!YAJL_IS_ARRAY(patch))
		return jp_fail(JSONPATCH_INVALID, msg, msglen,
		    "The patch must be a JSON array of operations.");
	n = patch->u.array.len;
	if (n > JSONPATCH_MAX_OPERATIONS)
		return jp_fail(JSONPATCH_INVALID, msg, msglen, "The patch has more than %d operations.",
		    JSONPATCH_MAX_OPERATIONS);
	/*
	 * Every operation's shape first: a malformed patch is invalid (400) whatever its tests would
	 * have found (409), as it would be had it been refused while being read.
	 */
	ops = xmalloc(n * sizeof *ops);
	for (size_t i = 0; i < n; i++) {
		struct jp_op_ctx c = { .index = i, .op = JP_UNSUPPORTED, .msg = msg, .msglen = msglen };

		if (!jp_check(&c, patch->u.array.values[i], &ops[i])) {
			free(ops);
			return JSONPATCH_INVALID;
		}
	}
	/* Atomic: the operations work on a copy, which replaces the document only if all succeed. */
	work = jsontree_clone(*doc);
	for (size_t i = 0; i < n && r == JSONPATCH_OK; i++) {
		struct jp_op_ctx c = { .index = i, .op = ops[i].op, .msg = msg, .msglen = msglen };

		r = jp_perform(&c, &work, &ops[i]);
	}
	free(ops);
	if (r != JSONPATCH_OK) {
		yajl_tree_free(work);
		return r;
	}
	yajl_tree_free(*doc);
	*doc = work;
	return JSONPATCH_OK;
}

/* ---- JSON Merge Patch (RFC 7386) -------------------------------------------------------- */

struct jp_member {
	const char *name;
	size_t index;
};

/* By name ignoring ASCII case, then by position: a name's first match sorts first. */
static int
jp_member_cmp(const void *x, const void *y)
{
	const struct jp_member *a = x, *b = y;
	int c = jsontree_name_cmp(a->name, b->name);

	if (c != 0)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

static struct jp_member *
jp_sorted(yajl_val object)
{
	size_t n = object->u.object.len;
	struct jp_member *m = xmalloc(n * sizeof *m);

	for (size_t i = 0; i < n; i++) {
		m[i].name = object->u.object.keys[i];
		m[i].index = i;
	}
	qsort(m, n, sizeof *m, jp_member_cmp);
	return m;
}

/* A member the patch adds to the target: appended in the patch's order once all are merged. */
struct jp_added {
	size_t order;        /* the position in the patch of the member that added it */
	const char *name;    /* the patch's */
	yajl_val value;
};

static int
jp_added_cmp(const void *x, const void *y)
{
	const struct jp_added *a = x, *b = y;

	return a->order < b->order ? -1 : a->order > b->order;
}

static yajl_val jp_merge(yajl_val target, yajl_val patch);

/*
 * RFC 7386 applies the patch's members one after the other, each finding its match in the target
 * as the earlier ones left it: n * m name comparisons, seconds for a large body. Sorting both
 * sides by name (ignoring case) gives the same result in n log n: each name's group of patch
 * members plays out in the patch's order against that name's group of target members, which only
 * those patch members can touch; then the target sheds the removed members (the others keep
 * their order) and gains the added ones, in the order the patch added them.
 */
static void
jp_merge_object(yajl_val target, yajl_val patch)
{
	size_t n = target->u.object.len, m = patch->u.object.len, i = 0, j = 0, nadded = 0;
	struct jp_member *t, *p;
	struct jp_added *added;
	bool *remove;

	if (m == 0)
		return;
	t = jp_sorted(target);
	p = jp_sorted(patch);
	remove = xcalloc(n, sizeof *remove);
	added = xmalloc(m * sizeof *added);
	while (j < m) {
		const char *name = p[j].name;
		size_t i_end, j_end;
		bool live;                       /* the target's members of this name are still there */
		struct jp_added *fresh = NULL;   /* this name's member added by the patch, if any */

		while (i < n && jsontree_name_cmp(t[i].name, name) < 0)
			i++;
		for (i_end = i; i_end < n && jsontree_name_cmp(t[i_end].name, name) == 0; i_end++)
			continue;
		for (j_end = j; j_end < m && jsontree_name_cmp(p[j_end].name, name) == 0; j_end++)
			continue;
		live = i < i_end;
		for (size_t k = j; k < j_end; k++) {
			yajl_val pv = patch->u.object.values[p[k].index];

			if (YAJL_IS_NULL(pv)) {
				/* null removes the name: every match, whatever its case. */
				for (size_t x = i; live && x < i_end; x++)
					remove[t[x].index] = true;
				live = false;
				if (fresh != NULL) {
					yajl_tree_free(fresh->value);
					nadded--;   /* fresh is the last one added */
					fresh = NULL;
				}
			} else if (live) {
				yajl_val *slot = &target->u.object.values[t[i].index];

				*slot = jp_merge(*slot, pv);
			} else if (fresh != NULL) {
				fresh->value = jp_merge(fresh->value, pv);
			} else {
				fresh = &added[nadded++];
				fresh->order = p[k].index;
				fresh->name = p[k].name;
				fresh->value = jp_merge(NULL, pv);
			}
		}
		i = i_end;
		j = j_end;
	}
	jsontree_object_remove_marked(target, remove);
	qsort(added, nadded, sizeof *added, jp_added_cmp);
	for (size_t k = 0; k < nadded; k++)
		jsontree_object_append(target, added[k].name, added[k].value);
	free(added);
	free(remove);
	free(p);
	free(t);
}

/* MergePatch(Target, Patch) of RFC 7386: consumes target, borrows patch. */
static yajl_val
jp_merge(yajl_val target, yajl_val patch)
{
	if (!YAJL_IS_OBJECT(patch)) {
		yajl_tree_free(target);
		return jsontree_clone(patch);
	}
	if (!YAJL_IS_OBJECT(target)) {
		yajl_tree_free(target);
		target = jsontree_new_object();
	}
	jp_merge_object(target, patch);
	return target;
}

void
jsonpatch_merge(yajl_val *doc, yajl_val patch)
{
	*doc = jp_merge(*doc, patch);
}
