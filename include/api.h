/*
 * The API surfaces, one file each: the agent methods (api_agent.c), the REST resource
 * (api_rest.c), its delivery log (api_log.c), the delivery controls (api_controls.c) and
 * monitoring (api_monitor.c). Each handler takes a struct call as its context; routes.c maps
 * paths to them. No surface includes another: what they share is the webhook service
 * (hooksvc.c) and the shared pieces below.
 */
#ifndef WEBHOOKD_API_H
#define WEBHOOKD_API_H

#include "call.h"
#include "hookanswers.h"
#include "hooksvc.h"
#include "router.h"

/* The webhook service and the caller, for this request. */
void api_service(struct call *call, struct hooksvc *svc, struct hooksvc_caller *caller);
/* Replies for a service failure other than HOOKSVC_NOT_FOUND (whose answer differs by surface). */
void api_service_error(struct call *call, enum hooksvc_result r, const char *message);
/* 404: "Webhook {id} does not exist." (the REST answer for a webhook the caller cannot see). */
void api_webhook_not_found(struct call *call, int32_t id);
/* CreateDefaultWebhook and GET /api/v1/Webhook/default: the defaults, translated. */
void api_default_webhook(struct call *call);
/* nameFilter, eventFilter and statusFilter from the query (names in any case); the strings
 * point into storage. False after replying 400. */
bool api_query_filter(struct call *call, struct db_webhook_filter *f, char (*storage)[512])
	__attribute__((warn_unused_result));
/*
 * A read of saved webhooks (GetWebhook, GetAllWebhooks, the REST list): the service and the
 * snapshot it is answered from, and the key its answer is kept under in that snapshot
 * (hookanswers.h), empty when it is not kept (no snapshot, a filter left to the database,
 * reference data the feed does not vouch for).
 */
struct api_read {
	struct hooksvc svc;
	struct hooksvc_caller caller;
	struct hooksnap *snap;
	struct buf key;
};
/* Starts a read of req's operation and id or filter (the rest of req is taken from the call).
 * True when the answer kept for an equal read has been replied; else answer from read->snap
 * (NULL: the database). api_read_end either way. */
bool api_read_begin(struct call *call, struct hookanswers_request *req, struct api_read *read)
	__attribute__((warn_unused_result));
/* Keeps a 200 answer under the read's key; releases the snapshot. */
void api_read_end(struct call *call, struct api_read *read);
/* 200 with the webhooks the filter selects, translated. */
void api_list(struct call *call, const struct db_webhook_filter *filter);
/* 200 with a stored webhook, translated. */
void api_reply_webhook(struct call *call, int status, struct webhook *hook);

/* TestWebhook: a test event to hook (saved or not) and the WebhookResult, 200 even when the
 * target refuses (Success false). */
struct api_test_result {
	bool success;
	const char *message;
};
void api_test_webhook(struct call *call, const struct webhook *hook);
bool api_write_test_result(struct emitter *e, const void *result, const struct carrier_options *opt);
/* SignalEvent: queues the event and answers 204 before anything is delivered. */
void api_signal(struct call *call, const char *event, int32_t primary_key, const char *data_json);

void api_agent_create_default_webhook(void *ctx, const struct request *req, struct response *resp);
void api_agent_save_webhook(void *ctx, const struct request *req, struct response *resp);
void api_agent_get_webhook(void *ctx, const struct request *req, struct response *resp);
void api_agent_get_all_webhooks(void *ctx, const struct request *req, struct response *resp);
void api_agent_delete_webhook(void *ctx, const struct request *req, struct response *resp);
void api_agent_get_last_error(void *ctx, const struct request *req, struct response *resp);
void api_agent_test_webhook(void *ctx, const struct request *req, struct response *resp);
void api_agent_signal_event(void *ctx, const struct request *req, struct response *resp);

void api_rest_list(void *ctx, const struct request *req, struct response *resp);
void api_rest_default(void *ctx, const struct request *req, struct response *resp);
void api_rest_get(void *ctx, const struct request *req, struct response *resp);
void api_rest_create(void *ctx, const struct request *req, struct response *resp);
void api_rest_replace(void *ctx, const struct request *req, struct response *resp);
void api_rest_patch(void *ctx, const struct request *req, struct response *resp);
void api_rest_delete(void *ctx, const struct request *req, struct response *resp);
void api_rest_last_error(void *ctx, const struct request *req, struct response *resp);
/* GET /api/v1/Webhook/Usage and /api/v1/Webhook/{id}/Usage: delivery counters. */
void api_rest_usage_list(void *ctx, const struct request *req, struct response *resp);
void api_rest_usage(void *ctx, const struct request *req, struct response *resp);
void api_rest_test(void *ctx, const struct request *req, struct response *resp);
void api_rest_signal(void *ctx, const struct request *req, struct response *resp);

/* The delivery log (api_log.c). */
void api_log_events(void *ctx, const struct request *req, struct response *resp);
void api_log_event(void *ctx, const struct request *req, struct response *resp);
void api_log_attempts(void *ctx, const struct request *req, struct response *resp);
void api_log_activity(void *ctx, const struct request *req, struct response *resp);
void api_log_activity_all(void *ctx, const struct request *req, struct response *resp);
void api_log_resend(void *ctx, const struct request *req, struct response *resp);
void api_log_recover(void *ctx, const struct request *req, struct response *resp);
void api_controls_get(void *ctx, const struct request *req, struct response *resp);
void api_controls_put(void *ctx, const struct request *req, struct response *resp);
void api_controls_end_rotation(void *ctx, const struct request *req, struct response *resp);

void api_monitor_health(void *ctx, const struct request *req, struct response *resp);
void api_monitor_metrics(void *ctx, const struct request *req, struct response *resp);

/* The route table (routes.c). */
extern const struct route api_routes[];
extern const size_t api_nroutes;

#endif
