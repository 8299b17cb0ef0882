/* jsontree (strict parsing, lookup, equality, editing) and jsonpatch (RFC 6902 and RFC 7386). */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "buf.h"
#include "emit.h"
#include "jsonpatch.h"
#include "jsontree.h"
#include "xalloc.h"

#define DEPTH 32

static yajl_val
parse_ok(const char *text)
{
	char err[JSONTREE_ERR_SIZE];
	yajl_val v = jsontree_parse(text, strlen(text), DEPTH, err, sizeof err);

	if (v == NULL)
		fail_msg("cannot parse %s: %s", text, err);
	return v;
}

/* The compact JSON text of v, to free. */
static char *
text_of(yajl_val v)
{
	struct buf b;
	char *s;

	buf_init(&b);
	assert_true(json_value_text(v, &b));
	s = xstrdup(b.data);
	buf_free(&b);
	return s;
}

static void
assert_text(yajl_val v, const char *expected, size_t i)
{
	char *s = text_of(v);

	if (strcmp(s, expected) != 0)
		fail_msg("case %zu: got %s, expected %s", i, s, expected);
	free(s);
}

static bool
valid_utf8(const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		size_t n = jsontree_utf8_char(s + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* n opening brackets, then n closing ones. */
static char *
nested(const char *open, const char *close, size_t n)
{
	size_t lo = strlen(open), lc = strlen(close);
	char *s = xmalloc(n * (lo + lc) + 1), *p = s;

	for (size_t i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	for (size_t i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

/* ---- Parsing ---------------------------------------------------------------------------- */

struct parse_case {
	const char *text;
	size_t len;             /* 0: strlen(text) */
	const char *expected;   /* compact JSON, or NULL when refused */
	const char *err;        /* the message when refused; NULL: any "not valid JSON" one */
};

static void
test_parse_table(void **state)
{
	static const struct parse_case cases[] = {
		{ "{\"a\": [1, 2.5, -0, 1e3, true, false, null, \"x\"]}", 0,
		    "{\"a\":[1,2.5,-0,1e3,true,false,null,\"x\"]}", NULL },
		{ " \t\r\n 42 \n", 0, "42", NULL },
		{ "{}", 0, "{}", NULL },
		{ "[]", 0, "[]", NULL },
		{ "{\"\":1}", 0, "{\"\":1}", NULL },
		{ "{\"a\":1,\"a\":2}", 0, "{\"a\":1,\"a\":2}", NULL },       /* duplicates are kept */
		{ "\"caf\\u00e9 \\ud83d\\ude00\"", 0, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", NULL },
		{ "\"\xe2\x82\xac \xf4\x8f\xbf\xbf\"", 0, "\"\xe2\x82\xac \xf4\x8f\xbf\xbf\"", NULL },
		{ "\"\\\\u0000\"", 0, "\"\\\\u0000\"", NULL },               /* an escaped backslash, then text */
		{ "\"\\\\\\ud83d\\ude00\"", 0, "\"\\\\\xf0\x9f\x98\x80\"", NULL },
		{ "[\"a\\/b\\\"\\n\"]", 0, "[\"a/b\\\"\\n\"]", NULL },
		{ "", 0, NULL, "The body is empty." },
		{ " \r\n\t ", 0, NULL, "The body is empty." },
		{ "1\0", 2, NULL, "The body contains a NUL byte." },
		{ "\"a\0b\"", 5, NULL, "The body contains a NUL byte." },
		{ "{\"a\":1}\0", 8, NULL, "The body contains a NUL byte." },
		{ "\"\\\0\"", 4, NULL, "The body contains a NUL byte." },
		{ "\"\\u0000\"", 0, NULL, "The body contains an escaped NUL character (\\u0000)." },
		{ "{\"a\\u0000\":1}", 0, NULL, "The body contains an escaped NUL character (\\u0000)." },
		{ "/* c */ 1", 0, NULL, NULL },
		{ "1 // c", 0, NULL, NULL },
		{ "[1, # c\n 2]", 0, NULL, NULL },
		{ "[1,]", 0, NULL, "The body is not valid JSON (near byte 4)." },
		{ "{\"a\":1,}", 0, NULL, NULL },
		{ "{\"a\":1} x", 0, NULL, "The body is not valid JSON (near byte 9)." },
		{ "1 2", 0, NULL, "The body is not valid JSON (near byte 3)." },
		{ "{} {}", 0, NULL, NULL },
		{ "01", 0, NULL, NULL },
		{ "[01]", 0, NULL, NULL },
		{ "1.", 0, NULL, NULL },
		{ ".5", 0, NULL, NULL },
		{ "-", 0, NULL, NULL },
		{ "+1", 0, NULL, NULL },
		{ "NaN", 0, NULL, NULL },
		{ "Infinity", 0, NULL, NULL },
		{ "'a'", 0, NULL, NULL },
		{ "[1", 0, NULL, NULL },
		{ "{\"a\"}", 0, NULL, NULL },
		{ "{a:1}", 0, NULL, NULL },
		{ "tru", 0, NULL, NULL },
		{ "\"abc", 0, NULL, NULL },
		{ "\"a\tb\"", 0, NULL, NULL },                                 /* raw control character */
		{ "\v1", 0, NULL, "The body is not valid JSON (near byte 1)." }, /* yajl's whitespace, not JSON's */
		{ "[1,\f2]", 0, NULL, "The body is not valid JSON (near byte 4)." },
		{ "\"\xff\"", 0, NULL, NULL },                                 /* not UTF-8 */
		{ "\"\xc3\"", 0, NULL, NULL },                                 /* cut short */
		{ "\"\xc0\x80\"", 0, NULL, NULL },                             /* overlong NUL */
		{ "\"\xe0\x80\xaf\"", 0, NULL, NULL },                         /* overlong '/' */
		{ "\"\xed\xa0\x80\"", 0, NULL, NULL },                         /* an encoded surrogate */
		{ "\"\xf4\x90\x80\x80\"", 0, NULL, NULL },                     /* past U+10FFFF */
		{ "{\"\xc0\xaf\":1}", 0, NULL, NULL },                         /* in a member name */
		{ "\"\\ud800\"", 0, NULL, "The body is not valid JSON (near byte 2)." },  /* lone high */
		{ "\"\\udc00\"", 0, NULL, NULL },                              /* lone low */
		{ "\"\\ud800\\u0041\"", 0, NULL, NULL },                       /* high, then not low */
		{ "\"\\ud800x\"", 0, NULL, NULL },
		{ "[\"\\ud83d\"]", 0, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct parse_case *c = &cases[i];
		char err[JSONTREE_ERR_SIZE];
		yajl_val v = jsontree_parse(c->text, c->len ? c->len : strlen(c->text), DEPTH, err, sizeof err);

		if (c->expected != NULL) {
			if (v == NULL)
				fail_msg("case %zu: refused: %s", i, err);
			assert_text(v, c->expected, i);
			yajl_tree_free(v);
			continue;
		}
		if (v != NULL)
			fail_msg("case %zu: accepted", i);
		if (c->err != NULL && strcmp(err, c->err) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, err, c->err);
		if (c->err == NULL && strncmp(err, "The body is not valid JSON (near byte ", 36) != 0)
			fail_msg("case %zu: got \"%s\"", i, err);
	}
}

static void
test_parse_depth(void **state)
{
	char err[JSONTREE_ERR_SIZE];
	char *s;
	yajl_val v;

	(void)state;
	s = nested("[", "]", DEPTH);
	v = jsontree_parse(s, strlen(s), DEPTH, err, sizeof err);
	assert_non_null(v);
	yajl_tree_free(v);
	free(s);

	s = nested("[", "]", DEPTH + 1);
	assert_null(jsontree_parse(s, strlen(s), DEPTH, err, sizeof err));
	assert_string_equal(err, "The JSON nests deeper than 32 levels.");
	free(s);

	s = nested("{\"a\":", "}", DEPTH + 1);
	assert_null(jsontree_parse(s, strlen(s), DEPTH, err, sizeof err));
	assert_string_equal(err, "The JSON nests deeper than 32 levels.");
	free(s);

	/* 60 KiB of brackets: stopped at level 33, long before the text ends. */
	s = xmalloc(61441);
	memset(s, '[', 61440);
	s[61440] = '\0';
	assert_null(jsontree_parse(s, 61440, DEPTH, err, sizeof err));
	assert_string_equal(err, "The JSON nests deeper than 32 levels.");
	memcpy(s, "[{\"a\":[1,", 9);
	assert_null(jsontree_parse(s, 61440, DEPTH, err, sizeof err));
	assert_string_equal(err, "The JSON nests deeper than 32 levels.");
	free(s);

	/* Depth 0 allows scalars only. */
	v = jsontree_parse("\"x\"", 3, 0, err, sizeof err);
	assert_non_null(v);
	yajl_tree_free(v);
	assert_null(jsontree_parse("[]", 2, 0, err, sizeof err));
	assert_string_equal(err, "The JSON nests deeper than 0 levels.");

	/* A partial tree is freed on any error (ASan checks), and err may be left out. */
	assert_null(jsontree_parse("{\"a\":[1,{\"b\":\"c\",\"d\":[true", 25, DEPTH, NULL, 0));
	assert_null(jsontree_parse("{\"a\":[1,{\"b\":\"c\",\"d\":\"\xff\"}]}", 27, DEPTH, err, 4));
	assert_string_equal(err, "The");
}

static void
test_parse_numbers(void **state)
{
	yajl_val v;

	(void)state;
	v = parse_ok("[9223372036854775807, -9223372036854775808, 9223372036854775808, "
	    "123456789012345678901234567890, 1.5, 1e400, -0, 1E2, 1e-400, -12]");
	assert_int_equal(v->u.array.len, 10);

	assert_true(YAJL_IS_INTEGER(v->u.array.values[0]));
	assert_true(v->u.array.values[0]->u.number.i == LLONG_MAX);
	assert_true(YAJL_IS_DOUBLE(v->u.array.values[0]));

	assert_true(YAJL_IS_INTEGER(v->u.array.values[1]));
	assert_true(v->u.array.values[1]->u.number.i == LLONG_MIN);

	/* One past LLONG_MAX: no integer, a double, the text kept. */
	assert_false(YAJL_IS_INTEGER(v->u.array.values[2]));
	assert_true(YAJL_IS_DOUBLE(v->u.array.values[2]));
	assert_string_equal(v->u.array.values[2]->u.number.r, "9223372036854775808");
	assert_false(YAJL_IS_INTEGER(v->u.array.values[3]));
	assert_string_equal(v->u.array.values[3]->u.number.r, "123456789012345678901234567890");

	assert_false(YAJL_IS_INTEGER(v->u.array.values[4]));
	assert_true(YAJL_IS_DOUBLE(v->u.array.values[4]));
	assert_true(v->u.array.values[4]->u.number.d == 1.5);

	/* Out of double's range: the text only. */
	assert_false(YAJL_IS_INTEGER(v->u.array.values[5]));
	assert_false(YAJL_IS_DOUBLE(v->u.array.values[5]));
	assert_string_equal(v->u.array.values[5]->u.number.r, "1e400");

	assert_true(YAJL_IS_INTEGER(v->u.array.values[6]));
	assert_true(v->u.array.values[6]->u.number.i == 0);
	assert_false(YAJL_IS_INTEGER(v->u.array.values[7]));
	assert_true(v->u.array.values[7]->u.number.d == 100.0);
	assert_true(YAJL_IS_DOUBLE(v->u.array.values[8]));   /* underflows to a finite 0 */
	assert_true(v->u.array.values[9]->u.number.i == -12);

	/* Written back as they came. */
	assert_text(v, "[9223372036854775807,-9223372036854775808,9223372036854775808,"
	    "123456789012345678901234567890,1.5,1e400,-0,1E2,1e-400,-12]", 0);
	yajl_tree_free(v);
}

/* ---- Lookup, equality, editing ---------------------------------------------------------- */

static void
test_member_lookup(void **state)
{
	yajl_val o = parse_ok("{\"Name\":1,\"name\":2,\"Other\":3,\"\xc3\x84" "b\":4,\"x_y\":5}");
	yajl_val m;
	bool dup = true;
	size_t i;

	(void)state;
	m = jsontree_member(o, "NAME", &dup);
	assert_non_null(m);
	assert_true(m->u.number.i == 1);   /* the first match */
	assert_true(dup);
	m = jsontree_member(o, "other", &dup);
	assert_true(m->u.number.i == 3);
	assert_false(dup);
	assert_non_null(jsontree_member(o, "name", NULL));
	assert_null(jsontree_member(o, "missing", &dup));
	assert_false(dup);
	/* ASCII only: "Ä" and "ä" are different names. */
	assert_null(jsontree_member(o, "\xc3\xa4" "b", NULL));
	assert_non_null(jsontree_member(o, "\xc3\x84" "B", NULL));
	/* '_' and DEL sit next to the letters, and are not letters. */
	assert_null(jsontree_member(o, "X\x7fY", NULL));
	assert_non_null(jsontree_member(o, "X_Y", NULL));
	assert_null(jsontree_member(o, "Nam", NULL));
	assert_null(jsontree_member(o, "Names", NULL));
	assert_true(jsontree_member_index(o, "OTHER", &i));
	assert_int_equal(i, 2);
	assert_false(jsontree_member_index(o, "nope", &i));
	/* Not an object. */
	assert_null(jsontree_member(o->u.object.values[0], "a", &dup));
	assert_false(dup);
	assert_null(jsontree_member(NULL, "a", NULL));
	assert_false(jsontree_member_index(NULL, "a", &i));
	yajl_tree_free(o);
}

struct equal_case {
	const char *a, *b;
	bool equal;
};

static void
test_equal_table(void **state)
{
	static const struct equal_case cases[] = {
		{ "{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2],\"a\":1}", true },
		{ "{\"a\":1}", "{\"A\":1}", false },                  /* names exactly */
		{ "{\"a\":1}", "{\"a\":1,\"b\":2}", false },
		{ "{\"a\":1,\"b\":2,\"c\":3}", "{\"c\":3,\"a\":1,\"b\":2}", true },
		{ "{\"a\":1,\"b\":2}", "{\"a\":1,\"c\":2}", false },
		{ "{\"a\":1,\"b\":2}", "{\"b\":1,\"a\":2}", false },
		{ "{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2}", true },
		{ "{\"x\":{\"y\":[1,{\"z\":null,\"w\":\"v\"}]}}", "{\"x\":{\"y\":[1,{\"w\":\"v\",\"z\":null}]}}", true },
		{ "{\"x\":{\"y\":[1,{\"z\":null}]}}", "{\"x\":{\"y\":[1,{\"z\":false}]}}", false },
		{ "[1,2]", "[2,1]", false },
		{ "[1,2]", "[1,2,3]", false },
		{ "[]", "[]", true },
		{ "{}", "{}", true },
		{ "{}", "[]", false },
		{ "1", "1.0", true },
		{ "1", "1e0", true },
		{ "100", "1E2", true },
		{ "0", "-0", true },
		{ "0.1", "0.10", true },
		{ "1", "2", false },
		{ "-9223372036854775808", "-9223372036854775808", true },
		{ "12345678901234567890", "12345678901234567890", true },
		{ "12345678901234567890", "12345678901234567891", false }, /* equal as doubles, not as numbers */
		{ "9223372036854775807", "9223372036854775808", false },
		{ "1e400", "1e400", true },
		{ "1e400", "2e400", false },
		{ "\"a\"", "\"a\"", true },
		{ "\"a\"", "\"b\"", false },
		{ "\"1\"", "1", false },
		{ "null", "false", false },
		{ "true", "true", true },
		{ "null", "null", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		yajl_val a = parse_ok(cases[i].a), b = parse_ok(cases[i].b);

		if (jsontree_equal(a, b) != cases[i].equal || jsontree_equal(b, a) != cases[i].equal)
			fail_msg("case %zu: %s vs %s", i, cases[i].a, cases[i].b);
		assert_true(jsontree_equal(a, a));
		yajl_tree_free(a);
		yajl_tree_free(b);
	}
	assert_true(jsontree_equal(NULL, NULL));
	{
		yajl_val v = parse_ok("null");

		assert_false(jsontree_equal(NULL, v));
		assert_false(jsontree_equal(v, NULL));
		yajl_tree_free(v);
	}
}

static void
test_clone_and_depth(void **state)
{
	const char *text = "{\"a\":[1,2.5,\"s\",{\"b\":null,\"c\":[true,false]}],\"d\":{},\"e\":[],"
	    "\"f\":12345678901234567890}";
	yajl_val v = parse_ok(text), c = jsontree_clone(v);

	(void)state;
	assert_true(jsontree_equal(v, c));
	yajl_tree_free(v);
	assert_text(c, text, 0);
	assert_true(YAJL_IS_INTEGER(c->u.object.values[0]->u.array.values[0]));
	assert_true(YAJL_IS_DOUBLE(c->u.object.values[0]->u.array.values[1]));
	assert_false(jsontree_deeper_than(c, 4));   /* object, array, object, array */
	assert_true(jsontree_deeper_than(c, 3));
	yajl_tree_free(c);
	assert_null(jsontree_clone(NULL));

	v = parse_ok("1");
	assert_false(jsontree_deeper_than(v, 0));
	assert_true(jsontree_deeper_than(v, -1));
	yajl_tree_free(v);
	v = parse_ok("[]");
	assert_false(jsontree_deeper_than(v, 1));
	assert_true(jsontree_deeper_than(v, 0));
	yajl_tree_free(v);
}

static void
test_build_and_edit(void **state)
{
	yajl_val o = jsontree_new_object(), a = jsontree_new_array();
	bool remove[6] = { false, true, false, true, false, false };

	(void)state;
	jsontree_object_append(o, "a", jsontree_new_null());
	jsontree_object_append(o, "b", jsontree_new_bool(true));
	jsontree_object_append(o, "s", jsontree_new_string("x\"y"));
	jsontree_object_append(o, "n", jsontree_new_integer(-5));
	jsontree_object_append(o, "o", jsontree_new_object());
	jsontree_object_append(o, "arr", a);
	assert_text(o, "{\"a\":null,\"b\":true,\"s\":\"x\\\"y\",\"n\":-5,\"o\":{},\"arr\":[]}", 0);
	assert_true(YAJL_IS_INTEGER(o->u.object.values[3]));
	assert_true(o->u.object.values[3]->u.number.d == -5.0);

	jsontree_object_set(o, "A", jsontree_new_bool(false));      /* replaces, keeps "a" */
	jsontree_object_set(o, "New", jsontree_new_integer(LLONG_MIN));
	assert_text(o, "{\"a\":false,\"b\":true,\"s\":\"x\\\"y\",\"n\":-5,\"o\":{},\"arr\":[],"
	    "\"New\":-9223372036854775808}", 1);
	jsontree_object_set_at(o, 4, jsontree_new_string(""));
	jsontree_object_remove_at(o, 6);
	jsontree_object_remove_at(o, 0);
	assert_text(o, "{\"b\":true,\"s\":\"x\\\"y\",\"n\":-5,\"o\":\"\",\"arr\":[]}", 2);

	jsontree_array_insert(a, 0, jsontree_new_integer(2));
	jsontree_array_insert(a, 0, jsontree_new_integer(0));
	jsontree_array_insert(a, 1, jsontree_new_integer(1));
	jsontree_array_insert(a, 3, jsontree_new_integer(3));
	assert_text(a, "[0,1,2,3]", 3);
	jsontree_array_set(a, 3, jsontree_new_string("three"));
	jsontree_array_remove(a, 0);
	jsontree_array_remove(a, 1);
	assert_text(a, "[1,\"three\"]", 4);
	jsontree_array_remove(a, 1);
	jsontree_array_remove(a, 0);
	assert_text(a, "[]", 5);
	jsontree_array_insert(a, 0, jsontree_new_null());

	jsontree_object_append(o, "z", jsontree_new_integer(9));
	jsontree_object_remove_marked(o, remove);
	assert_text(o, "{\"b\":true,\"n\":-5,\"arr\":[null],\"z\":9}", 6);
	memset(remove, 1, sizeof remove);
	jsontree_object_remove_marked(o, remove);
	assert_text(o, "{}", 7);
	jsontree_object_append(o, "again", jsontree_new_integer(1));
	assert_text(o, "{\"again\":1}", 8);
	yajl_tree_free(o);
}

/* ---- JSON Patch ------------------------------------------------------------------------- */

struct patch_case {
	const char *doc;
	const char *patch;
	enum jsonpatch_result expected;
	const char *result;   /* the document after; NULL: unchanged */
	const char *msg;      /* the message on failure; NULL: not checked */
};

#define OK JSONPATCH_OK
#define INVALID JSONPATCH_INVALID
#define FAILED JSONPATCH_TEST_FAILED

static void
check_patch(const struct patch_case *c, size_t i)
{
	yajl_val doc = parse_ok(c->doc), patch = parse_ok(c->patch);
	char msg[JSONPATCH_MSG_SIZE] = "junk";
	enum jsonpatch_result r = jsonpatch_apply(&doc, patch, msg, sizeof msg);

	if (r != c->expected)
		fail_msg("case %zu: got %d (%s), expected %d", i, (int)r, msg, (int)c->expected);
	if (r == JSONPATCH_OK) {
		assert_string_equal(msg, "");
		assert_text(doc, c->result != NULL ? c->result : c->doc, i);
	} else {
		/* Atomic: not a byte of the document changed. */
		assert_text(doc, c->doc, i);
		if (c->msg != NULL && strcmp(msg, c->msg) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, msg, c->msg);
		if (msg[0] == '\0' || !valid_utf8(msg))
			fail_msg("case %zu: a bad message", i);
	}
	yajl_tree_free(doc);
	yajl_tree_free(patch);
}

static void
test_patch_rfc6902(void **state)
{
	/* RFC 6902, appendix A, as far as add, remove, replace and test go. */
	static const struct patch_case cases[] = {
		/* A.1 */
		{ "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]", OK,
		    "{\"foo\":\"bar\",\"baz\":\"qux\"}", NULL },
		/* A.2 */
		{ "{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]", OK,
		    "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", NULL },
		/* A.3 */
		{ "{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]", OK,
		    "{\"foo\":\"bar\"}", NULL },
		/* A.4 */
		{ "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]", OK,
		    "{\"foo\":[\"bar\",\"baz\"]}", NULL },
		/* A.5 */
		{ "{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
		    OK, "{\"baz\":\"boo\",\"foo\":\"bar\"}", NULL },
		/* A.8 */
		{ "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
		    "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
		    "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]", OK, NULL, NULL },
		/* A.9 */
		{ "{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", FAILED, NULL,
		    "Operation 0 (\"test\") failed: the value at \"/baz\" is different." },
		/* A.10 */
		{ "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]", OK,
		    "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}", NULL },
		/* A.11 */
		{ "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]", OK,
		    "{\"foo\":\"bar\",\"baz\":\"qux\"}", NULL },
		/* A.12 */
		{ "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", INVALID, NULL,
		    "Operation 0: the path \"/baz/bat\" does not exist." },
		/* A.13 */
		{ "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"op\":\"remove\"}]",
		    INVALID, NULL, "Operation 0 has more than one \"op\"." },
		/* A.14 */
		{ "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]", OK, NULL, NULL },
		/* A.15 */
		{ "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", FAILED, NULL,
		    "Operation 0 (\"test\") failed: the value at \"/~01\" is different." },
		/* A.16 */
		{ "{\"foo\":[\"bar\"]}", "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]", OK,
		    "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_patch(&cases[i], i);
}

static void
test_patch_table(void **state)
{
	static const struct patch_case cases[] = {
		/* 0: escapes */
		{ "{\"/\":9}", "[{\"op\":\"replace\",\"path\":\"/~1\",\"value\":1}]", OK, "{\"/\":1}", NULL },
		{ "{\"a~b\":9}", "[{\"op\":\"remove\",\"path\":\"/a~0b\"}]", OK, "{}", NULL },
		{ "{\"a/b\":{\"~\":1}}", "[{\"op\":\"replace\",\"path\":\"a~1b/~0\",\"value\":2}]", OK,
		    "{\"a/b\":{\"~\":2}}", NULL },
		{ "{}", "[{\"op\":\"add\",\"path\":\"/~1~0~01\",\"value\":1}]", OK, "{\"/~~1\":1}", NULL },
		{ "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/a~2\"}]", INVALID, NULL,
		    "Operation 0: the path \"/a~2\" is not a valid JSON Pointer." },
		{ "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/a~\"}]", INVALID, NULL,
		    "Operation 0: the path \"/a~\" is not a valid JSON Pointer." },
		/* 6: the leading slash is optional; "" is the document, "/" the member "" */
		{ "{\"Name\":\"x\"}", "[{\"op\":\"replace\",\"path\":\"Name\",\"value\":\"y\"}]", OK,
		    "{\"Name\":\"y\"}", NULL },
		{ "{\"o\":{\"a\":[1]}}", "[{\"op\":\"add\",\"path\":\"o/a/0\",\"value\":0}]", OK,
		    "{\"o\":{\"a\":[0,1]}}", NULL },
		{ "{\"\":1,\"a\":2}", "[{\"op\":\"test\",\"path\":\"/\",\"value\":1},"
		    "{\"op\":\"replace\",\"path\":\"/\",\"value\":3}]", OK, "{\"\":3,\"a\":2}", NULL },
		{ "{\"a\":{\"\":{\"\":5}}}", "[{\"op\":\"remove\",\"path\":\"/a//\"}]", OK, "{\"a\":{\"\":{}}}",
		    NULL },
		{ "{\"a\":1}", "[{\"op\":\"test\",\"path\":\"\",\"value\":{\"a\":1.0}}]", OK, NULL, NULL },
		{ "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", OK, "[1]", NULL },
		{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":null}]", OK, "null", NULL },
		{ "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", INVALID, NULL,
		    "Operation 0: the whole document cannot be removed." },
		{ "{\"a\":1}", "[{\"op\":\"test\",\"path\":\"\",\"value\":{}}]", FAILED, NULL,
		    "Operation 0 (\"test\") failed: the value at \"\" is different." },
		/* 15: member names match case-insensitively */
		{ "{\"Name\":\"x\"}", "[{\"op\":\"replace\",\"path\":\"/NAME\",\"value\":\"y\"}]", OK,
		    "{\"Name\":\"y\"}", NULL },
		{ "{\"Name\":\"x\"}", "[{\"op\":\"add\",\"path\":\"/nAmE\",\"value\":\"z\"}]", OK,
		    "{\"Name\":\"z\"}", NULL },
		{ "{\"Name\":\"x\"}", "[{\"op\":\"add\",\"path\":\"/newOne\",\"value\":1}]", OK,
		    "{\"Name\":\"x\",\"newOne\":1}", NULL },
		{ "{\"Name\":\"x\",\"b\":1}", "[{\"op\":\"remove\",\"path\":\"/name\"}]", OK, "{\"b\":1}", NULL },
		{ "{\"Name\":\"x\"}", "[{\"op\":\"test\",\"path\":\"/NAME\",\"value\":\"x\"}]", OK, NULL, NULL },
		{ "{\"Outer\":{\"Inner\":[{\"Leaf\":1}]}}", "[{\"op\":\"replace\",\"path\":\"/outer/INNER/0/leaf\","
		    "\"value\":2}]", OK, "{\"Outer\":{\"Inner\":[{\"Leaf\":2}]}}", NULL },
		{ "{\"a\":1,\"A\":2}", "[{\"op\":\"remove\",\"path\":\"/A\"}]", OK, "{\"A\":2}", NULL },
		{ "{\"State\":\"Active\"}", "[{\"op\":\"test\",\"path\":\"/state\",\"value\":\"Stopped\"}]", FAILED,
		    NULL, "Operation 0 (\"test\") failed: the value at \"/state\" is different." },
		/* 23: arrays */
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":0}]", OK, "{\"a\":[0,1,2,3]}", NULL },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"add\",\"path\":\"/a/3\",\"value\":4}]", OK, "{\"a\":[1,2,3,4]}", NULL },
		{ "{\"a\":[]}", "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":1},{\"op\":\"add\",\"path\":\"/a/-\","
		    "\"value\":2}]", OK, "{\"a\":[1,2]}", NULL },
		{ "[1,2]", "[{\"op\":\"add\",\"path\":\"/-\",\"value\":3},{\"op\":\"remove\",\"path\":\"/0\"}]", OK,
		    "[2,3]", NULL },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"add\",\"path\":\"/a/4\",\"value\":4}]", INVALID, NULL,
		    "Operation 0: the path \"/a/4\" does not exist." },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"replace\",\"path\":\"/a/3\",\"value\":4}]", INVALID, NULL,
		    "Operation 0: the path \"/a/3\" does not exist." },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/-\"}]", INVALID, NULL,
		    "Operation 0: the path \"/a/-\" does not exist." },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"test\",\"path\":\"/a/-\",\"value\":3}]", INVALID, NULL, NULL },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":4}]", INVALID, NULL,
		    "Operation 0: the path \"/a/01\" has an invalid array index." },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/-1\"}]", INVALID, NULL,
		    "Operation 0: the path \"/a/-1\" has an invalid array index." },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/1a\"}]", INVALID, NULL, NULL },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/\"}]", INVALID, NULL, NULL },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/+1\"}]", INVALID, NULL, NULL },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/99999999999999999999999999\"}]", INVALID,
		    NULL, "Operation 0: the path \"/a/99999999999999999999999999\" does not exist." },
		{ "{\"a\":[1,2,3]}", "[{\"op\":\"replace\",\"path\":\"/a/2\",\"value\":{\"x\":[]}}]", OK,
		    "{\"a\":[1,2,{\"x\":[]}]}", NULL },
		{ "[[0],[1]]", "[{\"op\":\"remove\",\"path\":\"/1/0\"},{\"op\":\"test\",\"path\":\"/1\",\"value\":[]}]",
		    OK, "[[0],[]]", NULL },
		/* 39: paths that do not resolve */
		{ "{\"a\":[{\"b\":1}]}", "[{\"op\":\"replace\",\"path\":\"/a/0/b\",\"value\":2}]", OK,
		    "{\"a\":[{\"b\":2}]}", NULL },
		{ "{\"a\":[{\"b\":1}]}", "[{\"op\":\"add\",\"path\":\"/a/0/c/d\",\"value\":2}]", INVALID, NULL,
		    "Operation 0: the path \"/a/0/c/d\" does not exist." },
		{ "{\"a\":[{\"b\":1}]}", "[{\"op\":\"add\",\"path\":\"/a/0/b/c\",\"value\":2}]", INVALID, NULL,
		    "Operation 0: the path \"/a/0/b/c\" does not exist." },
		{ "{\"a\":[{\"b\":1}]}", "[{\"op\":\"add\",\"path\":\"/a/x/b\",\"value\":2}]", INVALID, NULL,
		    "Operation 0: the path \"/a/x/b\" has an invalid array index." },
		{ "{\"a\":[{\"b\":1}]}", "[{\"op\":\"remove\",\"path\":\"/c\"}]", INVALID, NULL,
		    "Operation 0: the path \"/c\" does not exist." },
		{ "{\"a\":[{\"b\":1}]}", "[{\"op\":\"replace\",\"path\":\"/c\",\"value\":1}]", INVALID, NULL,
		    "Operation 0: the path \"/c\" does not exist." },
		{ "{\"a\":[{\"b\":1}]}", "[{\"op\":\"test\",\"path\":\"/c\",\"value\":1}]", INVALID, NULL,
		    "Operation 0: the path \"/c\" does not exist." },
		{ "\"text\"", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]", INVALID, NULL,
		    "Operation 0: the path \"/a\" does not exist." },
		{ "{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/0\"},{\"op\":\"remove\",\"path\":\"/a/0\"}]",
		    INVALID, NULL, "Operation 1: the path \"/a/0\" does not exist." },
		/* 48: operation objects */
		{ "{}", "{\"op\":\"add\",\"path\":\"/a\",\"value\":1}", INVALID, NULL,
		    "The patch must be a JSON array of operations." },
		{ "{}", "[]", OK, NULL, NULL },
		{ "{}", "[1]", INVALID, NULL, "Operation 0 is not a JSON object." },
		{ "{}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1},[]]", INVALID, NULL,
		    "Operation 1 is not a JSON object." },
		{ "{}", "[{\"path\":\"/a\",\"value\":1}]", INVALID, NULL, "Operation 0 has no \"op\"." },
		{ "{}", "[{\"op\":5,\"path\":\"/a\",\"value\":1}]", INVALID, NULL,
		    "Operation 0: \"op\" must be a string." },
		{ "{}", "[{\"op\":\"add\",\"value\":1}]", INVALID, NULL, "Operation 0 (\"add\") has no \"path\"." },
		{ "{}", "[{\"op\":\"add\",\"path\":null,\"value\":1}]", INVALID, NULL,
		    "Operation 0: \"path\" must be a string." },
		{ "{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", INVALID, NULL,
		    "Operation 0 (\"add\") has no \"value\"." },
		{ "{}", "[{\"op\":\"test\",\"path\":\"/a\"}]", INVALID, NULL,
		    "Operation 0 (\"test\") has no \"value\"." },
		{ "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/a\"}]", INVALID, NULL,
		    "Operation 0 (\"replace\") has no \"value\"." },
		{ "{}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":null}]", OK, "{\"a\":null}", NULL },
		{ "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/a\",\"value\":[5]}]", OK, "{}", NULL },
		{ "{}", "[{\"OP\":\"ADD\",\"Path\":\"/a\",\"VALUE\":1}]", OK, "{\"a\":1}", NULL },
		{ "{}", "[{\"op\":\"add\",\"path\":\"/a\",\"PATH\":\"/b\",\"value\":1}]", INVALID, NULL,
		    "Operation 0 has more than one \"path\"." },
		{ "{}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1,\"Value\":2}]", INVALID, NULL,
		    "Operation 0 has more than one \"value\"." },
		{ "{}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1,\"from\":5}]", OK, "{\"a\":1}", NULL },
		/* 66: move, copy and unknown operations */
		{ "{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b\"}]", INVALID, NULL,
		    "Operation 0 (\"move\") is not supported: use add, replace, remove or test." },
		{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},{\"op\":\"remove\",\"path\":\"/a\"},"
		    "{\"op\":\"copy\",\"from\":\"/b\",\"path\":\"/c\"}]", INVALID, NULL,
		    "Operation 2 (\"copy\") is not supported: use add, replace, remove or test." },
		{ "{\"a\":1}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", INVALID, NULL,
		    "Operation 0 (\"frobnicate\") is not supported: use add, replace, remove or test." },
		{ "{\"a\":1}", "[{\"op\":\"\",\"path\":\"/a\"}]", INVALID, NULL,
		    "Operation 0 (\"\") is not supported: use add, replace, remove or test." },
		{ "{\"a\":1}", "[{\"op\":\"Move\"}]", INVALID, NULL,
		    "Operation 0 (\"Move\") is not supported: use add, replace, remove or test." },
		/* 71: a failed test after changes leaves the document as it was */
		{ "{\"State\":\"Active\",\"n\":1}", "[{\"op\":\"replace\",\"path\":\"/State\",\"value\":\"Stopped\"},"
		    "{\"op\":\"add\",\"path\":\"/x\",\"value\":[1]},"
		    "{\"op\":\"test\",\"path\":\"/n\",\"value\":2}]", FAILED, NULL,
		    "Operation 2 (\"test\") failed: the value at \"/n\" is different." },
		{ "{\"State\":\"Active\",\"n\":1}", "[{\"op\":\"test\",\"path\":\"/n\",\"value\":1.0},"
		    "{\"op\":\"replace\",\"path\":\"/State\",\"value\":\"Stopped\"},"
		    "{\"op\":\"test\",\"path\":\"/State\",\"value\":\"Stopped\"}]", OK,
		    "{\"State\":\"Stopped\",\"n\":1}", NULL },
		/* 73: a malformed operation anywhere makes the patch invalid, whatever the tests find */
		{ "{\"n\":1}", "[{\"op\":\"test\",\"path\":\"/n\",\"value\":2},{\"op\":\"move\",\"from\":\"/n\","
		    "\"path\":\"/m\"}]", INVALID, NULL,
		    "Operation 1 (\"move\") is not supported: use add, replace, remove or test." },
		{ "{\"n\":1}", "[{\"op\":\"test\",\"path\":\"/n\",\"value\":2},{\"op\":\"add\",\"path\":\"/~x\","
		    "\"value\":0}]", INVALID, NULL, "Operation 1: the path \"/~x\" is not a valid JSON Pointer." },
		{ "{\"n\":1}", "[{\"op\":\"test\",\"path\":\"/n\",\"value\":2},{\"op\":\"add\",\"path\":\"/m\"}]",
		    INVALID, NULL, "Operation 1 (\"add\") has no \"value\"." },
		/* 76: quoted text is made safe and short */
		{ "{}", "[{\"op\":\"remove\",\"path\":\"/a\\u0001b\\nc\\u007fd\\u0085e\"}]", INVALID, NULL,
		    "Operation 0: the path \"/a?b?c?d?e\" does not exist." },
		{ "{}", "[{\"op\":\"remove\",\"path\":\"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]",
		    INVALID, NULL, "Operation 0: the path \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" "
		    "does not exist." },
		{ "{}", "[{\"op\":\"remove\",\"path\":\"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\xc3\xa9\"}]",
		    INVALID, NULL, "Operation 0: the path \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9...\" "
		    "does not exist." },
		{ "{}", "[{\"op\":\"\\u0007\\u00e9\",\"path\":\"/a\"}]", INVALID, NULL,
		    "Operation 0 (\"?\xc3\xa9\") is not supported: use add, replace, remove or test." },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_patch(&cases[i], i);
}

