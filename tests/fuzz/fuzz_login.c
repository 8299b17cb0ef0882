/*
 * The whole login path, end to end: login_authenticate and login_check_application on a request
 * whose Authorization, Cookie, X-XSRF-TOKEN, SO-AppToken and client address come from the fuzzer
 * (split at newlines, in that order), through the real credential cache, throttle, hashing pool,
 * password checks and replies. The harness stands in for two things only:
 *   - the database: the db_* functions the login path calls. They abort when a value that auth.c's
 *     rules refuse reaches them (a user name that is not valid, a lookup for a token that is not);
 *     known names ("alice", "legacy", "retired") and tokens answer, "down" is a database outage;
 *   - crypt(3): a keyed hash in crypt's format, so the fuzzer runs thousands of logins a second
 *     instead of sixty (yescrypt is slow on purpose). What is fuzzed is the code around it.
 * Every answer must be a success or a 401, 403, 429 or 503, never another status.
 */
#include "config.h"

#include <crypt.h>
#include <sodium.h>
#include <stdio.h>
#include <strings.h>

#include "app.h"
#include "auth.h"
#include "call.h"
#include "changes.h"
#include "cookie.h"
#include "credcache.h"
#include "db.h"
#include "fuzz_common.h"
#include "hashpool.h"
#include "login.h"
#include "throttle.h"

/* -- crypt(3), cheap: "<setting>$<keyed hash of the password>" ---------------------------------- */

char *
crypt_gensalt_rn(const char *prefix, unsigned long count, const char *rbytes, int nrbytes, char *output,
    int output_size)
{
	(void)count;
	(void)rbytes;
	(void)nrbytes;
	snprintf(output, (size_t)output_size, "%sj9T$fuzzsalt", prefix != NULL ? prefix : "$y$");
	return output;
}

char *
crypt_rn(const char *phrase, const char *setting, void *data, int size)
{
	struct crypt_data *cd = data;
	crypto_generichash_state st;
	unsigned char h[16];
	char hex[33];
	size_t base = 0;
	int dollars = 0;

	(void)size;
	if (setting[0] != '$') {
		strcpy(cd->output, "*0");
		return cd->output;
	}
	/* The setting ends before the fourth '$' ("$y$j9T$salt"), or with the string. */
	while (setting[base] != '\0' && !(setting[base] == '$' && ++dollars == 4))
		base++;
	if (base > 200)
		base = 200;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)setting, base);
	crypto_generichash_update(&st, (const unsigned char *)phrase, strlen(phrase) + 1);
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(cd->output, sizeof cd->output, "%.*s$%s", (int)base, setting, hex);
	return cd->output;
}

/* -- the database ----------------------------------------------------------------------------------- */

static char alice_hash[AUTH_HASH_MAX + 1];   /* "secret", current scheme */
static char legacy_hash[AUTH_HASH_MAX + 1];  /* "secret", an older scheme */
static char good_ticket_hex[AUTH_DIGEST_HEX_SIZE];
static const char *input_token;     /* the ticket, token or session value of this input */
static const char *input_apptoken;

enum db_result
db_associate_login(struct db *db, const char *name, struct associate_login *out)
{
	(void)db;
	if (!auth_user_valid(name, strlen(name)))
		abort();  /* a name that cannot be anyone's reached the database */
	memset(out, 0, sizeof *out);
	if (strncasecmp(name, "down", 4) == 0)
		return DB_UNAVAILABLE;
	if (strcasecmp(name, "alice") == 0 || strcasecmp(name, "retired") == 0) {
		out->associate_id = 1;
		strcpy(out->password_hash, alice_hash);
		out->deleted = strcasecmp(name, "retired") == 0;
		return DB_OK;
	}
	if (strcasecmp(name, "legacy") == 0) {
		out->associate_id = 2;
		strcpy(out->password_hash, legacy_hash);
		return DB_OK;
	}
	return DB_NOT_FOUND;
}

enum db_result
db_associate_rehash(struct db *db, int32_t associate_id, const char *old_hash, const char *new_hash)
{
	(void)db;
	(void)associate_id;
	if (!auth_password_current(new_hash) || strcmp(old_hash, legacy_hash) != 0)
		abort();
	return DB_OK;
}

static void
fuzz_token_lookup(const char *digest_hex)
{
	char hex[AUTH_DIGEST_HEX_SIZE];

	/* Only a value auth.c lets through is looked up, and it is the one this input carries. */
	if (input_token == NULL || !auth_token_valid(input_token))
		abort();
	auth_token_digest_hex(input_token, hex);
	if (strcmp(hex, digest_hex) != 0)
		abort();
}

enum db_result
db_token_login(struct db *db, const char *scheme, const char *digest_hex, struct token_login *out)
{
	(void)db;
	(void)scheme;
	fuzz_token_lookup(digest_hex);
	memset(out, 0, sizeof *out);
	if (strcmp(digest_hex, good_ticket_hex) != 0)
		return DB_NOT_FOUND;
	out->associate_id = 1;
	out->expires_us = INT64_MAX;
	return DB_OK;
}

