#include "config.h"

#include "db_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_private.h"
#include "xalloc.h"

/* Parameters as text, for PQexecPrepared; NULL is SQL NULL. */
#define DB_LOG_NUMBER_SIZE 24

static const char *
db_log_number(long long value, bool present, char text[DB_LOG_NUMBER_SIZE])
{
	if (!present)
		return NULL;
	snprintf(text, DB_LOG_NUMBER_SIZE, "%lld", value);
	return text;
}

static const char *
db_log_scope(const struct db_webhook_scope *scope, char text[DB_LOG_NUMBER_SIZE])
{
	return db_log_number(scope->application_id, scope->application_id != 0, text);
}

/* A bigint column that may be NULL. */
static int64_t
db_log_time(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? LOG_NO_TIME : db_int(res, row, col);
}

static enum log_outcome
db_log_outcome(const char *text)
{
	return strcmp(text, "Pending") == 0 ? LOG_OUTCOME_PENDING :
	    strcmp(text, "Delivered") == 0 ? LOG_OUTCOME_DELIVERED : LOG_OUTCOME_FAILED;
}

/* One row of LOG_EVENT_COLUMNS (db.c) from column col on. */
static void
db_log_event_from_row(const PGresult *res, int row, int col, struct log_event *e)
{
	memset(e, 0, sizeof *e);
	e->delivery_id = db_int(res, row, col);
	snprintf(e->event_id, sizeof e->event_id, "%.36s", PQgetvalue(res, row, col + 1));
	e->event = db_text_or_null(res, row, col + 2);
	e->primary_key = (int32_t)db_int(res, row, col + 3);
	e->signalled_us = db_int(res, row, col + 4);
	e->outcome = db_log_outcome(PQgetvalue(res, row, col + 5));
	e->cycle = (int)db_int(res, row, col + 6);
	e->attempts = (int)db_int(res, row, col + 7);
	e->last_status = PQgetisnull(res, row, col + 8) ? 0 : (long)db_int(res, row, col + 8);
	e->last_error = db_text_or_null(res, row, col + 9);
	e->last_attempt_us = db_log_time(res, row, col + 10);
	e->next_attempt_us = db_log_time(res, row, col + 11);
}

/* One row of LOG_ATTEMPT_COLUMNS (db.c). */
static void
db_log_attempt_from_row(const PGresult *res, int row, struct log_attempt *a)
{
	memset(a, 0, sizeof *a);
	a->attempt_id = db_int(res, row, 0);
	a->delivery_id = db_int(res, row, 1);
	snprintf(a->event_id, sizeof a->event_id, "%.36s", PQgetvalue(res, row, 2));
	a->event = db_text_or_null(res, row, 3);
	a->primary_key = (int32_t)db_int(res, row, 4);
	a->cycle = (int)db_int(res, row, 5);
	a->attempt = (int)db_int(res, row, 6);
	a->attempted_us = db_int(res, row, 7);
	a->status = PQgetisnull(res, row, 8) ? 0 : (long)db_int(res, row, 8);
	a->error = db_text_or_null(res, row, 9);
	a->latency_ms = (long)db_int(res, row, 10);
	a->response = db_text_or_null(res, row, 11);
}

enum db_result
db_log_webhook_state(struct db *db, const struct db_webhook_scope *scope, int32_t webhook_id, int *state)
{
	char idt[DB_LOG_NUMBER_SIZE], appt[DB_LOG_NUMBER_SIZE];
	const char *params[2] = { db_log_number(webhook_id, true, idt), db_log_scope(scope, appt) };
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_LOG_WEBHOOK_STATE, params, &res);

	*state = 0;
	if (r != DB_OK)
		return r;
	*state = (int)db_int(res, 0, 0);
	PQclear(res);
	return DB_OK;
}

/* The six parameters of a page (LOG_PAGE in db.c); outcome is the statement's $2. */
static void
db_log_page_params(int32_t webhook_id, const char *outcome, const struct log_query *q,
    char text[4][DB_LOG_NUMBER_SIZE], const char *params[6])
{
	params[0] = db_log_number(webhook_id, true, text[0]);
	params[1] = outcome;
	params[2] = db_log_number(q->since_us, q->since_us != LOG_NO_TIME, text[1]);
	params[3] = db_log_number(q->until_us, q->until_us != LOG_NO_TIME, text[2]);
	params[4] = db_log_number(q->before_id, q->before_id > 0, text[3]);
	params[5] = NULL;  /* set by the caller */
}

