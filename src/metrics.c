#include "config.h"

#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_MAX 599

static const double latency_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define NBOUNDS (sizeof latency_bounds / sizeof latency_bounds[0])

static struct {
	atomic_ulong by_status[METRICS_STATUS_MAX - METRICS_STATUS_MIN + 1];
	atomic_ulong latency_buckets[NBOUNDS];  /* not cumulative: rendered as running sums */
	atomic_ulong latency_count;
	atomic_ullong latency_sum_us;
	atomic_int workers_total;
	atomic_int workers_busy;
	atomic_ulong db_reconnects;
	atomic_ulong db_connect_failures;
	atomic_ulong cache_hits[METRICS_CACHE_COUNT];
	atomic_ulong cache_misses[METRICS_CACHE_COUNT];
	atomic_ulong cache_invalidations;
	atomic_ulong reloads;
} m;

void
metrics_set_workers(int total)
{
	atomic_store_explicit(&m.workers_total, total, memory_order_relaxed);
}

void
metrics_worker_busy(bool busy)
{
	atomic_fetch_add_explicit(&m.workers_busy, busy ? 1 : -1, memory_order_relaxed);
}

void
metrics_observe_request(int status, double seconds)
{
	size_t i;

	if (status >= METRICS_STATUS_MIN && status <= METRICS_STATUS_MAX)
		atomic_fetch_add_explicit(&m.by_status[status - METRICS_STATUS_MIN], 1, memory_order_relaxed);
	for (i = 0; i < NBOUNDS && seconds > latency_bounds[i]; i++)
		;
	if (i < NBOUNDS)
		atomic_fetch_add_explicit(&m.latency_buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m.latency_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m.latency_sum_us, (unsigned long long)(seconds * 1e6), memory_order_relaxed);
}

void
metrics_count_db_reconnect(void)
{
	atomic_fetch_add_explicit(&m.db_reconnects, 1, memory_order_relaxed);
}

void
metrics_count_db_connect_failure(void)
{
	atomic_fetch_add_explicit(&m.db_connect_failures, 1, memory_order_relaxed);
}

void
metrics_count_cache(enum metrics_cache cache, bool hit)
{
	atomic_fetch_add_explicit(hit ? &m.cache_hits[cache] : &m.cache_misses[cache], 1, memory_order_relaxed);
}

void
metrics_count_cache_invalidation(void)
{
	atomic_fetch_add_explicit(&m.cache_invalidations, 1, memory_order_relaxed);
}

void
metrics_count_reload(void)
{
	atomic_fetch_add_explicit(&m.reloads, 1, memory_order_relaxed);
}

static void
metrics_line(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
metrics_line(struct buf *out, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_append(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static unsigned long
load(atomic_ulong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void
metrics_render(struct buf *out)
{
	unsigned long cumulative = 0;
	int busy = atomic_load_explicit(&m.workers_busy, memory_order_relaxed);
	int total = atomic_load_explicit(&m.workers_total, memory_order_relaxed);

	metrics_line(out, "# HELP webhookd_requests_total Requests answered, by HTTP status.\n"
	    "# TYPE webhookd_requests_total counter\n");
	for (int s = METRICS_STATUS_MIN; s <= METRICS_STATUS_MAX; s++) {
		unsigned long n = load(&m.by_status[s - METRICS_STATUS_MIN]);

		if (n > 0)
			metrics_line(out, "webhookd_requests_total{status=\"%d\"} %lu\n", s, n);
	}
	metrics_line(out, "# HELP webhookd_request_duration_seconds Time from accepting a request to its last byte.\n"
	    "# TYPE webhookd_request_duration_seconds histogram\n");
	for (size_t i = 0; i < NBOUNDS; i++) {
		cumulative += load(&m.latency_buckets[i]);
		metrics_line(out, "webhookd_request_duration_seconds_bucket{le=\"%g\"} %lu\n", latency_bounds[i], cumulative);
	}
	metrics_line(out, "webhookd_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", load(&m.latency_count));
	metrics_line(out, "webhookd_request_duration_seconds_sum %.6f\n",
	    (double)atomic_load_explicit(&m.latency_sum_us, memory_order_relaxed) / 1e6);
	metrics_line(out, "webhookd_request_duration_seconds_count %lu\n", load(&m.latency_count));
	metrics_line(out, "# HELP webhookd_workers Worker threads, by state.\n# TYPE webhookd_workers gauge\n"
	    "webhookd_workers{state=\"busy\"} %d\nwebhookd_workers{state=\"idle\"} %d\n", busy, total - busy);
	metrics_line(out, "# HELP webhookd_db_reconnects_total Database connections re-established after a loss "
	    "or a reload.\n# TYPE webhookd_db_reconnects_total counter\nwebhookd_db_reconnects_total %lu\n",
	    load(&m.db_reconnects));
	metrics_line(out, "# HELP webhookd_db_connect_failures_total Failed database connection attempts.\n"
	    "# TYPE webhookd_db_connect_failures_total counter\nwebhookd_db_connect_failures_total %lu\n",
	    load(&m.db_connect_failures));
	metrics_line(out, "# HELP webhookd_cache_total Lookups answered from memory (hit) or by the database (miss); "
	    "for webhook_answers, reads answered with the bytes kept for them (hit) or made anew (miss).\n"
	    "# TYPE webhookd_cache_total counter\n");
	for (int c = 0; c < METRICS_CACHE_COUNT; c++) {
		static const char *const names[METRICS_CACHE_COUNT] = { "credentials", "reference_data", "webhooks",
			"webhook_answers" };

		metrics_line(out, "webhookd_cache_total{cache=\"%s\",result=\"hit\"} %lu\n"
		    "webhookd_cache_total{cache=\"%s\",result=\"miss\"} %lu\n",
		    names[c], load(&m.cache_hits[c]), names[c], load(&m.cache_misses[c]));
	}
	metrics_line(out, "# HELP webhookd_cache_invalidations_total Changes announced by PostgreSQL, each "
	    "dropping the caches that depend on the changed table.\n# TYPE webhookd_cache_invalidations_total counter\n"
	    "webhookd_cache_invalidations_total %lu\n", load(&m.cache_invalidations));
	metrics_line(out, "# HELP webhookd_reloads_total Configuration reloads (SIGHUP) applied.\n"
	    "# TYPE webhookd_reloads_total counter\nwebhookd_reloads_total %lu\n", load(&m.reloads));
}
