/*
 * Slows down password guessing: counts failed Basic logins per client address over a minute;
 * past the limit, that address gets 429 (Retry-After) for its Basic logins that would need a
 * password check, until the minute is over. Verified credentials (cache hits) and other
 * addresses are unaffected, so an attacker cannot lock out other users. Fixed size, thread-safe.
 */
#ifndef WEBHOOKD_THROTTLE_H
#define WEBHOOKD_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THROTTLE_WINDOW_US INT64_C(60000000)

struct throttle;

/* limit 0 disables throttling. Needs sodium_init(). */
struct throttle *throttle_new(size_t slots, long limit);
void throttle_free(struct throttle *t);
/* 0 when address may try now, else the seconds until it may (for Retry-After). */
long throttle_wait_s(struct throttle *t, const char *address, int64_t now_us);
void throttle_failure(struct throttle *t, const char *address, int64_t now_us);

#endif