enum db_result
db_session_login(struct db *db, const char *digest_hex, struct token_login *out)
{
	(void)db;
	fuzz_token_lookup(digest_hex);
	memset(out, 0, sizeof *out);
	if (strcmp(digest_hex, good_ticket_hex) != 0)
		return DB_NOT_FOUND;
	out->associate_id = 1;
	out->expires_us = INT64_MAX;
	auth_token_digest_hex("xsrf", out->xsrf_sha256_hex);
	return DB_OK;
}

enum db_result
db_application_grant(struct db *db, const char *digest_hex, struct application_grant *out)
{
	char hex[AUTH_DIGEST_HEX_SIZE];

	(void)db;
	if (input_apptoken == NULL || !auth_token_valid(input_apptoken))
		abort();
	auth_token_digest_hex(input_apptoken, hex);
	if (strcmp(hex, digest_hex) != 0)
		abort();
	memset(out, 0, sizeof *out);
	if (strcmp(digest_hex, good_ticket_hex) != 0)
		return DB_NOT_FOUND;
	out->application_id = 7;
	out->webhook_access = true;
	return DB_OK;
}

bool
db_is_primary(const struct db *db)
{
	(void)db;
	return true;
}

/* -- the change feed: always vouching, at a generation the input may move ------------------------- */

static uint64_t generation = 1;

uint64_t
changes_generation(const struct changes *c, enum changes_topic topic)
{
	(void)c;
	(void)topic;
	return generation;
}

uint64_t
app_worker_cacheable_generation(const struct app_worker *w, uint64_t before)
{
	(void)w;
	return before;
}

/* -- the harness ------------------------------------------------------------------------------------- */

static struct app app;
static struct app_config config;
static struct app_worker worker;

static void
fuzz_init(void)
{
	struct auth_crypt *c;

	if (sodium_init() < 0)
		abort();
	c = auth_crypt_new();
	if (!auth_password_hash(c, "secret", alice_hash, sizeof alice_hash))
		abort();
	snprintf(legacy_hash, sizeof legacy_hash, "%s", crypt_rn("secret", "$2b$04$fuzzsaltfuzzsaltfuzzsa", c, 0));
	auth_crypt_free(c);
	auth_token_digest_hex("good-ticket", good_ticket_hex);
	app.credcache = credcache_new(64);
	app.throttle = throttle_new(64, 5, 8);
	app.hashpool = hashpool_new(1, 1, 5000, 0);
	config.auth_schemes = AUTH_SCHEME_ALL;
	config.session_cookie = (char *)"SO_SESSION";
	worker.app = &app;
	worker.config = &config;
	worker.crypt = auth_crypt_new();
}

/* The next field of the input (up to a newline), or NULL when there is none. */
static char *
fuzz_field(char **rest)
{
	char *field = *rest, *nl;

	if (field == NULL)
		return NULL;
	nl = strchr(field, '\n');
	if (nl != NULL)
		*nl++ = '\0';
	*rest = nl;
	return field;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	char *s = fuzz_string(data, size), *rest = s, session[AUTH_TOKEN_MAX + 1];
	struct auth_credentials cred;
	struct request req;
	struct response resp;
	struct call call;
	bool ok;

	if (!ready) {
		fuzz_init();
		ready = true;
	}
	memset(&req, 0, sizeof req);
	req.authorization = fuzz_field(&rest);
	req.cookie = fuzz_field(&rest);
	req.xsrf_token = fuzz_field(&rest);
	req.so_apptoken = fuzz_field(&rest);
	req.remote_addr = fuzz_field(&rest);
	/* Some inputs move the generation: cached entries go stale, as after a write. */
	if (size > 0 && data[size - 1] == '!')
		generation++;
	input_token = NULL;
	if (auth_parse(req.authorization, AUTH_SCHEME_ALL, &cred) == AUTH_PARSED && cred.scheme != AUTH_SCHEME_BASIC)
		input_token = req.authorization + strspn(req.authorization, " \t") +
		    strlen(cred.scheme == AUTH_SCHEME_BEARER ? "Bearer" : "SOTicket");
	else if ((req.authorization == NULL || req.authorization[strspn(req.authorization, " \t")] == '\0') &&
	    cookie_find(req.cookie, "SO_SESSION", session, sizeof session))
		input_token = session;
	/* The token as login.c sees it: without the blanks around it. */
	if (input_token != NULL && input_token != session) {
		input_token += strspn(input_token, " \t");
		snprintf(session, sizeof session, "%.*s", (int)strcspn(input_token, " \t"), input_token);
		input_token = session;
	}
	auth_credentials_wipe(&cred);
	input_apptoken = req.so_apptoken;

	response_init(&resp);
	memset(&call, 0, sizeof call);
	call.w = &worker;
	call.req = &req;
	call.resp = &resp;
	call.media = MEDIA_APPLICATION_JSON;
	ok = login_authenticate(&call) && login_check_application(&call);
	if (ok) {
		/* A success replies nothing yet: the handler does. */
		if (call.associate_id <= 0 || resp.status != 500 || resp.body.len != 0)
			abort();
	} else if (resp.status != 401 && resp.status != 403 && resp.status != 429 && resp.status != 503) {
		abort();
	}
	response_free(&resp);
	free(s);
	return 0;
}
