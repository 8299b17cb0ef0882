#include "config.h"

#include "login.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "auth.h"
#include "changes.h"
#include "clock.h"
#include "cookie.h"
#include "credcache.h"
#include "metrics.h"
#include "throttle.h"

/* An entry stands on its own (no database read) only under the generation it was read in, while
 * the change feed vouches for it, and before it expires. */
static bool
login_entry_current(const struct credcache_entry *e, uint64_t generation)
{
	return generation != 0 && e->generation == generation && clock_realtime_us() < e->expires_us;
}

/* Enters (true) or leaves (false) the gate that bounds concurrent password hashing. */
static void
login_hash_gate(struct app *app, bool enter)
{
	if (!enter)
		sem_post(&app->hash_gate);
	else
		while (sem_wait(&app->hash_gate) != 0 && errno == EINTR)
			;
}

static bool
login_basic(struct call *call, const struct auth_credentials *cred)
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
	if (have && login_entry_current(&seen, generation)) {
		metrics_count_cache(METRICS_CACHE_CREDENTIALS, true);
		call->associate_id = seen.associate_id;
		return true;
	}
	metrics_count_cache(METRICS_CACHE_CREDENTIALS, false);
	wait_s = throttle_wait_s(w->app->throttle, call->req->remote_addr, clock_monotonic_us());
	if (wait_s > 0) {
		snprintf(message, sizeof message, "Too many failed logins from this address; try again in %ld s.", wait_s);
		reply_error(call, 429, "TooManyRequests", message, "webhookd/auth");
		snprintf(message, sizeof message, "%ld", wait_s);
		response_add_header(call->resp, "Retry-After", message);
		return false;
	}
	r = db_associate_login(w->db, cred->user, &login);
	/* Unknown users, wrong passwords and retired associates get the same answer, and unknown
	 * users pay for a hash too, so neither the body nor the timing tells which names exist. */
	if (r == DB_NOT_FOUND) {
		login_hash_gate(w->app, true);
		auth_password_verify_dummy(w->crypt, cred->password);
		login_hash_gate(w->app, false);
		throttle_failure(w->app->throttle, call->req->remote_addr, clock_monotonic_us());
		reply_unauthorized(call, invalid);
		return false;
	}
	if (r != DB_OK) {
		reply_db_error(call, r);
		return false;
	}
	if (login.deleted) {
		throttle_failure(w->app->throttle, call->req->remote_addr, clock_monotonic_us());
		reply_unauthorized(call, invalid);
		return false;
	}
	/* The same header verified against the same stored hash: crypt(3) would say the same again. */
	ok = have && strcmp(seen.password_hash, login.password_hash) == 0;
	if (!ok) {
		login_hash_gate(w->app, true);
		/* Another worker may have verified this very header while this one waited. */
		ok = (credcache_get(w->app->credcache, e.key, &seen) &&
		         strcmp(seen.password_hash, login.password_hash) == 0) ||
		    auth_password_verify(w->crypt, cred->password, login.password_hash);
		login_hash_gate(w->app, false);
	}
	if (!ok) {
		throttle_failure(w->app->throttle, call->req->remote_addr, clock_monotonic_us());
		reply_unauthorized(call, invalid);
		return false;
	}
	e.generation = app_worker_cacheable_generation(call->w, generation);
	e.expires_us = INT64_MAX;
	e.associate_id = login.associate_id;
	strcpy(e.password_hash, login.password_hash);
	credcache_put(w->app->credcache, &e);
	call->associate_id = login.associate_id;
	return true;
}

/* A ticket, token or session is refused with the reason: they are random, so naming the
 * reason reveals nothing an attacker could use, and it tells the client to log in again. */
static bool
login_check_token(struct call *call, enum db_result r, const struct token_login *login, const char *what)
{
	char message[128];

	if (r == DB_OK && !login->revoked && !login->expired && !login->associate_deleted)
		return true;
	if (r != DB_OK && r != DB_NOT_FOUND) {
		reply_db_error(call, r);
		return false;
	}
	if (r == DB_NOT_FOUND || login->associate_deleted)
		snprintf(message, sizeof message, "The %s is not valid.", what);
	else if (login->revoked)
		snprintf(message, sizeof message, "The %s has been revoked.", what);
	else
		snprintf(message, sizeof message, "The %s has expired.", what);
	reply_unauthorized(call, message);
	return false;
}

/* A ticket, token or session: from the cache while it is current, else from the database. On
 * success *out holds what was verified (sessions need their XSRF digest). */
static bool
login_token_kind(struct call *call, const char *kind, const char *what, const char *token,
    struct credcache_entry *out)
{
	struct app_worker *w = call->w;
	uint64_t generation = changes_generation(w->app->changes);
	char digest[AUTH_DIGEST_HEX_SIZE];
	struct token_login login;
	enum db_result r;

