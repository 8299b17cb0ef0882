#include "config.h"

#include "credcache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct slot {
	bool used;
	struct credcache_entry e;
};

struct credcache {
	pthread_mutex_t lock;
	unsigned char mac_key[crypto_auth_hmacsha256_KEYBYTES];  /* per process, never leaves memory */
	size_t nslots;
	struct slot *slots;
};

struct credcache *
credcache_new(size_t slots)
{
	struct credcache *c = xcalloc(1, sizeof *c);

	if (pthread_mutex_init(&c->lock, NULL) != 0)
		abort();
	randombytes_buf(c->mac_key, sizeof c->mac_key);
	c->nslots = slots ? slots : 1;
	c->slots = xcalloc(c->nslots, sizeof *c->slots);
	return c;
}

void
credcache_free(struct credcache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	sodium_memzero(c->slots, c->nslots * sizeof *c->slots);
	free(c->slots);
	sodium_memzero(c, sizeof *c);
	free(c);
}

void
credcache_key(const struct credcache *c, const char *kind, const char *credential,
    unsigned char key[CREDCACHE_KEY_BYTES])
{
	crypto_auth_hmacsha256_state st;

	/* The kind and a NUL separate the namespaces: a ticket never matches a bearer token. */
	crypto_auth_hmacsha256_init(&st, c->mac_key, sizeof c->mac_key);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)credential, strlen(credential));
	crypto_auth_hmacsha256_final(&st, key);
}

/* The key is already a keyed MAC: its first bytes pick the slot, with nothing for a client to aim at. */
static struct slot *
credcache_slot(struct credcache *c, const unsigned char key[CREDCACHE_KEY_BYTES])
{
	uint64_t v;

	memcpy(&v, key, sizeof v);
	return &c->slots[v % c->nslots];
}

bool
credcache_get(struct credcache *c, const unsigned char key[CREDCACHE_KEY_BYTES], struct credcache_entry *out)
{
	struct slot *s;
	bool hit;

	pthread_mutex_lock(&c->lock);
	s = credcache_slot(c, key);
	hit = s->used && sodium_memcmp(s->e.key, key, CREDCACHE_KEY_BYTES) == 0;
	if (hit)
		*out = s->e;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void
credcache_put(struct credcache *c, const struct credcache_entry *e)
{
	struct slot *s;

	pthread_mutex_lock(&c->lock);
	s = credcache_slot(c, e->key);
	s->used = true;
	s->e = *e;
	pthread_mutex_unlock(&c->lock);
}