enum db_result
db_log_events(struct db *db, int32_t webhook_id, const struct log_query *q, struct log_event_list *out)
{
	static const char *const outcomes[] = { [LOG_OUTCOME_ANY] = NULL, [LOG_OUTCOME_PENDING] = "Pending",
		[LOG_OUTCOME_DELIVERED] = "Delivered", [LOG_OUTCOME_FAILED] = "Failed" };
	char text[4][DB_LOG_NUMBER_SIZE], limitt[DB_LOG_NUMBER_SIZE];
	const char *params[6];
	PGresult *res;
	enum db_result r;

	out->items = NULL;
	out->n = 0;
	db_log_page_params(webhook_id, outcomes[q->outcome], q, text, params);
	params[5] = db_log_number(q->limit, true, limitt);
	r = db_query(db, DB_STMT_LOG_EVENTS, params, &res);
	if (r != DB_OK)
		return r;
	out->items = xcalloc((size_t)PQntuples(res) + 1, sizeof *out->items);
	for (int i = 0; i < PQntuples(res); i++)
		db_log_event_from_row(res, i, 0, &out->items[out->n++]);
	PQclear(res);
	return DB_OK;
}

enum db_result
db_log_event(struct db *db, int32_t webhook_id, int64_t delivery_id, struct log_event *out)
{
	char hookt[DB_LOG_NUMBER_SIZE], idt[DB_LOG_NUMBER_SIZE];
	const char *params[2] = { db_log_number(webhook_id, true, hookt), db_log_number(delivery_id, true, idt) };
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_LOG_EVENT, params, &res);

	memset(out, 0, sizeof *out);
	if (r != DB_OK)
		return r;
	db_log_event_from_row(res, 0, 0, out);
	out->data_json = db_text_or_null(res, 0, 12);
	PQclear(res);
	return DB_OK;
}

static enum db_result
db_log_attempt_rows(struct db *db, enum db_statement stmt, const char *const *params, struct log_attempt_list *out)
{
	PGresult *res;
	enum db_result r = db_query(db, stmt, params, &res);

	out->items = NULL;
	out->n = 0;
	if (r != DB_OK)
		return r;
	out->items = xcalloc((size_t)PQntuples(res) + 1, sizeof *out->items);
	for (int i = 0; i < PQntuples(res); i++)
		db_log_attempt_from_row(res, i, &out->items[out->n++]);
	PQclear(res);
	return DB_OK;
}

enum db_result
db_log_attempts(struct db *db, int32_t webhook_id, const struct log_query *q, struct log_attempt_list *out)
{
	static const char *const results[] = { [LOG_RESULT_ANY] = NULL, [LOG_RESULT_SUCCESS] = "true",
		[LOG_RESULT_FAILURE] = "false" };
	char text[4][DB_LOG_NUMBER_SIZE], limitt[DB_LOG_NUMBER_SIZE];
	const char *params[6];

	db_log_page_params(webhook_id, results[q->outcome], q, text, params);
	params[5] = db_log_number(q->limit, true, limitt);
	return db_log_attempt_rows(db, DB_STMT_LOG_ATTEMPTS, params, out);
}

enum db_result
db_log_event_attempts(struct db *db, int32_t webhook_id, int64_t delivery_id, struct log_attempt_list *out)
{
	char hookt[DB_LOG_NUMBER_SIZE], idt[DB_LOG_NUMBER_SIZE];
	const char *params[2] = { db_log_number(webhook_id, true, hookt), db_log_number(delivery_id, true, idt) };

	return db_log_attempt_rows(db, DB_STMT_LOG_EVENT_ATTEMPTS, params, out);
}

enum db_result
db_log_activity(struct db *db, const struct db_webhook_scope *scope, int32_t webhook_id, int64_t first_hour_s,
    log_activity_add add, void *ctx)
{
	char hookt[DB_LOG_NUMBER_SIZE], appt[DB_LOG_NUMBER_SIZE], sincet[DB_LOG_NUMBER_SIZE];
	const char *params[3] = { db_log_number(webhook_id, webhook_id > 0, hookt), db_log_scope(scope, appt),
		db_log_number(first_hour_s, true, sincet) };
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_LOG_ACTIVITY, params, &res);

	if (r != DB_OK)
		return r;
	for (int i = 0; i < PQntuples(res); i++)
		add(ctx, db_int(res, i, 0), db_int(res, i, 1), db_int(res, i, 2));
	PQclear(res);
	return DB_OK;
}

