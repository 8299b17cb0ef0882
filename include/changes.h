/*
 * The change feed: a thread with its own connection to the primary LISTENs on webhookd_cache,
 * where triggers announce every committed change to what the daemon caches. It publishes a
 * generation: it moves on at each announcement, and it is 0 whenever the feed cannot vouch for
 * freshness (not connected yet, connection lost), in which case nothing may be cached.
 *
 * A cached value is valid only while the generation it was read under is still current. Read
 * the generation before reading the database, so a change that commits meanwhile invalidates it.
 */
#ifndef WEBHOOKD_CHANGES_H
#define WEBHOOKD_CHANGES_H

#include <stdbool.h>
#include <stdint.h>

struct changes;

/* Starts the thread; conninfo is the daemon's connection string (the feed asks for a primary). */
struct changes *changes_start(const char *conninfo);
/* Waits up to timeout_ms for the feed to be listening; false when it is not (yet). */
bool changes_wait_ready(struct changes *c, int timeout_ms);
/* After a reload: reconnect with new settings (the generation drops to 0 meanwhile). */
void changes_set_conninfo(struct changes *c, const char *conninfo);
/* The current generation, 0 when nothing may be cached. */
uint64_t changes_generation(const struct changes *c);
void changes_stop(struct changes *c);

#endif
