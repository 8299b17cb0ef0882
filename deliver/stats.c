#include "config.h"

#include "stats.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static const double stats_bounds_s[STATS_BUCKETS - 1] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

void
stats_init(struct stats *s)
{
	memset(s, 0, sizeof *s);
}

void
stats_sent(struct stats *s, bool retry)
{
	s->sent++;
	s->retried += retry;
}

void
stats_outcome(struct stats *s, long status, bool failed, long latency_ms)
{
	double secs = (double)latency_ms / 1000.0;
	size_t b = 0;

	if (failed)
		s->failed++;
	else
		s->succeeded++;
	s->unanswered += status == 0;
	while (b < STATS_BUCKETS - 1 && secs > stats_bounds_s[b])
		b++;
	s->latency_buckets[b]++;
	s->latency_count++;
	s->latency_sum_s += secs;
}

void
stats_write(const struct stats *s, const char *path, long in_flight, long long depth, long long oldest_ms)
{
	char tmp[4096];
	unsigned long long cumulative = 0;
	FILE *f;
	bool ok;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return;
	f = fopen(tmp, "w");
	if (f == NULL) {
		log_warning("metrics: cannot write %s", tmp);
		return;
	}
	fprintf(f, "# HELP webhookd_delivery_attempts_total Delivery attempts started.\n"
	    "# TYPE webhookd_delivery_attempts_total counter\nwebhookd_delivery_attempts_total %llu\n"
	    "# HELP webhookd_delivery_retries_total Attempts that were retries (a later attempt or cycle).\n"
	    "# TYPE webhookd_delivery_retries_total counter\nwebhookd_delivery_retries_total %llu\n"
	    "# HELP webhookd_delivery_outcomes_total Finished attempts by outcome.\n"
	    "# TYPE webhookd_delivery_outcomes_total counter\n"
	    "webhookd_delivery_outcomes_total{outcome=\"succeeded\"} %llu\n"
	    "webhookd_delivery_outcomes_total{outcome=\"failed\"} %llu\n"
	    "# HELP webhookd_delivery_unanswered_total Failed attempts with no HTTP answer (timeout, refused, ...).\n"
	    "# TYPE webhookd_delivery_unanswered_total counter\nwebhookd_delivery_unanswered_total %llu\n"
	    "# HELP webhookd_delivery_in_flight Attempts in flight in this daemon.\n"
	    "# TYPE webhookd_delivery_in_flight gauge\nwebhookd_delivery_in_flight %ld\n"
	    "# HELP webhookd_delivery_queue_due Deliveries due and waiting (all daemons).\n"
	    "# TYPE webhookd_delivery_queue_due gauge\nwebhookd_delivery_queue_due %lld\n"
	    "# HELP webhookd_delivery_oldest_due_seconds How long the oldest due delivery has waited.\n"
	    "# TYPE webhookd_delivery_oldest_due_seconds gauge\nwebhookd_delivery_oldest_due_seconds %.3f\n"
	    "# HELP webhookd_delivery_latency_seconds Attempt duration, from start to answer or failure.\n"
	    "# TYPE webhookd_delivery_latency_seconds histogram\n",
	    s->sent, s->retried, s->succeeded, s->failed, s->unanswered, in_flight, depth,
	    oldest_ms < 0 ? -1.0 : (double)oldest_ms / 1000.0);
	for (size_t b = 0; b < STATS_BUCKETS - 1; b++) {
		cumulative += s->latency_buckets[b];
		fprintf(f, "webhookd_delivery_latency_seconds_bucket{le=\"%g\"} %llu\n", stats_bounds_s[b], cumulative);
	}
	fprintf(f, "webhookd_delivery_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "webhookd_delivery_latency_seconds_sum %.6f\nwebhookd_delivery_latency_seconds_count %llu\n",
	    s->latency_count, s->latency_sum_s, s->latency_count);
	ok = ferror(f) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		log_warning("metrics: cannot replace %s", path);
		(void)remove(tmp);
	}
}
