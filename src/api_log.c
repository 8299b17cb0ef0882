#include "config.h"

#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body.h"
#include "clock.h"
#include "hookparse.h"
#include "isotime.h"
#include "logcarrier.h"
#include "logsvc.h"

/*
 * The delivery log of the REST resource (issue 12): /api/v1/Webhook/{id}/Events, .../Events/
 * {deliveryId}, .../Attempts, .../Activity, /api/v1/Webhook/Activity, Resend and Recover. The
 * service (logsvc.c) scopes every call to the caller's webhooks; here are the HTTP forms.
 */

static void
api_log_service(struct call *call, struct logsvc *svc)
{
	svc->db = call->w->db;
	svc->scope.application_id = call->application_id;
}

static void
api_log_no_event(struct call *call, int32_t id, int64_t delivery_id)
{
	char message[128];

	snprintf(message, sizeof message, "Event %lld of webhook %d does not exist.", (long long)delivery_id, (int)id);
	reply_not_found(call, message);
}

/* A reply for what the service could not do; verb names the call in the 409's advice. */
static void
api_log_error(struct call *call, enum logsvc_result r, int32_t id, int64_t delivery_id, int state, const char *verb)
{
	const char *name = webhook_state_name((enum webhook_state)state);
	char message[192];

	switch (r) {
	case LOGSVC_OK:
		return;
	case LOGSVC_NO_WEBHOOK:
		api_webhook_not_found(call, id);
		return;
	case LOGSVC_NO_EVENT:
		api_log_no_event(call, id, delivery_id);
		return;
	case LOGSVC_INACTIVE:
		snprintf(message, sizeof message, "Webhook %d is %s: set its State to Active first, then %s.", (int)id,
		    name != NULL ? name : "not Active", verb);
		reply_error(call, 409, "Conflict", message, "webhookd/delivery");
		return;
	case LOGSVC_IN_FLIGHT:
		snprintf(message, sizeof message, "Event %lld of webhook %d is being sent right now; resend it once "
		    "this attempt is over.", (long long)delivery_id, (int)id);
		reply_error(call, 409, "Conflict", message, "webhookd/delivery");
		return;
	case LOGSVC_DB_UNAVAILABLE:
		reply_db_error(call, DB_UNAVAILABLE);
		return;
	case LOGSVC_DB_FAILED:
		break;
	}
	reply_db_error(call, DB_FAILED);
}

/* An ISO 8601 date-time from the query; *us stays LOG_NO_TIME when absent. False after replying. */
static bool
api_log_time(struct call *call, const char *name, int64_t *us)
{
	char text[64], message[160];
	bool found;

	*us = LOG_NO_TIME;
	if (!body_query_text(call, name, text, sizeof text, &found))
		return false;
	if (!found || isotime_parse(text, us))
		return true;
	snprintf(message, sizeof message, "The query parameter %s must be an ISO 8601 date-time such as "
	    "2026-11-28T12:00:00 (UTC unless it carries an offset).", name);
	reply_bad_request(call, message);
	return false;
}

/* One of names (any case) from the query into *index (1-based); 0 when absent. */
static bool
api_log_choice(struct call *call, const char *name, const char *const *names, size_t n, const char *expected,
    int *index)
{
	char text[32], message[160];
	bool found;

	*index = 0;
	if (!body_query_text(call, name, text, sizeof text, &found))
		return false;
	if (!found)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(text, names[i]) == 0) {
			*index = (int)i + 1;
			return true;
		}
	}
	snprintf(message, sizeof message, "The query parameter %s must be %s.", name, expected);
	reply_bad_request(call, message);
	return false;
}

/* limit, cursor, since and until, common to the two listings. False after replying. */
static bool
api_log_page(struct call *call, struct log_query *q)
{
	char text[LOGSVC_CURSOR_SIZE + 8];
	bool found;

	q->limit = LOGSVC_LIMIT_DEFAULT;
	q->before_id = 0;
	if (!body_query_text(call, "limit", text, sizeof text, &found))
		return false;
	if (found) {
		size_t len = strspn(text, "0123456789");

		q->limit = len == strlen(text) && len > 0 && len <= 3 ? atoi(text) : 0;
		if (q->limit < 1 || q->limit > LOGSVC_LIMIT_MAX) {
			reply_bad_request(call, "The query parameter limit must be a whole number from 1 to 500.");
			return false;
		}
	}
	if (!body_query_text(call, "cursor", text, sizeof text, &found))
		return false;
	if (found && !logsvc_cursor_decode(text, &q->before_id)) {
		reply_bad_request(call, "The query parameter cursor is not one this server gave: pass NextCursor "
		    "of the previous page as it is.");
		return false;
	}
	return api_log_time(call, "since", &q->since_us) && api_log_time(call, "until", &q->until_us);
}

void
api_log_events(void *ctx, const struct request *req, struct response *resp)
{
	static const char *const outcomes[] = { "pending", "delivered", "failed" };
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	struct logsvc_event_page page;
	struct log_query q;
	enum logsvc_result r;
	struct logsvc svc;

	(void)req;
	(void)resp;
	if (!api_log_choice(call, "outcome", outcomes, 3, "pending, delivered or failed", &q.outcome) ||
	    !api_log_page(call, &q))
		return;
	api_log_service(call, &svc);
	r = logsvc_events(&svc, id, &q, &page);
	if (r == LOGSVC_OK)
		reply_carrier(call, 200, logcarrier_write_event_page, &page);
	else
		api_log_error(call, r, id, 0, 0, "");
	log_event_list_free(&page.events);
}

