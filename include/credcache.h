/*
 * Credentials that were verified, keyed by a keyed MAC (HMAC-SHA256 with a per-process key) of
 * what the client sent: the Authorization header, the session cookie, or the app token. Never
 * the secret itself. An entry records what it was verified against:
 *   - the change-feed generation it was read under (valid without any database read while that
 *     generation is current: the feed announces every change to associates and credentials);
 *   - for Basic, the stored password hash it matched, so that when the feed cannot vouch, one read
 *     of the associate row still spares the deliberately slow crypt(3);
 *   - an expiry (tickets, tokens, sessions) and, for sessions, the digest of their XSRF token.
 * Fixed size, thread-safe; a new entry may evict an older one in the same slot.
 */
#ifndef WEBHOOKD_CREDCACHE_H
#define WEBHOOKD_CREDCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CREDCACHE_KEY_BYTES 32
#define CREDCACHE_HASH_MAX 255

struct credcache_entry {
	unsigned char key[CREDCACHE_KEY_BYTES];
	uint64_t generation;       /* 0: never valid on its own */
	int64_t expires_us;        /* INT64_MAX when it does not expire */
	int32_t associate_id;
	bool granted;              /* applications: webhook access */
	int32_t application_id;    /* applications: which one (it owns the webhooks it saves) */
	char password_hash[CREDCACHE_HASH_MAX + 1];  /* Basic only */
	char xsrf_sha256_hex[65];                    /* sessions only */
};

struct credcache;

/* Needs sodium_init() to have succeeded. */
struct credcache *credcache_new(size_t slots);
void credcache_free(struct credcache *c);
/* The key of a credential of one kind ("basic", "soticket", "bearer", "session", "app"). */
void credcache_key(const struct credcache *c, const char *kind, const char *credential,
    unsigned char key[CREDCACHE_KEY_BYTES]);
/* Copies the entry for key into out; false when there is none. */
bool credcache_get(struct credcache *c, const unsigned char key[CREDCACHE_KEY_BYTES], struct credcache_entry *out);
void credcache_put(struct credcache *c, const struct credcache_entry *e);

#endif
