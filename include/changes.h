/*
 * The change feed: a thread with its own connection to the primary LISTENs on webhookd_cache,
 * where triggers announce every committed change to what the daemon caches, naming the table.
 * It publishes a generation per topic: a topic's moves on at each announcement of a table it
 * depends on, and all are 0 whenever the feed cannot vouch for freshness (not connected yet,
 * connection lost), in which case nothing may be cached. Topics keep a busy table from
 * flushing what does not depend on it: saving webhooks leaves the credentials cached.
 *
 * A cached value is valid only while the generation it was read under is still current. Read
 * the generation before reading the database, so a change that commits meanwhile invalidates it.
 */
#ifndef WEBHOOKD_CHANGES_H
#define WEBHOOKD_CHANGES_H

#include <stdbool.h>
#include <stdint.h>

struct changes;

enum changes_topic {
	CHANGES_REFERENCE_DATA,  /* webhook_default, language, resource, culture, timezone */
	CHANGES_CREDENTIALS,     /* associate, credential, browser_session, application */
	CHANGES_WEBHOOKS,        /* webhook, and associate (the carrier names who saved it) */
	CHANGES_TOPIC_COUNT,
};

/* The topics (bits 1 << topic) a change to table moves; every topic for a table it does not
 * know, so an announcement of something new can only drop too much, never too little. */
unsigned changes_topics_of(const char *table);

/* Starts the thread; conninfo is the daemon's connection string (the feed asks for a primary). */
struct changes *changes_start(const char *conninfo);
/* Waits up to timeout_ms for the feed to be listening; false when it is not (yet). */
bool changes_wait_ready(struct changes *c, int timeout_ms);
/* After a reload: reconnect with new settings (the generation drops to 0 meanwhile). */
void changes_set_conninfo(struct changes *c, const char *conninfo);
/* The topic's current generation, 0 when nothing may be cached. */
uint64_t changes_generation(const struct changes *c, enum changes_topic topic);
/* Moves the topic on at once (unless it is 0): a write of this process, committed, must never
 * be answered from what was cached before it, even before the feed hears of it. */
void changes_bump(struct changes *c, enum changes_topic topic);
void changes_stop(struct changes *c);

#endif
