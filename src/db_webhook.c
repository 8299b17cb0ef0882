#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controls.h"
#include "db.h"
#include "db_private.h"
#include "webhook.h"
#include "xalloc.h"

/* Parameters as text, for PQexecPrepared; NULL is SQL NULL. */
#define DB_INT_TEXT_SIZE 24

static const char *
db_int_param(long long value, bool present, char text[DB_INT_TEXT_SIZE])
{
	if (!present)
		return NULL;
	snprintf(text, DB_INT_TEXT_SIZE, "%lld", value);
	return text;
}

/* The comma-joined event names (they contain no comma: see the schema). */
static void
db_split_events(const char *joined, struct webhook *w)
{
	size_t n = 1;

	for (const char *p = joined; *p != '\0'; p++)
		n += *p == ',';
	w->events = xcalloc(n, sizeof *w->events);
	w->nevents = 0;
	for (const char *p = joined;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		w->events[w->nevents++] = xstrndup(p, len);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
}

static void
db_associate_from_row(const PGresult *res, int row, int col, struct webhook_associate *a)
{
	if (PQgetisnull(res, row, col))
		return;
	a->id = (int32_t)db_int(res, row, col);
	a->name = db_text_or_null(res, row, col + 1);
	a->full_name = db_text_or_null(res, row, col + 2);
	a->deleted = db_bool(res, row, col + 3);
}

/* One row of WEBHOOK_COLUMNS (db.c). */
static void
db_webhook_from_row(const PGresult *res, int row, struct webhook *w)
{
	webhook_init(w);
	w->id = (int32_t)db_int(res, row, 0);
	w->name = db_text_or_null(res, row, 1);
	db_split_events(PQgetvalue(res, row, 2), w);
	w->target_url = db_text_or_null(res, row, 3);
	w->secret = db_text_or_null(res, row, 4);
	w->state = (enum webhook_state)db_int(res, row, 5);
	w->type = db_text_or_null(res, row, 6);
	w->headers_json = db_text_or_null(res, row, 7);
	w->properties_json = db_text_or_null(res, row, 8);
	w->registered = db_int(res, row, 9);
	db_associate_from_row(res, row, 10, &w->registered_by);
	w->updated = db_int(res, row, 14);
	db_associate_from_row(res, row, 15, &w->updated_by);
	w->application_id = (int32_t)db_int(res, row, 19);
	w->version = db_int(res, row, 20);
	w->previous_secret = db_text_or_null(res, row, 21);
}

/* A single-row statement whose row is a webhook. */
static enum db_result
db_webhook_row(struct db *db, enum db_statement stmt, const char *const *params, struct webhook *out)
{
	PGresult *res;
	enum db_result r = db_query_row(db, stmt, params, &res);

	if (r != DB_OK)
		return r;
	db_webhook_from_row(res, 0, out);
	PQclear(res);
	return DB_OK;
}

enum db_result
db_webhook_get(struct db *db, const struct db_webhook_scope *scope, int32_t id, struct webhook *out)
{
	char idt[DB_INT_TEXT_SIZE], appt[DB_INT_TEXT_SIZE];
	const char *params[2] = { db_int_param(id, true, idt), db_int_param(scope->application_id,
	    scope->application_id != 0, appt) };

	return db_webhook_row(db, DB_STMT_WEBHOOK_GET, params, out);
}

enum db_result
db_webhook_list(struct db *db, const struct db_webhook_scope *scope, const struct db_webhook_filter *f,
    struct webhook_list *out)
{
	char appt[DB_INT_TEXT_SIZE], statet[DB_INT_TEXT_SIZE];
	const char *params[4] = { db_int_param(scope->application_id, scope->application_id != 0, appt),
		f->name, f->event, db_int_param(f->state, f->state >= 0, statet) };
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_WEBHOOK_LIST, params, &res);

	out->items = NULL;
	out->n = 0;
	if (r != DB_OK)
		return r;
	if (PQntuples(res) > 0) {
		out->items = xcalloc((size_t)PQntuples(res), sizeof *out->items);
		for (int i = 0; i < PQntuples(res); i++)
			db_webhook_from_row(res, i, &out->items[out->n++]);
	}
	PQclear(res);
	return DB_OK;
}

