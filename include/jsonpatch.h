/*
 * PATCH bodies over jsontree trees: RFC 6902 JSON Patch (add, replace, remove, test; move and copy
 * are refused) and RFC 7386 JSON Merge Patch, as NetServer's REST API takes them. Object member
 * names in paths and merge patches match ASCII case-insensitively, as ASP.NET binds them; a
 * path's leading '/' is optional ("Name" is "/Name"); "" is the whole document.
 */
#ifndef WEBHOOKD_JSONPATCH_H
#define WEBHOOKD_JSONPATCH_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

/* More operations than this make the patch invalid. */
#define JSONPATCH_MAX_OPERATIONS 1000
/* No operation may make the document nest deeper than this (json_value_text writes 65 levels). */
#define JSONPATCH_MAX_DEPTH 64
/* A buffer that holds any message of jsonpatch_apply untruncated. */
#define JSONPATCH_MSG_SIZE 256

enum jsonpatch_result {
	JSONPATCH_OK,
	JSONPATCH_INVALID,      /* a malformed patch, or a path that does not resolve: 400 */
	JSONPATCH_TEST_FAILED,  /* a "test" found a different value: 409 */
};

/*
 * Applies the JSON Patch patch (a parsed array of operation objects; it is not changed) to *doc,
 * atomically: on JSONPATCH_OK *doc is the patched tree (the old one freed); otherwise *doc is
 * untouched and msg holds a client-safe sentence naming the operation's index and the problem.
 * Quoted paths and operation names are shortened, with control characters replaced by '?'.
 * Every operation's shape (an object with a known "op", a string "path" that is a JSON Pointer,
 * a "value" where one is needed) is checked before any is applied, so a malformed patch is
 * invalid whatever its tests would have found.
 *
 * An add whose name matches an existing member case-insensitively replaces that member's value
 * and keeps its stored name; replace, remove and test act on the first such member. "-" as the
 * last array index appends (add only); indexes are decimal without leading zeros. A test whose
 * path does not resolve is invalid rather than failed: there is nothing to compare.
 */
enum jsonpatch_result jsonpatch_apply(yajl_val *doc, yajl_val patch, char *msg, size_t msglen)
	__attribute__((warn_unused_result));

/*
 * Applies the merge patch patch (not changed, and sharing no node with *doc) to *doc, which may
 * be NULL: an object patch merges member by member, recursively, a null member removing every
 * case-insensitive match and any other value merging into the first match or, with none, being
 * added under the patch's name; any other patch replaces the whole document. Cannot fail, and
 * nests no deeper than the deeper of the two trees.
 */
void jsonpatch_merge(yajl_val *doc, yajl_val patch);

#endif
