#include "config.h"

#include "throttle.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define THROTTLE_WAYS 4

enum entry_kind {
	ENTRY_EMPTY,
	ENTRY_COUNT,     /* failures of a network or an account in a window */
	ENTRY_FAMILIAR,  /* an account logged in from a network */
};

struct throttle_entry {
	unsigned char key[THROTTLE_KEY_BYTES];
	int64_t since_us;  /* a count: the start of its window; a familiar mark: the last good login */
	int32_t failures;  /* a count: failed and reserved attempts in the window */
	uint8_t kind;
};

struct throttle {
	pthread_mutex_t lock;
	unsigned char key[crypto_generichash_KEYBYTES];  /* per process, never leaves memory */
	long network_limit;
	long account_limit;
	size_t nbuckets;
	struct throttle_entry *entries;  /* nbuckets * THROTTLE_WAYS */
};

struct throttle *
throttle_new(size_t entries, long network_limit, long account_limit)
{
	struct throttle *t = xcalloc(1, sizeof *t);

	if (pthread_mutex_init(&t->lock, NULL) != 0)
		abort();
	randombytes_buf(t->key, sizeof t->key);
	t->network_limit = network_limit;
	t->account_limit = account_limit;
	t->nbuckets = entries / THROTTLE_WAYS > 0 ? entries / THROTTLE_WAYS : 1;
	t->entries = xcalloc(t->nbuckets * THROTTLE_WAYS, sizeof *t->entries);
	return t;
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->entries);
	sodium_memzero(t, sizeof *t);
	free(t);
}

static void
throttle_hash(const struct throttle *t, char kind, const void *data, size_t len, unsigned char out[THROTTLE_KEY_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, t->key, sizeof t->key, THROTTLE_KEY_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)&kind, 1);
	crypto_generichash_update(&st, data, len);
	crypto_generichash_final(&st, out, THROTTLE_KEY_BYTES);
}

/* The client's network as bytes: "4" and the IPv4 address (IPv4-mapped IPv6 included, which is
 * how a dual-stack socket reports IPv4 clients), "6" and the /64 prefix of an IPv6 address (its
 * zone dropped), or "?" for anything else. */
static size_t
throttle_network(const char *address, unsigned char out[1 + 16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned char a6[16];
	char text[64];
	size_t len;

	if (address == NULL)
		address = "";
	len = strnlen(address, sizeof text - 1);
	memcpy(text, address, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, out + 1) == 1) {
		out[0] = '4';
		return 1 + 4;
	}
	text[strcspn(text, "%")] = '\0';
	if (inet_pton(AF_INET6, text, a6) == 1) {
		if (memcmp(a6, mapped, sizeof mapped) == 0) {
			out[0] = '4';
			memcpy(out + 1, a6 + 12, 4);
			return 1 + 4;
		}
		out[0] = '6';
		memcpy(out + 1, a6, 8);
		return 1 + 8;
	}
	/* No address, or not an IP address (a unix socket): one network for all of them. */
	out[0] = '?';
	return 1;
}

void
throttle_subject(const struct throttle *t, const char *address, const char *folded_user, struct throttle_subject *out)
{
	unsigned char network[1 + 16], pair[2 * THROTTLE_KEY_BYTES];
	size_t len = throttle_network(address, network);

	memset(out, 0, sizeof *out);
	throttle_hash(t, 'N', network, len, out->network);
	throttle_hash(t, 'A', folded_user, strlen(folded_user), out->account);
	memcpy(pair, out->account, THROTTLE_KEY_BYTES);
	memcpy(pair + THROTTLE_KEY_BYTES, out->network, THROTTLE_KEY_BYTES);
	throttle_hash(t, 'F', pair, sizeof pair, out->familiar);
}

static struct throttle_entry *
throttle_bucket(struct throttle *t, const unsigned char key[THROTTLE_KEY_BYTES])
{
	uint64_t v;

	memcpy(&v, key, sizeof v);
	return &t->entries[(v % t->nbuckets) * THROTTLE_WAYS];
}

static bool
throttle_expired(const struct throttle_entry *e, int64_t now_us)
{
	if (e->kind == ENTRY_COUNT)
		return now_us - e->since_us >= THROTTLE_WINDOW_US;
	return e->kind == ENTRY_EMPTY || now_us - e->since_us >= THROTTLE_FAMILIAR_US;
}

/* The live entry of key and kind, or NULL. */
static struct throttle_entry *
throttle_find(struct throttle *t, const unsigned char key[THROTTLE_KEY_BYTES], uint8_t kind, int64_t now_us)
{
	struct throttle_entry *b = throttle_bucket(t, key);

	for (int i = 0; i < THROTTLE_WAYS; i++) {
		if (b[i].kind == kind && memcmp(b[i].key, key, THROTTLE_KEY_BYTES) == 0)
			return throttle_expired(&b[i], now_us) ? NULL : &b[i];
	}
	return NULL;
}

/* How much an entry is worth keeping: a familiar mark more than any count, a count by its failures. */
static int64_t
throttle_worth(const struct throttle_entry *e, int64_t now_us)
{
	if (throttle_expired(e, now_us))
		return -1;
	return e->kind == ENTRY_FAMILIAR ? INT32_MAX : e->failures;
}

