#include "config.h"

#include "payload.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "emit.h"
#include "log.h"

/* The members of the body in NetServer's order; Properties may not override them. */
static const char *const payload_standard_keys[] = { "EventId", "Timestamp", "Changes", "Event", "PrimaryKey",
	"Entity", "ContextIdentifier", "ChangedByAssociateId", "WebhookName", "FieldValues" };

void
payload_new_event_id(char out[PAYLOAD_EVENT_ID_SIZE])
{
	unsigned char b[16];

	randombytes_buf(b, sizeof b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);  /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);  /* RFC 4122 variant */
	snprintf(out, PAYLOAD_EVENT_ID_SIZE, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void
payload_signature(const char *secret, const char *body, size_t len, char out[PAYLOAD_SIGNATURE_SIZE])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	/* HMAC takes a key of any length (hashed when longer than a block), as .NET's HMACSHA256 does. */
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, PAYLOAD_SIGNATURE_SIZE, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(&st, sizeof st);
}

/* One "v1,<base64>" of the Standard Webhooks scheme. */
static void
payload_standard_signature(const char *secret, const char *id, long long timestamp, const char *body, size_t len,
    char out[PAYLOAD_STANDARD_SIGNATURE_SIZE])
{
	static const char prefix[] = "whsec_";
	unsigned char key[512], mac[crypto_auth_hmacsha256_BYTES];  /* a Secret has at most 400 characters */
	const unsigned char *k = (const unsigned char *)secret;
	size_t klen = strlen(secret);
	crypto_auth_hmacsha256_state st;
	char stamp[24];

	if (strncmp(secret, prefix, sizeof prefix - 1) == 0 &&
	    sodium_base642bin(key, sizeof key, secret + sizeof prefix - 1, klen - (sizeof prefix - 1), NULL, &klen,
	        NULL, sodium_base64_VARIANT_ORIGINAL) == 0)
		k = key;
	else
		klen = strlen(secret);
	snprintf(stamp, sizeof stamp, "%lld", timestamp);
	crypto_auth_hmacsha256_init(&st, k, klen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)stamp, strlen(stamp));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, PAYLOAD_SIGNATURE_SIZE, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(&st, sizeof st);
	sodium_memzero(key, sizeof key);
}

void
payload_standard_signatures(const char *secret, const char *previous, const char *id, long long timestamp,
    const char *body, size_t len, char out[PAYLOAD_STANDARD_SIGNATURES_SIZE])
{
	payload_standard_signature(secret, id, timestamp, body, len, out);
	if (previous != NULL && *previous != '\0') {
		size_t at = strlen(out);

		out[at++] = ' ';
		payload_standard_signature(previous, id, timestamp, body, len, out + at);
	}
}

static void
payload_print(void *ctx, const char *s, size_t len)
{
	buf_append(ctx, s, len);
}

static bool
payload_key(yajl_gen g, const char *key)
{
	return yajl_gen_string(g, (const unsigned char *)key, strlen(key)) == yajl_gen_status_ok;
}

static bool
payload_string(yajl_gen g, const char *key, const char *value)
{
	return payload_key(g, key) && (value == NULL ? yajl_gen_null(g) :
	    yajl_gen_string(g, (const unsigned char *)value, strlen(value))) == yajl_gen_status_ok;
}

static bool
payload_integer(yajl_gen g, const char *key, long long value)
{
	return payload_key(g, key) && yajl_gen_integer(g, value) == yajl_gen_status_ok;
}

static bool
payload_is_standard(const char *key)
{
	for (size_t i = 0; i < sizeof payload_standard_keys / sizeof payload_standard_keys[0]; i++) {
		if (strcasecmp(key, payload_standard_keys[i]) == 0)
			return true;
	}
	return false;
}

/* Changes (the names of the fields) and FieldValues (the fields) from one stored object. */
static bool
payload_fields(yajl_gen g, yajl_val fields)
{
	if (!payload_key(g, "Changes") || yajl_gen_array_open(g) != yajl_gen_status_ok)
		return false;
	for (size_t i = 0; fields != NULL && i < fields->u.object.len; i++) {
		if (yajl_gen_string(g, (const unsigned char *)fields->u.object.keys[i],
		    strlen(fields->u.object.keys[i])) != yajl_gen_status_ok)
			return false;
	}
	return yajl_gen_array_close(g) == yajl_gen_status_ok;
}

/* Time as NetServer stamps payloads: UTC with fractional seconds and "Z". */
static bool
payload_timestamp(yajl_gen g, int64_t us)
{
	char text[WEBHOOK_TIME_TEXT_SIZE + 8];

	if (!webhook_format_time(us, false, text))
		return false;
	/* A whole second still carries its fraction, so receivers parse one format. */
	if (strchr(text, '.') == NULL)
		strcat(text, ".000000");
	strcat(text, "Z");
	return payload_string(g, "Timestamp", text);
}

bool
payload_body(const struct payload_event *ev, const struct webhook *hook, struct buf *out)
{
	yajl_val fields = NULL, properties = NULL;
	char err[64];
	yajl_gen g = yajl_gen_alloc(NULL);
	bool ok;

	if (g == NULL)
		return false;
	if (ev->field_values_json != NULL) {
		fields = yajl_tree_parse(ev->field_values_json, err, sizeof err);
		if (fields != NULL && !YAJL_IS_OBJECT(fields)) {
			yajl_tree_free(fields);
			fields = NULL;
		}
	}
	if (hook->properties_json != NULL)
		properties = yajl_tree_parse(hook->properties_json, err, sizeof err);
	ok = yajl_gen_config(g, yajl_gen_print_callback, payload_print, out) &&
	    yajl_gen_config(g, yajl_gen_validate_utf8, 1) &&
	    yajl_gen_map_open(g) == yajl_gen_status_ok &&
	    payload_string(g, "EventId", ev->event_id) &&
	    payload_timestamp(g, ev->timestamp_us) &&
	    payload_fields(g, fields) &&
	    payload_string(g, "Event", ev->event) &&
	    payload_integer(g, "PrimaryKey", ev->primary_key) &&
	    payload_string(g, "Entity", ev->entity) &&
	    payload_string(g, "ContextIdentifier", ev->context_identifier) &&
	    payload_integer(g, "ChangedByAssociateId", ev->changed_by) &&
	    payload_string(g, "WebhookName", hook->name) &&
	    payload_key(g, "FieldValues");
	if (ok)
		ok = fields != NULL ? json_gen_value(g, fields) :
		    (yajl_gen_map_open(g) == yajl_gen_status_ok && yajl_gen_map_close(g) == yajl_gen_status_ok);
	for (size_t i = 0; ok && properties != NULL && YAJL_IS_OBJECT(properties) && i < properties->u.object.len; i++) {
		if (!payload_is_standard(properties->u.object.keys[i]))
			ok = payload_key(g, properties->u.object.keys[i]) && json_gen_value(g, properties->u.object.values[i]);
	}
	ok = ok && yajl_gen_map_close(g) == yajl_gen_status_ok;
	if (!ok)
		log_error("webhook %d: the payload of event %s cannot be written", (int)hook->id, ev->event_id);
	yajl_tree_free(fields);
	yajl_tree_free(properties);
	yajl_gen_free(g);
	return ok;
}
