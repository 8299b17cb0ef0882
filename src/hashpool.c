#include "config.h"

#include "hashpool.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "xalloc.h"

/* Each place is in one state at a time, named after who holds it. */
enum place_state {
	PLACE_FREE,       /* nobody */
	PLACE_CLAIMED,    /* its leader, reading the database before it asks for its turn */
	PLACE_WAITING,    /* its leader, waiting for its turn to hash */
	PLACE_RUNNING,    /* its leader, hashing */
	PLACE_DONE,       /* whoever still waits: the result is there */
	PLACE_CANCELLED,  /* whoever still waits: the check never ran and never will */
};

struct place {
	enum place_state state;
	uint64_t seq;           /* turn order: the longest waiting leader hashes first */
	pthread_cond_t done;    /* -> DONE or CANCELLED, for the followers */
	unsigned char key[HASHPOOL_KEY_BYTES];  /* which credentials: identical ones follow this check */
	int waiters;            /* workers seated on it: the leader until it leaves, and its followers */
	struct hashpool_result result;
};

struct hashpool {
	pthread_mutex_t lock;
	pthread_cond_t turn;    /* a check ended: the next waiting leader may hash */
	long wait_ms;
	int64_t warm_until_us;  /* followers need no seat until then (hashpool.h) */
	uint64_t next_seq;
	size_t running;         /* checks being computed, at most max_running */
	size_t max_running;
	size_t seats;           /* workers inside: leaders and followers, at most nplaces (but see warm_until_us) */
	size_t nplaces;
	struct place *places;
};

struct hashpool *
hashpool_new(unsigned concurrency, unsigned queue, long wait_ms, int64_t warmup_us)
{
	struct hashpool *p = xcalloc(1, sizeof *p);
	pthread_condattr_t attr;

	p->wait_ms = wait_ms;
	p->warm_until_us = clock_monotonic_us() + warmup_us;
	p->max_running = concurrency > 0 ? concurrency : 1;
	p->nplaces = p->max_running + queue;
	p->places = xcalloc(p->nplaces, sizeof *p->places);
	/* Deadlines on the monotonic clock: a change of the wall clock cannot stretch a wait. */
	if (pthread_mutex_init(&p->lock, NULL) != 0 || pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 || pthread_cond_init(&p->turn, &attr) != 0)
		abort();
	for (size_t i = 0; i < p->nplaces; i++) {
		if (pthread_cond_init(&p->places[i].done, &attr) != 0)
			abort();
	}
	pthread_condattr_destroy(&attr);
	return p;
}

void
hashpool_free(struct hashpool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nplaces; i++) {
		sodium_memzero(&p->places[i].result, sizeof p->places[i].result);
		pthread_cond_destroy(&p->places[i].done);
	}
	pthread_cond_destroy(&p->turn);
	pthread_mutex_destroy(&p->lock);
	free(p->places);
	free(p);
}

/* A worker leaves its seat on pl (lock held); the last one out frees the place. */
static void
place_leave(struct hashpool *p, struct place *pl)
{
	p->seats--;
	if (--pl->waiters > 0)
		return;
	sodium_memzero(&pl->result, sizeof pl->result);
	pl->state = PLACE_FREE;
}

enum hashpool_join
hashpool_join(struct hashpool *p, const unsigned char key[HASHPOOL_KEY_BYTES], struct hashpool_seat *seat)
{
	enum hashpool_join joined = HASHPOOL_FULL;
	struct place *same = NULL, *free_place = NULL;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nplaces; i++) {
		struct place *pl = &p->places[i];

		if (pl->state == PLACE_FREE) {
			if (free_place == NULL)
				free_place = pl;
		} else if (pl->state != PLACE_DONE && pl->state != PLACE_CANCELLED &&
		    sodium_memcmp(pl->key, key, HASHPOOL_KEY_BYTES) == 0) {
			same = pl;
		}
	}
	if (same != NULL) {
		if (p->seats < p->nplaces || clock_monotonic_us() < p->warm_until_us) {
			same->waiters++;
			p->seats++;
			seat->place = (int)(same - p->places);
			seat->leader = false;
			joined = HASHPOOL_FOLLOW;
		}
	} else if (free_place != NULL && p->seats < p->nplaces) {
		free_place->state = PLACE_CLAIMED;
		memcpy(free_place->key, key, HASHPOOL_KEY_BYTES);
		free_place->waiters = 1;
		p->seats++;
		seat->place = (int)(free_place - p->places);
		seat->leader = true;
		joined = HASHPOOL_LEAD;
	}
	pthread_mutex_unlock(&p->lock);
	return joined;
}

