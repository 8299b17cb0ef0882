#include "config.h"

#include "api.h"

#include <stdio.h>

#include "body.h"
#include "context.h"
#include "excerpt.h"
#include "hookcache.h"
#include "hookparse.h"
#include "metrics.h"

void
api_service(struct call *call, struct hooksvc *svc, struct hooksvc_caller *caller)
{
	struct app *app = call->w->app;

	svc->db = call->w->db;
	svc->cache = app->hookcache;
	svc->changes = app->changes;
	svc->config = &call->w->config->hooks;
	svc->outbound = app->outbound;
	svc->check_slots = &app->check_slots;
	caller->associate_id = call->associate_id;
	caller->application_id = call->application_id;
}

void
api_service_error(struct call *call, enum hooksvc_result r, const char *message)
{
	switch (r) {
	case HOOKSVC_OK:
	case HOOKSVC_NOT_FOUND:
		break;
	case HOOKSVC_INVALID:
	case HOOKSVC_TARGET_REFUSED:
		reply_error(call, 400, "BadRequest", message, "webhookd/webhook");
		return;
	case HOOKSVC_CONFLICT:
		reply_error(call, 409, "Conflict", message, "webhookd/webhook");
		return;
	case HOOKSVC_PRECONDITION_FAILED:
		reply_error(call, 412, "PreconditionFailed", message, "webhookd/webhook");
		return;
	case HOOKSVC_BUSY:
		reply_busy(call, message, "webhookd/webhook", 1);
		return;
	case HOOKSVC_DB_UNAVAILABLE:
		reply_db_error(call, DB_UNAVAILABLE);
		return;
	case HOOKSVC_DB_FAILED:
		break;
	}
	reply_db_error(call, DB_FAILED);
}

void
api_webhook_not_found(struct call *call, int32_t id)
{
	char message[96];

	snprintf(message, sizeof message, "Webhook %d does not exist.", (int)id);
	reply_not_found(call, message);
}

void
api_reply_webhook(struct call *call, int status, struct webhook *hook)
{
	context_translate_webhook(call, hook);
	reply_carrier(call, status, reply_write_webhook, hook);
}

void
api_default_webhook(struct call *call)
{
	struct webhook hook;

	refdata_defaults(call->rd, &hook);
	api_reply_webhook(call, 200, &hook);
	webhook_free(&hook);
}

/* Filters from the query, for a call without a body. Values point into storage. */
bool
api_query_filter(struct call *call, struct db_webhook_filter *f, char (*storage)[512])
{
	char reason[HOOKPARSE_MESSAGE_SIZE];
	enum webhook_state state;
	bool found;

	f->name = f->event = NULL;
	f->state = -1;
	if (!body_query_text(call, "NameFilter", storage[0], sizeof storage[0], &found))
		return false;
	if (found && storage[0][0] != '\0')
		f->name = storage[0];
	if (!body_query_text(call, "EventFilter", storage[1], sizeof storage[1], &found))
		return false;
	if (found && storage[1][0] != '\0')
		f->event = storage[1];
	if (!body_query_text(call, "StatusFilter", storage[2], sizeof storage[2], &found))
		return false;
	if (found && storage[2][0] != '\0') {
		if (!hookparse_state_text("StatusFilter", storage[2], &state, reason)) {
			reply_bad_request(call, reason);
			return false;
		}
		f->state = state == WEBHOOK_STATE_UNKNOWN ? -1 : (int)state;
	}
	return true;
}

bool
api_read_begin(struct call *call, struct hookanswers_request *req, struct api_read *read)
{
	api_service(call, &read->svc, &read->caller);
	read->snap = hooksvc_snapshot(&read->svc);
	buf_init(&read->key);
	if (read->snap == NULL || (req->filter != NULL && !hooksnap_decides(read->snap, req->filter)))
		return false;
	req->application_id = call->application_id;
	req->media = (int)call->media;
	req->tag_utc = reply_tags_utc(call);
	if (call->translate) {
		req->language = call->language.code;
		req->ml_language = call->language.ml_code;
		req->default_language = call->language.default_code;
		req->default_ml_language = call->language.default_ml_code;
		req->culture = call->culture.code;
		req->refdata_generation = refdata_generation(call->rd);
	}
	if (!hookanswers_key(req, &read->key))
		return false;
	response_reset(call->resp);
	if (!hookanswers_find(hooksnap_answers(read->snap), &read->key, &call->resp->body)) {
		metrics_count_cache(METRICS_CACHE_WEBHOOK_ANSWERS, false);
		return false;
	}
	metrics_count_cache(METRICS_CACHE_WEBHOOK_ANSWERS, true);
	reply_body_written(call, 200);
	buf_reset(&read->key);  /* nothing new to keep */
	return true;
}

void
api_read_end(struct call *call, struct api_read *read)
{
	if (read->key.len > 0 && call->resp->status == 200)
		hookanswers_keep(hooksnap_answers(read->snap), &read->key, call->resp->body.data, call->resp->body.len);
	buf_free(&read->key);
	hooksnap_unref(read->snap);
}

void
api_list(struct call *call, const struct db_webhook_filter *filter)
{
	struct hookanswers_request req = { .operation = "list", .filter = filter };
	struct webhook_list list;
	enum hooksvc_result r;
	struct api_read read;

	if (api_read_begin(call, &req, &read))
		goto out;
	r = hooksvc_list(&read.svc, read.snap, &read.caller, filter, &list);
	if (r != HOOKSVC_OK) {
		api_service_error(call, r, "");
		goto out;
	}
	for (size_t i = 0; i < list.n; i++)
		context_translate_webhook(call, &list.items[i]);
	reply_carrier(call, 200, reply_write_webhook_list, &list);
	webhook_list_free(&list);
out:
	api_read_end(call, &read);
}

void
api_test_webhook(struct call *call, const struct webhook *hook)
{
	char message[HOOKSVC_MESSAGE_SIZE];
	struct hooksvc_caller caller;
	struct outbound_result res;
	enum hooksvc_result r;
	struct hooksvc svc;
	struct buf text;

	api_service(call, &svc, &caller);
	outbound_result_init(&res);
	r = hooksvc_send_test(&svc, &caller, hook, &res, message);
	if (r != HOOKSVC_OK) {
		api_service_error(call, r, message);
	} else {
		struct api_test_result result = { .success = res.status >= 200 && res.status <= 299 };

		/* What the target said, or why it said nothing, never the secret. */
		buf_init(&text);
		excerpt_of_result(&res, hook->secret, hook->previous_secret, EXCERPT_MAX, &text);
		result.message = text.data;
		reply_carrier(call, 200, api_write_test_result, &result);
		buf_free(&text);
	}
	outbound_result_free(&res);
}

bool
api_write_test_result(struct emitter *e, const void *result, const struct carrier_options *opt)
{
	const struct api_test_result *r = result;

	(void)opt;
	return carrier_write_webhook_result(e, r->success, r->message);
}

void
api_signal(struct call *call, const char *event, int32_t primary_key, const char *data_json)
{
	struct hooksvc_caller caller;
	enum hooksvc_result r;
	struct hooksvc svc;

	api_service(call, &svc, &caller);
	r = hooksvc_signal(&svc, &caller, event, primary_key, data_json);
	if (r == HOOKSVC_OK)
		reply_no_content(call);
	else
		api_service_error(call, r, "");
}
