#include "config.h"

#include "db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

struct db {
	char *conninfo;
	char options[64];
	PGconn *conn;
};

enum db_statement {
	DB_STMT_ASSOCIATE_LOGIN,
	DB_STMT_TOKEN_LOGIN,
	DB_STMT_SESSION_LOGIN,
	DB_STMT_APPLICATION_GRANT,
	DB_STMT_REFERENCE_DATA,
	DB_STMT_PING,
	DB_STMT_COUNT
};

static const struct {
	const char *name;
	const char *sql;
	int nparams;
} db_statements[DB_STMT_COUNT] = {
	[DB_STMT_ASSOCIATE_LOGIN] = { "associate_login",
	    "SELECT associate_id, password_hash, deleted FROM associate WHERE lower(name) = lower($1)", 1 },
	/* expires_us is microseconds since the epoch, for the credential cache. */
	[DB_STMT_TOKEN_LOGIN] = { "token_login",
	    "SELECT c.associate_id, a.deleted, c.expires_at <= now(), c.revoked_at IS NOT NULL, '', "
	    "(extract(epoch FROM c.expires_at) * 1000000)::bigint "
	    "FROM credential c JOIN associate a USING (associate_id) "
	    "WHERE c.token_sha256 = decode($2, 'hex') AND c.scheme = $1", 2 },
	[DB_STMT_SESSION_LOGIN] = { "session_login",
	    "SELECT s.associate_id, a.deleted, s.expires_at <= now(), s.revoked_at IS NOT NULL, "
	    "encode(s.xsrf_sha256, 'hex'), (extract(epoch FROM s.expires_at) * 1000000)::bigint "
	    "FROM browser_session s JOIN associate a USING (associate_id) "
	    "WHERE s.session_sha256 = decode($1, 'hex')", 1 },
	[DB_STMT_APPLICATION_GRANT] = { "application_grant",
	    "SELECT webhook_access, revoked_at IS NOT NULL FROM application WHERE token_sha256 = decode($1, 'hex')", 1 },
	/* Everything refdata.c keeps in memory, as one JSON document in one round trip. */
	[DB_STMT_REFERENCE_DATA] = { "reference_data",
	    "SELECT json_build_object("
	    "'defaults', (SELECT coalesce(json_agg(json_build_object('name', name, 'events', events, "
	    "'target_url', target_url, 'secret', secret, 'state', state, 'type', type, 'headers', headers::text, "
	    "'properties', properties::text)), '[]') FROM webhook_default), "
	    "'languages', (SELECT coalesce(json_agg(json_build_object('code', code, 'ml_code', ml_code, "
	    "'is_default', is_default)), '[]') FROM language), "
	    "'resources', (SELECT coalesce(json_agg(json_build_object('name', name, 'language', language, "
	    "'value', value)), '[]') FROM resource), "
	    "'cultures', (SELECT coalesce(json_agg(json_build_object('code', code, 'decimal', decimal_separator, "
	    "'group', group_separator, 'date', date_pattern)), '[]') FROM culture), "
	    "'timezones', (SELECT coalesce(json_agg(json_build_object('code', code, 'id', timezone_id, "
	    "'iana', iana)), '[]') FROM timezone))::text", 0 },
	[DB_STMT_PING] = { "ping", "SELECT 1", 0 },
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
		metrics_count_db_connect_failure();
		return false;
	}
	if (!db_prepare_all(db)) {
		/* A connection without its statements would fail every later query (SQLSTATE 26000):
		 * drop it, so the next call connects and prepares afresh. */
		PQfinish(db->conn);
		db->conn = NULL;
		metrics_count_db_connect_failure();
		return false;
	}
	return true;
}

static bool
db_ensure_connected(struct db *db)
{
	bool lost = db->conn != NULL;

	if (lost && PQstatus(db->conn) == CONNECTION_OK)
		return true;
	if (!db_connect(db))
		return false;
	if (lost) {
		log_info("database: connection re-established");
		metrics_count_db_reconnect();
	}
	return true;
}

