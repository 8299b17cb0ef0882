#include "config.h"

#include "throttle.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define THROTTLE_ADDRESS_MAX 63  /* an IPv6 address with a zone fits */

struct throttle_slot {
	char address[THROTTLE_ADDRESS_MAX + 1];
	int64_t window_start_us;
	long failures;
};

struct throttle {
	pthread_mutex_t lock;
	unsigned char key[crypto_shorthash_KEYBYTES];
	long limit;
	size_t nslots;
	struct throttle_slot *slots;
};

struct throttle *
throttle_new(size_t slots, long limit)
{
	struct throttle *t = xcalloc(1, sizeof *t);

	if (pthread_mutex_init(&t->lock, NULL) != 0)
		abort();
	randombytes_buf(t->key, sizeof t->key);
	t->limit = limit;
	t->nslots = slots ? slots : 1;
	t->slots = xcalloc(t->nslots, sizeof *t->slots);
	return t;
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->slots);
	free(t);
}

/* A keyed hash picks the slot, so nobody can aim an address at another's counter. */
static struct throttle_slot *
throttle_slot(struct throttle *t, const char *address)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const unsigned char *)address, strlen(address), t->key);
	memcpy(&v, h, sizeof v);
	return &t->slots[v % t->nslots];
}

long
throttle_wait_s(struct throttle *t, const char *address, int64_t now_us)
{
	struct throttle_slot *s;
	long wait = 0;

	if (t->limit == 0 || address == NULL || strlen(address) > THROTTLE_ADDRESS_MAX)
		return 0;
	pthread_mutex_lock(&t->lock);
	s = throttle_slot(t, address);
	if (strcmp(s->address, address) == 0 && s->failures >= t->limit &&
	    now_us - s->window_start_us < THROTTLE_WINDOW_US)
		wait = (long)((s->window_start_us + THROTTLE_WINDOW_US - now_us + 999999) / 1000000);
	pthread_mutex_unlock(&t->lock);
	return wait;
}

void
throttle_failure(struct throttle *t, const char *address, int64_t now_us)
{
	struct throttle_slot *s;

	if (t->limit == 0 || address == NULL || strlen(address) > THROTTLE_ADDRESS_MAX)
		return;
	pthread_mutex_lock(&t->lock);
	s = throttle_slot(t, address);
	if (strcmp(s->address, address) != 0 || now_us - s->window_start_us >= THROTTLE_WINDOW_US) {
		strcpy(s->address, address);
		s->window_start_us = now_us;
		s->failures = 0;
	}
	s->failures++;
	pthread_mutex_unlock(&t->lock);
}