enum db_result
db_webhook_all(struct db *db, struct webhook_list *out, char ***lowered_names, bool *folds_ascii)
{
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_WEBHOOK_ALL, NULL, &res);
	int rows, lowered_col;

	out->items = NULL;
	out->n = 0;
	*lowered_names = NULL;
	*folds_ascii = true;  /* no name to fold */
	if (r != DB_OK)
		return r;
	/* The two columns after WEBHOOK_COLUMNS, counted from the end: that list may grow. */
	lowered_col = PQnfields(res) - 2;
	rows = PQntuples(res);
	if (rows > 0) {
		out->items = xcalloc((size_t)rows, sizeof *out->items);
		*lowered_names = xcalloc((size_t)rows, sizeof **lowered_names);
		*folds_ascii = db_bool(res, 0, lowered_col + 1);
	}
	for (int i = 0; i < rows; i++) {
		db_webhook_from_row(res, i, &out->items[out->n]);
		(*lowered_names)[out->n++] = db_text_or_null(res, i, lowered_col);
	}
	PQclear(res);
	return DB_OK;
}

/* The events as one comma-joined parameter (string_to_array in SQL). */
static char *
db_join_events(const struct webhook *w)
{
	size_t len = 1;
	char *joined, *p;

	for (size_t i = 0; i < w->nevents; i++)
		len += strlen(w->events[i]) + 1;
	joined = p = xmalloc(len);
	*p = '\0';
	for (size_t i = 0; i < w->nevents; i++) {
		size_t n = strlen(w->events[i]);

		if (i > 0)
			*p++ = ',';
		memcpy(p, w->events[i], n + 1);
		p += n;
	}
	return joined;
}

enum db_result
db_webhook_insert(struct db *db, const struct db_webhook_scope *scope, const struct webhook *in,
    int32_t associate_id, struct webhook *out)
{
	char statet[DB_INT_TEXT_SIZE], assoct[DB_INT_TEXT_SIZE], appt[DB_INT_TEXT_SIZE];
	char *events = db_join_events(in);
	const char *params[10] = { in->name, events, in->target_url, in->secret,
		db_int_param(in->state, true, statet), in->type, in->headers_json, in->properties_json,
		db_int_param(associate_id, associate_id != 0, assoct),
		db_int_param(scope->application_id, scope->application_id != 0, appt) };
	enum db_result r = db_webhook_row(db, DB_STMT_WEBHOOK_INSERT, params, out);

	free(events);
	return r;
}

enum db_result
db_webhook_update(struct db *db, const struct db_webhook_scope *scope, const struct webhook *in,
    int32_t associate_id, const struct db_webhook_guard *guard, long rotation_grace_s, struct webhook *out)
{
	char idt[DB_INT_TEXT_SIZE], statet[DB_INT_TEXT_SIZE], assoct[DB_INT_TEXT_SIZE], appt[DB_INT_TEXT_SIZE];
	char versiont[DB_INT_TEXT_SIZE], sincet[DB_INT_TEXT_SIZE], gracet[DB_INT_TEXT_SIZE];
	char *events = db_join_events(in);
	const char *params[14] = { db_int_param(in->id, true, idt), in->name, events, in->target_url, in->secret,
		db_int_param(in->state, true, statet), in->type, in->headers_json, in->properties_json,
		db_int_param(associate_id, associate_id != 0, assoct),
		db_int_param(scope->application_id, scope->application_id != 0, appt),
		db_int_param(guard->version, guard->version >= 0, versiont),
		db_int_param(guard->unmodified_since_s, guard->unmodified_since_s != INT64_MIN, sincet),
		db_int_param(rotation_grace_s, true, gracet) };
	enum db_result r = db_webhook_row(db, DB_STMT_WEBHOOK_UPDATE, params, out);

	free(events);
	return r;
}

enum db_result
db_webhook_delete(struct db *db, const struct db_webhook_scope *scope, int32_t id, const struct db_webhook_guard *guard)
{
	char idt[DB_INT_TEXT_SIZE], appt[DB_INT_TEXT_SIZE], sincet[DB_INT_TEXT_SIZE];
	const char *params[3] = { db_int_param(id, true, idt),
		db_int_param(scope->application_id, scope->application_id != 0, appt),
		db_int_param(guard->unmodified_since_s, guard->unmodified_since_s != INT64_MIN, sincet) };
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_WEBHOOK_DELETE, params, &res);

	if (r == DB_OK)
		PQclear(res);
	return r;
}

enum db_result
db_webhook_last_error(struct db *db, const struct db_webhook_scope *scope, int32_t id, char **out)
{
	char idt[DB_INT_TEXT_SIZE], appt[DB_INT_TEXT_SIZE];
	const char *params[2] = { db_int_param(id, true, idt), db_int_param(scope->application_id,
	    scope->application_id != 0, appt) };
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_WEBHOOK_LAST_ERROR, params, &res);

	*out = NULL;
	if (r != DB_OK)
		return r;
	*out = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return DB_OK;
}

