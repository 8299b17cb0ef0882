/* ISO 8601 date-times on input (the delivery log's since and until): a date, optionally a time
 * of day with seconds and fractions, optionally an offset; UTC when there is none. */
#ifndef WEBHOOKD_ISOTIME_H
#define WEBHOOKD_ISOTIME_H

#include <stdbool.h>
#include <stdint.h>

/* "2026-11-28", "2026-11-28T12:00", "2026-11-28T12:00:00.123456Z", "...+01:00" (or +0100, +01)
 * as microseconds since the epoch; digits beyond the sixth of a fraction are dropped. False for
 * anything else, an impossible date or time included. */
bool isotime_parse(const char *text, int64_t *us) __attribute__((warn_unused_result));

#endif
