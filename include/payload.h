/*
 * What a webhook receives for one event (spec 6.1-6.2): the JSON body (NetServer's WebhookPayload,
 * with the hook's Properties merged at the top level, standard keys winning), its EventId, and the
 * signature of the exact body bytes. Shared by the target check, TestWebhook and delivery.
 */
#ifndef WEBHOOKD_PAYLOAD_H
#define WEBHOOKD_PAYLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "webhook.h"

#define PAYLOAD_EVENT_ID_SIZE 37   /* a GUID: 36 characters and the NUL */
#define PAYLOAD_SIGNATURE_SIZE 45  /* Base64 of 32 bytes and the NUL */

struct payload_event {
	char event_id[PAYLOAD_EVENT_ID_SIZE];
	int64_t timestamp_us;            /* UTC, microseconds since the epoch */
	const char *event;               /* "contact.created" */
	int32_t primary_key;
	const char *entity;              /* "contact" */
	const char *context_identifier;  /* "Default" on-site */
	int32_t changed_by;              /* ChangedByAssociateId */
	const char *field_values_json;   /* a JSON object, or NULL for {} */
};

/* A random (version 4) GUID, lower case, as NetServer writes them. */
void payload_new_event_id(char out[PAYLOAD_EVENT_ID_SIZE]);
/* The body for hook; false when a stored value cannot be written (it is logged). */
bool payload_body(const struct payload_event *ev, const struct webhook *hook, struct buf *out)
	__attribute__((warn_unused_result));
/* X-SuperOffice-Signature: Base64(HMAC-SHA256(key = secret's bytes, message = body)). */
void payload_signature(const char *secret, const char *body, size_t len, char out[PAYLOAD_SIGNATURE_SIZE]);

#define PAYLOAD_STANDARD_SIGNATURE_SIZE (3 + PAYLOAD_SIGNATURE_SIZE)
#define PAYLOAD_STANDARD_SIGNATURES_SIZE (2 * PAYLOAD_STANDARD_SIGNATURE_SIZE)
/* webhook-signature (Standard Webhooks): "v1," and Base64(HMAC-SHA256(key, "id.timestamp.body")),
 * then, while a rotated secret's grace lasts (previous neither NULL nor ""), a space and the same
 * with the previous secret: receivers accept any one signature that verifies. The key is the
 * Base64-decoded rest of a "whsec_" secret, as the Standard Webhooks libraries read one; any
 * other secret's own bytes (their "raw" format), as X-SuperOffice-Signature uses. */
void payload_standard_signatures(const char *secret, const char *previous, const char *id, long long timestamp,
    const char *body, size_t len, char out[PAYLOAD_STANDARD_SIGNATURES_SIZE]);

#endif
