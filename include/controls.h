/*
 * A webhook's delivery controls (README, "Delivery controls"): the WebhookControls document of
 * GET and PUT /api/v1/Webhook/{id}/Controls, what a PUT may change, and how the document is read
 * and written. The rules they stand for live in the claim (migrations/0009).
 */
#ifndef WEBHOOKD_CONTROLS_H
#define WEBHOOKD_CONTROLS_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "carrier.h"
#include "emit.h"

#define CONTROLS_RATE_LIMIT_MAX 10000      /* deliveries per second */
#define CONTROLS_MAX_IN_FLIGHT_MAX 1000
#define CONTROLS_MESSAGE_SIZE 256

struct webhook_controls {
	int rate_limit;                  /* deliveries per second over all daemons; 0: none (null) */
	int max_in_flight;               /* over all daemons; 0: the daemon's delivery_per_webhook (null) */
	bool ordered;                    /* one at a time per PrimaryKey, in signal order */
	bool probe;                      /* probe while TooManyErrors, Active again on a 2xx */
	int64_t previous_secret_until;   /* when the previous secret's grace ends; WEBHOOK_TIME_UNSET: none */
};

/* What a PUT changes: only the properties it names. A cleared RateLimit or MaxInFlight is 0. */
struct webhook_controls_change {
	bool has_rate_limit, has_max_in_flight, has_ordered, has_probe;
	int rate_limit;
	int max_in_flight;
	bool ordered;
	bool probe;
};

/* A PUT body: an object whose properties (any case) RateLimit and MaxInFlight are null or an
 * integer in range, Ordered and Probe true or false; the rest is ignored (PreviousSecretUntil is
 * read-only). False with a sentence naming the property in msg. */
bool controls_parse_change(yajl_val body, struct webhook_controls_change *out, char msg[CONTROLS_MESSAGE_SIZE])
	__attribute__((warn_unused_result));

/* The WebhookControls document, nulls emitted, PreviousSecretUntil as the Webhook's date-times. */
bool controls_write(struct emitter *e, const struct webhook_controls *c, const struct carrier_options *opt)
	__attribute__((warn_unused_result));

#endif
