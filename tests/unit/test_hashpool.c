/* Password hashing: bounded seats and waits, shared checks, right answers under concurrency. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <sodium.h>

#include "auth.h"
#include "hashpool.h"

/* bcrypt of "secret", cost 5: an older scheme, cheap enough for many checks. */
static const char bcrypt[] = "$2b$05$hf7U3.CEhyaJUm6GifjhwO9grvnw5U1cd3AHGG9bGB9nWaACTRu5S";
/* bcrypt of "costly-pw", cost 10: a check that takes a while. */
static const char costly[] = "$2b$10$VLYSCecBrwvZeJ/33.YCkOB0CJZhDXpL7s8mOZ8uuzBbp7qOM2.Ta";
static char current[AUTH_HASH_MAX + 1];  /* yescrypt of "secret" */
static struct auth_crypt *crypt_main;

static int
setup(void **state)
{
	struct auth_crypt *c = auth_crypt_new();
	bool ok = auth_password_hash(c, "secret", current, sizeof current);

	(void)state;
	auth_crypt_free(c);
	crypt_main = auth_crypt_new();
	return ok ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	auth_crypt_free(crypt_main);
	return 0;
}

static void
key(unsigned char k[HASHPOOL_KEY_BYTES], int n)
{
	memset(k, 0, HASHPOOL_KEY_BYTES);
	memcpy(k, &n, sizeof n);
}

/* One check led from start to end. */
static bool
check(struct hashpool *p, int k, const char *password, const char *stored, struct hashpool_result *r)
{
	unsigned char kb[HASHPOOL_KEY_BYTES];
	struct hashpool_seat seat;

	key(kb, k);
	assert_int_equal(hashpool_join(p, kb, &seat), HASHPOOL_LEAD);
	return hashpool_await(p, &seat, crypt_main, password, stored, r);
}

static void
pause_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&t, NULL);
}

static void
test_answers(void **state)
{
	struct hashpool *p = hashpool_new(1, 1, 60000, 0);
	struct hashpool_result r;

	(void)state;
	assert_true(check(p, 1, "secret", current, &r));
	assert_true(r.matched);
	assert_string_equal(r.upgraded, "");
	assert_string_equal(r.checked, current);
	assert_true(check(p, 2, "wrong", current, &r));
	assert_false(r.matched);
	/* No stored hash (unknown user, retired associate): a check that never matches. */
	assert_true(check(p, 3, "secret", NULL, &r));
	assert_false(r.matched);
	assert_string_equal(r.checked, "");
	/* An older hash that matches comes back with its replacement. */
	assert_true(check(p, 4, "secret", bcrypt, &r));
	assert_true(r.matched);
	assert_true(auth_password_current(r.upgraded));
	assert_int_equal(hashpool_running(p), 0);
	assert_int_equal(hashpool_seated(p), 0);
	hashpool_free(p);
}

static void
test_seats_are_bounded(void **state)
{
	struct hashpool *p = hashpool_new(2, 1, 60000, 0);
	struct hashpool_seat a, b, c, d;
	unsigned char k[HASHPOOL_KEY_BYTES];

	(void)state;
	key(k, 1);
	assert_int_equal(hashpool_join(p, k, &a), HASHPOOL_LEAD);
	key(k, 2);
	assert_int_equal(hashpool_join(p, k, &b), HASHPOOL_LEAD);
	/* The same credentials follow the check under way: a seat, but no check of their own. */
	key(k, 1);
	assert_int_equal(hashpool_join(p, k, &c), HASHPOOL_FOLLOW);
	assert_int_equal(hashpool_seated(p), 3);
	/* Threads + queue seats, then a refusal at once, followers included. */
	key(k, 3);
	assert_int_equal(hashpool_join(p, k, &d), HASHPOOL_FULL);
	key(k, 1);
	assert_int_equal(hashpool_join(p, k, &d), HASHPOOL_FULL);
	hashpool_leave(p, &b);
	key(k, 3);
	assert_int_equal(hashpool_join(p, k, &d), HASHPOOL_LEAD);
	hashpool_leave(p, &a);
	hashpool_leave(p, &c);
	hashpool_leave(p, &d);
	assert_int_equal(hashpool_seated(p), 0);
	hashpool_free(p);
}