enum db_result
db_webhook_usage(struct db *db, const struct db_webhook_scope *scope, int32_t id, struct webhook_usage_list *out)
{
	char idt[DB_INT_TEXT_SIZE], appt[DB_INT_TEXT_SIZE];
	const char *params[2] = { db_int_param(id, id != 0, idt), db_int_param(scope->application_id,
	    scope->application_id != 0, appt) };
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_WEBHOOK_USAGE, params, &res);
	int rows;

	out->items = NULL;
	out->n = 0;
	if (r != DB_OK)
		return r;
	rows = PQntuples(res);
	if (rows == 0 && id != 0) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	if (rows > 0)
		out->items = xcalloc((size_t)rows, sizeof *out->items);
	for (int i = 0; i < rows; i++) {
		struct webhook_usage *u = &out->items[i];

		u->webhook_id = (int32_t)db_int(res, i, 0);
		u->total_calls = db_int(res, i, 1);
		u->total_errors = db_int(res, i, 2);
		u->consecutive_errors = db_int(res, i, 3);
		u->last_error_at = PQgetisnull(res, i, 4) ? WEBHOOK_TIME_UNSET : db_int(res, i, 4);
		u->last_error = xstrdup(PQgetvalue(res, i, 5));
		out->n++;
	}
	PQclear(res);
	return DB_OK;
}

enum db_result
db_webhook_signal(struct db *db, const char *event, int32_t primary_key, const char *data_json, int32_t changed_by)
{
	char pkt[DB_INT_TEXT_SIZE], byt[DB_INT_TEXT_SIZE];
	const char *params[4] = { event, db_int_param(primary_key, true, pkt), data_json,
		db_int_param(changed_by, true, byt) };
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_WEBHOOK_SIGNAL, params, &res);

	if (r == DB_OK)
		PQclear(res);
	return r;
}

/* One row of CONTROLS_COLUMNS (db.c). */
static void
db_controls_from_row(const PGresult *res, struct webhook_controls *out)
{
	out->rate_limit = PQgetisnull(res, 0, 0) ? 0 : (int)db_int(res, 0, 0);
	out->max_in_flight = PQgetisnull(res, 0, 1) ? 0 : (int)db_int(res, 0, 1);
	out->ordered = db_bool(res, 0, 2);
	out->probe = db_bool(res, 0, 3);
	out->previous_secret_until = PQgetisnull(res, 0, 4) ? WEBHOOK_TIME_UNSET : db_int(res, 0, 4);
}

/* A single-row statement whose row is a webhook's controls. */
static enum db_result
db_controls_row(struct db *db, enum db_statement stmt, const char *const *params, struct webhook_controls *out)
{
	PGresult *res;
	enum db_result r = db_query_row(db, stmt, params, &res);

	if (r != DB_OK)
		return r;
	db_controls_from_row(res, out);
	PQclear(res);
	return DB_OK;
}

enum db_result
db_webhook_controls_get(struct db *db, const struct db_webhook_scope *scope, int32_t id, struct webhook_controls *out)
{
	char idt[DB_INT_TEXT_SIZE], appt[DB_INT_TEXT_SIZE];
	const char *params[2] = { db_int_param(id, true, idt), db_int_param(scope->application_id,
	    scope->application_id != 0, appt) };

	return db_controls_row(db, DB_STMT_CONTROLS_GET, params, out);
}

enum db_result
db_webhook_controls_set(struct db *db, const struct db_webhook_scope *scope, int32_t id,
    const struct webhook_controls_change *change, struct webhook_controls *out)
{
	char idt[DB_INT_TEXT_SIZE], appt[DB_INT_TEXT_SIZE], ratet[DB_INT_TEXT_SIZE], maxt[DB_INT_TEXT_SIZE];
	const char *params[8] = { db_int_param(id, true, idt),
		db_int_param(scope->application_id, scope->application_id != 0, appt),
		change->has_rate_limit ? "true" : "false",
		db_int_param(change->rate_limit, change->rate_limit != 0, ratet),
		change->has_max_in_flight ? "true" : "false",
		db_int_param(change->max_in_flight, change->max_in_flight != 0, maxt),
		change->has_ordered ? (change->ordered ? "true" : "false") : NULL,
		change->has_probe ? (change->probe ? "true" : "false") : NULL };

	return db_controls_row(db, DB_STMT_CONTROLS_SET, params, out);
}

enum db_result
db_webhook_previous_secret_drop(struct db *db, const struct db_webhook_scope *scope, int32_t id)
{
	char idt[DB_INT_TEXT_SIZE], appt[DB_INT_TEXT_SIZE];
	const char *params[2] = { db_int_param(id, true, idt), db_int_param(scope->application_id,
	    scope->application_id != 0, appt) };
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_PREVIOUS_SECRET_DROP, params, &res);

	if (r == DB_OK)
		PQclear(res);
	return r;
}
