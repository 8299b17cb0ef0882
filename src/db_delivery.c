#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_private.h"
#include "pgarray.h"
#include "webhook.h"
#include "xalloc.h"

/* The rows of a claim (the type webhook_delivery_claimed, migrations/0009) as deliveries, into
 * an empty *out and *n (*out stays NULL when there are none). */
static void
db_delivery_rows(const PGresult *res, struct db_delivery **out, int *n)
{
	if (PQntuples(res) > 0)
		*out = xcalloc((size_t)PQntuples(res), sizeof **out);
	for (int i = 0; i < PQntuples(res); i++) {
		struct db_delivery *d = &(*out)[i];
		struct webhook *w = xmalloc(sizeof *w);

		webhook_init(w);
		d->delivery_id = db_int(res, i, 0);
		w->id = (int32_t)db_int(res, i, 1);
		snprintf(d->event_id, sizeof d->event_id, "%.36s", PQgetvalue(res, i, 2));
		d->cycle = (int)db_int(res, i, 3);
		d->attempt = (int)db_int(res, i, 4);
		d->event = db_text_or_null(res, i, 5);
		d->primary_key = (int32_t)db_int(res, i, 6);
		d->data_json = db_text_or_null(res, i, 7);
		d->changed_by = (int32_t)db_int(res, i, 8);
		d->signalled_us = db_int(res, i, 9);
		w->name = db_text_or_null(res, i, 10);
		w->target_url = db_text_or_null(res, i, 11);
		w->secret = db_text_or_null(res, i, 12);
		w->headers_json = db_text_or_null(res, i, 13);
		w->properties_json = db_text_or_null(res, i, 14);
		w->previous_secret = db_text_or_null(res, i, 15);
		d->cap = (int)db_int(res, i, 16);
		d->hook = w;
		(*n)++;
	}
}

/* A statement whose rows are claimed deliveries (the claim, the probe's claim). */
static enum db_result
db_delivery_claimed(struct db *db, enum db_statement stmt, const char *const *params, struct db_delivery **out, int *n)
{
	PGresult *res;
	enum db_result r = db_query(db, stmt, params, &res);

	*out = NULL;
	*n = 0;
	if (r != DB_OK)
		return r;
	db_delivery_rows(res, out, n);
	PQclear(res);
	return DB_OK;
}

enum db_result
db_delivery_claim(struct db *db, int limit, long lease_s, const char *exclude, const char *owner, int per_webhook,
    struct db_delivery **out, int *n)
{
	char limitt[24], leaset[24], pert[24];
	const char *params[5] = { limitt, leaset, exclude, owner, pert };

	snprintf(limitt, sizeof limitt, "%d", limit);
	snprintf(leaset, sizeof leaset, "%ld", lease_s);
	snprintf(pert, sizeof pert, "%d", per_webhook);
	return db_delivery_claimed(db, DB_STMT_DELIVERY_CLAIM, params, out, n);
}

enum db_result
db_signal_fan_out(struct db *db, int limit, int *moved)
{
	char limitt[24];
	const char *params[1] = { limitt };
	PGresult *res;
	enum db_result r;

	snprintf(limitt, sizeof limitt, "%d", limit);
	*moved = 0;
	r = db_query_row(db, DB_STMT_SIGNAL_FAN_OUT, params, &res);
	if (r != DB_OK)
		return r;
	*moved = (int)db_int(res, 0, 0);
	PQclear(res);
	return DB_OK;
}

enum db_result
db_delivery_wait(struct db *db, bool waiting, bool *done)
{
	const char *params[1] = { waiting ? "t" : "f" };
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_DELIVERY_WAIT, params, &res);

	*done = false;
	if (r != DB_OK)
		return r;
	*done = db_bool(res, 0, 0);
	PQclear(res);
	return DB_OK;
}

enum db_result
db_probe_claim(struct db *db, long interval_s, struct db_delivery **out, int *n)
{
	char intervalt[24];
	const char *params[1] = { intervalt };

	snprintf(intervalt, sizeof intervalt, "%ld", interval_s);
	return db_delivery_claimed(db, DB_STMT_PROBE_CLAIM, params, out, n);
}

enum db_result
db_probe_answered(struct db *db, int32_t webhook_id)
{
	char idt[24];
	const char *params[1] = { idt };
	PGresult *res;
	enum db_result r;

	snprintf(idt, sizeof idt, "%d", (int)webhook_id);
	r = db_query_row(db, DB_STMT_PROBE_ANSWERED, params, &res);
	if (r == DB_OK)
		PQclear(res);
	return r;
}

