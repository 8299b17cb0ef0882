/*
 * The saved webhooks in memory, so that reading them costs no database round trip.
 *
 * A snapshot holds every webhook with its associates, read in one round trip (db_webhook_all),
 * immutable and reference-counted like the reference data. It answers GetWebhook, GetAllWebhooks
 * and the REST reads by filtering in C exactly as the SQL of db.c does (webhook_get,
 * webhook_list): visible to the caller's application, name case-insensitive as the database's
 * lower() folds it, event exact, state, ordered by id. A filter it cannot decide exactly (a name
 * with characters beyond ASCII, which only the database's locale can fold) is left to the database.
 *
 * The cache holds the current snapshot and the change-feed generation (CHANGES_WEBHOOKS) it was
 * read under, read before the query: it serves only while that generation is current, and never
 * under 0. After a change the first reader rebuilds it; one rebuild runs at a time, and the
 * readers that meanwhile miss read the database, as they would without a cache.
 *
 * Each snapshot also keeps the serialized answers of the reads made from it (hookanswers.h).
 */
#ifndef WEBHOOKD_HOOKCACHE_H
#define WEBHOOKD_HOOKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "hookanswers.h"
#include "webhook.h"

struct hooksnap;

/* Takes what list and lowered_names hold (both are left empty): the webhooks ordered by id, and
 * lower(name) of each as the database computed it (NULL for a null name). folds_ascii: the
 * database's lower() maps A-Z to a-z and leaves the rest of ASCII alone, so an ASCII filter can
 * be folded here. The snapshot starts with one reference. */
struct hooksnap *hooksnap_new(struct webhook_list *list, char ***lowered_names, bool folds_ascii, uint64_t generation);
void hooksnap_ref(struct hooksnap *s);
void hooksnap_unref(struct hooksnap *s);
uint64_t hooksnap_generation(const struct hooksnap *s);
/* The answers made from this snapshot (hookanswers.h): they live and die with it. */
struct hookanswers *hooksnap_answers(const struct hooksnap *s);
/* Webhook id as a caller of application_id (0: none) sees it, copied into *out; false when it
 * is not there for that caller. */
bool hooksnap_get(const struct hooksnap *s, int32_t application_id, int32_t id, struct webhook *out);
/* The webhooks the caller sees that the filter selects, by id, copied into *out; false (and
 * *out empty) when the snapshot cannot decide the filter exactly: ask the database. */
bool hooksnap_list(const struct hooksnap *s, int32_t application_id, const struct db_webhook_filter *f,
    struct webhook_list *out) __attribute__((warn_unused_result));
/* Whether hooksnap_list decides f itself (else it leaves it to the database). */
bool hooksnap_decides(const struct hooksnap *s, const struct db_webhook_filter *f);

struct hookcache;

struct hookcache *hookcache_new(void);
void hookcache_free(struct hookcache *c);
/* The current snapshot, with a reference for the caller, when it was read under generation
 * (never 0); else NULL, and *build says whether it is this caller's turn to read a new one,
 * which it ends with hookcache_publish. */
struct hooksnap *hookcache_acquire(struct hookcache *c, uint64_t generation, bool *build);
/* Ends a build turn: snap (NULL: nothing worth keeping) becomes the current snapshot; the cache
 * takes a reference of its own. */
void hookcache_publish(struct hookcache *c, struct hooksnap *snap);

#endif
