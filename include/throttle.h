/*
 * Slows down password guessing without letting anyone lock the real user out. Budgets of failed
 * Basic logins per minute (fixed windows); once one is spent, what it covers gets 429 with
 * Retry-After for logins whose password would have to be checked, until its minute is over:
 *   - per client network (max_failed_logins): an IPv4 address, or an IPv6 /64, which is one
 *     subscriber's LAN: rotating through the addresses of one's own /64 buys no extra guesses;
 *   - per account (max_failed_logins_per_account): failures for one user name, folded as the
 *     database folds it, from networks the account has not logged in from. A botnet guessing one
 *     account from thousands of addresses gets that many guesses a minute in all.
 * Why the real user is not locked out: the account budget never applies to a network from which
 * the account has logged in successfully (a familiar network, remembered for 30 days or until the
 * daemon restarts), and failures from there do not count against it; and a credential verified
 * before (the same header, the same stored hash) skips the throttle altogether (login.c). What an
 * attack on one account can still do is make a first login from a new network wait for the minute
 * to pass; tickets, tokens and sessions are never throttled.
 *
 * An attempt is reserved before its password is checked and counts as a failure unless it is
 * cancelled or succeeds, so concurrent guesses cannot overshoot a budget.
 *
 * Fixed size, thread-safe. Entries are keyed by a keyed hash (no address or name is stored, and
 * nobody can aim a key at another's entry) in a 4-way set-associative table; a new key takes an
 * empty or expired entry, else the one with the fewest failures, so a spray of new keys cannot
 * wipe out the count of a network or an account under attack.
 */
#ifndef WEBHOOKD_THROTTLE_H
#define WEBHOOKD_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THROTTLE_WINDOW_US INT64_C(60000000)
#define THROTTLE_FAMILIAR_US (INT64_C(30) * 24 * 3600 * 1000000)
#define THROTTLE_KEY_BYTES 16

struct throttle;

/* What one login attempt counts against. */
struct throttle_subject {
	unsigned char network[THROTTLE_KEY_BYTES];
	unsigned char account[THROTTLE_KEY_BYTES];
	unsigned char familiar[THROTTLE_KEY_BYTES];  /* this account on this network */
	int64_t network_window_us;  /* set by throttle_reserve: the windows it counted in, 0 for none */
	int64_t account_window_us;
};

enum throttle_verdict {
	THROTTLE_OK,       /* reserved */
	THROTTLE_NETWORK,  /* the client network's budget is spent */
	THROTTLE_ACCOUNT,  /* the account's budget is spent, and this network is not familiar to it */
};

/* A limit of 0 turns that budget off. Needs sodium_init(). */
struct throttle *throttle_new(size_t entries, long network_limit, long account_limit);
void throttle_free(struct throttle *t);
/* The keys of an attempt: address as nginx gives it (REMOTE_ADDR; NULL or not an IP address
 * shares one key), folded_user from auth_user_fold. */
void throttle_subject(const struct throttle *t, const char *address, const char *folded_user,
    struct throttle_subject *out);
/* THROTTLE_OK when the attempt may go on (it is then counted as a failure until cancelled or
 * successful); else which budget is spent, and *wait_s the seconds until it is not (Retry-After). */
enum throttle_verdict throttle_reserve(struct throttle *t, struct throttle_subject *s, int64_t now_us, long *wait_s)
	__attribute__((warn_unused_result));
/* The verdict throttle_reserve would give, without reserving anything: for an attempt that
 * shares the check of an identical one already reserved (login.c), which is no new guess. */
enum throttle_verdict throttle_peek(struct throttle *t, const struct throttle_subject *s, int64_t now_us, long *wait_s)
	__attribute__((warn_unused_result));
/* The password was not checked after all (busy, database error): the attempt does not count. */
void throttle_cancel(struct throttle *t, const struct throttle_subject *s);
/* The password was right: the attempt does not count (if it was reserved), and the network becomes
 * familiar to the account. */
void throttle_success(struct throttle *t, const struct throttle_subject *s, int64_t now_us);

#endif