void
db_delivery_clear(struct db_delivery *d)
{
	free(d->event);
	free(d->data_json);
	if (d->hook != NULL) {
		webhook_free(d->hook);
		free(d->hook);
	}
	memset(d, 0, sizeof *d);
}

void
db_delivery_free_all(struct db_delivery *d, int n)
{
	for (int i = 0; d != NULL && i < n; i++)
		db_delivery_clear(&d[i]);
	free(d);
}

/* Every array of the batch, in the order of the statement's parameters after the first two. */
#define DB_BATCH_ARRAYS(b) { &(b)->webhooks, &(b)->deliveries, &(b)->statuses, &(b)->errors, &(b)->latencies, \
	&(b)->responses, &(b)->failed, &(b)->gone, &(b)->actions, &(b)->delays }
#define DB_BATCH_NARRAYS 10

void
db_record_batch_init(struct db_record_batch *b)
{
	struct buf *arrays[DB_BATCH_NARRAYS] = DB_BATCH_ARRAYS(b);

	for (int i = 0; i < DB_BATCH_NARRAYS; i++)
		buf_init(arrays[i]);
	db_record_batch_clear(b);
}

void
db_record_batch_clear(struct db_record_batch *b)
{
	struct buf *arrays[DB_BATCH_NARRAYS] = DB_BATCH_ARRAYS(b);

	for (int i = 0; i < DB_BATCH_NARRAYS; i++)
		pgarray_begin(arrays[i]);
	b->n = 0;
	b->closed = false;
}

void
db_record_batch_free(struct db_record_batch *b)
{
	struct buf *arrays[DB_BATCH_NARRAYS] = DB_BATCH_ARRAYS(b);

	for (int i = 0; i < DB_BATCH_NARRAYS; i++)
		buf_free(arrays[i]);
	b->n = 0;
}

void
db_record_batch_add(struct db_record_batch *b, int32_t webhook_id, int64_t delivery_id,
    const struct db_delivery_outcome *o)
{
	pgarray_int(&b->webhooks, webhook_id);
	pgarray_int(&b->deliveries, delivery_id);
	if (o->status != 0)
		pgarray_int(&b->statuses, o->status);
	else
		pgarray_text(&b->statuses, NULL);
	pgarray_text(&b->errors, o->error);
	pgarray_int(&b->latencies, o->latency_ms);
	pgarray_text(&b->responses, o->response);
	pgarray_bool(&b->failed, o->failed);
	pgarray_bool(&b->gone, o->gone);
	pgarray_int(&b->actions, o->action);
	pgarray_int(&b->delays, o->delay_ms);
	b->n++;
}

bool
db_record_batch_send(struct db *db, struct db_record_batch *b, const char *owner, int max_consecutive)
{
	struct buf *arrays[DB_BATCH_NARRAYS] = DB_BATCH_ARRAYS(b);
	const char *params[2 + DB_BATCH_NARRAYS];
	char maxt[24];

	snprintf(maxt, sizeof maxt, "%d", max_consecutive);
	params[0] = owner;
	params[1] = maxt;
	for (int i = 0; i < DB_BATCH_NARRAYS; i++) {
		if (!b->closed)
			pgarray_end(arrays[i]);
		params[2 + i] = arrays[i]->data;
	}
	b->closed = true;
	return db_send(db, DB_STMT_DELIVERY_RECORD_BATCH, params);
}

bool
db_record_batch_receive(struct db *db, enum db_result *r)
{
	return db_receive(db, r);
}

enum db_result
db_delivery_release(struct db *db, const char *owner, const char *ids)
{
	const char *params[2] = { owner, ids };
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_DELIVERY_RELEASE, params, &res);

	if (r == DB_OK)
		PQclear(res);
	return r;
}

enum db_result
db_delivery_next_due(struct db *db, long long *ms, bool *any)
{
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_DELIVERY_NEXT_DUE, NULL, &res);

	*any = false;
	*ms = 0;
	if (r != DB_OK)
		return r;
	if (!PQgetisnull(res, 0, 0)) {
		*any = true;
		*ms = db_int(res, 0, 0);
	}
	PQclear(res);
	return DB_OK;
}

enum db_result
db_delivery_queue(struct db *db, long long *depth, long long *oldest_ms)
{
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_DELIVERY_QUEUE, NULL, &res);

	*depth = *oldest_ms = 0;
	if (r != DB_OK)
		return r;
	*depth = db_int(res, 0, 0);
	*oldest_ms = db_int(res, 0, 1);
	PQclear(res);
	return DB_OK;
}