/* The result of webhook_delivery_resend or _recover (migrations/0008). */
static enum log_requeue
db_log_requeue(const PGresult *res)
{
	const char *text = PQgetvalue(res, 0, 0);

	if (PQgetisnull(res, 0, 0) || strcmp(text, "unknown") == 0)
		return LOG_REQUEUE_UNKNOWN;
	if (strcmp(text, "inactive") == 0)
		return LOG_REQUEUE_INACTIVE;
	if (strcmp(text, "in_flight") == 0)
		return LOG_REQUEUE_IN_FLIGHT;
	return LOG_REQUEUE_DONE;
}

enum db_result
db_log_resend(struct db *db, const struct db_webhook_scope *scope, int32_t webhook_id, int64_t delivery_id,
    enum log_requeue *result, struct log_event *out)
{
	char hookt[DB_LOG_NUMBER_SIZE], idt[DB_LOG_NUMBER_SIZE], appt[DB_LOG_NUMBER_SIZE];
	const char *params[3] = { db_log_number(webhook_id, true, hookt), db_log_number(delivery_id, true, idt),
		db_log_scope(scope, appt) };
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_LOG_RESEND, params, &res);

	memset(out, 0, sizeof *out);
	*result = LOG_REQUEUE_UNKNOWN;
	if (r != DB_OK)
		return r;
	if (PQntuples(res) == 1) {
		*result = db_log_requeue(res);
		if (*result == LOG_REQUEUE_DONE)
			db_log_event_from_row(res, 0, 1, out);
	}
	PQclear(res);
	return DB_OK;
}

enum db_result
db_log_recover(struct db *db, const struct db_webhook_scope *scope, int32_t webhook_id, int64_t since_us, long max,
    enum log_requeue *result, long *recovered, long long *remaining)
{
	char hookt[DB_LOG_NUMBER_SIZE], sincet[DB_LOG_NUMBER_SIZE], maxt[DB_LOG_NUMBER_SIZE], appt[DB_LOG_NUMBER_SIZE];
	const char *params[4] = { db_log_number(webhook_id, true, hookt), db_log_number(since_us, true, sincet),
		db_log_number(max, true, maxt), db_log_scope(scope, appt) };
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_LOG_RECOVER, params, &res);

	*result = LOG_REQUEUE_UNKNOWN;
	*recovered = 0;
	*remaining = 0;
	if (r != DB_OK)
		return r;
	if (PQntuples(res) == 1) {
		*result = db_log_requeue(res);
		*recovered = (long)db_int(res, 0, 1);
		*remaining = db_int(res, 0, 2);
	}
	PQclear(res);
	return DB_OK;
}

enum db_result
db_log_prune_age(struct db *db, long keep_days, long batch, long *deleted)
{
	char dayst[DB_LOG_NUMBER_SIZE], batcht[DB_LOG_NUMBER_SIZE];
	const char *params[2] = { db_log_number(keep_days, true, dayst), db_log_number(batch, true, batcht) };
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_LOG_PRUNE_AGE, params, &res);

	*deleted = 0;
	if (r != DB_OK)
		return r;
	*deleted = (long)db_int(res, 0, 0);
	PQclear(res);
	return DB_OK;
}

enum db_result
db_log_prune_rows(struct db *db, int32_t from_webhook, long max_rows, long batch, int32_t *webhook, long *deleted)
{
	char fromt[DB_LOG_NUMBER_SIZE], maxt[DB_LOG_NUMBER_SIZE], batcht[DB_LOG_NUMBER_SIZE];
	const char *params[3] = { db_log_number(from_webhook, true, fromt), db_log_number(max_rows, true, maxt),
		db_log_number(batch, true, batcht) };
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_LOG_PRUNE_ROWS, params, &res);

	*webhook = 0;
	*deleted = 0;
	if (r != DB_OK)
		return r;
	*webhook = (int32_t)db_int(res, 0, 0);
	*deleted = (long)db_int(res, 0, 1);
	PQclear(res);
	return DB_OK;
}

void
log_event_clear(struct log_event *e)
{
	free(e->event);
	free(e->last_error);
	free(e->data_json);
	memset(e, 0, sizeof *e);
}

void
log_event_list_free(struct log_event_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		log_event_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void
log_attempt_clear(struct log_attempt *a)
{
	free(a->event);
	free(a->error);
	free(a->response);
	memset(a, 0, sizeof *a);
}

void
log_attempt_list_free(struct log_attempt_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		log_attempt_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
