#include "config.h"

#include "app.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carrier.h"
#include "cookie.h"
#include "lang.h"
#include "log.h"
#include "metrics.h"
#include "negotiate.h"
#include "router.h"
#include "tzheader.h"
#include "webhook.h"
#include "xalloc.h"

static void app_serve(struct app_worker *w, const struct request *req, struct response *resp);

/* Everything one request has established so far, handed from step to step. */
struct app_call {
	struct app_worker *w;
	const struct request *req;
	struct response *resp;
	enum media_type media;        /* what the caller accepts; errors use it too */
	struct lang_request langs;
	char culture_tag[LANG_TAG_MAX + 1];
	struct tz_request tz;
	bool has_tz;
	/* Resolved from the database once the caller is known. */
	bool translate;
	struct language_choice language;
	struct culture_format culture;
	struct timezone_info zone;
	enum db_result lookup_error;  /* a failure inside a translation callback */
};

static void
app_error(struct app_call *call, int status, const char *type, const char *message, const char *source)
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

static void
app_db_error(struct app_call *call, enum db_result r)
{
	if (r == DB_UNAVAILABLE)
		app_error(call, 503, "ServiceUnavailable", "The database is unavailable; try again shortly.",
		    "webhookd/database");
	else
		app_error(call, 500, "InternalServerError", "The server could not complete the request.",
		    "webhookd/database");
}

static void
app_bad_request(struct app_call *call, const char *message)
{
	app_error(call, 400, "BadRequest", message, "webhookd/request");
}

static void
app_forbidden(struct app_call *call, const char *message)
{
	app_error(call, 403, "Forbidden", message, "webhookd/auth");
}

/* 401 with one WWW-Authenticate challenge per scheme the installation accepts. */
static void
app_unauthorized(struct app_call *call, const char *message)
{
	static const enum auth_scheme schemes[] = { AUTH_SCHEME_BASIC, AUTH_SCHEME_SOTICKET, AUTH_SCHEME_BEARER };

	app_error(call, 401, "Unauthorized", message, "webhookd/auth");
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		if (call->w->config->auth_schemes & schemes[i])
			response_add_header(call->resp, "WWW-Authenticate", auth_challenge(schemes[i]));
	}
}

static bool
app_login_basic(struct app_call *call, const struct auth_credentials *cred)
{
	static const char invalid[] = "Invalid user name or password.";
	struct app_worker *w = call->w;
	struct associate_login login;
	enum db_result r = db_associate_login(w->db, cred->user, &login);

	/* Unknown users, wrong passwords and retired associates get the same answer, and unknown
	 * users pay for a hash too, so neither the body nor the timing tells which names exist. */
	if (r == DB_NOT_FOUND) {
		auth_password_verify_dummy(w->crypt, cred->password);
		app_unauthorized(call, invalid);
		return false;
	}
	if (r != DB_OK) {
		app_db_error(call, r);
		return false;
	}
	if (login.deleted) {
		app_unauthorized(call, invalid);
		return false;
	}
	if (authcache_lookup(w->app->authcache, cred->user, login.password_hash, cred->password)) {
		metrics_count_authcache(true);
		return true;
	}
	metrics_count_authcache(false);
	if (auth_password_verify(w->crypt, cred->password, login.password_hash)) {
		authcache_store(w->app->authcache, cred->user, login.password_hash, cred->password);
		return true;
	}
	app_unauthorized(call, invalid);
	return false;
}

/* A ticket, token or session is refused with the reason: they are random, so naming the
 * reason reveals nothing an attacker could use, and it tells the client to log in again. */
static bool
app_check_token_login(struct app_call *call, enum db_result r, const struct token_login *login, const char *what)
{
	char message[128];

	if (r == DB_OK && !login->revoked && !login->expired && !login->associate_deleted)
		return true;
	if (r != DB_OK && r != DB_NOT_FOUND) {
		app_db_error(call, r);
		return false;
	}
	if (r == DB_NOT_FOUND || login->associate_deleted)
		snprintf(message, sizeof message, "The %s is not valid.", what);
	else if (login->revoked)
		snprintf(message, sizeof message, "The %s has been revoked.", what);
	else
		snprintf(message, sizeof message, "The %s has expired.", what);
	app_unauthorized(call, message);
	return false;
}