	credcache_key(w->app->credcache, kind, token, out->key);
	if (credcache_get(w->app->credcache, out->key, out) && login_entry_current(out, generation)) {
		metrics_count_cache(METRICS_CACHE_CREDENTIALS, true);
		call->associate_id = out->associate_id;
		return true;
	}
	metrics_count_cache(METRICS_CACHE_CREDENTIALS, false);
	auth_token_digest_hex(token, digest);
	r = strcmp(kind, "session") == 0 ? db_session_login(w->db, digest, &login) :
	    db_token_login(w->db, kind, digest, &login);
	if (!login_check_token(call, r, &login, what))
		return false;
	out->generation = app_worker_cacheable_generation(call->w, generation);
	out->expires_us = login.expires_us;
	out->associate_id = login.associate_id;
	out->password_hash[0] = '\0';
	strcpy(out->xsrf_sha256_hex, login.xsrf_sha256_hex);
	credcache_put(w->app->credcache, out);
	call->associate_id = login.associate_id;
	return true;
}

static bool
login_token(struct call *call, const struct auth_credentials *cred)
{
	bool ticket = cred->scheme == AUTH_SCHEME_SOTICKET;
	struct credcache_entry e;

	memset(&e, 0, sizeof e);
	return login_token_kind(call, ticket ? "soticket" : "bearer", ticket ? "ticket" : "bearer token",
	    cred->token, &e);
}

/* Browser code on the same site: the session cookie plus the XSRF token issued with it. */
static bool
login_session(struct call *call)
{
	char session[AUTH_TOKEN_MAX + 1];
	const char *xsrf = call->req->xsrf_token;
	struct credcache_entry e;
	bool ok;

	if (!cookie_find(call->req->cookie, call->w->config->session_cookie, session, sizeof session)) {
		reply_unauthorized(call, "Authentication required: send an Authorization header, or the session "
		    "cookie with X-XSRF-TOKEN.");
		return false;
	}
	memset(&e, 0, sizeof e);
	ok = login_token_kind(call, "session", "session", session, &e);
	sodium_memzero(session, sizeof session);
	if (!ok)
		return false;
	if (xsrf == NULL || *xsrf == '\0') {
		reply_forbidden(call, "X-XSRF-TOKEN is required with a session cookie.");
		return false;
	}
	if (!auth_token_digest_matches(xsrf, e.xsrf_sha256_hex)) {
		reply_forbidden(call, "X-XSRF-TOKEN does not match the session.");
		return false;
	}
	return true;
}

bool
login_authenticate(struct call *call)
{
	struct auth_credentials cred;
	char message[160];
	bool ok = false;

	switch (auth_parse(call->req->authorization, call->w->config->auth_schemes, &cred)) {
	case AUTH_ABSENT:
		ok = login_session(call);
		break;
	case AUTH_UNSUPPORTED:
		reply_unauthorized(call, "This Authorization scheme is not accepted here; WWW-Authenticate lists "
		    "the accepted ones.");
		break;
	case AUTH_MALFORMED:
		snprintf(message, sizeof message, "The Authorization header is malformed: expected %s.",
		    cred.scheme == AUTH_SCHEME_BASIC ? "Basic and the base64 encoding of user:password" :
		    cred.scheme == AUTH_SCHEME_SOTICKET ? "SOTicket and a ticket" :
		    cred.scheme == AUTH_SCHEME_BEARER ? "Bearer and a token" : "a scheme and its credentials");
		reply_unauthorized(call, message);
		break;
	case AUTH_PARSED:
		ok = cred.scheme == AUTH_SCHEME_BASIC ? login_basic(call, &cred) : login_token(call, &cred);
		break;
	}
	auth_credentials_wipe(&cred);
	return ok;
}

/* SO-AppToken: partner applications reach this "Online restricted" agent only once granted. */
bool
login_check_application(struct call *call)
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
		reply_forbidden(call, "This installation requires SO-AppToken, the token of a registered application.");
		return false;
	}
	if (strlen(token) > AUTH_TOKEN_MAX) {
		reply_forbidden(call, "The application token in SO-AppToken is not valid.");
		return false;
	}
	/* Only grants are cached: a refusal costs a read, which keeps the cache for real partners. */
	memset(&e, 0, sizeof e);
	credcache_key(app->credcache, "app", token, e.key);
	if (credcache_get(app->credcache, e.key, &e) && e.granted && login_entry_current(&e, generation)) {
		metrics_count_cache(METRICS_CACHE_CREDENTIALS, true);
		call->application_id = e.application_id;
		return true;
	}
	metrics_count_cache(METRICS_CACHE_CREDENTIALS, false);
	auth_token_digest_hex(token, digest);
	r = db_application_grant(call->w->db, digest, &grant);
	if (r == DB_NOT_FOUND || (r == DB_OK && grant.revoked)) {
		reply_forbidden(call, "The application token in SO-AppToken is not valid.");
		return false;
	}
	if (r != DB_OK) {
		reply_db_error(call, r);
		return false;
	}
	if (!grant.webhook_access) {
		reply_forbidden(call, "The application has not been granted access to the Webhook agent, which is "
		    "Online restricted: request it when registering the application.");
		return false;
	}
	e.generation = app_worker_cacheable_generation(call->w, generation);
	e.expires_us = INT64_MAX;
	e.granted = true;
	e.application_id = grant.application_id;
	credcache_put(app->credcache, &e);
	call->application_id = grant.application_id;
	return true;
}

