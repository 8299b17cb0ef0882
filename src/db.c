#include "config.h"

#include "db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "log.h"
#include "xalloc.h"

struct db {
	char *conninfo;
	char options[64];
	PGconn *conn;
};

enum db_statement { DB_STMT_ASSOCIATE_LOGIN, DB_STMT_WEBHOOK_DEFAULTS, DB_STMT_COUNT };

static const struct {
	const char *name;
	const char *sql;
	int nparams;
} db_statements[DB_STMT_COUNT] = {
	[DB_STMT_ASSOCIATE_LOGIN] = { "associate_login",
	    "SELECT associate_id, password_hash, deleted FROM associate WHERE lower(name) = lower($1)", 1 },
	[DB_STMT_WEBHOOK_DEFAULTS] = { "webhook_defaults",
	    "SELECT name, array_to_json(events)::text, target_url, secret, state, type, headers::text, "
	    "properties::text FROM webhook_default", 0 },
};

struct db *
db_new(const char *conninfo, long statement_timeout_ms)
{
	struct db *db = xcalloc(1, sizeof *db);

	db->conninfo = xstrdup(conninfo);
	/* A runaway query must come back as an error well before nginx's fastcgi_read_timeout. */
	snprintf(db->options, sizeof db->options, "-c statement_timeout=%ld", statement_timeout_ms);
	return db;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

/* PQerrorMessage ends with a newline and may span lines; the logger flattens control characters. */
static const char *
db_error_text(const PGconn *conn)
{
	const char *msg = conn != NULL ? PQerrorMessage(conn) : "out of memory";

	return *msg != '\0' ? msg : "unknown error";
}

static bool
db_prepare_all(struct db *db)
{
	for (int i = 0; i < DB_STMT_COUNT; i++) {
		PGresult *res = PQprepare(db->conn, db_statements[i].name, db_statements[i].sql,
		    db_statements[i].nparams, NULL);
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

		if (!ok)
			log_error("database: cannot prepare %s: %s", db_statements[i].name, db_error_text(db->conn));
		PQclear(res);
		if (!ok)
			return false;
	}
	return true;
}

bool
db_connect(struct db *db)
{
	/* Keywords before "dbname" are defaults that the operator's connection string may override. */
	const char *const keys[] = { "connect_timeout", "fallback_application_name", "options", "dbname", NULL };
	const char *const values[] = { "5", "webhookd", db->options, db->conninfo, NULL };

	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->conn = PQconnectdbParams(keys, values, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		log_error("database: cannot connect: %s", db_error_text(db->conn));
		return false;
	}
	return db_prepare_all(db);
}

static bool
db_ensure_connected(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return true;
	return db_connect(db);
}

/* Runs a prepared read; a connection lost on the way is re-established and the read retried once. */
static enum db_result
db_query(struct db *db, enum db_statement stmt, const char *const *params, PGresult **out)
{
	*out = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *res;
		const char *sqlstate;

		if (!db_ensure_connected(db))
			return DB_UNAVAILABLE;
		res = PQexecPrepared(db->conn, db_statements[stmt].name, db_statements[stmt].nparams, params,
		    NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			*out = res;
			return DB_OK;
		}
		sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		log_error("database: %s failed (SQLSTATE %s): %s", db_statements[stmt].name,
		    sqlstate != NULL ? sqlstate : "none", db_error_text(db->conn));
		PQclear(res);
		if (PQstatus(db->conn) == CONNECTION_BAD)
			continue;
		/* 57014: statement_timeout or cancel; 57P0x: the server is shutting down. */
		if (sqlstate != NULL && strncmp(sqlstate, "57", 2) == 0)
			return DB_UNAVAILABLE;
		return DB_FAILED;
	}
	return DB_UNAVAILABLE;
}

static char *
db_text_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

enum db_result
db_associate_login(struct db *db, const char *name, struct associate_login *out)
{
	const char *params[1] = { name };
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_ASSOCIATE_LOGIN, params, &res);
	const char *hash;

	memset(out, 0, sizeof *out);
	if (r != DB_OK)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	hash = PQgetvalue(res, 0, 1);
	if (strlen(hash) > DB_PASSWORD_HASH_MAX) {
		log_error("database: associate %s has an over-long password hash", PQgetvalue(res, 0, 0));
		PQclear(res);
		return DB_FAILED;
	}
	out->associate_id = (int32_t)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	strcpy(out->password_hash, hash);
	out->deleted = PQgetvalue(res, 0, 2)[0] == 't';
	PQclear(res);
	return DB_OK;
}

/* Events arrive as a JSON array of strings (array_to_json), which avoids parsing array literals. */
static bool
db_parse_events(const char *json, struct webhook *w)
{
	char err[128];
	yajl_val v = yajl_tree_parse(json, err, sizeof err);
	bool ok = v != NULL && YAJL_IS_ARRAY(v);

	if (ok) {
		w->nevents = v->u.array.len;
		w->events = xcalloc(w->nevents, sizeof *w->events);
		for (size_t i = 0; ok && i < w->nevents; i++) {
			yajl_val e = v->u.array.values[i];

			ok = YAJL_IS_STRING(e);
			w->events[i] = ok ? xstrdup(e->u.string) : NULL;
		}
	}
	yajl_tree_free(v);
	return ok;
}

enum db_result
db_webhook_defaults(struct db *db, struct webhook *out)
{
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_WEBHOOK_DEFAULTS, NULL, &res);

	webhook_init(out);
	if (r != DB_OK)
		return r;
	if (PQntuples(res) != 1) {
		log_error("database: webhook_default must hold exactly one row, it holds %d", PQntuples(res));
		PQclear(res);
		return DB_FAILED;
	}
	out->id = 0;
	out->name = db_text_or_null(res, 0, 0);
	if (!PQgetisnull(res, 0, 1) && !db_parse_events(PQgetvalue(res, 0, 1), out)) {
		log_error("database: webhook_default.events is not an array of strings");
		r = DB_FAILED;
	}
	out->target_url = db_text_or_null(res, 0, 2);
	out->secret = db_text_or_null(res, 0, 3);
	out->state = (enum webhook_state)strtol(PQgetvalue(res, 0, 4), NULL, 10);
	out->type = db_text_or_null(res, 0, 5);
	out->headers_json = db_text_or_null(res, 0, 6);
	out->properties_json = db_text_or_null(res, 0, 7);
	PQclear(res);
	if (r != DB_OK)
		webhook_free(out);
	return r;
}