/* The live entry of key and kind, made (fresh) when there is none. */
static struct throttle_entry *
throttle_touch(struct throttle *t, const unsigned char key[THROTTLE_KEY_BYTES], uint8_t kind, int64_t now_us)
{
	struct throttle_entry *b = throttle_bucket(t, key), *victim = NULL;

	for (int i = 0; i < THROTTLE_WAYS; i++) {
		if (b[i].kind == kind && memcmp(b[i].key, key, THROTTLE_KEY_BYTES) == 0) {
			victim = &b[i];
			if (!throttle_expired(victim, now_us))
				return victim;
			break;
		}
	}
	if (victim == NULL) {
		/* The least worth keeping, the oldest of equals. */
		for (int i = 0; i < THROTTLE_WAYS; i++) {
			int64_t w = throttle_worth(&b[i], now_us);

			if (victim == NULL || w < throttle_worth(victim, now_us) ||
			    (w == throttle_worth(victim, now_us) && b[i].since_us < victim->since_us))
				victim = &b[i];
		}
	}
	memcpy(victim->key, key, THROTTLE_KEY_BYTES);
	victim->kind = kind;
	victim->since_us = now_us;
	victim->failures = 0;
	return victim;
}

static long
throttle_wait(const struct throttle_entry *e, int64_t now_us)
{
	return (long)((e->since_us + THROTTLE_WINDOW_US - now_us + 999999) / 1000000);
}

/* Which budget, if any, refuses an attempt of s now (lock held); *account says whether the
 * account's budget applies at all (not on a network familiar to the account). */
static enum throttle_verdict
throttle_judge(struct throttle *t, const struct throttle_subject *s, int64_t now_us, long *wait_s, bool *account)
{
	struct throttle_entry *e;

	*wait_s = 0;
	*account = t->account_limit > 0 && throttle_find(t, s->familiar, ENTRY_FAMILIAR, now_us) == NULL;
	if (t->network_limit > 0 && (e = throttle_find(t, s->network, ENTRY_COUNT, now_us)) != NULL &&
	    e->failures >= t->network_limit) {
		*wait_s = throttle_wait(e, now_us);
		return THROTTLE_NETWORK;
	}
	if (*account && (e = throttle_find(t, s->account, ENTRY_COUNT, now_us)) != NULL &&
	    e->failures >= t->account_limit) {
		*wait_s = throttle_wait(e, now_us);
		return THROTTLE_ACCOUNT;
	}
	return THROTTLE_OK;
}

enum throttle_verdict
throttle_peek(struct throttle *t, const struct throttle_subject *s, int64_t now_us, long *wait_s)
{
	enum throttle_verdict verdict;
	bool account;

	pthread_mutex_lock(&t->lock);
	verdict = throttle_judge(t, s, now_us, wait_s, &account);
	pthread_mutex_unlock(&t->lock);
	return verdict;
}

enum throttle_verdict
throttle_reserve(struct throttle *t, struct throttle_subject *s, int64_t now_us, long *wait_s)
{
	enum throttle_verdict verdict;
	struct throttle_entry *e;
	bool account;

	s->network_window_us = s->account_window_us = 0;
	pthread_mutex_lock(&t->lock);
	verdict = throttle_judge(t, s, now_us, wait_s, &account);
	if (verdict == THROTTLE_OK) {
		if (t->network_limit > 0) {
			e = throttle_touch(t, s->network, ENTRY_COUNT, now_us);
			e->failures++;
			s->network_window_us = e->since_us;
		}
		if (account) {
			e = throttle_touch(t, s->account, ENTRY_COUNT, now_us);
			e->failures++;
			s->account_window_us = e->since_us;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return verdict;
}

/* Takes back one reserved attempt, if its window (and entry) is still there. */
static void
throttle_uncount(struct throttle *t, const unsigned char key[THROTTLE_KEY_BYTES], int64_t window_us)
{
	struct throttle_entry *b = throttle_bucket(t, key);

	if (window_us == 0)
		return;
	for (int i = 0; i < THROTTLE_WAYS; i++) {
		if (b[i].kind == ENTRY_COUNT && memcmp(b[i].key, key, THROTTLE_KEY_BYTES) == 0 &&
		    b[i].since_us == window_us && b[i].failures > 0)
			b[i].failures--;
	}
}

void
throttle_cancel(struct throttle *t, const struct throttle_subject *s)
{
	pthread_mutex_lock(&t->lock);
	throttle_uncount(t, s->network, s->network_window_us);
	throttle_uncount(t, s->account, s->account_window_us);
	pthread_mutex_unlock(&t->lock);
}

void
throttle_success(struct throttle *t, const struct throttle_subject *s, int64_t now_us)
{
	pthread_mutex_lock(&t->lock);
	throttle_uncount(t, s->network, s->network_window_us);
	throttle_uncount(t, s->account, s->account_window_us);
	if (t->account_limit > 0)
		throttle_touch(t, s->familiar, ENTRY_FAMILIAR, now_us)->since_us = now_us;
	pthread_mutex_unlock(&t->lock);
}