static bool
app_login_token(struct app_call *call, const struct auth_credentials *cred)
{
	bool ticket = cred->scheme == AUTH_SCHEME_SOTICKET;
	char digest[AUTH_DIGEST_HEX_SIZE];
	struct token_login login;
	enum db_result r;

	auth_token_digest_hex(cred->token, digest);
	r = db_token_login(call->w->db, ticket ? "soticket" : "bearer", digest, &login);
	return app_check_token_login(call, r, &login, ticket ? "ticket" : "bearer token");
}

/* Browser code on the same site: the session cookie plus the XSRF token issued with it. */
static bool
app_login_session(struct app_call *call)
{
	char session[AUTH_TOKEN_MAX + 1], digest[AUTH_DIGEST_HEX_SIZE];
	const char *xsrf = call->req->xsrf_token;
	struct token_login login;
	enum db_result r;

	if (!cookie_find(call->req->cookie, call->w->config->session_cookie, session, sizeof session)) {
		app_unauthorized(call, "Authentication required: send an Authorization header, or the session "
		    "cookie with X-XSRF-TOKEN.");
		return false;
	}
	auth_token_digest_hex(session, digest);
	sodium_memzero(session, sizeof session);
	r = db_session_login(call->w->db, digest, &login);
	if (!app_check_token_login(call, r, &login, "session"))
		return false;
	if (xsrf == NULL || *xsrf == '\0') {
		app_forbidden(call, "X-XSRF-TOKEN is required with a session cookie.");
		return false;
	}
	if (!auth_token_digest_matches(xsrf, login.xsrf_sha256_hex)) {
		app_forbidden(call, "X-XSRF-TOKEN does not match the session.");
		return false;
	}
	return true;
}

static bool
app_authenticate(struct app_call *call)
{
	struct auth_credentials cred;
	char message[160];
	bool ok = false;

	switch (auth_parse(call->req->authorization, call->w->config->auth_schemes, &cred)) {
	case AUTH_ABSENT:
		ok = app_login_session(call);
		break;
	case AUTH_UNSUPPORTED:
		app_unauthorized(call, "This Authorization scheme is not accepted here; WWW-Authenticate lists "
		    "the accepted ones.");
		break;
	case AUTH_MALFORMED:
		snprintf(message, sizeof message, "The Authorization header is malformed: expected %s.",
		    cred.scheme == AUTH_SCHEME_BASIC ? "Basic and the base64 encoding of user:password" :
		    cred.scheme == AUTH_SCHEME_SOTICKET ? "SOTicket and a ticket" :
		    cred.scheme == AUTH_SCHEME_BEARER ? "Bearer and a token" : "a scheme and its credentials");
		app_unauthorized(call, message);
		break;
	case AUTH_PARSED:
		ok = cred.scheme == AUTH_SCHEME_BASIC ? app_login_basic(call, &cred) : app_login_token(call, &cred);
		break;
	}
	auth_credentials_wipe(&cred);
	return ok;
}

/* SO-AppToken: partner applications reach this "Online restricted" agent only once granted. */
static bool
app_check_application(struct app_call *call)
{
	const char *token = call->req->so_apptoken;
	char digest[AUTH_DIGEST_HEX_SIZE];
	struct application_grant grant;
	enum db_result r;

	if (token == NULL || *token == '\0') {
		if (!call->w->config->online)
			return true;
		app_forbidden(call, "This installation requires SO-AppToken, the token of a registered application.");
		return false;
	}
	if (strlen(token) > AUTH_TOKEN_MAX) {
		app_forbidden(call, "The application token in SO-AppToken is not valid.");
		return false;
	}
	auth_token_digest_hex(token, digest);
	r = db_application_grant(call->w->db, digest, &grant);
	if (r == DB_NOT_FOUND || (r == DB_OK && grant.revoked)) {
		app_forbidden(call, "The application token in SO-AppToken is not valid.");
		return false;
	}
	if (r != DB_OK) {
		app_db_error(call, r);
		return false;
	}
	if (!grant.webhook_access) {
		app_forbidden(call, "The application has not been granted access to the Webhook agent, which is "
		    "Online restricted: request it when registering the application.");
		return false;
	}
	return true;
}