static void
test_followers_need_no_seat_in_the_warmup(void **state)
{
	/* One seat in all; a restarted daemon's first wave of one client's requests all follow. */
	struct hashpool *p = hashpool_new(1, 0, 60000, INT64_C(3600000000));
	struct hashpool_seat seats[8];
	unsigned char k[HASHPOOL_KEY_BYTES];

	(void)state;
	key(k, 7);
	assert_int_equal(hashpool_join(p, k, &seats[0]), HASHPOOL_LEAD);
	for (int i = 1; i < 8; i++)
		assert_int_equal(hashpool_join(p, k, &seats[i]), HASHPOOL_FOLLOW);
	key(k, 8);
	assert_int_equal(hashpool_join(p, k, &seats[0]), HASHPOOL_FULL);  /* other credentials: no */
	key(k, 7);
	for (int i = 7; i >= 0; i--)
		hashpool_leave(p, &seats[i]);
	assert_int_equal(hashpool_seated(p), 0);
	hashpool_free(p);
}

struct follow_arg {
	struct hashpool *pool;
	struct hashpool_seat seat;
	bool answered;
	struct hashpool_result result;
};

static void *
follow(void *arg)
{
	struct follow_arg *a = arg;

	a->answered = hashpool_await(a->pool, &a->seat, NULL, NULL, NULL, &a->result);
	return NULL;
}

static void
test_identical_credentials_share_one_check(void **state)
{
	struct hashpool *p = hashpool_new(1, 3, 60000, 0);
	struct follow_arg f[3];
	pthread_t threads[3];
	struct hashpool_seat leader;
	struct hashpool_result r;
	unsigned char k[HASHPOOL_KEY_BYTES];

	(void)state;
	key(k, 9);
	assert_int_equal(hashpool_join(p, k, &leader), HASHPOOL_LEAD);
	for (int i = 0; i < 3; i++) {
		f[i].pool = p;
		assert_int_equal(hashpool_join(p, k, &f[i].seat), HASHPOOL_FOLLOW);
		assert_int_equal(pthread_create(&threads[i], NULL, follow, &f[i]), 0);
	}
	/* Four seats, one check. */
	assert_int_equal(hashpool_seated(p), 4);
	assert_true(hashpool_await(p, &leader, crypt_main, "secret", bcrypt, &r));
	assert_true(r.matched);
	assert_true(auth_password_current(r.upgraded));  /* the leader upgrades... */
	for (int i = 0; i < 3; i++) {
		pthread_join(threads[i], NULL);
		assert_true(f[i].answered);
		assert_true(f[i].result.matched);
		assert_string_equal(f[i].result.checked, bcrypt);
		assert_string_equal(f[i].result.upgraded, "");  /* ...its followers do not */
	}
	assert_int_equal(hashpool_seated(p), 0);
	hashpool_free(p);
}

static void
test_a_leader_that_leaves_leaves_no_answer(void **state)
{
	struct hashpool *p = hashpool_new(1, 1, 60000, 0);
	struct follow_arg f;
	pthread_t thread;
	struct hashpool_seat leader;
	unsigned char k[HASHPOOL_KEY_BYTES];

	(void)state;
	key(k, 5);
	assert_int_equal(hashpool_join(p, k, &leader), HASHPOOL_LEAD);
	f.pool = p;
	assert_int_equal(hashpool_join(p, k, &f.seat), HASHPOOL_FOLLOW);
	assert_int_equal(pthread_create(&thread, NULL, follow, &f), 0);
	pause_ms(20);
	hashpool_leave(p, &leader);  /* say, its database read failed */
	pthread_join(thread, NULL);
	assert_false(f.answered);
	assert_int_equal(hashpool_seated(p), 0);
	hashpool_free(p);
}

struct lead_arg {
	struct hashpool *pool;
	bool answered;
	struct hashpool_result result;
};

