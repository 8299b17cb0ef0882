/*
 * Who may hash a password, and for how long one may wait for that: a bounded share of the workers,
 * for a bounded time.
 *
 * Why: yescrypt is slow on purpose (~16 ms and ~16 MiB a check). Behind a wait without bound, a
 * flood of Basic logins that miss the credential cache (wrong, unknown or merely new credentials,
 * from any number of addresses) tied every worker to the hash queue, and a client with a valid
 * ticket dropped from thousands of requests a second to about one. Here:
 *   - a worker that needs a check takes a seat first, without waiting; there are `concurrency` +
 *     `queue` seats, and a worker that finds none answers 503 at once, before reading the database;
 *   - at most `concurrency` checks run at once (cores and memory), each on its leader's own thread;
 *     a leader waits at most wait_ms for its turn, then answers 503;
 *   - requests with identical credentials share one check (see hashpool_join).
 * So at most concurrency + queue workers are ever busy with password hashing (but for the warm-up
 * below), none of them waits longer than wait_ms, and the others serve everything else at full
 * speed. (A thread of its own for the checks, at a lower CPU priority, was measured too: it made
 * no difference on this project's machine, README "Performance", and it is gone.)
 */
#ifndef WEBHOOKD_HASHPOOL_H
#define WEBHOOKD_HASHPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"

/* How long after start followers need no seat (hashpool_join). */
#define HASHPOOL_WARMUP_US INT64_C(10000000)
#define HASHPOOL_KEY_BYTES 32

struct hashpool;

struct hashpool_result {
	bool matched;
	char upgraded[AUTH_HASH_MAX + 1];  /* see auth_password_check; the leader's alone */
	char checked[AUTH_HASH_MAX + 1];   /* the stored hash it was checked against, "" for a dummy */
};

/* concurrency >= 1; queue >= 0; warmup_us: see hashpool_join (the daemon gives HASHPOOL_WARMUP_US). */
struct hashpool *hashpool_new(unsigned concurrency, unsigned queue, long wait_ms, int64_t warmup_us);
/* Once no worker is inside. */
void hashpool_free(struct hashpool *p);

/*
 * A worker takes a seat, without waiting, before it reads the database, so that a full pool costs
 * a refused request nothing more. Requests with identical credentials (the same key: the
 * credential cache's key of the header) share one check: a client's many connections after a
 * restart, when nothing is cached yet, cost one check, not one each.
 *   HASHPOOL_LEAD    a check of its own: the worker reads the database, then hashpool_await waits
 *                    for its turn and runs the check (or hashpool_leave gives the seat back);
 *   HASHPOOL_FOLLOW  the check another worker leads for the same key: hashpool_await waits for its
 *                    result (what the result is about: hashpool_result.checked);
 *   HASHPOOL_FULL    every seat is taken: answer 503 at once.
 * Leaders and followers take seats alike, except in the warm-up after start (HASHPOOL_WARMUP_US),
 * when followers need none: a restarted daemon knows no credential, and a busy client's whole
 * first wave of requests follows one check rather than meeting 503s.
 */
enum hashpool_join {
	HASHPOOL_LEAD,
	HASHPOOL_FOLLOW,
	HASHPOOL_FULL,
};

struct hashpool_seat {
	int place;
	bool leader;
};

enum hashpool_join hashpool_join(struct hashpool *p, const unsigned char key[HASHPOOL_KEY_BYTES],
    struct hashpool_seat *seat) __attribute__((warn_unused_result));
/* A leader's check, auth_password_check(c, password, stored_hash) once its turn comes; or the
 * result of the check a follower follows (c, password and stored_hash unused). The seat is given
 * back either way. False when no turn or no result came within wait_ms (answer 503): out is then
 * untouched. */
bool hashpool_await(struct hashpool *p, const struct hashpool_seat *seat, struct auth_crypt *c,
    const char *password, const char *stored_hash, struct hashpool_result *out) __attribute__((warn_unused_result));
/* Gives a seat back without a check (the database failed): a leader's followers get no answer. */
void hashpool_leave(struct hashpool *p, const struct hashpool_seat *seat);
/* Checks running and workers seated right now: for tests and metrics. */
unsigned hashpool_running(struct hashpool *p);
unsigned hashpool_seated(struct hashpool *p);

#endif
