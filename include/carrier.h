/* The carriers, walked once in schema order and written through any emitter (JSON or XML). */
#ifndef WEBHOOKD_CARRIER_H
#define WEBHOOKD_CARRIER_H

#include <stdbool.h>
#include <stddef.h>

#include "emit.h"
#include "webhook.h"

struct carrier_options {
	/* SO-TimeZone's includeTZOffset: UTC stamps carry "Z". Unset date-times never do. */
	bool tag_utc;
};

/* Members that other carriers (logcarrier.c) write the same way: a string or null; a UTC
 * date-time as NetServer writes it; a stored JSON object (strings_only: of strings) or null. */
bool carrier_string(struct emitter *e, const char *name, const char *value) __attribute__((warn_unused_result));
bool carrier_time(struct emitter *e, const char *name, int64_t us, const struct carrier_options *opt)
	__attribute__((warn_unused_result));
bool carrier_dictionary(struct emitter *e, const char *name, const char *stored, bool strings_only)
	__attribute__((warn_unused_result));

/* The Webhook carrier: its 13 properties in schema order, nulls emitted. False when a stored
 * value cannot be represented (invalid UTF-8, a control character in XML, a malformed object). */
bool carrier_write_webhook(struct emitter *e, const struct webhook *w, const struct carrier_options *opt)
	__attribute__((warn_unused_result));

/* A list of webhooks: a JSON array, or ArrayOfWebhook with <Webhook> items in XML. */
bool carrier_write_webhook_list(struct emitter *e, const struct webhook *hooks, size_t n,
    const struct carrier_options *opt) __attribute__((warn_unused_result));

/* WebhookUsage: a webhook's delivery counters; LastErrorAt is null before its first failure. */
bool carrier_write_usage(struct emitter *e, const struct webhook_usage *u, const struct carrier_options *opt)
	__attribute__((warn_unused_result));
/* ArrayOfWebhookUsage. */
bool carrier_write_usage_list(struct emitter *e, const struct webhook_usage_list *l, const struct carrier_options *opt)
	__attribute__((warn_unused_result));

/* WebhookResult (TestWebhook): Success, Message, then its Carrier base (first in XML). */
bool carrier_write_webhook_result(struct emitter *e, bool success, const char *message)
	__attribute__((warn_unused_result));

/* NetServer's REST error shape: Error, ErrorType, ErrorMessage, ErrorSource. */
bool carrier_write_error(struct emitter *e, const char *type, const char *message, const char *source)
	__attribute__((warn_unused_result));

#endif