static void
test_patch_limits(void **state)
{
	struct buf b;
	yajl_val doc, patch, value;
	char msg[JSONPATCH_MSG_SIZE], err[JSONTREE_ERR_SIZE];
	char *s;

	(void)state;
	/* 1000 operations pass, 1001 do not. */
	for (int n = 1000; n <= 1001; n++) {
		buf_init(&b);
		buf_append_str(&b, "[");
		for (int i = 0; i < n; i++)
			buf_append_str(&b, i ? ",{\"op\":\"add\",\"path\":\"/a/-\",\"value\":1}" :
			    "{\"op\":\"add\",\"path\":\"/a/-\",\"value\":1}");
		buf_append_str(&b, "]");
		doc = parse_ok("{\"a\":[]}");
		patch = parse_ok(b.data);
		if (n == 1000) {
			assert_int_equal(jsonpatch_apply(&doc, patch, msg, sizeof msg), JSONPATCH_OK);
			assert_int_equal(doc->u.object.values[0]->u.array.len, 1000);
		} else {
			assert_int_equal(jsonpatch_apply(&doc, patch, msg, sizeof msg), JSONPATCH_INVALID);
			assert_string_equal(msg, "The patch has more than 1000 operations.");
		}
		yajl_tree_free(doc);
		yajl_tree_free(patch);
		buf_free(&b);
	}

	/* A 32-deep document takes 32 more levels at its bottom, and not 33. */
	s = nested("[", "]", DEPTH);
	doc = parse_ok(s);
	free(s);
	for (int extra = DEPTH; extra <= DEPTH + 1; extra++) {
		enum jsonpatch_result r;

		buf_init(&b);
		buf_append_str(&b, "[{\"op\":\"add\",\"path\":\"");
		for (int i = 1; i < DEPTH; i++)
			buf_append_str(&b, "/0");
		buf_append_str(&b, "/-\",\"value\":");
		s = nested("[", "]", (size_t)extra);
		buf_append_str(&b, s);
		free(s);
		buf_append_str(&b, "}]");
		patch = jsontree_parse(b.data, b.len, DEPTH + 4, err, sizeof err);
		assert_non_null(patch);
		r = jsonpatch_apply(&doc, patch, msg, sizeof msg);
		if (extra == DEPTH) {
			assert_int_equal(r, JSONPATCH_OK);
			assert_false(jsontree_deeper_than(doc, JSONPATCH_MAX_DEPTH));
			assert_true(jsontree_deeper_than(doc, JSONPATCH_MAX_DEPTH - 1));
		} else {
			assert_int_equal(r, JSONPATCH_INVALID);
			assert_string_equal(msg, "Operation 0: the result would nest deeper than 64 levels.");
		}
		yajl_tree_free(patch);
		buf_free(&b);
	}
	/* The whole document too. */
	s = nested("[", "]", JSONPATCH_MAX_DEPTH + 1);
	value = jsontree_parse(s, strlen(s), 100, err, sizeof err);
	free(s);
	patch = parse_ok("[{\"op\":\"replace\",\"path\":\"\",\"value\":0}]");
	jsontree_object_remove_at(patch->u.array.values[0], 2);
	jsontree_object_append(patch->u.array.values[0], "value", value);
	assert_int_equal(jsonpatch_apply(&doc, patch, msg, sizeof msg), JSONPATCH_INVALID);
	assert_string_equal(msg, "Operation 0: the result would nest deeper than 64 levels.");
	yajl_tree_free(patch);
	yajl_tree_free(doc);

	/* Small message buffers: cut, terminated, never in the middle of a character. */
	doc = parse_ok("{}");
	patch = parse_ok("[{\"op\":\"remove\",\"path\":\"/\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}]");
	for (size_t len = 1; len <= 48; len++) {
		char *small = xmalloc(len);

		assert_int_equal(jsonpatch_apply(&doc, patch, small, len), JSONPATCH_INVALID);
		assert_true(strlen(small) < len);
		assert_true(valid_utf8(small));
		free(small);
	}
	assert_int_equal(jsonpatch_apply(&doc, patch, NULL, 0), JSONPATCH_INVALID);
	yajl_tree_free(patch);
	yajl_tree_free(doc);
}

