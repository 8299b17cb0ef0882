#include "config.h"

#include "login.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "auth.h"
#include "changes.h"
#include "clock.h"
#include "cookie.h"
#include "credcache.h"
#include "hashpool.h"
#include "log.h"
#include "metrics.h"
#include "throttle.h"

/* Identical credentials share one check: the pool knows them by the credential cache's key. */
_Static_assert(HASHPOOL_KEY_BYTES == CREDCACHE_KEY_BYTES, "the hashing pool's key is the cache's");

/* An entry stands on its own (no database read) only under the generation it was read in, while
 * the change feed vouches for it, and before it expires. */
static bool
login_entry_current(const struct credcache_entry *e, uint64_t generation)
{
	return generation != 0 && e->generation == generation && clock_realtime_us() < e->expires_us;
}

static void
login_busy(struct call *call)
{
	reply_busy(call, "Too many passwords are being checked right now; try again shortly.", "webhookd/auth", 1);
}

static void
login_throttled(struct call *call, enum throttle_verdict verdict, long wait_s)
{
	char message[128];

	snprintf(message, sizeof message, "Too many failed logins %s; try again in %ld s.",
	    verdict == THROTTLE_NETWORK ? "from this address" : "for this user name", wait_s);
	reply_error(call, 429, "TooManyRequests", message, "webhookd/auth");
	snprintf(message, sizeof message, "%ld", wait_s);
	response_add_header(call->resp, "Retry-After", message);
}

/* After a refusal to store an upgraded hash (no UPDATE grant, a read-only server), when to try
 * again: one warning per ten minutes rather than one per login. */
#define LOGIN_REHASH_RETRY_US INT64_C(600000000)
static _Atomic int64_t login_rehash_refused_until_us;

/* A good login with a hash of an older scheme stores the one computed with the current scheme.
 * Only if the row still holds the hash just verified: an operator's change meanwhile wins. True
 * when login->password_hash is now the new hash. */
static bool
login_rehash(struct call *call, struct associate_login *login, const char *upgraded)
{
	int64_t now = clock_monotonic_us();
	enum db_result r;

	if (upgraded[0] == '\0' || strlen(upgraded) > DB_PASSWORD_HASH_MAX || !db_is_primary(call->w->db) ||
	    now < atomic_load(&login_rehash_refused_until_us))
		return false;
	r = db_associate_rehash(call->w->db, login->associate_id, login->password_hash, upgraded);
	if (r == DB_FAILED) {
		atomic_store(&login_rehash_refused_until_us, now + LOGIN_REHASH_RETRY_US);
		log_warning("login: cannot store the upgraded password hash of associate %d (the daemon's role needs "
		    "UPDATE (password_hash) ON associate); logins go on with the old hash, next try in 10 minutes",
		    (int)login->associate_id);
	}
	if (r != DB_OK)
		return false;
	strcpy(login->password_hash, upgraded);
	return true;
}

/* The header is verified: remember it with the stored hash it matched. */
static bool
login_basic_accept(struct call *call, struct credcache_entry *e, const struct associate_login *login,
    uint64_t generation)
{
	e->generation = app_worker_cacheable_generation(call->w, generation);
	e->expires_us = INT64_MAX;
	e->associate_id = login->associate_id;
	strcpy(e->password_hash, login->password_hash);
	credcache_put(call->w->app->credcache, e);
	call->associate_id = login->associate_id;
	return true;
}

/*
 * Basic: in this order, each step only when the one before could not decide.
 *   1. The same header verified under the current change-feed generation: accepted from memory.
 *   2. The same header verified before, against the stored hash the row still holds: accepted
 *      after one read, without crypt(3) and without the throttle. So a write to any cached table
 *      (which makes every entry stale) never turns a verified login from a throttled address into
 *      a 429: the throttle is for credentials that are not known to be good.
 *   3. The throttle, then a seat in the hashing pool, both before the read, so that refusals (429,
 *      503) cost no database work. Identical credentials already being checked are followed, not
 *      checked again (hashpool.h); a check of its own reserves an attempt in the throttle first,
 *      so concurrent guesses cannot overshoot it.
 *   4. One password check at the cost of the current scheme, whoever the user is: unknown users
 *      and retired associates against a dummy hash, older hashes padded (auth_password_check).
 *      Every failure is the same 401; a good login with an older hash upgrades it.
 */