static void *
lead_costly(void *arg)
{
	struct lead_arg *a = arg;
	struct auth_crypt *c = auth_crypt_new();
	unsigned char k[HASHPOOL_KEY_BYTES];
	struct hashpool_seat seat;

	key(k, 11);
	if (hashpool_join(a->pool, k, &seat) == HASHPOOL_LEAD)
		a->answered = hashpool_await(a->pool, &seat, c, "costly-pw", costly, &a->result);
	auth_crypt_free(c);
	return NULL;
}

static void
test_waits_are_bounded(void **state)
{
	/* One check at a time, and a millisecond to wait for one's turn. */
	struct hashpool *p = hashpool_new(1, 1, 1, 0);
	struct lead_arg a = { .pool = p };
	struct hashpool_result r;
	unsigned char untouched[sizeof r];
	pthread_t thread;

	(void)state;
	assert_int_equal(pthread_create(&thread, NULL, lead_costly, &a), 0);
	while (hashpool_running(p) == 0)  /* its turn came at once: nobody was before it */
		pause_ms(1);
	/* A check is running for some 60 ms: the next leader gives up waiting for its turn. */
	memset(&r, 0x5a, sizeof r);
	memset(untouched, 0x5a, sizeof untouched);
	assert_false(check(p, 12, "secret", current, &r));
	assert_memory_equal(&r, untouched, sizeof r);
	pthread_join(thread, NULL);
	/* Once begun, a check ends, however short the wait for a turn. */
	assert_true(a.answered && a.result.matched);
	assert_int_equal(hashpool_running(p), 0);
	assert_int_equal(hashpool_seated(p), 0);
	hashpool_free(p);
}

struct worker_arg {
	struct hashpool *pool;
	int id;
	int matched;
	int refused;
	int wrong;
};

static void *
worker(void *arg)
{
	struct worker_arg *a = arg;
	struct auth_crypt *c = auth_crypt_new();

	for (int i = 0; i < 6; i++) {
		unsigned char k[HASHPOOL_KEY_BYTES];
		struct hashpool_seat seat;
		struct hashpool_result r;
		bool right = i % 2 == 0;

		/* Half of the workers share their credentials with another one. */
		key(k, (a->id % 4) * 100 + i);
		switch (hashpool_join(a->pool, k, &seat)) {
		case HASHPOOL_FULL:
			a->refused++;
			continue;
		case HASHPOOL_LEAD:
		case HASHPOOL_FOLLOW:
			break;
		}
		if (!hashpool_await(a->pool, &seat, c, right ? "secret" : "nope", bcrypt, &r)) {
			a->refused++;
			continue;
		}
		if (r.matched == right)
			a->matched++;
		else
			a->wrong++;
	}
	auth_crypt_free(c);
	return NULL;
}

static void
test_concurrent_workers(void **state)
{
	struct hashpool *p = hashpool_new(2, 2, 60000, 0);
	struct worker_arg args[8];
	pthread_t threads[8];
	int matched = 0, refused = 0;

	(void)state;
	for (int i = 0; i < 8; i++) {
		args[i] = (struct worker_arg){ .pool = p, .id = i };
		assert_int_equal(pthread_create(&threads[i], NULL, worker, &args[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(args[i].wrong, 0);
		matched += args[i].matched;
		refused += args[i].refused;
	}
	/* Every check answered rightly or was refused (all seats taken), none lost. */
	assert_int_equal(matched + refused, 8 * 6);
	assert_true(matched > 0);
	assert_int_equal(hashpool_running(p), 0);
	assert_int_equal(hashpool_seated(p), 0);
	hashpool_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_seats_are_bounded),
		cmocka_unit_test(test_followers_need_no_seat_in_the_warmup),
		cmocka_unit_test(test_identical_credentials_share_one_check),
		cmocka_unit_test(test_a_leader_that_leaves_leaves_no_answer),
		cmocka_unit_test(test_waits_are_bounded),
		cmocka_unit_test(test_concurrent_workers),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