/* Runs a prepared read; a connection lost on the way is re-established and the read retried once. */
static enum db_result
db_query(struct db *db, enum db_statement stmt, const char *const *params, PGresult **out)
{
	*out = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *res;
		const char *sqlstate;
		bool transient;

		if (!db_ensure_connected(db))
			return DB_UNAVAILABLE;
		res = PQexecPrepared(db->conn, db_statements[stmt].name, db_statements[stmt].nparams, params,
		    NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			*out = res;
			return DB_OK;
		}
		/* The SQLSTATE lives in res: read it before PQclear. 57014 is statement_timeout or a
		 * cancel, 57P0x the server shutting down: worth a retry by the client, so 503. */
		sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		transient = sqlstate != NULL && strncmp(sqlstate, "57", 2) == 0;
		log_error("database: %s failed (SQLSTATE %s): %s", db_statements[stmt].name,
		    sqlstate != NULL ? sqlstate : "none", db_error_text(db->conn));
		PQclear(res);
		if (PQstatus(db->conn) == CONNECTION_BAD)
			continue;
		return transient ? DB_UNAVAILABLE : DB_FAILED;
	}
	return DB_UNAVAILABLE;
}

/* Runs a statement expected to return at most one row: DB_NOT_FOUND when it returns none. */
static enum db_result
db_query_row(struct db *db, enum db_statement stmt, const char *const *params, PGresult **res)
{
	enum db_result r = db_query(db, stmt, params, res);

	if (r == DB_OK && PQntuples(*res) == 0) {
		PQclear(*res);
		*res = NULL;
		return DB_NOT_FOUND;
	}
	return r;
}

enum db_result
db_associate_login(struct db *db, const char *name, struct associate_login *out)
{
	const char *params[1] = { name };
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_ASSOCIATE_LOGIN, params, &res);
	const char *hash;

	memset(out, 0, sizeof *out);
	if (r != DB_OK)
		return r;
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

/* Copies a text column into a fixed buffer; false when it does not fit. */
static bool
db_copy(const PGresult *res, int row, int col, char *out, size_t cap)
{
	const char *v = PQgetvalue(res, row, col);
	size_t len = strlen(v);

	if (len >= cap)
		return false;
	memcpy(out, v, len + 1);
	return true;
}

static bool
db_bool(const PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col)[0] == 't';
}


static enum db_result
db_token_row(struct db *db, enum db_statement stmt, const char *const *params, struct token_login *out)
{
	PGresult *res;
	enum db_result r = db_query_row(db, stmt, params, &res);

	memset(out, 0, sizeof *out);
	if (r != DB_OK)
		return r;
	out->associate_id = (int32_t)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	out->associate_deleted = db_bool(res, 0, 1);
	out->expired = db_bool(res, 0, 2);
	out->revoked = db_bool(res, 0, 3);
	out->expires_us = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	if (!db_copy(res, 0, 4, out->xsrf_sha256_hex, sizeof out->xsrf_sha256_hex))
		r = DB_FAILED;
	PQclear(res);
	return r;
}

enum db_result
db_token_login(struct db *db, const char *scheme, const char *digest_hex, struct token_login *out)
{
	const char *params[2] = { scheme, digest_hex };

	return db_token_row(db, DB_STMT_TOKEN_LOGIN, params, out);
}

enum db_result
db_session_login(struct db *db, const char *digest_hex, struct token_login *out)
{
	const char *params[1] = { digest_hex };

	return db_token_row(db, DB_STMT_SESSION_LOGIN, params, out);
}

enum db_result
db_application_grant(struct db *db, const char *digest_hex, struct application_grant *out)
{
	const char *params[1] = { digest_hex };
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_APPLICATION_GRANT, params, &res);

	memset(out, 0, sizeof *out);
	if (r != DB_OK)
		return r;
	out->webhook_access = db_bool(res, 0, 0);
	out->revoked = db_bool(res, 0, 1);
	PQclear(res);
	return DB_OK;
}

enum db_result
db_ping(struct db *db)
{
	PGresult *res;
	enum db_result r = db_query(db, DB_STMT_PING, NULL, &res);

	if (r == DB_OK)
		PQclear(res);
	return r;
}

enum db_result
db_reference_data(struct db *db, char **json)
{
	PGresult *res;
	enum db_result r = db_query_row(db, DB_STMT_REFERENCE_DATA, NULL, &res);

	*json = NULL;
	if (r != DB_OK)
		return r;
	*json = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return DB_OK;
}

bool
db_is_primary(const struct db *db)
{
	const char *standby = db->conn != NULL ? PQparameterStatus(db->conn, "in_hot_standby") : NULL;

	/* Reported by PostgreSQL 14 and later; an older or unknown server counts as a standby. */
	return standby != NULL && strcmp(standby, "off") == 0;
}
