#include "config.h"

#include "authcache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "xalloc.h"

#define AUTHCACHE_HASH_MAX 255

struct authcache_entry {
	bool used;
	char user[AUTH_USER_MAX + 1];
	char stored_hash[AUTHCACHE_HASH_MAX + 1];
	unsigned char password_mac[crypto_auth_hmacsha256_BYTES];
};

struct authcache {
	pthread_mutex_t lock;
	unsigned char key[crypto_auth_hmacsha256_KEYBYTES];        /* per process, never leaves memory */
	unsigned char slot_key[crypto_shorthash_KEYBYTES];
	size_t nslots;
	struct authcache_entry *slots;
};

struct authcache *
authcache_new(size_t slots)
{
	struct authcache *cache = xcalloc(1, sizeof *cache);

	if (pthread_mutex_init(&cache->lock, NULL) != 0)
		abort();
	randombytes_buf(cache->key, sizeof cache->key);
	randombytes_buf(cache->slot_key, sizeof cache->slot_key);
	cache->nslots = slots ? slots : 1;
	cache->slots = xcalloc(cache->nslots, sizeof *cache->slots);
	return cache;
}

void
authcache_free(struct authcache *cache)
{
	if (cache == NULL)
		return;
	pthread_mutex_destroy(&cache->lock);
	sodium_memzero(cache->slots, cache->nslots * sizeof *cache->slots);
	free(cache->slots);
	sodium_memzero(cache, sizeof *cache);
	free(cache);
}

/* A keyed hash picks the slot, so clients cannot aim collisions at one user's entry. */
static struct authcache_entry *
authcache_slot(struct authcache *cache, const char *user)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const unsigned char *)user, strlen(user), cache->slot_key);
	memcpy(&v, h, sizeof v);
	return &cache->slots[v % cache->nslots];
}

static void
authcache_mac(struct authcache *cache, const char *password, unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256(mac, (const unsigned char *)password, strlen(password), cache->key);
}

bool
authcache_lookup(struct authcache *cache, const char *user, const char *stored_hash, const char *password)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	struct authcache_entry *e;
	bool hit;

	if (strlen(user) > AUTH_USER_MAX || strlen(stored_hash) > AUTHCACHE_HASH_MAX)
		return false;
	authcache_mac(cache, password, mac);
	pthread_mutex_lock(&cache->lock);
	e = authcache_slot(cache, user);
	hit = e->used && strcmp(e->user, user) == 0 && strcmp(e->stored_hash, stored_hash) == 0 &&
	    sodium_memcmp(e->password_mac, mac, sizeof mac) == 0;
	pthread_mutex_unlock(&cache->lock);
	sodium_memzero(mac, sizeof mac);
	return hit;
}

void
authcache_store(struct authcache *cache, const char *user, const char *stored_hash, const char *password)
{
	struct authcache_entry *e;

	if (strlen(user) > AUTH_USER_MAX || strlen(stored_hash) > AUTHCACHE_HASH_MAX)
		return;
	pthread_mutex_lock(&cache->lock);
	e = authcache_slot(cache, user);
	e->used = true;
	strcpy(e->user, user);
	strcpy(e->stored_hash, stored_hash);
	authcache_mac(cache, password, e->password_mac);
	pthread_mutex_unlock(&cache->lock);
}
