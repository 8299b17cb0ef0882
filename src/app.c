#include "config.h"

#include "app.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carrier.h"
#include "changes.h"
#include "cookie.h"
#include "credcache.h"
#include "lang.h"
#include "log.h"
#include "metrics.h"
#include "negotiate.h"
#include "refdata.h"
#include "router.h"
#include "tzheader.h"
#include "webhook.h"
#include "xalloc.h"

/* Entries of the credential cache: a few hundred bytes each. */
#define CREDCACHE_SLOTS 4096

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
	/* Resolved once the caller is known. */
	struct refdata *rd;           /* held for the rest of the request */
	bool translate;
	struct language_choice language;
	struct culture_format culture;
	struct timezone_info zone;
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

/* -- the credential cache ----------------------------------------------------------------------- */

static int64_t
app_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
app_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* An entry stands on its own (no database read) only under the generation it was read in, while
 * the change feed vouches for it, and before it expires. */
static bool
app_entry_current(const struct credcache_entry *e, uint64_t generation)
{
	return generation != 0 && e->generation == generation && app_now_us() < e->expires_us;
}

/* What a database read may be cached under: the generation read before it, and only when the
 * connection is to a primary (a standby may not have replayed a change the feed announced). */
static uint64_t
app_cacheable_generation(const struct app_call *call, uint64_t before)
{
	return db_is_primary(call->w->db) ? before : 0;
}

/* Enters (true) or leaves (false) the gate that bounds concurrent password hashing. */
static void
app_hash_gate(struct app *app, bool enter)
{
	if (!enter)
		sem_post(&app->hash_gate);
	else
		while (sem_wait(&app->hash_gate) != 0 && errno == EINTR)
			;
}

