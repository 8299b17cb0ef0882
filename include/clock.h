/* Microseconds since the epoch (wall clock, for what is stored or sent) or since an arbitrary
 * start (monotonic, for durations and deadlines). */
#ifndef WEBHOOKD_CLOCK_H
#define WEBHOOKD_CLOCK_H

#include <stdint.h>

int64_t clock_realtime_us(void);
int64_t clock_monotonic_us(void);

#endif
