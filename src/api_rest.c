#include "config.h"

#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "body.h"
#include "hookcache.h"
#include "hookparse.h"

/*
 * The REST resource /api/v1/Webhook over the same rows and the same service as the agent
 * (spec section 1). REST conventions: a missing webhook is 404; GET carries Last-Modified and
 * honours If-Modified-Since (304); PUT, PATCH and DELETE honour If-Unmodified-Since (412).
 */

static void
api_rest_last_modified(struct call *call, const struct webhook *hook)
{
	char date[BODY_HTTP_DATE_SIZE];

	body_format_http_date(hook->updated, date);
	if (date[0] != '\0')
		response_add_header(call->resp, "Last-Modified", date);
}

/* A stored webhook as the answer: translated, with Last-Modified. */
static void
api_rest_reply(struct call *call, int status, struct webhook *hook)
{
	api_reply_webhook(call, status, hook);
	if (call->resp->status == status)
		api_rest_last_modified(call, hook);
}

/* What a write of webhook id answered, as a REST reply. */
static void
api_rest_saved(struct call *call, enum hooksvc_result r, int32_t id, struct webhook *saved, const char *message)
{
	if (r == HOOKSVC_OK)
		api_rest_reply(call, 200, saved);
	else if (r == HOOKSVC_NOT_FOUND)
		api_webhook_not_found(call, id);
	else
		api_service_error(call, r, message);
}

void
api_rest_list(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	struct db_webhook_filter filter;
	char storage[3][512];

	(void)req;
	(void)resp;
	if (api_query_filter(call, &filter, storage))
		api_list(call, &filter);
}

void
api_rest_default(void *ctx, const struct request *req, struct response *resp)
{
	(void)req;
	(void)resp;
	api_default_webhook(ctx);
}

void
api_rest_get(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	struct hooksvc_caller caller;
	struct hooksnap *snap;
	struct hooksvc svc;
	struct webhook hook;
	enum hooksvc_result r;
	int64_t since;

	(void)req;
	if (!body_http_date(call, "If-Modified-Since", call->req->if_modified_since, &since))
		return;
	api_service(call, &svc, &caller);
	snap = hooksvc_snapshot(&svc);
	r = hooksvc_get(&svc, snap, &caller, id, &hook);
	hooksnap_unref(snap);
	if (r == HOOKSVC_OK && since != INT64_MIN && hook.updated / 1000000 <= since) {
		response_reset(resp);
		resp->status = 304;
		api_rest_last_modified(call, &hook);
	} else if (r == HOOKSVC_OK) {
		api_rest_reply(call, 200, &hook);
	} else if (r == HOOKSVC_NOT_FOUND) {
		api_webhook_not_found(call, id);
	} else {
		api_service_error(call, r, "");
	}
	webhook_free(&hook);
}

/* The body of POST and PUT: a Webhook. False after replying. */
static bool
api_rest_webhook_body(struct call *call, struct webhook *out)
{
	char reason[HOOKPARSE_MESSAGE_SIZE];
	enum body_media media;
	yajl_val body;
	bool ok;

	if (!body_json(call, &body, &media))
		return false;
	if (body == NULL) {
		reply_bad_request(call, "The body must be a Webhook.");
		return false;
	}
	ok = hookparse_webhook(body, out, reason);
	yajl_tree_free(body);
	if (!ok)
		reply_bad_request(call, reason);
	return ok;
}

void
api_rest_create(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	char message[HOOKSVC_MESSAGE_SIZE], location[64];
	struct hooksvc_caller caller;
	struct webhook in, saved;
	enum hooksvc_result r;
	struct hooksvc svc;

	(void)req;
	if (!api_rest_webhook_body(call, &in))
		return;
	webhook_init(&saved);
	if (in.id != 0) {
		reply_bad_request(call, "WebhookId must be 0 or absent when creating a webhook: change an existing "
		    "one with PUT or PATCH /api/v1/Webhook/{id}.");
		goto out;
	}
	api_service(call, &svc, &caller);
	r = hooksvc_save(&svc, &caller, &in, INT64_MIN, &saved, message);
	if (r != HOOKSVC_OK) {
		api_service_error(call, r, message);
		goto out;
	}
	api_rest_reply(call, 201, &saved);
	if (resp->status == 201) {
		snprintf(location, sizeof location, "/api/v1/Webhook/%d", (int)saved.id);
		response_add_header(resp, "Location", location);
	}
out:
	webhook_free(&in);
	webhook_free(&saved);
}

void
api_rest_replace(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	char message[HOOKSVC_MESSAGE_SIZE];
	struct hooksvc_caller caller;
	struct webhook in, saved;
	enum hooksvc_result r;
	struct hooksvc svc;
	int64_t since;

	(void)req;
	(void)resp;
	if (!body_http_date(call, "If-Unmodified-Since", call->req->if_unmodified_since, &since) ||
	    !api_rest_webhook_body(call, &in))
		return;
	webhook_init(&saved);
	if (in.id != 0 && in.id != id) {
		snprintf(message, sizeof message, "WebhookId in the body (%d) is not the one in the path (%d).",
		    (int)in.id, (int)id);
		reply_bad_request(call, message);
		goto out;
	}
	in.id = id;
	api_service(call, &svc, &caller);
	r = hooksvc_save(&svc, &caller, &in, since, &saved, message);
	api_rest_saved(call, r, id, &saved, message);
out:
	webhook_free(&in);
	webhook_free(&saved);
}

/* A JSON array is a JSON Patch; an object is a merge patch, which application/merge-patch+json
 * names and application/json-patch+json does not allow. */
