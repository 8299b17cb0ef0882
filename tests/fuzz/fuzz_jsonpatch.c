/* PATCH bodies: strict JSON parsing (jsontree), JSON Patch and merge patch (jsonpatch). The input
 * is a document and a patch split at the first NUL byte (without one, the input is both). Checks,
 * besides the sanitizers: a parsed tree writes out and parses back equal; a failed patch leaves
 * the document as it was and says why in clean UTF-8; a patched document can be written; the
 * sorted merge gives exactly what RFC 7386's member-by-member algorithm gives. */
#include "config.h"

#include "emit.h"
#include "fuzz_common.h"
#include "jsonpatch.h"
#include "jsontree.h"

#define DEPTH 32

/* The compact JSON text of v; every tree the code under test makes must be writable. */
static char *
text_of(yajl_val v)
{
	struct buf b;

	buf_init(&b);
	if (!json_value_text(v, &b))
		abort();
	return b.data;
}

/* A message: there, whole UTF-8, no control characters. */
static void
check_message(const char *m)
{
	size_t len = strlen(m);

	if (len == 0)
		abort();
	for (size_t i = 0; i < len;) {
		size_t n = jsontree_utf8_char(m + i, len - i);

		if (n == 0 || (unsigned char)m[i] < 0x20 || m[i] == 0x7f)
			abort();
		i += n;
	}
}

/* RFC 7386's MergePatch, one member after the other, names matched case-insensitively. */
static yajl_val
reference_merge(yajl_val target, yajl_val patch)
{
	if (!YAJL_IS_OBJECT(patch)) {
		yajl_tree_free(target);
		return jsontree_clone(patch);
	}
	if (!YAJL_IS_OBJECT(target)) {
		yajl_tree_free(target);
		target = jsontree_new_object();
	}
	for (size_t i = 0; i < patch->u.object.len; i++) {
		const char *name = patch->u.object.keys[i];
		yajl_val value = patch->u.object.values[i];
		size_t at;

		if (YAJL_IS_NULL(value)) {
			while (jsontree_member_index(target, name, &at))
				jsontree_object_remove_at(target, at);
		} else if (jsontree_member_index(target, name, &at)) {
			target->u.object.values[at] = reference_merge(target->u.object.values[at], value);
		} else {
			jsontree_object_append(target, name, reference_merge(NULL, value));
		}
	}
	return target;
}

static void
check_round_trip(yajl_val v)
{
	char err[JSONTREE_ERR_SIZE];
	char *text = text_of(v), *again;
	yajl_val back = jsontree_parse(text, strlen(text), DEPTH, err, sizeof err);

	if (back == NULL || !jsontree_equal(v, back) || !jsontree_equal(back, v))
		abort();
	again = text_of(back);
	if (strcmp(text, again) != 0)
		abort();
	free(again);
	free(text);
	yajl_tree_free(back);
}

static void
check_patches(yajl_val doc, yajl_val patch)
{
	char msg[JSONPATCH_MSG_SIZE];
	char *before = text_of(doc), *after, *expected;
	yajl_val work = jsontree_clone(doc), ref;

	switch (jsonpatch_apply(&work, patch, msg, sizeof msg)) {
	case JSONPATCH_OK:
		if (msg[0] != '\0' || jsontree_deeper_than(work, JSONPATCH_MAX_DEPTH))
			abort();
		free(text_of(work));
		break;
	case JSONPATCH_INVALID:
	case JSONPATCH_TEST_FAILED:
		check_message(msg);
		after = text_of(work);
		if (strcmp(before, after) != 0)
			abort();
		free(after);
		break;
	default:
		abort();
	}
	yajl_tree_free(work);

	work = jsontree_clone(doc);
	jsonpatch_merge(&work, patch);
	ref = reference_merge(jsontree_clone(doc), patch);
	after = text_of(work);
	expected = text_of(ref);
	if (strcmp(after, expected) != 0)
		abort();
	free(after);
	free(expected);
	yajl_tree_free(ref);
	yajl_tree_free(work);
	free(before);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nul = memchr(s, '\0', size);
	size_t doc_len = nul != NULL ? (size_t)(nul - s) : size;
	const char *p = nul != NULL ? nul + 1 : s;
	size_t patch_len = nul != NULL ? size - doc_len - 1 : size;
	char err[JSONTREE_ERR_SIZE];
	yajl_val doc, patch;

	/* Counted, not NUL-terminated: the sanitizers catch a read past the end. */
	doc = jsontree_parse(s, doc_len, DEPTH, err, sizeof err);
	if (doc == NULL)
		check_message(err);
	else
		check_round_trip(doc);
	patch = jsontree_parse(p, patch_len, DEPTH, err, sizeof err);
	if (patch == NULL)
		check_message(err);
	if (doc != NULL && patch != NULL)
		check_patches(doc, patch);
	yajl_tree_free(patch);
	yajl_tree_free(doc);
	return 0;
}
