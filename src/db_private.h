/* Shared by the modules of the database layer (db.c, db_webhook.c, db_delivery.c, db_log.c): the prepared statements and
 * the primitives that run them. Nothing outside the layer includes it. */
#ifndef WEBHOOKD_DB_PRIVATE_H
#define WEBHOOKD_DB_PRIVATE_H

#include <libpq-fe.h>

#include "db.h"

enum db_statement {
	DB_STMT_ASSOCIATE_LOGIN,
	DB_STMT_ASSOCIATE_REHASH,
	DB_STMT_TOKEN_LOGIN,
	DB_STMT_SESSION_LOGIN,
	DB_STMT_APPLICATION_GRANT,
	DB_STMT_REFERENCE_DATA,
	DB_STMT_PING,
	DB_STMT_NOTIFY_PENDING,
	DB_STMT_WEBHOOK_GET,
	DB_STMT_WEBHOOK_LIST,
	DB_STMT_WEBHOOK_ALL,
	DB_STMT_WEBHOOK_INSERT,
	DB_STMT_WEBHOOK_UPDATE,
	DB_STMT_WEBHOOK_DELETE,
	DB_STMT_WEBHOOK_LAST_ERROR,
	DB_STMT_WEBHOOK_USAGE,
	DB_STMT_WEBHOOK_SIGNAL,
	DB_STMT_SIGNAL_FAN_OUT,
	DB_STMT_DELIVERY_WAIT,
	DB_STMT_DELIVERY_CLAIM,
	DB_STMT_DELIVERY_RECORD_BATCH,
	DB_STMT_DELIVERY_RELEASE,
	DB_STMT_DELIVERY_NEXT_DUE,
	DB_STMT_DELIVERY_QUEUE,
	DB_STMT_LOG_WEBHOOK_STATE,
	DB_STMT_LOG_EVENTS,
	DB_STMT_LOG_EVENT,
	DB_STMT_LOG_ATTEMPTS,
	DB_STMT_LOG_EVENT_ATTEMPTS,
	DB_STMT_LOG_ACTIVITY,
	DB_STMT_LOG_RESEND,
	DB_STMT_LOG_RECOVER,
	DB_STMT_LOG_PRUNE_AGE,
	DB_STMT_LOG_PRUNE_ROWS,
	DB_STMT_PROBE_CLAIM,
	DB_STMT_PROBE_ANSWERED,
	DB_STMT_CONTROLS_GET,
	DB_STMT_CONTROLS_SET,
	DB_STMT_PREVIOUS_SECRET_DROP,
	DB_STMT_COUNT
};

/* DB_OK with the result (for the caller to PQclear), or why not. */
enum db_result db_query(struct db *db, enum db_statement stmt, const char *const *params, PGresult **out)
	__attribute__((warn_unused_result));
/* As db_query, DB_NOT_FOUND when the statement returns no row. */
enum db_result db_query_row(struct db *db, enum db_statement stmt, const char *const *params, PGresult **res)
	__attribute__((warn_unused_result));
/*
 * A statement whose answer is awaited without blocking, so the caller's loop goes on meanwhile:
 * db_send sends it (false when the database is away, or a statement already awaits its answer);
 * when db_socket is readable, db_receive reads what arrived and, once the whole answer is there,
 * returns true with what db_query would have returned (rows are dropped). One at a time.
 */
bool db_send(struct db *db, enum db_statement stmt, const char *const *params) __attribute__((warn_unused_result));
bool db_receive(struct db *db, enum db_result *r) __attribute__((warn_unused_result));

/* A boolean column: 't' or 'f'. */
bool db_bool(const PGresult *res, int row, int col);
/* An integer column. */
long long db_int(const PGresult *res, int row, int col);
/* A text column, copied (NULL for SQL NULL), for the caller to free. */
char *db_text_or_null(const PGresult *res, int row, int col);

#endif
