/*
 * Remembers successful password verifications so that the deliberately slow crypt(3) runs once
 * per user and password, not on every request. An entry holds the user, the stored hash it was
 * verified against and a keyed MAC of the password (never the password itself). The caller still
 * reads the associate from the database on every request and passes the current hash in, so a
 * changed password misses the cache and a retired associate is refused before it is consulted.
 * Only successes are cached. Thread-safe.
 */
#ifndef WEBHOOKD_AUTHCACHE_H
#define WEBHOOKD_AUTHCACHE_H

#include <stdbool.h>
#include <stddef.h>

struct authcache;

/* Needs sodium_init() to have succeeded. */
struct authcache *authcache_new(size_t slots);
void authcache_free(struct authcache *cache);
bool authcache_lookup(struct authcache *cache, const char *user, const char *stored_hash, const char *password);
void authcache_store(struct authcache *cache, const char *user, const char *stored_hash, const char *password);

#endif
