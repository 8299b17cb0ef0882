#include "config.h"

#include "call.h"

#include <stdio.h>

#include "auth.h"

void
reply_error(struct call *call, int status, const char *type, const char *message, const char *source)
{
	static const char fallback[] = "{\"Error\":true,\"ErrorType\":\"InternalServerError\","
	    "\"ErrorMessage\":\"The server could not complete the request.\",\"ErrorSource\":\"webhookd\"}";
	struct response *resp = call->resp;
	struct emitter *e;

	response_reset(resp);
	resp->status = status;
	resp->content_type = media_type_content_type(call->media);
	e = emitter_open(media_type_format(call->media), &resp->body);
	if (e == NULL || !carrier_write_error(e, type, message, source)) {
		resp->status = 500;
		resp->content_type = media_type_content_type(MEDIA_APPLICATION_JSON);
		buf_reset(&resp->body);
		buf_append(&resp->body, fallback, sizeof fallback - 1);
	}
	emitter_close(e);
}

void
reply_bad_request(struct call *call, const char *message)
{
	reply_error(call, 400, "BadRequest", message, "webhookd/request");
}

void
reply_forbidden(struct call *call, const char *message)
{
	reply_error(call, 403, "Forbidden", message, "webhookd/auth");
}

void
reply_not_found(struct call *call, const char *message)
{
	reply_error(call, 404, "NotFound", message, "webhookd/webhook");
}

void
reply_unauthorized(struct call *call, const char *message)
{
	static const enum auth_scheme schemes[] = { AUTH_SCHEME_BASIC, AUTH_SCHEME_SOTICKET, AUTH_SCHEME_BEARER };

	reply_error(call, 401, "Unauthorized", message, "webhookd/auth");
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		if (call->w->config->auth_schemes & schemes[i])
			response_add_header(call->resp, "WWW-Authenticate", auth_challenge(schemes[i]));
	}
}

void
reply_busy(struct call *call, const char *message, const char *source, int retry_after_s)
{
	char seconds[16];

	reply_error(call, 503, "ServiceUnavailable", message, source);
	snprintf(seconds, sizeof seconds, "%d", retry_after_s);
	response_add_header(call->resp, "Retry-After", seconds);
}

void
reply_db_error(struct call *call, enum db_result r)
{
	if (r == DB_UNAVAILABLE)
		reply_busy(call, "The database is unavailable; try again shortly.", "webhookd/database", 2);
	else
		reply_error(call, 500, "InternalServerError", "The server could not complete the request.",
		    "webhookd/database");
}

/* The status, content type and context headers of an answer whose body is in resp->body. */
void
reply_body_written(struct call *call, int status)
{
	struct response *resp = call->resp;

	resp->status = status;
	resp->content_type = media_type_content_type(call->media);
	if (call->translate)
		response_add_header(resp, "Content-Language", call->language.code);
	if (call->has_tz)
		response_add_header(resp, "SO-TimeZone", call->zone.code);
}

void
reply_carrier(struct call *call, int status, reply_writer write, const void *value)
{
	struct carrier_options opt = { .tag_utc = reply_tags_utc(call) };
	struct response *resp = call->resp;
	struct emitter *e;
	bool ok;

	response_reset(resp);
	e = emitter_open(media_type_format(call->media), &resp->body);
	ok = e != NULL && write(e, value, &opt);
	emitter_close(e);
	if (!ok) {
		reply_error(call, 500, "InternalServerError", "The stored data cannot be represented in the "
		    "requested format.", "webhookd/serializer");
		return;
	}
	reply_body_written(call, status);
}

bool
reply_tags_utc(const struct call *call)
{
	return call->has_tz && call->tz.include_offset;
}

void
reply_no_content(struct call *call)
{
	response_reset(call->resp);
	call->resp->status = 204;
	call->resp->content_type = NULL;
}

bool
reply_write_webhook(struct emitter *e, const void *hook, const struct carrier_options *opt)
{
	return carrier_write_webhook(e, hook, opt);
}

bool
reply_write_null(struct emitter *e, const void *root, const struct carrier_options *opt)
{
	(void)opt;
	return e->ops->document_null(e->ctx, root);
}

bool
reply_write_webhook_list(struct emitter *e, const void *list, const struct carrier_options *opt)
{
	const struct webhook_list *l = list;

	return carrier_write_webhook_list(e, l->items, l->n, opt);
}

bool
reply_write_string(struct emitter *e, const void *text, const struct carrier_options *opt)
{
	(void)opt;
	return e->ops->document_string(e->ctx, text);
}