/* Syntax of the SO-* and language headers: cheap, and checked before anything else is spent. */
static bool
app_parse_headers(struct app_call *call)
{
	const struct request *req = call->req;
	char message[160];

	switch (lang_parse(req->accept_language, req->so_language, &call->langs)) {
	case LANG_OK:
		break;
	case LANG_MALFORMED_ACCEPT_LANGUAGE:
		app_bad_request(call, "The Accept-Language header is malformed: expected language tags with "
		    "optional q-values, such as \"sv, en;q=0.8\".");
		return false;
	case LANG_MALFORMED_SO_LANGUAGE:
		app_bad_request(call, "The SO-Language header is malformed: expected a language code such as "
		    "\"sv\", or * or x to turn translation off.");
		return false;
	}
	if (req->so_culture != NULL && *req->so_culture != '\0' && !lang_parse_culture(req->so_culture, call->culture_tag)) {
		app_bad_request(call, "The SO-Culture header is malformed: expected a culture code such as "
		    "\"nb\" or \"en-US\".");
		return false;
	}
	if (req->so_timezone != NULL) {
		if (!tz_parse_header(req->so_timezone, &call->tz)) {
			snprintf(message, sizeof message, "The SO-TimeZone header is malformed: expected a time zone "
			    "code or id, optionally followed by \",includeTZOffset\".");
			app_bad_request(call, message);
			return false;
		}
		call->has_tz = true;
	}
	return true;
}

/* Turns the parsed language, culture and time zone headers into database facts. */
static bool
app_resolve_context(struct app_call *call)
{
	struct app_worker *w = call->w;
	char message[160];
	enum db_result r;

	if (!call->langs.off && call->langs.n > 0) {
		const char *candidates[LANG_MAX_CANDIDATES];

		for (size_t i = 0; i < call->langs.n; i++)
			candidates[i] = call->langs.tags[i];
		r = db_language_choice(w->db, candidates, call->langs.n, &call->language);
		if (r == DB_NOT_FOUND && call->language.default_code[0] != '\0') {
			/* None of the asked-for languages is installed: the installation's default serves. */
			strcpy(call->language.code, call->language.default_code);
			strcpy(call->language.ml_code, call->language.default_ml_code);
			r = DB_OK;
		}
		if (r != DB_OK && r != DB_NOT_FOUND) {
			app_db_error(call, r);
			return false;
		}
		call->translate = r == DB_OK;
	}
	/* SO-Culture applies only where a language is set; it defaults to that language. */
	if (call->translate) {
		bool explicit_culture = call->culture_tag[0] != '\0';

		r = db_culture_format(w->db, explicit_culture ? call->culture_tag : call->language.code, &call->culture);
		if (r == DB_NOT_FOUND && explicit_culture) {
			snprintf(message, sizeof message, "Unknown culture \"%s\" in SO-Culture.", call->culture_tag);
			app_bad_request(call, message);
			return false;
		}
		if (r != DB_OK && r != DB_NOT_FOUND) {
			app_db_error(call, r);
			return false;
		}
	}
	if (call->has_tz) {
		r = db_timezone(w->db, call->tz.key, call->tz.by_id, &call->zone);
		if (r == DB_NOT_FOUND) {
			snprintf(message, sizeof message, "Unknown time zone \"%s\" in SO-TimeZone.", call->tz.key);
			app_bad_request(call, message);
			return false;
		}
		if (r != DB_OK) {
			app_db_error(call, r);
			return false;
		}
	}
	return true;
}

struct app_resource_lookup {
	struct app_call *call;
	char *text;  /* the last text returned, freed on the next lookup */
};

static const char *
app_lookup_resource(void *ctx, const char *name)
{
	struct app_resource_lookup *l = ctx;
	enum db_result r;

	free(l->text);
	l->text = NULL;
	r = db_resource_text(l->call->w->db, name, l->call->language.code, l->call->language.default_code, &l->text);
	if (r != DB_OK && r != DB_NOT_FOUND)
		l->call->lookup_error = r;
	return l->text;
}

/* Translates one string in place: its multi-language variant, then its resource references,
 * then the culture's numbers and dates. */
