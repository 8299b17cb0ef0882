/*
 * Reference data: the webhook defaults, languages, resources, cultures and time zones, loaded
 * from PostgreSQL in one round trip (as one JSON document) and looked up in memory. A snapshot
 * is immutable and reference-counted; the application keeps the current one while the change
 * feed vouches for it, and builds a private one per request when it cannot.
 */
#ifndef WEBHOOKD_REFDATA_H
#define WEBHOOKD_REFDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "webhook.h"

#define REFDATA_CODE_MAX 16

struct language_choice {
	char code[REFDATA_CODE_MAX + 1];           /* "sv" */
	char ml_code[REFDATA_CODE_MAX + 1];        /* "SE" */
	char default_code[REFDATA_CODE_MAX + 1];   /* the installation's fallback language */
	char default_ml_code[REFDATA_CODE_MAX + 1];
};

struct culture_format {
	char code[REFDATA_CODE_MAX + 1];
	char decimal_separator[8];
	char group_separator[8];
	char date_pattern[32];
};

struct timezone_info {
	char code[REFDATA_CODE_MAX + 1];
	char iana[64];
};

struct refdata;

/* Parses the document; NULL (after logging why) when it is malformed or the defaults are not
 * exactly one row. The snapshot starts with one reference. */
struct refdata *refdata_parse(const char *json, uint64_t generation);
void refdata_ref(struct refdata *rd);
void refdata_unref(struct refdata *rd);
uint64_t refdata_generation(const struct refdata *rd);

/* A deep copy of the defaults, for the caller to translate and free. */
void refdata_defaults(const struct refdata *rd, struct webhook *out);
/* The first candidate installed (false when none is) and the default language either way. */
bool refdata_language_choice(const struct refdata *rd, const char *const *candidates, size_t n,
    struct language_choice *out);
/* The text of resource name in language, else in fallback; NULL when neither has it. */
const char *refdata_resource_text(const struct refdata *rd, const char *name, const char *language,
    const char *fallback);
/* The culture code, else its language ("en-US", then "en"). */
bool refdata_culture(const struct refdata *rd, const char *code, struct culture_format *out);
/* A zone by code ("NO") or, when by_id, by numeric id ("261"). */
bool refdata_timezone(const struct refdata *rd, const char *key, bool by_id, struct timezone_info *out);

#endif
