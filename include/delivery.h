/*
 * The delivery rules, as pure functions (spec 6.3, DESIGN.md): what an attempt's outcome means
 * and what happens next. A cycle is a few attempts under one EventId (NetServer: at 0, +1 s,
 * +4 s); when its last attempt fails the delivery starts a new cycle with a new EventId after a
 * pause, up to max_cycles; the webhook turns TooManyErrors after max_consecutive failed attempts
 * in a row (counted across its deliveries, in the database) or at once on 410 Gone.
 */
#ifndef WEBHOOKD_DELIVERY_H
#define WEBHOOKD_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#define DELIVERY_MAX_RETRIES 16

struct delivery_schedule {
	long retry_delays_ms[DELIVERY_MAX_RETRIES];  /* before the 2nd, 3rd, ... attempt of a cycle */
	int nretries;                                /* attempts per cycle: nretries + 1 */
	long cycle_delay_ms;                         /* before a new cycle */
	int max_cycles;                              /* then the delivery is given up */
	long retry_after_max_ms;                     /* a Retry-After is honoured up to this */
	int max_consecutive_errors;                  /* failed attempts in a row before TooManyErrors */
};

/* NetServer's: 3 attempts a cycle at 0, +1 s, +4 s; 3 cycles; TooManyErrors after 9 in a row. */
void delivery_schedule_default(struct delivery_schedule *s);
/* "1000,4000" into retry_delays_ms; false when malformed, negative or too many. */
bool delivery_parse_delays(const char *text, struct delivery_schedule *s) __attribute__((warn_unused_result));

enum delivery_action {
	DELIVERY_DONE = 0,        /* delivered: leaves the queue */
	DELIVERY_RETRY = 1,       /* another attempt in this cycle, same EventId */
	DELIVERY_NEXT_CYCLE = 2,  /* a new cycle, new EventId */
	DELIVERY_GIVE_UP = 3,     /* leaves the queue undelivered */
};

struct delivery_verdict {
	enum delivery_action action;
	long delay_ms;            /* until the next attempt (RETRY, NEXT_CYCLE) */
	bool failed;              /* counts as a failed attempt (and as the webhook's last error) */
	bool gone;                /* 410: the webhook turns TooManyErrors at once */
};

/*
 * The outcome of attempt number attempt (1-based) of cycle cycle (1-based). status is the HTTP
 * status, 0 when there was no answer (timeout, refused, ...). retry_after is the answer's
 * Retry-After value or NULL; it is honoured on 429 and 503, as a delay or an HTTP date relative
 * to now_s, and lengthens (never shortens) the scheduled delay, up to retry_after_max_ms.
 * Success is any 2xx; redirects are failures (they are never followed).
 */
struct delivery_verdict delivery_judge(const struct delivery_schedule *s, long status, const char *retry_after,
    int cycle, int attempt, int64_t now_s);

/* A Retry-After value as milliseconds from now_s; -1 when absent or malformed. */
long delivery_retry_after_ms(const char *value, int64_t now_s);

#endif
