#include "config.h"

#include "api.h"

#include "metrics.h"

/* Readiness: this worker's database connection answers. For monitoring; nginx keeps it private. */
void
api_monitor_health(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	bool ready = db_ping(call->w->db) == DB_OK;
	struct emitter *e;

	(void)req;
	response_reset(resp);
	resp->status = ready ? 200 : 503;
	resp->content_type = media_type_content_type(call->media);
	e = emitter_open(media_type_format(call->media), &resp->body);
	if (e == NULL || !e->ops->begin(e->ctx, "Health") ||
	    !e->ops->string(e->ctx, "Status", ready ? "Ready" : "Unavailable") ||
	    !e->ops->string(e->ctx, "Database", ready ? "Reachable" : "Unreachable") || !e->ops->end(e->ctx, "Health"))
		reply_error(call, 500, "InternalServerError", "The server could not complete the request.", "webhookd");
	emitter_close(e);
	/* Like every 503 of the daemon: when to ask again (the database is retried within a second). */
	if (resp->status == 503)
		response_add_header(resp, "Retry-After", "2");
}

void
api_monitor_metrics(void *ctx, const struct request *req, struct response *resp)
{
	(void)ctx;
	(void)req;
	response_reset(resp);
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	metrics_render(&resp->body);
}