static bool
app_login_basic(struct app_call *call, const struct auth_credentials *cred)
{
	static const char invalid[] = "Invalid user name or password.";
	struct app_worker *w = call->w;
	struct credcache_entry seen, e;
	struct associate_login login;
	uint64_t generation = changes_generation(w->app->changes);
	char message[128];
	long wait_s;
	bool have, ok;
	enum db_result r;

	memset(&e, 0, sizeof e);
	credcache_key(w->app->credcache, "basic", call->req->authorization, e.key);
	have = credcache_get(w->app->credcache, e.key, &seen);
	if (have && app_entry_current(&seen, generation)) {
		metrics_count_cache(METRICS_CACHE_CREDENTIALS, true);
		return true;
	}
	metrics_count_cache(METRICS_CACHE_CREDENTIALS, false);
	wait_s = throttle_wait_s(w->app->throttle, call->req->remote_addr, app_monotonic_us());
	if (wait_s > 0) {
		snprintf(message, sizeof message, "Too many failed logins from this address; try again in %ld s.", wait_s);
		app_error(call, 429, "TooManyRequests", message, "webhookd/auth");
		snprintf(message, sizeof message, "%ld", wait_s);
		response_add_header(call->resp, "Retry-After", message);
		return false;
	}
	r = db_associate_login(w->db, cred->user, &login);
	/* Unknown users, wrong passwords and retired associates get the same answer, and unknown
	 * users pay for a hash too, so neither the body nor the timing tells which names exist. */
	if (r == DB_NOT_FOUND) {
		app_hash_gate(w->app, true);
		auth_password_verify_dummy(w->crypt, cred->password);
		app_hash_gate(w->app, false);
		throttle_failure(w->app->throttle, call->req->remote_addr, app_monotonic_us());
		app_unauthorized(call, invalid);
		return false;
	}
	if (r != DB_OK) {
		app_db_error(call, r);
		return false;
	}
	if (login.deleted) {
		throttle_failure(w->app->throttle, call->req->remote_addr, app_monotonic_us());
		app_unauthorized(call, invalid);
		return false;
	}
	/* The same header verified against the same stored hash: crypt(3) would say the same again. */
	ok = have && strcmp(seen.password_hash, login.password_hash) == 0;
	if (!ok) {
		app_hash_gate(w->app, true);
		/* Another worker may have verified this very header while this one waited. */
		ok = (credcache_get(w->app->credcache, e.key, &seen) &&
		         strcmp(seen.password_hash, login.password_hash) == 0) ||
		    auth_password_verify(w->crypt, cred->password, login.password_hash);
		app_hash_gate(w->app, false);
	}
	if (!ok) {
		throttle_failure(w->app->throttle, call->req->remote_addr, app_monotonic_us());
		app_unauthorized(call, invalid);
		return false;
	}
	e.generation = app_cacheable_generation(call, generation);
	e.expires_us = INT64_MAX;
	e.associate_id = login.associate_id;
	strcpy(e.password_hash, login.password_hash);
	credcache_put(w->app->credcache, &e);
	return true;
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

/* A ticket, token or session: from the cache while it is current, else from the database. On
 * success *out holds what was verified (sessions need their XSRF digest). */
static bool
app_login_token_kind(struct app_call *call, const char *kind, const char *what, const char *token,
    struct credcache_entry *out)
{
	struct app_worker *w = call->w;
	uint64_t generation = changes_generation(w->app->changes);
	char digest[AUTH_DIGEST_HEX_SIZE];
	struct token_login login;
	enum db_result r;

	credcache_key(w->app->credcache, kind, token, out->key);
	if (credcache_get(w->app->credcache, out->key, out) && app_entry_current(out, generation)) {
		metrics_count_cache(METRICS_CACHE_CREDENTIALS, true);
		return true;
	}
	metrics_count_cache(METRICS_CACHE_CREDENTIALS, false);
	auth_token_digest_hex(token, digest);
	r = strcmp(kind, "session") == 0 ? db_session_login(w->db, digest, &login) :
	    db_token_login(w->db, kind, digest, &login);
	if (!app_check_token_login(call, r, &login, what))
		return false;
	out->generation = app_cacheable_generation(call, generation);
	out->expires_us = login.expires_us;
	out->associate_id = login.associate_id;
	out->password_hash[0] = '\0';
	strcpy(out->xsrf_sha256_hex, login.xsrf_sha256_hex);
	credcache_put(w->app->credcache, out);
	return true;
}

static bool
app_login_token(struct app_call *call, const struct auth_credentials *cred)
{
	bool ticket = cred->scheme == AUTH_SCHEME_SOTICKET;
	struct credcache_entry e;

	memset(&e, 0, sizeof e);
	return app_login_token_kind(call, ticket ? "soticket" : "bearer", ticket ? "ticket" : "bearer token",
	    cred->token, &e);
}

/* Browser code on the same site: the session cookie plus the XSRF token issued with it. */
static bool
app_login_session(struct app_call *call)
{
	char session[AUTH_TOKEN_MAX + 1];
	const char *xsrf = call->req->xsrf_token;
	struct credcache_entry e;
	bool ok;

	if (!cookie_find(call->req->cookie, call->w->config->session_cookie, session, sizeof session)) {
		app_unauthorized(call, "Authentication required: send an Authorization header, or the session "
		    "cookie with X-XSRF-TOKEN.");
		return false;
	}
	memset(&e, 0, sizeof e);
	ok = app_login_token_kind(call, "session", "session", session, &e);
	sodium_memzero(session, sizeof session);
	if (!ok)
		return false;
	if (xsrf == NULL || *xsrf == '\0') {
		app_forbidden(call, "X-XSRF-TOKEN is required with a session cookie.");
		return false;
	}
	if (!auth_token_digest_matches(xsrf, e.xsrf_sha256_hex)) {
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
	struct app *app = call->w->app;
	uint64_t generation = changes_generation(app->changes);
	char digest[AUTH_DIGEST_HEX_SIZE];
	struct application_grant grant;
	struct credcache_entry e;
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
	/* Only grants are cached: a refusal costs a read, which keeps the cache for real partners. */
	memset(&e, 0, sizeof e);
	credcache_key(app->credcache, "app", token, e.key);
	if (credcache_get(app->credcache, e.key, &e) && e.granted && app_entry_current(&e, generation)) {
		metrics_count_cache(METRICS_CACHE_CREDENTIALS, true);
		return true;
	}
	metrics_count_cache(METRICS_CACHE_CREDENTIALS, false);
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
	e.generation = app_cacheable_generation(call, generation);
	e.expires_us = INT64_MAX;
	e.granted = true;
	credcache_put(app->credcache, &e);
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

/*
 * The reference data for this request: the application's snapshot while the change feed vouches
 * for it, else one read of the database (kept as the new snapshot when it may be: see
 * app_cacheable_generation).
 */
static bool
app_acquire_refdata(struct app_call *call)
{
	struct app *app = call->w->app;
	uint64_t generation = changes_generation(app->changes);
	struct refdata *rd = NULL, *old;
	enum db_result r;
	char *json;

	pthread_mutex_lock(&app->lock);
	if (app->refdata != NULL && generation != 0 && refdata_generation(app->refdata) == generation) {
		rd = app->refdata;
		refdata_ref(rd);
	}
	pthread_mutex_unlock(&app->lock);
	metrics_count_cache(METRICS_CACHE_REFERENCE_DATA, rd != NULL);
	if (rd == NULL) {
		r = db_reference_data(call->w->db, &json);
		if (r != DB_OK) {
			app_db_error(call, r);
			return false;
		}
		rd = refdata_parse(json, app_cacheable_generation(call, generation));
		free(json);
		if (rd == NULL) {
			app_db_error(call, DB_FAILED);
			return false;
		}
		if (refdata_generation(rd) != 0) {
			refdata_ref(rd);
			pthread_mutex_lock(&app->lock);
			old = app->refdata;
			app->refdata = rd;
			pthread_mutex_unlock(&app->lock);
			refdata_unref(old);
		}
	}
	call->rd = rd;
	return true;
}

/* Turns the parsed language, culture and time zone headers into facts of the reference data. */
static bool
app_resolve_context(struct app_call *call)
{
	char message[160];

	if (!app_acquire_refdata(call))
		return false;
	if (!call->langs.off && call->langs.n > 0) {
		const char *candidates[LANG_MAX_CANDIDATES];

		for (size_t i = 0; i < call->langs.n; i++)
			candidates[i] = call->langs.tags[i];
		call->translate = refdata_language_choice(call->rd, candidates, call->langs.n, &call->language);
		if (!call->translate && call->language.default_code[0] != '\0') {
			/* None of the asked-for languages is installed: the installation's default serves. */
			strcpy(call->language.code, call->language.default_code);
			strcpy(call->language.ml_code, call->language.default_ml_code);
			call->translate = true;
		}
	}
	/* SO-Culture applies only where a language is set; it defaults to that language. */
	if (call->translate) {
		bool explicit_culture = call->culture_tag[0] != '\0';

		if (!refdata_culture(call->rd, explicit_culture ? call->culture_tag : call->language.code, &call->culture) &&
		    explicit_culture) {
			snprintf(message, sizeof message, "Unknown culture \"%s\" in SO-Culture.", call->culture_tag);
			app_bad_request(call, message);
			return false;
		}
	}
	if (call->has_tz && !refdata_timezone(call->rd, call->tz.key, call->tz.by_id, &call->zone)) {
		snprintf(message, sizeof message, "Unknown time zone \"%s\" in SO-TimeZone.", call->tz.key);
		app_bad_request(call, message);
		return false;
	}
	return true;
}

static const char *
app_lookup_resource(void *ctx, const char *name)
{
	struct app_call *call = ctx;

	return refdata_resource_text(call->rd, name, call->language.code, call->language.default_code);
}

/* Translates one string in place: its multi-language variant, then its resource references,
 * then the culture's numbers and dates. */
static void
app_translate(struct app_call *call, char **s)
{
	struct buf picked, replaced;
	const char *text;

	if (*s == NULL)
		return;
	buf_init(&picked);
	buf_init(&replaced);
	text = lang_pick_variant(*s, call->language.ml_code, call->language.default_ml_code, &picked) ?
	    picked.data : *s;
	lang_replace_references(text, app_lookup_resource, call, &replaced);
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
	bool ok;

	(void)req; /* the body, if any, has been read and is ignored */
	refdata_defaults(call->rd, &hook);
	if (call->translate)
		app_translate_webhook(call, &hook);
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
	if (sem_init(&app->hash_gate, 0, (unsigned)s->password_hash_concurrency) != 0) {
		pthread_mutex_destroy(&app->lock);
		return false;
	}
	app->max_body = s->max_body;
	app->credcache = credcache_new(CREDCACHE_SLOTS);
	app->throttle = throttle_new(1024, s->max_failed_logins);
	app->config = app_config_new(s, 1);
	app->changes = changes_start(s->database);
	return true;
}

void
app_destroy(struct app *app)
{
	changes_stop(app->changes);
	refdata_unref(app->refdata);
	app_config_release(app, app->config);
	credcache_free(app->credcache);
	throttle_free(app->throttle);
	sem_destroy(&app->hash_gate);
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
	changes_set_conninfo(app->changes, s->database);
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
	if (!(route->flags & ROUTE_AUTHENTICATED) ||
	    (app_parse_headers(&call) && app_authenticate(&call) && app_check_application(&call) &&
	        app_resolve_context(&call)))
		route->handler(&call, req, resp);
	refdata_unref(call.rd);
}