/* Trees from yajl_tree_parse (empty containers without arrays) work the same. */
static void
test_patch_yajl_trees(void **state)
{
	char err[64], msg[JSONPATCH_MSG_SIZE];
	yajl_val doc = yajl_tree_parse("{\"a\":{},\"b\":[],\"c\":[1]}", err, sizeof err);
	yajl_val patch = parse_ok("[{\"op\":\"add\",\"path\":\"/a/x\",\"value\":1},"
	    "{\"op\":\"add\",\"path\":\"/b/0\",\"value\":2},{\"op\":\"remove\",\"path\":\"/c/0\"},"
	    "{\"op\":\"add\",\"path\":\"/c/-\",\"value\":3}]");

	(void)state;
	assert_non_null(doc);
	assert_int_equal(jsonpatch_apply(&doc, patch, msg, sizeof msg), JSONPATCH_OK);
	assert_text(doc, "{\"a\":{\"x\":1},\"b\":[2],\"c\":[3]}", 0);
	yajl_tree_free(patch);
	patch = yajl_tree_parse("{\"a\":null,\"d\":{}}", err, sizeof err);
	jsonpatch_merge(&doc, patch);
	assert_text(doc, "{\"b\":[2],\"c\":[3],\"d\":{}}", 1);
	yajl_tree_free(patch);
	yajl_tree_free(doc);
}

