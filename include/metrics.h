/*
 * Process-wide counters for the Prometheus text format: requests by status, a latency histogram,
 * busy workers, database reconnects, credential cache hits. Lock-free (C11 atomics), so the
 * request path pays a few relaxed increments.
 */
#ifndef WEBHOOKD_METRICS_H
#define WEBHOOKD_METRICS_H

#include <stdbool.h>

#include "buf.h"

void metrics_set_workers(int total);
void metrics_worker_busy(bool busy);
void metrics_observe_request(int status, double seconds);
void metrics_count_db_reconnect(void);
void metrics_count_db_connect_failure(void);
void metrics_count_reload(void);
void metrics_count_cache_invalidation(void);

/* METRICS_CACHE_WEBHOOK_ANSWERS: a read answered with bytes kept in the snapshot (hit), or made anew. */
enum metrics_cache {
	METRICS_CACHE_CREDENTIALS, METRICS_CACHE_REFERENCE_DATA, METRICS_CACHE_WEBHOOKS, METRICS_CACHE_WEBHOOK_ANSWERS,
	METRICS_CACHE_COUNT
};
void metrics_count_cache(enum metrics_cache cache, bool hit);
/* Appends every metric in the Prometheus text exposition format 0.0.4. */
void metrics_render(struct buf *out);

#endif
