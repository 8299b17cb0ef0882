/*
 * Probe (README, "Delivery controls"): a TooManyErrors webhook whose controls ask for it gets a
 * signed `test` event every delivery_probe_interval_s, from one daemon only (the database hands
 * each probe to one: webhook_probe_claim in migrations/0009); the first 2xx sets it Active again,
 * which raises webhook.started. The engine sends the probes as flights of their own; this module
 * paces the rounds that look for them and says what an answer means.
 */
#ifndef WEBHOOKD_DELIVER_PROBE_H
#define WEBHOOKD_DELIVER_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

struct probe_round {
	int64_t next_us;  /* CLOCK_MONOTONIC: when the next round may look; 0: at once */
};

/* Is a round due at now_us? When it is, the next one is set a period on: the interval, at most
 * PROBE_ROUND_MAX_S, so a webhook is probed within that long of its own time. */
bool probe_round_due(struct probe_round *p, int64_t now_us, long interval_s);
/* timeout_ms (how long the loop would sleep), shortened to the next round. */
int probe_round_wait_ms(const struct probe_round *p, int timeout_ms, int64_t now_us);
/* Records a probe's answer (status 0: none, error says why): a 2xx makes the webhook Active. */
enum db_result probe_record(struct db *db, int32_t webhook_id, long status, const char *error);

#endif
