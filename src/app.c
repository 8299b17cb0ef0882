#include "config.h"

#include "app.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "call.h"
#include "context.h"
#include "log.h"
#include "login.h"
#include "metrics.h"
#include "router.h"
#include "xalloc.h"

/*
 * The request pipeline: negotiate the format, route, check the body size, parse the headers,
 * authenticate, check the application, resolve the context, and run the handler. Every step
 * that refuses replies itself, in the negotiated format. Also the life of the shared state:
 * settings snapshots that a reload replaces, and each worker's database connection.
 */

/* Entries of the credential cache: a few hundred bytes each. */
#define CREDCACHE_SLOTS 4096
/* Entries of the login throttle: 32 bytes each. */
#define THROTTLE_ENTRIES 8192

/* Workers busy with password hashing take the pool's seats (concurrency + queue): never more than
 * half the workers, so that the rest always serve the requests that need no hash. */
static struct hashpool *
app_hashpool_new(const struct settings *s)
{
	long concurrency = s->password_hash_concurrency, queue = s->password_hash_queue;
	long seats = s->workers / 2 > 1 ? s->workers / 2 : 1;

	if (concurrency + queue > seats) {
		concurrency = concurrency < seats ? concurrency : seats;
		queue = seats - concurrency;
		log_warning("password hashing may hold at most half the workers (%ld): %ld hashing at once "
		    "(password_hash_concurrency) and %ld waiting (password_hash_queue)", seats, concurrency, queue);
	}
	return hashpool_new((unsigned)concurrency, (unsigned)queue, s->password_hash_wait_ms, HASHPOOL_WARMUP_US);
}

static void app_serve(struct app_worker *w, const struct request *req, struct response *resp);

uint64_t
app_worker_cacheable_generation(const struct app_worker *w, uint64_t before)
{
	return db_is_primary(w->db) ? before : 0;
}

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
	c->hooks.check_targets = s->target_check;
	c->hooks.secret_rotation_grace_s = s->secret_rotation_grace_s;
	c->hooks.policy = (struct outbound_policy){
		.allow_http = s->allow_http_targets,
		.allow_private = s->allow_private_targets,
		.timeout_ms = s->target_check_timeout_ms,
		.max_response_bytes = 4000,
		.user_agent = "webhookd/" PACKAGE_VERSION,
	};
	c->recover_max = s->delivery_recover_max;
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
app_init(struct app *app, const struct settings *s, const struct outbound *outbound)
{
	memset(app, 0, sizeof *app);
	if (pthread_mutex_init(&app->lock, NULL) != 0)
		return false;
	if (sem_init(&app->check_slots, 0, (unsigned)s->target_check_concurrency) != 0) {
		pthread_mutex_destroy(&app->lock);
		return false;
	}
	app->hashpool = app_hashpool_new(s);
	app->outbound = outbound;
	app->max_body = s->max_body;
	app->credcache = credcache_new(CREDCACHE_SLOTS);
	/* max_failed_logins = 0 turns the whole throttle off, the account budget included. */
	app->throttle = throttle_new(THROTTLE_ENTRIES, s->max_failed_logins,
	    s->max_failed_logins > 0 ? s->max_failed_logins_per_account : 0);
	app->config = app_config_new(s, 1);
	app->changes = changes_start(s->database);
	app->hookcache = hookcache_new();
	return true;
}

void
app_destroy(struct app *app)
{
	changes_stop(app->changes);
	refdata_unref(app->refdata);
	hookcache_free(app->hookcache);
	app_config_release(app, app->config);
	credcache_free(app->credcache);
	throttle_free(app->throttle);
	hashpool_free(app->hashpool);
	sem_destroy(&app->check_slots);
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
	w->db = db_new(w->config->database, w->config->statement_timeout_ms, "webhookd");
	db_notify_after_commit(w->db);
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
	struct call call;
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
		reply_error(&call, 406, "NotAcceptable", message, "webhookd/request");
		return;
	case NEGOTIATE_MALFORMED:
		reply_bad_request(&call, "The Accept header is malformed: expected media ranges such as "
		    "\"application/json, application/xml;q=0.5\".");
		return;
	}
	/* Which of two values was meant cannot be known: refuse rather than let the first one win. */
	if (req->repeated_header != NULL) {
		snprintf(message, sizeof message, "The %s header appears more than once; it takes a single value.",
		    req->repeated_header);
		reply_bad_request(&call, message);
		return;
	}
	switch (router_match(api_routes, api_nroutes, req->method, req->path, &route, &call.params, allow)) {
	case ROUTE_FOUND:
		break;
	case ROUTE_NOT_FOUND:
		reply_error(&call, 404, "NotFound", "There is no API endpoint at this path.", "webhookd/router");
		return;
	case ROUTE_METHOD_NOT_ALLOWED:
		snprintf(message, sizeof message, "This endpoint accepts %s only.", allow);
		reply_error(&call, 405, "MethodNotAllowed", message, "webhookd/router");
		response_add_header(resp, "Allow", allow);
		return;
	}
	if (req->body_too_large) {
		snprintf(message, sizeof message, "The request body exceeds the limit of %ld bytes.", w->app->max_body);
		reply_error(&call, 413, "PayloadTooLarge", message, "webhookd/request");
		return;
	}
	if (!(route->flags & ROUTE_AUTHENTICATED) ||
	    (context_parse_headers(&call) && login_authenticate(&call) && login_check_application(&call) &&
	        context_resolve(&call)))
		route->handler(&call, req, resp);
	refdata_unref(call.rd);
}
