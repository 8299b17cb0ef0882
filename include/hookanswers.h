/*
 * The serialized answers of webhook reads, kept with the snapshot they were made from.
 *
 * GetWebhook, GetAllWebhooks and the REST list answer the same bytes for the same request as long
 * as the snapshot stands: a table of those bytes, keyed by everything besides the snapshot that
 * shapes them (hookanswers_key), spares a repeated read its copy, translation and serialization.
 * It belongs to one snapshot (hookcache.h) and dies with it, so it is exactly as fresh: a write
 * moves the generation, the next read builds a new snapshot, and its table starts empty.
 *
 * Bounded: a fixed number of slots, each key in one of a few next to where its hash points (when
 * all of those are taken, a newer answer replaces one), and a total of bytes beyond which nothing
 * more is kept. Safe across worker threads.
 */
#ifndef WEBHOOKD_HOOKANSWERS_H
#define WEBHOOKD_HOOKANSWERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"

/* A snapshot's table: GetWebhook over 1,000 hooks in a few formats and languages fits. */
#define HOOKANSWERS_SLOTS 8192
#define HOOKANSWERS_BYTES (16u << 20)

/* What a read asks and who asks it in which form: every field shapes the answer's bytes. */
struct hookanswers_request {
	const char *operation;                 /* "get" (id) or "list" (filter) */
	int32_t id;
	const struct db_webhook_filter *filter;  /* NULL for "get" */
	int32_t application_id;                /* SO-AppToken's scope, 0: none */
	int media;                             /* enum media_type: JSON or XML, and its content type */
	bool tag_utc;                          /* SO-TimeZone's includeTZOffset */
	/* Translation: NULL when none applies; else the language codes and culture it uses, under the
	 * reference data (its resources and cultures) of refdata_generation. */
	const char *language, *ml_language, *default_language, *default_ml_language, *culture;
	uint64_t refdata_generation;
};

struct hookanswers;

struct hookanswers *hookanswers_new(size_t slots, size_t max_bytes);
void hookanswers_free(struct hookanswers *a);
/* The key of req, each field length-prefixed so that no two requests share one; false (and key
 * left empty) when the request must not be kept: reference data not vouched for by the feed. */
bool hookanswers_key(const struct hookanswers_request *req, struct buf *key) __attribute__((warn_unused_result));
/* Appends the answer kept under key to out; false when there is none. */
bool hookanswers_find(struct hookanswers *a, const struct buf *key, struct buf *out)
	__attribute__((warn_unused_result));
/* Keeps body under key, unless the bound of bytes forbids it. */
void hookanswers_keep(struct hookanswers *a, const struct buf *key, const void *body, size_t len);
/* Answers kept and their bytes (keys included), for the tests of the bound. */
void hookanswers_usage(struct hookanswers *a, size_t *entries, size_t *bytes);

#endif
