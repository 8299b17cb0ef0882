/* The login throttle: budgets per client network and per account, reservations, familiar networks. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "throttle.h"

#define T0 INT64_C(1000000000)

/* One attempt that fails: reserved and kept. */
static enum throttle_verdict
attempt(struct throttle *t, const char *address, const char *user, int64_t now, long *wait)
{
	struct throttle_subject s;
	long ignored;

	throttle_subject(t, address, user, &s);
	return throttle_reserve(t, &s, now, wait != NULL ? wait : &ignored);
}

static void
succeed(struct throttle *t, const char *address, const char *user, int64_t now)
{
	struct throttle_subject s;
	long wait;

	throttle_subject(t, address, user, &s);
	assert_int_equal(throttle_reserve(t, &s, now, &wait), THROTTLE_OK);
	throttle_success(t, &s, now);
}

static void
test_network_budget(void **state)
{
	struct throttle *t = throttle_new(1024, 5, 0);
	long wait;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(attempt(t, "192.0.2.7", "alice", T0 + i, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.7", "bob", T0 + 10, &wait), THROTTLE_NETWORK);
	assert_int_equal(wait, 60);
	assert_int_equal(attempt(t, "192.0.2.7", "bob", T0 + 30500000, &wait), THROTTLE_NETWORK);
	assert_int_equal(wait, 30);
	/* Another address is another budget; the minute over, the address may try again. */
	assert_int_equal(attempt(t, "192.0.2.8", "alice", T0 + 10, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.7", "alice", T0 + THROTTLE_WINDOW_US, NULL), THROTTLE_OK);
	throttle_free(t);
}

static void
test_ipv6_grouped_by_64(void **state)
{
	struct throttle *t = throttle_new(1024, 3, 0);

	(void)state;
	/* Rotating through one /64 (privacy addresses, or an attacker's whole LAN) is one budget. */
	assert_int_equal(attempt(t, "2001:db8:1:2::1", "a", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "2001:db8:1:2:ffff:ffff:ffff:fffe", "b", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "2001:0db8:0001:0002:0:0:0:9", "c", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "2001:db8:1:2:abcd::", "d", T0, NULL), THROTTLE_NETWORK);
	/* The next /64 is someone else. */
	assert_int_equal(attempt(t, "2001:db8:1:3::1", "a", T0, NULL), THROTTLE_OK);
	/* Link-local addresses with a zone: the zone does not make a new network. */
	assert_int_equal(attempt(t, "fe80::1%eth0", "a", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "fe80::2%eth1", "a", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "fe80::3", "a", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "fe80::4", "a", T0, NULL), THROTTLE_NETWORK);
	/* IPv4 counts per address, whether written plainly or IPv4-mapped by a dual-stack socket. */
	assert_int_equal(attempt(t, "198.51.100.1", "a", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "::ffff:198.51.100.1", "a", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "::FFFF:198.51.100.1", "a", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "198.51.100.1", "a", T0, NULL), THROTTLE_NETWORK);
	assert_int_equal(attempt(t, "198.51.100.2", "a", T0, NULL), THROTTLE_OK);
	/* No address, or one that is not IP (a unix socket), shares one budget rather than none. */
	assert_int_equal(attempt(t, NULL, "a", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "unix:", "a", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "unix:", "a", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "unix:", "a", T0, NULL), THROTTLE_NETWORK);
	throttle_free(t);
}

static void
test_reservations_do_not_overshoot(void **state)
{
	struct throttle *t = throttle_new(1024, 5, 0);
	struct throttle_subject s[20];
	int ok = 0;
	long wait;

	(void)state;
	/* Twenty guesses at once, none checked yet: only five get through. */
	for (int i = 0; i < 20; i++) {
		throttle_subject(t, "192.0.2.9", "alice", &s[i]);
		ok += throttle_reserve(t, &s[i], T0, &wait) == THROTTLE_OK;
	}
	assert_int_equal(ok, 5);
	/* Attempts that were never checked (busy, database error) or that succeeded give their place back. */
	throttle_cancel(t, &s[0]);
	throttle_success(t, &s[1], T0);
	assert_int_equal(attempt(t, "192.0.2.9", "x", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.9", "y", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.9", "z", T0, NULL), THROTTLE_NETWORK);
	/* A reservation of a window that is over takes nothing back from the next one. */
	assert_int_equal(attempt(t, "192.0.2.9", "x", T0 + THROTTLE_WINDOW_US, NULL), THROTTLE_OK);
	throttle_cancel(t, &s[2]);
	throttle_cancel(t, &s[3]);
	for (int i = 0; i < 4; i++)
		assert_int_equal(attempt(t, "192.0.2.9", "x", T0 + THROTTLE_WINDOW_US, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.9", "x", T0 + THROTTLE_WINDOW_US, NULL), THROTTLE_NETWORK);
	throttle_free(t);
}

static void
test_peeking_counts_nothing(void **state)
{
	struct throttle *t = throttle_new(1024, 2, 2);
	struct throttle_subject s;
	long wait;

	(void)state;
	/* An attempt that follows an identical one's check is no new guess: it only looks. */
	throttle_subject(t, "192.0.2.5", "alice", &s);
	for (int i = 0; i < 100; i++)
		assert_int_equal(throttle_peek(t, &s, T0, &wait), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.5", "alice", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.5", "alice", T0, NULL), THROTTLE_OK);
	assert_int_equal(throttle_peek(t, &s, T0, &wait), THROTTLE_NETWORK);
	assert_int_equal(wait, 60);
	throttle_subject(t, "192.0.2.6", "alice", &s);
	assert_int_equal(throttle_peek(t, &s, T0, &wait), THROTTLE_ACCOUNT);
	/* A follower's good login: nothing to take back, and the network becomes familiar. */
	throttle_success(t, &s, T0);
	assert_int_equal(throttle_peek(t, &s, T0, &wait), THROTTLE_OK);
	throttle_free(t);
}

static void
test_account_budget_across_networks(void **state)
{
	struct throttle *t = throttle_new(1024, 100, 3);
	char address[32];
	long wait;

	(void)state;
	/* The real user logs in from home once. */
	succeed(t, "203.0.113.5", "alice", T0);
	/* A botnet: one guess from each of many addresses. */
	for (int i = 0; i < 3; i++) {
		snprintf(address, sizeof address, "198.51.100.%d", i + 1);
		assert_int_equal(attempt(t, address, "alice", T0 + 1, NULL), THROTTLE_OK);
	}
	assert_int_equal(attempt(t, "198.51.100.99", "alice", T0 + 2, &wait), THROTTLE_ACCOUNT);
	assert_true(wait >= 59 && wait <= 60);
	/* Other accounts are not affected... */
	assert_int_equal(attempt(t, "198.51.100.99", "bob", T0 + 2, NULL), THROTTLE_OK);
	/* ...and the real user's network is familiar: never refused for the account's sake, and its
	 * typos do not count against the account. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(attempt(t, "203.0.113.5", "alice", T0 + 3, NULL), THROTTLE_OK);
	succeed(t, "203.0.113.5", "alice", T0 + 4);
	/* A network becomes familiar only by a good login, and then for that account alone. */
	assert_int_equal(attempt(t, "203.0.113.5", "carol", T0 + 5, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "198.51.100.77", "alice", T0 + 5, NULL), THROTTLE_ACCOUNT);
	/* The minute over, the account may be tried again from anywhere. */
	assert_int_equal(attempt(t, "198.51.100.77", "alice", T0 + 1 + THROTTLE_WINDOW_US, NULL), THROTTLE_OK);
	/* A familiar mark lasts 30 days. */
	assert_int_equal(attempt(t, "203.0.113.5", "alice", T0 + 4 + THROTTLE_FAMILIAR_US - 1, NULL), THROTTLE_OK);
	throttle_free(t);
}

static void
test_network_budget_comes_first(void **state)
{
	struct throttle *t = throttle_new(1024, 2, 2);
	long wait;

	(void)state;
	assert_int_equal(attempt(t, "192.0.2.1", "alice", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.1", "alice", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.1", "alice", T0, &wait), THROTTLE_NETWORK);
	/* A refused attempt counts nowhere: alice's budget has one failure per attempt that went on. */
	assert_int_equal(attempt(t, "192.0.2.2", "alice", T0, &wait), THROTTLE_ACCOUNT);
	throttle_free(t);
}

static void
test_limits_of_zero_turn_budgets_off(void **state)
{
	struct throttle *t = throttle_new(64, 0, 0);

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(attempt(t, "192.0.2.1", "alice", T0, NULL), THROTTLE_OK);
	throttle_free(t);
	t = throttle_new(64, 0, 2);
	assert_int_equal(attempt(t, "192.0.2.1", "alice", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.2", "alice", T0, NULL), THROTTLE_OK);
	assert_int_equal(attempt(t, "192.0.2.3", "alice", T0, NULL), THROTTLE_ACCOUNT);
	throttle_free(t);
}

static void
test_a_spray_of_new_keys_keeps_the_counts_that_matter(void **state)
{
	/* A small table, so the spray overflows it many times. */
	struct throttle *t = throttle_new(64, 3, 3);
	char address[32], user[32];

	(void)state;
	succeed(t, "203.0.113.9", "victim", T0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(attempt(t, "192.0.2.66", "victim", T0, NULL), THROTTLE_OK);
	/* Thousands of one-off failures, each a new network and a new account. */
	for (int i = 0; i < 5000; i++) {
		snprintf(address, sizeof address, "10.%d.%d.%d", i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff);
		snprintf(user, sizeof user, "spray-%d", i);
		assert_int_equal(attempt(t, address, user, T0 + 1, NULL), THROTTLE_OK);
	}
	assert_int_equal(attempt(t, "192.0.2.66", "somebody", T0 + 2, NULL), THROTTLE_NETWORK);
	assert_int_equal(attempt(t, "192.0.2.67", "victim", T0 + 2, NULL), THROTTLE_ACCOUNT);
	assert_int_equal(attempt(t, "203.0.113.9", "victim", T0 + 2, NULL), THROTTLE_OK);
	throttle_free(t);
}

static void
test_keys_are_per_process(void **state)
{
	struct throttle *a = throttle_new(64, 1, 1), *b = throttle_new(64, 1, 1);
	struct throttle_subject sa, sb, sc;

	(void)state;
	throttle_subject(a, "192.0.2.1", "alice", &sa);
	throttle_subject(b, "192.0.2.1", "alice", &sb);
	assert_memory_not_equal(sa.network, sb.network, THROTTLE_KEY_BYTES);
	assert_memory_not_equal(sa.account, sb.account, THROTTLE_KEY_BYTES);
	/* Networks, accounts and their pairs are separate namespaces. */
	throttle_subject(a, "alice", "192.0.2.1", &sc);
	assert_memory_not_equal(sa.network, sc.account, THROTTLE_KEY_BYTES);
	throttle_free(a);
	throttle_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_budget),
		cmocka_unit_test(test_ipv6_grouped_by_64),
		cmocka_unit_test(test_reservations_do_not_overshoot),
		cmocka_unit_test(test_peeking_counts_nothing),
		cmocka_unit_test(test_account_budget_across_networks),
		cmocka_unit_test(test_network_budget_comes_first),
		cmocka_unit_test(test_limits_of_zero_turn_budgets_off),
		cmocka_unit_test(test_a_spray_of_new_keys_keeps_the_counts_that_matter),
		cmocka_unit_test(test_keys_are_per_process),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
