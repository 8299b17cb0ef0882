/*
 * Retention of the delivery log (migrations/0008): finished events and attempts older than
 * delivery_log_keep_days, and beyond delivery_log_max_rows per webhook, are deleted every
 * delivery_log_prune_interval_s. The work comes in batches, each its own short transaction that
 * touches only log rows, never the queue; the delivery loop runs a slice of batches at a time,
 * so a large backlog of old rows never holds deliveries up. One daemon at a time prunes: the
 * others find the advisory lock taken and leave the pass to it.
 */
#ifndef WEBHOOKD_DELIVER_PRUNE_H
#define WEBHOOKD_DELIVER_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "settings.h"

struct prune {
	int64_t next_us;          /* CLOCK_MONOTONIC: when the next slice is due */
	bool in_pass;
	bool aged;                /* this pass is done with age and works on the cap per webhook */
	int32_t from_webhook;     /* the cap's position: webhooks below it are done */
	long deleted;             /* rows this pass, for its log line */
};

void prune_init(struct prune *p);
/* Runs a slice of pruning when one is due; returns when the next is (CLOCK_MONOTONIC microseconds). */
int64_t prune_run(struct prune *p, struct db *db, const struct settings *s);

#endif