static void
app_translate(struct app_call *call, char **s)
{
	struct app_resource_lookup lookup = { call, NULL };
	struct buf picked, replaced;
	const char *text;

	if (*s == NULL)
		return;
	buf_init(&picked);
	buf_init(&replaced);
	text = lang_pick_variant(*s, call->language.ml_code, call->language.default_ml_code, &picked) ?
	    picked.data : *s;
	lang_replace_references(text, app_lookup_resource, &lookup, &replaced);
	free(lookup.text);
	buf_reset(&picked);
	lang_format_culture(replaced.data, call->culture.code[0] != '\0' ? &(struct lang_culture){
	    call->culture.decimal_separator, call->culture.group_separator, call->culture.date_pattern } : NULL,
	    &picked);
	free(*s);
	*s = xstrdup(picked.data);
	buf_free(&picked);
	buf_free(&replaced);
}

/* Display strings are translated; Secret and TargetUrl are opaque values and never touched,
 * nor are Headers and Properties, which are sent to the target as stored. */
static void
app_translate_webhook(struct app_call *call, struct webhook *hook)
{
	app_translate(call, &hook->name);
	app_translate(call, &hook->type);
	for (size_t i = 0; i < hook->nevents; i++)
		app_translate(call, &hook->events[i]);
}

static void
app_create_default_webhook(void *ctx, const struct request *req, struct response *resp)
{
	struct app_call *call = ctx;
	struct carrier_options opt = { .tag_utc = call->has_tz && call->tz.include_offset };
	struct webhook hook;
	struct emitter *e;
	enum db_result r;
	bool ok;

	(void)req; /* the body, if any, has been read and is ignored */
	r = db_webhook_defaults(call->w->db, &hook);
	if (r != DB_OK) {
		app_db_error(call, r);
		return;
	}
	if (call->translate)
		app_translate_webhook(call, &hook);
	if (call->lookup_error != DB_OK) {
		webhook_free(&hook);
		app_db_error(call, call->lookup_error);
		return;
	}
	response_reset(resp);
	resp->status = 200;
	resp->content_type = media_type_content_type(call->media);
	e = emitter_open(media_type_format(call->media), &resp->body);
	ok = e != NULL && carrier_write_webhook(e, &hook, &opt);
	emitter_close(e);
	webhook_free(&hook);
	if (!ok) {
		app_error(call, 500, "InternalServerError", "The stored webhook defaults cannot be represented in "
		    "the requested format.", "webhookd/serializer");
		return;
	}
	if (call->translate)
		response_add_header(resp, "Content-Language", call->language.code);
	if (call->has_tz)
		response_add_header(resp, "SO-TimeZone", call->zone.code);
}

/* Readiness: this worker's database connection answers. For monitoring; nginx keeps it private. */
static void
app_health(void *ctx, const struct request *req, struct response *resp)
{
	struct app_call *call = ctx;
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
		app_error(call, 500, "InternalServerError", "The server could not complete the request.", "webhookd");
	emitter_close(e);
}

static void
app_metrics(void *ctx, const struct request *req, struct response *resp)
{
	(void)ctx;
	(void)req;
	response_reset(resp);
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	metrics_render(&resp->body);
}

static const struct route app_routes[] = {
	{ "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook", app_create_default_webhook, ROUTE_AUTHENTICATED },
	{ "GET", "/_webhookd/health", app_health, 0 },
	{ "GET", "/_webhookd/metrics", app_metrics, 0 },
};

static struct app_config *
app_config_new(const struct settings *s, unsigned generation)
{
	struct app_config *c = xcalloc(1, sizeof *c);

	c->generation = generation;
	c->auth_schemes = s->auth_scheme_mask;
	c->online = s->online;
	c->session_cookie = xstrdup(s->session_cookie);
	c->database = xstrdup(s->database);
	c->statement_timeout_ms = s->statement_timeout_ms;
	c->refs = 1; /* the app's own reference */
	return c;
}

static void
app_config_release(struct app *app, struct app_config *c)
{
	bool last;

	pthread_mutex_lock(&app->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&app->lock);
	if (last) {
		sodium_memzero(c->database, strlen(c->database)); /* it may hold a password */
		free(c->database);
		free(c->session_cookie);
		free(c);
	}
}

static struct app_config *
app_config_acquire(struct app *app)
{
	struct app_config *c;

	pthread_mutex_lock(&app->lock);
	c = app->config;
	c->refs++;
	pthread_mutex_unlock(&app->lock);
	return c;
}

