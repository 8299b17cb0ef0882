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

struct db;

/* conninfo is a libpq connection string; it may hold a password and is never logged. */
struct db *db_new(const char *conninfo, long statement_timeout_ms);
void db_free(struct db *db);
/* Connects and prepares the statements; logs the reason on failure. */
bool db_connect(struct db *db) __attribute__((warn_unused_result));

enum db_result db_associate_login(struct db *db, const char *name, struct associate_login *out);
enum db_result db_webhook_defaults(struct db *db, struct webhook *out);

#endif
