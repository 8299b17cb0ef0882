#include "config.h"

#include "app.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "router.h"
#include "webhook.h"

#define CONTENT_TYPE_JSON "application/json; charset=utf-8"
/* The realm NetServer itself announces, so clients that match on it keep working. */
#define WWW_AUTHENTICATE_BASIC "Basic realm=\"SuperOffice Username or Ticket\", charset=\"UTF-8\""

static void
app_error(struct response *resp, int status, const char *type, const char *message, const char *source)
{
	static const char fallback[] = "{\"Error\":true,\"ErrorType\":\"InternalServerError\","
	    "\"ErrorMessage\":\"The server could not complete the request.\",\"ErrorSource\":\"webhookd\"}";

	response_reset(resp);
	resp->status = status;
	resp->content_type = CONTENT_TYPE_JSON;
	if (!json_write_error(&resp->body, type, message, source)) {
		resp->status = 500;
		buf_reset(&resp->body);
		buf_append(&resp->body, fallback, sizeof fallback - 1);
	}
}

static void
app_db_error(struct response *resp, enum db_result r)
{
	if (r == DB_UNAVAILABLE)
		app_error(resp, 503, "ServiceUnavailable", "The database is unavailable; try again shortly.",
		    "webhookd/database");
	else
		app_error(resp, 500, "InternalServerError", "The server could not complete the request.",
		    "webhookd/database");
}

static void
app_unauthorized(struct response *resp, const char *message)
{
	app_error(resp, 401, "Unauthorized", message, "webhookd/auth");
	response_add_header(resp, "WWW-Authenticate", WWW_AUTHENTICATE_BASIC);
}

/*
 * Basic authentication against the associate table. Unknown users, wrong passwords and retired
 * associates get the same answer, and unknown users pay for a hash too, so neither the body nor
 * the timing tells which user names exist.
 */
static bool
app_authenticate(struct app_worker *w, const struct request *req, struct response *resp)
{
	static const char invalid[] = "Invalid user name or password.";
	struct basic_credentials cred;
	struct associate_login login;
	enum db_result r;
	bool ok = false;

	switch (auth_parse_basic(req->authorization, &cred)) {
	case AUTH_PARSED:
		break;
	case AUTH_ABSENT:
		app_unauthorized(resp, "Authentication required: send an Authorization header with the Basic scheme.");
		return false;
	case AUTH_UNSUPPORTED:
		app_unauthorized(resp, "This Authorization scheme is not accepted here; use Basic.");
		return false;
	case AUTH_MALFORMED:
		app_unauthorized(resp, "The Authorization header is malformed: expected Basic and the base64 "
		    "encoding of user:password.");
		return false;
	}

	r = db_associate_login(w->db, cred.user, &login);
	if (r == DB_NOT_FOUND) {
		auth_password_verify_dummy(w->crypt, cred.password);
		app_unauthorized(resp, invalid);
	} else if (r != DB_OK) {
		app_db_error(resp, r);
	} else if (login.deleted) {
		app_unauthorized(resp, invalid);
	} else if (authcache_lookup(w->app->authcache, cred.user, login.password_hash, cred.password)) {
		ok = true;
	} else if (auth_password_verify(w->crypt, cred.password, login.password_hash)) {
		authcache_store(w->app->authcache, cred.user, login.password_hash, cred.password);
		ok = true;
	} else {
		app_unauthorized(resp, invalid);
	}
	auth_credentials_wipe(&cred);
	return ok;
}

static void
app_create_default_webhook(void *ctx, const struct request *req, struct response *resp)
{
	struct app_worker *w = ctx;
	struct webhook hook;
	enum db_result r;

	(void)req; /* the body, if any, has been read and is ignored */
	r = db_webhook_defaults(w->db, &hook);
	if (r != DB_OK) {
		app_db_error(resp, r);
		return;
	}
	response_reset(resp);
	resp->status = 200;
	resp->content_type = CONTENT_TYPE_JSON;
	if (!json_write_webhook(&resp->body, &hook))
		app_error(resp, 500, "InternalServerError", "The stored webhook defaults cannot be represented.",
		    "webhookd/serializer");
	webhook_free(&hook);
}

static const struct route app_routes[] = {
	{ "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook", app_create_default_webhook },
};

void
app_handle(struct app_worker *w, const struct request *req, struct response *resp)
{
	const struct route *route;
	char allow[ROUTE_ALLOW_SIZE];
	char message[128];

	switch (router_match(app_routes, sizeof app_routes / sizeof app_routes[0], req->method, req->path,
	    &route, allow)) {
	case ROUTE_FOUND:
		break;
	case ROUTE_NOT_FOUND:
		app_error(resp, 404, "NotFound", "There is no API endpoint at this path.", "webhookd/router");
		return;
	case ROUTE_METHOD_NOT_ALLOWED:
		snprintf(message, sizeof message, "This endpoint accepts %s only.", allow);
		app_error(resp, 405, "MethodNotAllowed", message, "webhookd/router");
		response_add_header(resp, "Allow", allow);
		return;
	}
	if (req->body_too_large) {
		snprintf(message, sizeof message, "The request body exceeds the limit of %ld bytes.", w->app->max_body);
		app_error(resp, 413, "PayloadTooLarge", message, "webhookd/request");
		return;
	}
	if (!app_authenticate(w, req, resp))
		return;
	route->handler(w, req, resp);
}
