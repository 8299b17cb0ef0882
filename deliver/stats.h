/*
 * The delivery daemon's metrics, written as a Prometheus text file (node_exporter's textfile
 * collector reads it; so can a person): attempts sent, retried, succeeded and failed, a latency
 * histogram, deliveries in flight, and the queue's depth and oldest due age. Single-threaded.
 */
#ifndef WEBHOOKD_DELIVER_STATS_H
#define WEBHOOKD_DELIVER_STATS_H

#include <stdbool.h>

#define STATS_BUCKETS 12

struct stats {
	unsigned long long sent, retried, succeeded, failed, unanswered;
	unsigned long long latency_buckets[STATS_BUCKETS];  /* cumulative at write time */
	unsigned long long latency_count;
	double latency_sum_s;
};

void stats_init(struct stats *s);
void stats_sent(struct stats *s, bool retry);
void stats_outcome(struct stats *s, long status, bool failed, long latency_ms);
/* Replaces path atomically (a temporary file renamed over it); depth and oldest_ms are -1 when
 * the queue could not be read. */
void stats_write(const struct stats *s, const char *path, long in_flight, long long depth, long long oldest_ms);

#endif
