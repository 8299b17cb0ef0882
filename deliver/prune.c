#include "config.h"

#include "prune.h"

#include "clock.h"
#include "db_log.h"
#include "log.h"

/* Rows per batch, and how long one slice may keep the delivery loop. */
#define PRUNE_BATCH 500
#define PRUNE_SLICE_US (50 * 1000)
/* After a database error, when to try again. */
#define PRUNE_RETRY_US (5 * 1000000)

void
prune_init(struct prune *p)
{
	*p = (struct prune){ .next_us = clock_monotonic_us() };
}

/* One batch of the pass; false when the pass is over (done, taken by another daemon, or failed). */
static bool
prune_batch(struct prune *p, struct db *db, const struct settings *s, enum db_result *r)
{
	int32_t webhook;
	long deleted;

	if (!p->aged) {
		*r = db_log_prune_age(db, s->delivery_log_keep_days, PRUNE_BATCH, &deleted);
		if (*r != DB_OK || deleted < 0)
			return false;
		p->deleted += deleted;
		p->aged = deleted < PRUNE_BATCH;
		return true;
	}
	*r = db_log_prune_rows(db, p->from_webhook, s->delivery_log_max_rows, PRUNE_BATCH, &webhook, &deleted);
	if (*r != DB_OK || deleted < 0 || webhook == 0)
		return false;
	p->deleted += deleted;
	if (deleted == PRUNE_BATCH) {
		p->from_webhook = webhook;  /* a full batch may have left more of this webhook's rows */
		return true;
	}
	if (webhook == INT32_MAX)
		return false;
	p->from_webhook = webhook + 1;
	return true;
}

int64_t
prune_run(struct prune *p, struct db *db, const struct settings *s)
{
	int64_t start = clock_monotonic_us();
	enum db_result r = DB_OK;

	if (start < p->next_us)
		return p->next_us;
	if (!p->in_pass)
		*p = (struct prune){ .in_pass = true, .from_webhook = 1 };
	while (clock_monotonic_us() - start < PRUNE_SLICE_US) {
		if (!prune_batch(p, db, s, &r)) {
			if (r != DB_OK)
				log_warning("delivery log: pruning stopped by a database error; it tries again in %d s",
				    PRUNE_RETRY_US / 1000000);
			else if (p->deleted > 0)
				log_info("delivery log: pruned %ld rows (older than %ld days, or beyond %ld per webhook)",
				    p->deleted, s->delivery_log_keep_days, s->delivery_log_max_rows);
			p->in_pass = false;
			p->next_us = clock_monotonic_us() + (r != DB_OK ? PRUNE_RETRY_US :
			    (int64_t)s->delivery_log_prune_interval_s * 1000000);
			return p->next_us;
		}
	}
	/* More to do: the next slice after the loop's next turn. */
	p->next_us = clock_monotonic_us();
	return p->next_us;
}
