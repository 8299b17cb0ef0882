/*
 * Languages: which one the caller asked for (Accept-Language with q-values, overridden by
 * SO-Language, where "*" or "x" turns translation off), and the translation of multi-language
 * values (US:"New hook";NO:"Ny hook") and resource references ([SR_NAME]) in strings.
 */
#ifndef WEBHOOKD_LANG_H
#define WEBHOOKD_LANG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define LANG_TAG_MAX 16
#define LANG_MAX_CANDIDATES 16

/* The languages a request asks for, best first, as lower-case primary subtags ("sv", "en"). */
struct lang_request {
	bool off;            /* SO-Language: * or x */
	size_t n;
	char tags[LANG_MAX_CANDIDATES][LANG_TAG_MAX + 1];
};

enum lang_parse_result { LANG_OK, LANG_MALFORMED_ACCEPT_LANGUAGE, LANG_MALFORMED_SO_LANGUAGE };

/* Either header may be NULL. Accept-Language "*" adds no candidate (any language will do). */
enum lang_parse_result lang_parse(const char *accept_language, const char *so_language, struct lang_request *out);

/* SO-Culture: a language tag such as "nb", "en-US" or "sv-SE"; written lower-case/upper-case
 * normalised into out ("en-US"). False when malformed. */
bool lang_parse_culture(const char *value, char out[LANG_TAG_MAX + 1]);

/* The text for ml_code in a multi-language value, or for fallback_ml_code, or the first variant.
 * Returns false (and leaves out untouched) when value is not a multi-language value. */
bool lang_pick_variant(const char *value, const char *ml_code, const char *fallback_ml_code, struct buf *out);

/* Calls found(name) for each [SR_NAME] reference in value; stops and returns false if it does. */
typedef bool (*lang_reference_cb)(void *ctx, const char *name);
bool lang_each_reference(const char *value, lang_reference_cb found, void *ctx);

/* Replaces each [SR_NAME] whose text lookup(name) knows; unknown references stay as they are. */
typedef const char *(*lang_lookup_cb)(void *ctx, const char *name);
void lang_replace_references(const char *value, lang_lookup_cb lookup, void *ctx, struct buf *out);

/* A culture's way of writing numbers and dates (SO-Culture). */
struct lang_culture {
	const char *decimal_separator;  /* "," */
	const char *group_separator;    /* " " */
	const char *date_pattern;       /* "dd.MM.yyyy": yyyy, MM, M, dd, d; other characters as is */
};

/* Stored texts write numbers and dates culture-neutrally as {n:1234.5} and {d:2024-05-01};
 * these are rendered for the culture ("1 234,5", "01.05.2024"), or as written when culture is
 * NULL. Anything else, malformed placeholders included, passes through unchanged. */
void lang_format_culture(const char *value, const struct lang_culture *culture, struct buf *out);

#endif
