/*
 * One PostgreSQL connection with its prepared statements, owned by one worker thread.
 * A broken connection is re-established (and the statements re-prepared) on the next call;
 * reads are retried once after a reconnect.
 */
#ifndef WEBHOOKD_DB_H
#define WEBHOOKD_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "webhook.h"

enum db_result {
	DB_OK,
	DB_NOT_FOUND,
	DB_UNAVAILABLE,  /* no connection, or the statement timed out: worth a retry (503) */
	DB_FAILED,       /* the query or the stored data is wrong: an operator must look (500) */
};

#define DB_PASSWORD_HASH_MAX 255

struct associate_login {
	int32_t associate_id;
	char password_hash[DB_PASSWORD_HASH_MAX + 1];
	bool deleted;
};

/* A ticket, token or browser session, with what decides whether it still opens the door. */
struct token_login {
	int32_t associate_id;
	bool associate_deleted;
	bool expired;
	bool revoked;
	char xsrf_sha256_hex[65];  /* browser sessions only */
};

struct application_grant {
	bool webhook_access;
	bool revoked;
};

#define DB_CODE_MAX 16

struct language_choice {
	char code[DB_CODE_MAX + 1];           /* "sv" */
	char ml_code[DB_CODE_MAX + 1];        /* "SE" */
	char default_code[DB_CODE_MAX + 1];   /* the installation's fallback language */
	char default_ml_code[DB_CODE_MAX + 1];
};

struct culture_format {
	char code[DB_CODE_MAX + 1];
	char decimal_separator[8];
	char group_separator[8];
	char date_pattern[32];
};

struct timezone_info {
	char code[DB_CODE_MAX + 1];
	char iana[64];
};

struct db;

/* conninfo is a libpq connection string; it may hold a password and is never logged. */
struct db *db_new(const char *conninfo, long statement_timeout_ms);
void db_free(struct db *db);
/* Connects and prepares the statements; logs the reason on failure. */
bool db_connect(struct db *db) __attribute__((warn_unused_result));

/* A cheap round trip: is the database there? */
enum db_result db_ping(struct db *db);
enum db_result db_associate_login(struct db *db, const char *name, struct associate_login *out);
enum db_result db_webhook_defaults(struct db *db, struct webhook *out);
/* scheme is "soticket" or "bearer"; digest_hex the token's SHA-256. */
enum db_result db_token_login(struct db *db, const char *scheme, const char *digest_hex, struct token_login *out);
enum db_result db_session_login(struct db *db, const char *digest_hex, struct token_login *out);
enum db_result db_application_grant(struct db *db, const char *digest_hex, struct application_grant *out);
/* The first of the candidate codes the installation knows (DB_NOT_FOUND when none is), and the
 * default language either way. Candidates are lower-case letters only. */
enum db_result db_language_choice(struct db *db, const char *const *candidates, size_t n, struct language_choice *out);
/* The text of resource name in language, else in fallback; NULL (DB_NOT_FOUND) when neither has it. */
enum db_result db_resource_text(struct db *db, const char *name, const char *language, const char *fallback,
    char **out);
enum db_result db_culture_format(struct db *db, const char *code, struct culture_format *out);
/* key is a code ("NO") or, when by_id, a numeric id ("261"). */
enum db_result db_timezone(struct db *db, const char *key, bool by_id, struct timezone_info *out);

#endif