void
api_rest_patch(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	char message[HOOKSVC_MESSAGE_SIZE];
	struct hooksvc_caller caller;
	enum hooksvc_result r;
	enum body_media media;
	struct webhook saved;
	struct hooksvc svc;
	yajl_val body;
	int64_t since;

	(void)req;
	(void)resp;
	if (!body_http_date(call, "If-Unmodified-Since", call->req->if_unmodified_since, &since) ||
	    !body_json(call, &body, &media))
		return;
	if (body == NULL || (!YAJL_IS_ARRAY(body) && !YAJL_IS_OBJECT(body)) ||
	    (media == BODY_MEDIA_JSON_PATCH && !YAJL_IS_ARRAY(body)) ||
	    (media == BODY_MEDIA_MERGE_PATCH && !YAJL_IS_OBJECT(body))) {
		reply_bad_request(call, "The body must be a JSON Patch (an array of operations, "
		    "application/json-patch+json) or a merge patch (an object, application/merge-patch+json).");
		yajl_tree_free(body);
		return;
	}
	api_service(call, &svc, &caller);
	r = hooksvc_patch(&svc, &caller, id, body, YAJL_IS_OBJECT(body), since, &saved, message);
	api_rest_saved(call, r, id, &saved, message);
	webhook_free(&saved);
	yajl_tree_free(body);
}

void
api_rest_delete(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	struct hooksvc_caller caller;
	enum hooksvc_result r;
	struct hooksvc svc;
	int64_t since;

	(void)req;
	(void)resp;
	if (!body_http_date(call, "If-Unmodified-Since", call->req->if_unmodified_since, &since))
		return;
	api_service(call, &svc, &caller);
	r = hooksvc_delete(&svc, &caller, id, since);
	if (r == HOOKSVC_OK) {
		reply_no_content(call);
	} else if (r == HOOKSVC_NOT_FOUND) {
		api_webhook_not_found(call, id);
	} else {
		char message[128];

		/* The words PUT and PATCH use (hooksvc_explain_miss). */
		snprintf(message, sizeof message, "Webhook %d has changed since the time If-Unmodified-Since names.", (int)id);
		api_service_error(call, r, message);
	}
}

void
api_rest_last_error(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	struct hooksvc_caller caller;
	enum hooksvc_result r;
	struct hooksvc svc;
	char *text = NULL;

	(void)req;
	(void)resp;
	api_service(call, &svc, &caller);
	r = hooksvc_last_error(&svc, &caller, id, &text);
	if (r == HOOKSVC_OK)
		reply_carrier(call, 200, reply_write_string, text);
	else if (r == HOOKSVC_NOT_FOUND)
		api_webhook_not_found(call, id);
	else
		api_service_error(call, r, "");
	free(text);
}

static bool
api_rest_write_usage(struct emitter *e, const void *list, const struct carrier_options *opt)
{
	return carrier_write_usage(e, &((const struct webhook_usage_list *)list)->items[0], opt);
}

static bool
api_rest_write_usage_list(struct emitter *e, const void *list, const struct carrier_options *opt)
{
	return carrier_write_usage_list(e, list, opt);
}

/* The delivery counters of webhook id, or (id 0) of every webhook the caller sees. */
static void
api_rest_reply_usage(struct call *call, int32_t id)
{
	struct webhook_usage_list list;
	struct hooksvc_caller caller;
	enum hooksvc_result r;
	struct hooksvc svc;

	api_service(call, &svc, &caller);
	r = hooksvc_usage(&svc, &caller, id, &list);
	if (r == HOOKSVC_OK)
		reply_carrier(call, 200, id != 0 ? api_rest_write_usage : api_rest_write_usage_list, &list);
	else if (r == HOOKSVC_NOT_FOUND)
		api_webhook_not_found(call, id);
	else
		api_service_error(call, r, "");
	webhook_usage_list_free(&list);
}

void
api_rest_usage_list(void *ctx, const struct request *req, struct response *resp)
{
	(void)req;
	(void)resp;
	api_rest_reply_usage(ctx, 0);
}

void
api_rest_usage(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;

	(void)req;
	(void)resp;
	api_rest_reply_usage(call, route_param_id(&call->params, 0));
}

/* POST /api/v1/Webhook/Test: the bare Webhook. */
void
api_rest_test(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	struct webhook hook;

	(void)req;
	(void)resp;
	if (!api_rest_webhook_body(call, &hook))
		return;
	api_test_webhook(call, &hook);
	webhook_free(&hook);
}

/* POST /api/v1/Webhook/{eventName}/{primaryKey}: the body is the event's Data. */
void
api_rest_signal(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	const char *event = call->params.values[0];
	char reason[HOOKPARSE_MESSAGE_SIZE];
	enum body_media media;
	int32_t pk;
	char *data = NULL;
	yajl_val body;
	char *end;
	long v;

	(void)req;
	(void)resp;
	if (!hookparse_event_name("The event name", event, reason)) {
		reply_bad_request(call, reason);
		return;
	}
	errno = 0;
	v = strtol(call->params.values[1], &end, 10);
	if (errno != 0 || *end != '\0' || end == call->params.values[1] || v < INT32_MIN || v > INT32_MAX) {
		reply_bad_request(call, "The primary key in the path must be a 32-bit integer.");
		return;
	}
	pk = (int32_t)v;
	if (!body_json(call, &body, &media))
		return;
	if (hookparse_data(body, &data, reason))
		api_signal(call, event, pk, data);
	else
		reply_bad_request(call, reason);
	free(data);
	yajl_tree_free(body);
}
