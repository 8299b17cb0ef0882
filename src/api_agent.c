#include "config.h"

#include "api.h"

#include <stdio.h>
#include <stdlib.h>

#include "body.h"
#include "context.h"
#include "hookparse.h"

/*
 * The Webhook agent: POST /api/v1/Agents/Webhook/<Method>. Agent conventions (spec section 5 and
 * DESIGN.md): a missing webhook is 200 with null from the getters and 204 from DeleteWebhook;
 * scalar parameters come from the query or the body.
 */

void
api_agent_create_default_webhook(void *ctx, const struct request *req, struct response *resp)
{
	(void)req; /* a body, if any, has been read and is ignored */
	(void)resp;
	api_default_webhook(ctx);
}

void
api_agent_save_webhook(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	char reason[HOOKPARSE_MESSAGE_SIZE], message[HOOKSVC_MESSAGE_SIZE];
	struct hooksvc_caller caller;
	struct webhook in, saved;
	enum hooksvc_result r;
	enum body_media media;
	struct hooksvc svc;
	yajl_val body;

	(void)req;
	(void)resp;
	if (!body_json(call, &body, &media))
		return;
	if (body == NULL) {
		reply_bad_request(call, "The body must be the Webhook to save.");
		return;
	}
	if (!hookparse_webhook(body, &in, reason)) {
		yajl_tree_free(body);
		reply_bad_request(call, reason);
		return;
	}
	yajl_tree_free(body);
	api_service(call, &svc, &caller);
	r = hooksvc_save(&svc, &caller, &in, INT64_MIN, &saved, message);
	if (r == HOOKSVC_OK) {
		api_reply_webhook(call, 200, &saved);
	} else if (r == HOOKSVC_NOT_FOUND) {
		snprintf(message, sizeof message, "Webhook %d does not exist: save it with WebhookId 0 to create it.",
		    (int)in.id);
		reply_not_found(call, message);
	} else {
		api_service_error(call, r, message);
	}
	webhook_free(&in);
	webhook_free(&saved);
}

/* The webhook id a getter names, from the query or the body. False after replying. */
static bool
api_agent_id(struct call *call, const char *name, int32_t *id)
{
	enum body_media media;
	yajl_val body;
	bool ok;

	if (!body_json(call, &body, &media))
		return false;
	ok = body_param_id(call, body, name, true, id);
	yajl_tree_free(body);
	return ok;
}

void
api_agent_get_webhook(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	struct hookanswers_request answer = { .operation = "get" };
	struct api_read read;
	struct webhook hook;
	enum hooksvc_result r;

	(void)req;
	(void)resp;
	if (!api_agent_id(call, "WebhookId", &answer.id))
		return;
	if (api_read_begin(call, &answer, &read))
		goto out;
	r = hooksvc_get(&read.svc, read.snap, &read.caller, answer.id, &hook);
	if (r == HOOKSVC_OK)
		api_reply_webhook(call, 200, &hook);
	else if (r == HOOKSVC_NOT_FOUND)
		reply_carrier(call, 200, reply_write_null, "Webhook");
	else
		api_service_error(call, r, "");
	webhook_free(&hook);
out:
	api_read_end(call, &read);
}

/* The filters come in the body, {NameFilter, EventFilter, StatusFilter}, or, when there is no
 * body, as query parameters of the same names. */
void
api_agent_get_all_webhooks(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	char reason[HOOKPARSE_MESSAGE_SIZE], storage[3][512];
	struct db_webhook_filter filter;
	enum body_media media;
	yajl_val body;
	bool ok;

	(void)req;
	(void)resp;
	if (!body_json(call, &body, &media))
		return;
	if (body == NULL) {
		ok = api_query_filter(call, &filter, storage);
	} else {
		ok = hookparse_filter(body, &filter, reason);
		if (!ok)
			reply_bad_request(call, reason);
	}
	if (ok)
		api_list(call, &filter);
	yajl_tree_free(body);
}

void
api_agent_delete_webhook(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	struct hooksvc_caller caller;
	enum hooksvc_result r;
	struct hooksvc svc;
	int32_t id;

	(void)req;
	(void)resp;
	if (!api_agent_id(call, "WebhookId", &id))
		return;
	api_service(call, &svc, &caller);
	r = hooksvc_delete(&svc, &caller, id, INT64_MIN);
	/* Deleting what is not there leaves the same state: idempotent, 204 either way. */
	if (r == HOOKSVC_OK || r == HOOKSVC_NOT_FOUND)
		reply_no_content(call);
	else
		api_service_error(call, r, "");
}

void
api_agent_get_last_error(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	struct hooksvc_caller caller;
	enum hooksvc_result r;
	struct hooksvc svc;
	char *text = NULL;
	int32_t id;

	(void)req;
	(void)resp;
	if (!api_agent_id(call, "WebhookId", &id))
		return;
	api_service(call, &svc, &caller);
	r = hooksvc_last_error(&svc, &caller, id, &text);
	if (r == HOOKSVC_OK)
		reply_carrier(call, 200, reply_write_string, text);
	else if (r == HOOKSVC_NOT_FOUND)
		reply_carrier(call, 200, reply_write_null, "string");
	else
		api_service_error(call, r, "");
	free(text);
}

/* {"Webhook": {...}}: the definition to test, saved or not. */
void
api_agent_test_webhook(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	char reason[HOOKPARSE_MESSAGE_SIZE];
	enum body_media media;
	struct webhook hook;
	yajl_val body, inner = NULL;

	(void)req;
	(void)resp;
	if (!body_json(call, &body, &media))
		return;
	if (body == NULL || !YAJL_IS_OBJECT(body)) {
		reply_bad_request(call, "The body must be {\"Webhook\": {...}}, the webhook to test.");
	} else if (!hookparse_member(body, "Webhook", &inner, reason)) {
		reply_bad_request(call, reason);
	} else if (inner == NULL || !YAJL_IS_OBJECT(inner)) {
		reply_bad_request(call, "Webhook is required: the webhook to test, as an object.");
	} else if (!hookparse_webhook(inner, &hook, reason)) {
		reply_bad_request(call, reason);
	} else {
		api_test_webhook(call, &hook);
		webhook_free(&hook);
	}
	yajl_tree_free(body);
}

void
api_agent_signal_event(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	char reason[HOOKPARSE_MESSAGE_SIZE];
	enum body_media media;
	const char *event;
	char *data = NULL;
	int32_t pk;
	yajl_val body;

	(void)req;
	(void)resp;
	if (!body_json(call, &body, &media))
		return;
	if (body == NULL)
		reply_bad_request(call, "The body must be {EventName, PrimaryKey, Data}.");
	else if (!hookparse_signal(body, &event, &pk, &data, reason))
		reply_bad_request(call, reason);
	else
		api_signal(call, event, pk, data);
	free(data);
	yajl_tree_free(body);
}