bool
app_init(struct app *app, const struct settings *s)
{
	memset(app, 0, sizeof *app);
	if (pthread_mutex_init(&app->lock, NULL) != 0)
		return false;
	app->max_body = s->max_body;
	app->authcache = authcache_new(1024);
	app->config = app_config_new(s, 1);
	return true;
}

void
app_destroy(struct app *app)
{
	app_config_release(app, app->config);
	authcache_free(app->authcache);
	pthread_mutex_destroy(&app->lock);
}

void
app_reload(struct app *app, const struct settings *s)
{
	struct app_config *old;

	pthread_mutex_lock(&app->lock);
	old = app->config;
	app->config = app_config_new(s, old->generation + 1);
	pthread_mutex_unlock(&app->lock);
	app_config_release(app, old);
}

/* (Re)creates the worker's connection for the settings it holds, if they are newer. */
static bool
app_worker_sync_db(struct app_worker *w)
{
	if (w->db != NULL && w->db_generation == w->config->generation)
		return true;
	if (w->db != NULL)
		metrics_count_db_reconnect();
	db_free(w->db);
	w->db = db_new(w->config->database, w->config->statement_timeout_ms);
	w->db_generation = w->config->generation;
	return db_connect(w->db);
}

bool
app_worker_connect(struct app_worker *w)
{
	bool ok;

	w->config = app_config_acquire(w->app);
	ok = app_worker_sync_db(w);
	app_config_release(w->app, w->config);
	w->config = NULL;
	return ok;
}

void
app_worker_release(struct app_worker *w)
{
	db_free(w->db);
	w->db = NULL;
}

void
app_handle(struct app_worker *w, const struct request *req, struct response *resp)
{
	w->config = app_config_acquire(w->app);
	/* A failed connection is retried by the first query, which answers 503 if it fails again. */
	(void)app_worker_sync_db(w);
	app_serve(w, req, resp);
	app_config_release(w->app, w->config);
	w->config = NULL;
}

static void
app_serve(struct app_worker *w, const struct request *req, struct response *resp)
{
	struct app_call call;
	const struct route *route;
	char allow[ROUTE_ALLOW_SIZE];
	char message[256];

	memset(&call, 0, sizeof call);
	call.w = w;
	call.req = req;
	call.resp = resp;
	call.media = MEDIA_APPLICATION_JSON;
	call.lookup_error = DB_OK;

	/* First the format, so that every later error is written in it. */
	switch (negotiate_accept(req->accept, &call.media)) {
	case NEGOTIATE_OK:
		break;
	case NEGOTIATE_NOT_ACCEPTABLE:
		snprintf(message, sizeof message, "None of the media types in Accept can be served; supported: %s.",
		    negotiate_supported_list);
		app_error(&call, 406, "NotAcceptable", message, "webhookd/request");
		return;
	case NEGOTIATE_MALFORMED:
		app_bad_request(&call, "The Accept header is malformed: expected media ranges such as "
		    "\"application/json, application/xml;q=0.5\".");
		return;
	}
	switch (router_match(app_routes, sizeof app_routes / sizeof app_routes[0], req->method, req->path,
	    &route, allow)) {
	case ROUTE_FOUND:
		break;
	case ROUTE_NOT_FOUND:
		app_error(&call, 404, "NotFound", "There is no API endpoint at this path.", "webhookd/router");
		return;
	case ROUTE_METHOD_NOT_ALLOWED:
		snprintf(message, sizeof message, "This endpoint accepts %s only.", allow);
		app_error(&call, 405, "MethodNotAllowed", message, "webhookd/router");
		response_add_header(resp, "Allow", allow);
		return;
	}
	if (req->body_too_large) {
		snprintf(message, sizeof message, "The request body exceeds the limit of %ld bytes.", w->app->max_body);
		app_error(&call, 413, "PayloadTooLarge", message, "webhookd/request");
		return;
	}
	if ((route->flags & ROUTE_AUTHENTICATED) &&
	    (!app_parse_headers(&call) || !app_authenticate(&call) || !app_check_application(&call) ||
	        !app_resolve_context(&call)))
		return;
	route->handler(&call, req, resp);
}