void
hashpool_leave(struct hashpool *p, const struct hashpool_seat *seat)
{
	struct place *pl = &p->places[seat->place];

	pthread_mutex_lock(&p->lock);
	/* A leader that leaves without a check leaves its followers without an answer. */
	if (seat->leader && pl->state == PLACE_CLAIMED) {
		pl->state = PLACE_CANCELLED;
		pthread_cond_broadcast(&pl->done);
	}
	place_leave(p, pl);
	pthread_mutex_unlock(&p->lock);
}

/* The oldest leader waiting for its turn (lock held). */
static struct place *
hashpool_next(struct hashpool *p)
{
	struct place *best = NULL;

	for (size_t i = 0; i < p->nplaces; i++) {
		if (p->places[i].state == PLACE_WAITING && (best == NULL || p->places[i].seq < best->seq))
			best = &p->places[i];
	}
	return best;
}

/* The leader's side: its turn, within the deadline, then the check on this very thread. */
static bool
hashpool_lead(struct hashpool *p, struct place *pl, const struct timespec *deadline, struct auth_crypt *c,
    const char *password, const char *stored_hash)
{
	struct hashpool_result r;

	pl->state = PLACE_WAITING;
	pl->seq = p->next_seq++;
	while (p->running >= p->max_running || hashpool_next(p) != pl) {
		if (pthread_cond_timedwait(&p->turn, &p->lock, deadline) == ETIMEDOUT) {
			/* Never ran and never will: followers learn it at once. The leaders behind
			 * this one may be next now. */
			pl->state = PLACE_CANCELLED;
			pthread_cond_broadcast(&pl->done);
			pthread_cond_broadcast(&p->turn);
			return false;
		}
	}
	pl->state = PLACE_RUNNING;
	p->running++;
	pthread_mutex_unlock(&p->lock);
	/* Outside the lock: other workers join, follow and wait meanwhile. Once begun, a check ends
	 * in the time one check takes; only the wait for a turn needs a bound. */
	r.matched = auth_password_check(c, password, stored_hash, r.upgraded, sizeof r.upgraded);
	snprintf(r.checked, sizeof r.checked, "%s", stored_hash != NULL ? stored_hash : "");
	pthread_mutex_lock(&p->lock);
	p->running--;
	pthread_cond_broadcast(&p->turn);
	pl->result = r;
	sodium_memzero(&r, sizeof r);
	pl->state = PLACE_DONE;
	pthread_cond_broadcast(&pl->done);
	return true;
}

bool
hashpool_await(struct hashpool *p, const struct hashpool_seat *seat, struct auth_crypt *c, const char *password,
    const char *stored_hash, struct hashpool_result *out)
{
	struct place *pl = &p->places[seat->place];
	struct timespec deadline;
	bool answered;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += p->wait_ms / 1000;
	deadline.tv_nsec += (p->wait_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->lock);
	if (seat->leader) {
		answered = hashpool_lead(p, pl, &deadline, c, password, stored_hash);
	} else {
		while (pl->state != PLACE_DONE && pl->state != PLACE_CANCELLED) {
			if (pthread_cond_timedwait(&pl->done, &p->lock, &deadline) == ETIMEDOUT)
				break;
		}
		answered = pl->state == PLACE_DONE;
	}
	if (answered) {
		*out = pl->result;
		/* The leader alone stores an upgraded hash: followers checked nothing of their own. */
		if (!seat->leader)
			out->upgraded[0] = '\0';
	}
	place_leave(p, pl);
	pthread_mutex_unlock(&p->lock);
	return answered;
}

unsigned
hashpool_running(struct hashpool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = (unsigned)p->running;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned
hashpool_seated(struct hashpool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = (unsigned)p->seats;
	pthread_mutex_unlock(&p->lock);
	return n;
}
