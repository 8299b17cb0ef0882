/*
 * Strict JSON into yajl's tree type (struct yajl_val_s), and the small toolkit the patch code
 * needs on such trees. yajl_tree_parse allows comments and wants a NUL-terminated string; this
 * parser takes a counted body and refuses anything RFC 8259 does not allow, plus a few things it
 * does allow that nothing downstream can store: "\u0000", lone surrogate escapes. Every node is
 * allocated the way yajl_tree.c allocates it, so yajl_tree_free() frees any tree made here, and
 * trees made by yajl_tree_parse() work with every function here.
 *
 * Member names are compared ASCII case-insensitively where the service binds JSON to properties
 * (ASP.NET does so); equality compares them exactly, as RFC 6902 "test" does.
 */
#ifndef WEBHOOKD_JSONTREE_H
#define WEBHOOKD_JSONTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

/* A buffer that holds any message of jsontree_parse. */
#define JSONTREE_ERR_SIZE 96

/*
 * The tree of exactly one JSON value in text[0..len), nesting at most max_depth arrays and
 * objects ("[]" nests one level, a bare scalar none), or NULL with a client-safe sentence in err
 * that never quotes the input. Refused: an empty body, a NUL byte, comments, trailing content,
 * invalid UTF-8 (overlong forms and encoded surrogates included), "\u0000", lone surrogate
 * escapes. The depth limit stops the parse as soon as it is crossed, so yajl_tree_free, clone and
 * equal recurse at most max_depth levels on a tree from here. Numbers keep their text in
 * u.number.r; i and d are set (with their flags) when the text fits a long long and a finite
 * double. Free the tree with yajl_tree_free().
 */
yajl_val jsontree_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen);

/*
 * The first member of object whose name matches name ASCII case-insensitively, or NULL (also when
 * object is not an object). *duplicate, when not NULL, tells whether a second member matches too.
 */
yajl_val jsontree_member(yajl_val object, const char *name, bool *duplicate);
/* The same lookup by position: false when nothing matches. */
bool jsontree_member_index(yajl_val object, const char *name, size_t *index)
	__attribute__((warn_unused_result));

/*
 * RFC 6902 "test" equality: same type; objects with the same members in any order (names compared
 * exactly); arrays element by element; numbers numerically: as integers when both fit a long long,
 * by text when both are integers too large for that, else as doubles when both are finite doubles,
 * else by text.
 */
bool jsontree_equal(yajl_val a, yajl_val b);
/* A deep copy (NULL for NULL). */
yajl_val jsontree_clone(yajl_val v);
/* Whether v nests more than depth arrays and objects; recurses at most depth + 1 levels. */
bool jsontree_deeper_than(yajl_val v, long depth);

/* New nodes, to be freed with yajl_tree_free() or handed to a container below. */
yajl_val jsontree_new_null(void);
yajl_val jsontree_new_bool(bool value);
yajl_val jsontree_new_string(const char *s);
yajl_val jsontree_new_integer(long long value);
yajl_val jsontree_new_object(void);
yajl_val jsontree_new_array(void);

/*
 * Changing containers. Every function taking a value takes ownership of it; every function
 * dropping a member or element frees it. Indexes must be in range: these are the primitives the
 * checked code (jsonpatch) builds on.
 */
/* Appends a member named name (copied), whether or not the name is taken already. */
void jsontree_object_append(yajl_val object, const char *name, yajl_val value);
/* Replaces the first case-insensitive match's value (keeping its stored name), else appends. */
void jsontree_object_set(yajl_val object, const char *name, yajl_val value);
/* Replaces the value of member index, keeping its name. */
void jsontree_object_set_at(yajl_val object, size_t index, yajl_val value);
void jsontree_object_remove_at(yajl_val object, size_t index);
/* Removes the members i with remove[i] set (remove has object's length), in one pass. */
void jsontree_object_remove_marked(yajl_val object, const bool *remove);
/* Inserts before element index; index == len appends. */
void jsontree_array_insert(yajl_val array, size_t index, yajl_val value);
void jsontree_array_set(yajl_val array, size_t index, yajl_val value);
void jsontree_array_remove(yajl_val array, size_t index);

/* ASCII case-insensitive strcmp: the member name order of lookups and merges. */
int jsontree_name_cmp(const char *a, const char *b);
/* The length of the UTF-8 character (RFC 3629) at s, n bytes available; 0 if not a valid one. */
size_t jsontree_utf8_char(const char *s, size_t n);

#endif
