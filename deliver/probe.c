#include "config.h"

#include "probe.h"

#include "log.h"

/* Rounds are this far apart at most, however long the interval: the database decides which
 * webhook is due, so a round finds each within this long of its time. */
#define PROBE_ROUND_MAX_S 5

bool
probe_round_due(struct probe_round *p, int64_t now_us, long interval_s)
{
	long period_s = interval_s < PROBE_ROUND_MAX_S ? interval_s : PROBE_ROUND_MAX_S;

	if (now_us < p->next_us)
		return false;
	p->next_us = now_us + (int64_t)period_s * 1000000;
	return true;
}

int
probe_round_wait_ms(const struct probe_round *p, int timeout_ms, int64_t now_us)
{
	int64_t until_ms = p->next_us > now_us ? (p->next_us - now_us + 999) / 1000 : 0;

	return until_ms < timeout_ms ? (int)until_ms : timeout_ms;
}

enum db_result
probe_record(struct db *db, int32_t webhook_id, long status, const char *error)
{
	enum db_result r;

	if (status < 200 || status > 299) {
		if (status == 0)
			log_debug("webhook %d: the probe had no answer: %s", (int)webhook_id, error);
		else
			log_debug("webhook %d: the probe was answered %ld; it stays TooManyErrors", (int)webhook_id, status);
		return DB_OK;
	}
	r = db_probe_answered(db, webhook_id);
	if (r == DB_OK)
		log_info("webhook %d answered the probe with %ld: it is Active again", (int)webhook_id, status);
	return r == DB_NOT_FOUND ? DB_OK : r;
}