void
api_log_attempts(void *ctx, const struct request *req, struct response *resp)
{
	static const char *const outcomes[] = { "success", "failure" };
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	struct logsvc_attempt_page page;
	struct log_query q;
	enum logsvc_result r;
	struct logsvc svc;

	(void)req;
	(void)resp;
	if (!api_log_choice(call, "outcome", outcomes, 2, "success or failure", &q.outcome) || !api_log_page(call, &q))
		return;
	api_log_service(call, &svc);
	r = logsvc_attempts(&svc, id, &q, &page);
	if (r == LOGSVC_OK)
		reply_carrier(call, 200, logcarrier_write_attempt_page, &page);
	else
		api_log_error(call, r, id, 0, 0, "");
	log_attempt_list_free(&page.attempts);
}

/* {deliveryId}: a positive bigint; false after replying 400. */
static bool
api_log_delivery_id(struct call *call, int64_t *out)
{
	const char *text = call->params.values[1];
	size_t len = strlen(text);
	int64_t v = 0;

	*out = 0;
	for (size_t i = 0; i < len && len <= 19; i++) {
		if (text[i] < '0' || text[i] > '9' || v > (INT64_MAX - (text[i] - '0')) / 10) {
			v = 0;
			break;
		}
		v = v * 10 + (text[i] - '0');
	}
	if (v <= 0 || len > 19) {
		reply_bad_request(call, "The delivery id in the path must be a positive whole number (a DeliveryId).");
		return false;
	}
	*out = v;
	return true;
}

void
api_log_event(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	struct log_attempt_list attempts;
	struct log_event event;
	enum logsvc_result r;
	int64_t delivery_id;
	struct logsvc svc;

	(void)req;
	(void)resp;
	if (!api_log_delivery_id(call, &delivery_id))
		return;
	api_log_service(call, &svc);
	r = logsvc_event(&svc, id, delivery_id, &event, &attempts);
	if (r == LOGSVC_OK)
		reply_carrier(call, 200, logcarrier_write_event_detail,
		    &(struct logcarrier_event_detail){ &event, &attempts });
	else
		api_log_error(call, r, id, delivery_id, 0, "");
	log_event_clear(&event);
	log_attempt_list_free(&attempts);
}

/* Activity of one webhook (id > 0) or of all the caller sees. */
static void
api_log_activity_of(struct call *call, int32_t id)
{
	struct logsvc_activity activity;
	enum logsvc_result r;
	struct logsvc svc;

	api_log_service(call, &svc);
	r = logsvc_activity(&svc, id, clock_realtime_us(), &activity);
	if (r == LOGSVC_OK)
		reply_carrier(call, 200, logcarrier_write_activity, &activity);
	else
		api_log_error(call, r, id, 0, 0, "");
}

void
api_log_activity(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;

	(void)req;
	(void)resp;
	api_log_activity_of(call, route_param_id(&call->params, 0));
}

void
api_log_activity_all(void *ctx, const struct request *req, struct response *resp)
{
	(void)req;
	(void)resp;
	api_log_activity_of(ctx, 0);
}

void
api_log_resend(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	struct log_event event;
	enum logsvc_result r;
	int64_t delivery_id;
	struct logsvc svc;
	int state;

	(void)req;
	(void)resp;
	if (!api_log_delivery_id(call, &delivery_id))
		return;
	api_log_service(call, &svc);
	r = logsvc_resend(&svc, id, delivery_id, &event, &state);
	if (r == LOGSVC_OK)
		reply_carrier(call, 202, logcarrier_write_event, &event);
	else
		api_log_error(call, r, id, delivery_id, state, "resend");
	log_event_clear(&event);
}

/* Since of Recover: in the query or as the body's member (any case); both only when they agree. */
static bool
api_log_since(struct call *call, int64_t *us)
{
	char text[64], msg[HOOKPARSE_MESSAGE_SIZE];
	enum body_media media;
	const char *given;
	yajl_val body, member = NULL;
	bool in_query, ok;

	if (!body_query_text(call, "since", text, sizeof text, &in_query) || !body_json(call, &body, &media))
		return false;
	ok = hookparse_member(body, "Since", &member, msg);
	if (ok && member != NULL && !YAJL_IS_NULL(member) && !YAJL_IS_STRING(member)) {
		snprintf(msg, sizeof msg, "Since must be an ISO 8601 date-time string.");
		ok = false;
	}
	given = member != NULL && YAJL_IS_STRING(member) ? member->u.string : in_query ? text : NULL;
	if (ok && in_query && given != text && strcmp(given, text) != 0) {
		snprintf(msg, sizeof msg, "Since is given in the query and in the body, with different values.");
		ok = false;
	}
	if (ok && given == NULL) {
		snprintf(msg, sizeof msg, "Since is required: give it in the query (?since=2026-11-28T12:00:00) or in "
		    "the body ({\"Since\": \"2026-11-28T12:00:00\"}).");
		ok = false;
	}
	if (ok && !isotime_parse(given, us)) {
		snprintf(msg, sizeof msg, "Since must be an ISO 8601 date-time such as 2026-11-28T12:00:00 (UTC unless "
		    "it carries an offset).");
		ok = false;
	}
	yajl_tree_free(body);
	if (!ok)
		reply_bad_request(call, msg);
	return ok;
}

void
api_log_recover(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	struct logcarrier_recovered result;
	enum logsvc_result r;
	struct logsvc svc;
	int64_t since;
	int state;

	(void)req;
	(void)resp;
	if (!api_log_since(call, &since))
		return;
	api_log_service(call, &svc);
	r = logsvc_recover(&svc, id, since, call->w->config->recover_max, &result.recovered, &result.remaining, &state);
	if (r == LOGSVC_OK)
		reply_carrier(call, 202, logcarrier_write_recovered, &result);
	else
		api_log_error(call, r, id, 0, state, "recover");
}