static bool
login_basic(struct call *call, const struct auth_credentials *cred)
{
	static const char invalid[] = "Invalid user name or password.";
	struct app_worker *w = call->w;
	struct app *app = w->app;
	uint64_t generation = changes_generation(app->changes, CHANGES_CREDENTIALS);
	char folded[AUTH_USER_FOLD_SIZE];
	struct credcache_entry seen, e;
	struct associate_login login;
	struct throttle_subject subject;
	struct hashpool_result check;
	struct hashpool_seat seat;
	enum throttle_verdict verdict;
	enum db_result r = DB_NOT_FOUND;
	bool have, known_good, read = false;
	long wait_s;

	memset(&e, 0, sizeof e);
	memset(&login, 0, sizeof login);
	credcache_key(app->credcache, "basic", call->req->authorization, e.key);
	have = credcache_get(app->credcache, e.key, &seen);
	if (have && login_entry_current(&seen, generation)) {
		metrics_count_cache(METRICS_CACHE_CREDENTIALS, true);
		call->associate_id = seen.associate_id;
		return true;
	}
	metrics_count_cache(METRICS_CACHE_CREDENTIALS, false);
	if (have && seen.password_hash[0] != '\0') {
		r = db_associate_login(w->db, cred->user, &login);
		if (r != DB_OK && r != DB_NOT_FOUND) {
			reply_db_error(call, r);
			return false;
		}
		read = true;
		if (r == DB_OK && !login.deleted && login.associate_id == seen.associate_id &&
		    strcmp(seen.password_hash, login.password_hash) == 0)
			return login_basic_accept(call, &e, &login, generation);
	}

	auth_user_fold(cred->user, folded);
	throttle_subject(app->throttle, call->req->remote_addr, folded, &subject);
	verdict = throttle_peek(app->throttle, &subject, clock_monotonic_us(), &wait_s);
	if (verdict != THROTTLE_OK) {
		login_throttled(call, verdict, wait_s);
		return false;
	}
	switch (hashpool_join(app->hashpool, e.key, &seat)) {
	case HASHPOOL_FULL:
		login_busy(call);
		return false;
	case HASHPOOL_LEAD:
		verdict = throttle_reserve(app->throttle, &subject, clock_monotonic_us(), &wait_s);
		if (verdict != THROTTLE_OK) {
			hashpool_leave(app->hashpool, &seat);
			login_throttled(call, verdict, wait_s);
			return false;
		}
		break;
	case HASHPOOL_FOLLOW:
		break;
	}
	if (!read) {
		r = db_associate_login(w->db, cred->user, &login);
		if (r != DB_OK && r != DB_NOT_FOUND) {
			hashpool_leave(app->hashpool, &seat);
			throttle_cancel(app->throttle, &subject);
			reply_db_error(call, r);
			return false;
		}
	}
	known_good = r == DB_OK && !login.deleted;
	if (!hashpool_await(app->hashpool, &seat, w->crypt, cred->password, known_good ? login.password_hash : NULL,
	        &check) ||
	    strcmp(check.checked, known_good ? login.password_hash : "") != 0) {
		/* No answer in time; or, followed, an answer about another stored hash (it changed
		 * while the check ran): a retry will know. */
		throttle_cancel(app->throttle, &subject);
		login_busy(call);
		return false;
	}
	if (!check.matched) {
		/* A reserved attempt stays: it was a failure. */
		reply_unauthorized(call, invalid);
		return false;
	}
	throttle_success(app->throttle, &subject, clock_monotonic_us());
	(void)login_rehash(call, &login, check.upgraded);
	sodium_memzero(&check, sizeof check);
	return login_basic_accept(call, &e, &login, generation);
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
	uint64_t generation = changes_generation(w->app->changes, CHANGES_CREDENTIALS);
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
	/* A value no issuer writes is no session: the same answer as an unknown one, without a read. */
	if (!auth_token_valid(session)) {
		sodium_memzero(session, sizeof session);
		reply_unauthorized(call, "The session is not valid.");
		return false;
	}
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
	uint64_t generation = changes_generation(app->changes, CHANGES_CREDENTIALS);
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
	if (!auth_token_valid(token)) {
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