/* ---- Merge patch ------------------------------------------------------------------------ */

struct merge_case {
	const char *doc, *patch, *result;
};

static void
test_merge_table(void **state)
{
	static const struct merge_case cases[] = {
		/* 0: RFC 7386, appendix A */
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
		{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]" },
		{ "{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]" },
		{ "{\"a\":\"foo\"}", "null", "null" },
		{ "{\"a\":\"foo\"}", "\"bar\"", "\"bar\"" },
		{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
		{ "[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}" },
		/* 15: the RFC's section 3 example */
		{ "{\"title\":\"Goodbye!\",\"author\":{\"givenName\":\"John\",\"familyName\":\"Doe\"},"
		    "\"tags\":[\"example\",\"sample\"],\"content\":\"This will be unchanged\"}",
		    "{\"title\":\"Hello!\",\"phoneNumber\":\"+01-123-456-7890\",\"author\":{\"familyName\":null},"
		    "\"tags\":[\"example\"]}",
		    "{\"title\":\"Hello!\",\"author\":{\"givenName\":\"John\"},\"tags\":[\"example\"],"
		    "\"content\":\"This will be unchanged\",\"phoneNumber\":\"+01-123-456-7890\"}" },
		/* 16: names match case-insensitively */
		{ "{\"Name\":\"x\",\"Other\":1}", "{\"name\":\"y\"}", "{\"Name\":\"y\",\"Other\":1}" },
		{ "{\"Name\":\"x\",\"b\":1,\"NAME\":\"z\"}", "{\"name\":null}", "{\"b\":1}" },
		{ "{\"Name\":\"x\",\"NAME\":\"z\"}", "{\"nAme\":\"y\"}", "{\"Name\":\"y\",\"NAME\":\"z\"}" },
		{ "{\"A\":{\"x\":1}}", "{\"a\":{\"y\":2}}", "{\"A\":{\"x\":1,\"y\":2}}" },
		{ "{\"a\":1}", "{\"b\":1,\"B\":2}", "{\"a\":1,\"b\":2}" },
		{ "{\"a\":1}", "{\"b\":1,\"B\":null,\"b\":3}", "{\"a\":1,\"b\":3}" },
		{ "{\"a\":1}", "{\"A\":null,\"a\":2}", "{\"a\":2}" },
		{ "{\"a\":1}", "{\"b\":{\"x\":null,\"y\":1},\"B\":{\"z\":2}}", "{\"a\":1,\"b\":{\"y\":1,\"z\":2}}" },
		/* 24: order: the target's members keep theirs, added ones follow in the patch's */
		{ "{\"a\":1}", "{\"z\":1,\"b\":2,\"y\":3,\"A\":0}", "{\"a\":0,\"z\":1,\"b\":2,\"y\":3}" },
		{ "{\"c\":1,\"b\":2,\"a\":3}", "{\"b\":null,\"d\":4,\"C\":5}", "{\"c\":5,\"a\":3,\"d\":4}" },
		{ "{\"a\":1}", "{\"x\":1,\"y\":2,\"X\":null,\"x\":3}", "{\"a\":1,\"y\":2,\"x\":3}" },
		{ "{\"a\":1}", "{}", "{\"a\":1}" },
		{ "{\"a\":1}", "{\"q\":null}", "{\"a\":1}" },
		{ "\"s\"", "{}", "{}" },
		{ "{\"a\":{\"b\":{\"c\":1}}}", "{\"a\":{\"b\":5}}", "{\"a\":{\"b\":5}}" },
		{ "{\"a\":{\"b\":5}}", "{\"a\":{\"b\":{\"c\":null,\"d\":1}}}", "{\"a\":{\"b\":{\"d\":1}}}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		yajl_val doc = parse_ok(cases[i].doc), patch = parse_ok(cases[i].patch);
		char *before = text_of(patch);

		jsonpatch_merge(&doc, patch);
		assert_text(doc, cases[i].result, i);
		assert_text(patch, before, i);   /* the patch is only read */
		free(before);
		yajl_tree_free(doc);
		yajl_tree_free(patch);
	}
}

static void
test_merge_large(void **state)
{
	enum { N = 20000 };
	struct buf d, p;
	yajl_val doc, patch;
	char item[64];

	(void)state;
	/* The target's members k0..k(N-1); the patch removes the even ones (upper case), changes the
	 * odd ones and adds as many: linear-logarithmic, so quick. */
	buf_init(&d);
	buf_init(&p);
	buf_append_str(&d, "{");
	buf_append_str(&p, "{");
	for (int i = 0; i < N; i++) {
		snprintf(item, sizeof item, "%s\"k%d\":%d", i ? "," : "", i, i);
		buf_append_str(&d, item);
		if (i % 2 == 0)
			snprintf(item, sizeof item, "%s\"K%d\":null,\"n%d\":%d", i ? "," : "", i, i, i);
		else
			snprintf(item, sizeof item, ",\"K%d\":[%d]", i, i);
		buf_append_str(&p, item);
	}
	buf_append_str(&d, "}");
	buf_append_str(&p, "}");
	doc = parse_ok(d.data);
	patch = parse_ok(p.data);
	jsonpatch_merge(&doc, patch);
	assert_int_equal(doc->u.object.len, N);
	for (int i = 0; i < N / 2; i++) {
		yajl_val v = doc->u.object.values[i];

		snprintf(item, sizeof item, "k%d", 2 * i + 1);
		assert_string_equal(doc->u.object.keys[i], item);
		assert_true(YAJL_IS_ARRAY(v) && v->u.array.values[0]->u.number.i == 2 * i + 1);
		snprintf(item, sizeof item, "n%d", 2 * i);
		assert_string_equal(doc->u.object.keys[N / 2 + i], item);
	}
	yajl_tree_free(doc);
	yajl_tree_free(patch);
	buf_free(&d);
	buf_free(&p);
}

static void
test_merge_null_document(void **state)
{
	yajl_val doc = NULL, patch = parse_ok("{\"a\":null,\"b\":{\"c\":null,\"d\":1}}");

	(void)state;
	jsonpatch_merge(&doc, patch);
	assert_text(doc, "{\"b\":{\"d\":1}}", 0);
	yajl_tree_free(doc);
	yajl_tree_free(patch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_member_lookup),
		cmocka_unit_test(test_equal_table),
		cmocka_unit_test(test_clone_and_depth),
		cmocka_unit_test(test_build_and_edit),
		cmocka_unit_test(test_patch_rfc6902),
		cmocka_unit_test(test_patch_table),
		cmocka_unit_test(test_patch_limits),
		cmocka_unit_test(test_patch_yajl_trees),
		cmocka_unit_test(test_merge_table),
		cmocka_unit_test(test_merge_large),
		cmocka_unit_test(test_merge_null_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
