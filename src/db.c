#include "config.h"

#include "db.h"
#include "db_private.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

struct db {
	char *conninfo;
	const char *application;  /* static: pg_stat_activity tells the daemons apart by it */
	char options[128];
	bool notify_after_commit;  /* see db_notify_after_commit */
	PGconn *conn;
	char *listen_channel;  /* LISTENed on every connection, reconnects included */
	int sent;              /* the statement db_send sent, whose answer db_receive awaits; -1: none */
	PGresult *answer;      /* its result, once read, until the end of the answer arrives */
};

/*
 * The database as this process sees it, shared by all its connections (webhookd's workers,
 * webhook-deliverd's one). While PostgreSQL is away, requests do not each make an attempt and
 * log it (that was 116,000 lines in 7 s): one caller at a time tries, at intervals that double
 * from DB_RETRY_MIN_MS to DB_RETRY_MAX_MS, and every other one gets DB_UNAVAILABLE (a 503 with
 * Retry-After) at once. What changes is logged, once: gone, with libpq's reason, and back.
 * While it is thought up, a lost session reconnects at once, which is what a restart of
 * PostgreSQL or a terminated backend needs.
 */
#define DB_RETRY_MIN_MS 100
#define DB_RETRY_MAX_MS 1000

static struct {
	pthread_mutex_t lock;
	bool down;             /* the last attempt failed */
	bool probing;          /* a caller is making the attempt of the interval */
	int64_t next_us;       /* CLOCK_MONOTONIC: when the next attempt may start */
	long delay_ms;         /* the interval after the next failed attempt */
	int64_t since_us;      /* when it went away */
	unsigned long failed;  /* attempts that failed since */
} db_health = { .lock = PTHREAD_MUTEX_INITIALIZER, .delay_ms = DB_RETRY_MIN_MS };

/* May this caller try to connect now? *probe: it makes the one attempt of the interval. */
static bool
db_health_may_try(bool *probe)
{
	bool may = true;

	*probe = false;
	pthread_mutex_lock(&db_health.lock);
	if (db_health.down) {
		may = !db_health.probing && clock_monotonic_us() >= db_health.next_us;
		if (may)
			db_health.probing = *probe = true;
	}
	pthread_mutex_unlock(&db_health.lock);
	return may;
}

/* Records an attempt's outcome; logs a change of state, never an attempt as such. */
static void
db_health_record(bool ok, bool probe, const char *reason)
{
	int64_t now = clock_monotonic_us();

	pthread_mutex_lock(&db_health.lock);
	if (probe)
		db_health.probing = false;
	if (ok) {
		if (db_health.down)
			log_info("database: connected again, after %.1f s and %lu failed attempts",
			    (double)(now - db_health.since_us) / 1e6, db_health.failed);
		db_health.down = false;
		db_health.delay_ms = DB_RETRY_MIN_MS;
	} else {
		if (!db_health.down) {
			/* libpq's message ends with a newline the log would show as '?'. */
			int len = (int)strcspn(reason, "\n");

			log_error("database: cannot connect: %.*s; requests get 503 until it can, and a connection "
			    "is tried at most every %d ms, without a line per attempt", len, reason, DB_RETRY_MAX_MS);
			db_health.down = true;
			db_health.since_us = now;
			db_health.failed = 0;
			db_health.delay_ms = DB_RETRY_MIN_MS;
		} else if (probe) {
			db_health.delay_ms *= 2;
			if (db_health.delay_ms > DB_RETRY_MAX_MS)
				db_health.delay_ms = DB_RETRY_MAX_MS;
		}
		db_health.failed++;
		db_health.next_us = now + (int64_t)db_health.delay_ms * 1000;
	}
	pthread_mutex_unlock(&db_health.lock);
}

/* A webhook row with its associates, in the order db_webhook.c reads it. */
#define WEBHOOK_COLUMNS "w.webhook_id, w.name, array_to_string(w.events, ','), w.target_url, w.secret, " \
	"w.state, w.type, w.headers::text, w.properties::text, " \
	"(extract(epoch FROM w.registered) * 1000000)::bigint, ra.associate_id, ra.name, ra.full_name, ra.deleted, " \
	"(extract(epoch FROM w.updated) * 1000000)::bigint, ua.associate_id, ua.name, ua.full_name, ua.deleted, " \
	"coalesce(w.application_id, 0), w.updated_count, webhook_previous_secret(w.previous_secret, w.previous_secret_until) "
#define WEBHOOK_JOINS "LEFT JOIN associate ra ON ra.associate_id = w.registered_associate_id " \
	"LEFT JOIN associate ua ON ua.associate_id = w.updated_associate_id "
/* Who may see a row: an application its own webhooks, a caller without SO-AppToken all of them. */
#define WEBHOOK_VISIBLE(n) "($" #n "::integer IS NULL OR w.application_id = $" #n ") "
/* A webhook's controls (db_controls.c), PreviousSecretUntil in microseconds while the grace lasts. */
#define CONTROLS_COLUMNS "w.rate_limit, w.max_in_flight, w.ordered, w.probe, " \
	"CASE WHEN webhook_previous_secret(w.previous_secret, w.previous_secret_until) IS NOT NULL " \
	"THEN (extract(epoch FROM w.previous_secret_until) * 1000000)::bigint END "
/* If-Unmodified-Since has whole seconds: a row changed within the named second still qualifies. */
#define WEBHOOK_UNMODIFIED(n) "($" #n "::bigint IS NULL OR date_trunc('second', w.updated) <= to_timestamp($" #n ")) "

/* The delivery log (db_log.c): an event of webhook_event_log, whose row e names ("" or "(r.ev).").
 * Date-times are microseconds since the epoch, as everywhere here. */
#define LOG_US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define LOG_EVENT_COLUMNS(e) e "delivery_id, " e "event_id::text, " e "event, " e "primary_key, " \
	LOG_US(e "signalled_at") ", " e "outcome, " e "cycle, " e "attempts, " e "last_status, " e "last_error, " \
	LOG_US(e "last_attempt_at") ", " LOG_US(e "next_attempt_at") " "
#define LOG_ATTEMPT_COLUMNS "attempt_id, delivery_id, event_id::text, event, primary_key, cycle, attempt, " \
	LOG_US("attempted_at") ", status, error, latency_ms, response "
/* Parameter n, microseconds since the epoch, as a timestamptz (exact: no floating point). */
#define LOG_TIME(n) "('epoch'::timestamptz + $" #n "::bigint * interval '1 microsecond')"
/* The optional filters of a page: $2 outcome, $3 since, $4 until on column t, $5 the cursor on id. */
#define LOG_PAGE(t, id) "AND ($3::bigint IS NULL OR " t " >= " LOG_TIME(3) ") " \
	"AND ($4::bigint IS NULL OR " t " < " LOG_TIME(4) ") AND ($5::bigint IS NULL OR " id " < $5) " \
	"ORDER BY " id " DESC LIMIT $6"
/* An attempt that succeeded: a 2xx answer (src/delivery.c). */
#define LOG_SUCCEEDED "coalesce(status BETWEEN 200 AND 299, false)"

/* What a statement does to the database. */
enum db_access {
	DB_READ,
	DB_WRITE,            /* never retried: the first attempt may have committed before the connection broke */
	DB_WRITE_ANNOUNCED,  /* a write whose function announces it itself (migrations/0012): nothing pipelined after */
};

static const struct {
	const char *name;
	const char *sql;
	int nparams;
	enum db_access access;
} db_statements[DB_STMT_COUNT] = {
	[DB_STMT_ASSOCIATE_LOGIN] = { "associate_login",
	    "SELECT associate_id, password_hash, deleted FROM associate WHERE lower(name) = lower($1)", 1, DB_READ },
	/* A stored hash of an older scheme, replaced after a good login, only if nobody changed it meanwhile. */
	[DB_STMT_ASSOCIATE_REHASH] = { "associate_rehash",
	    "UPDATE associate SET password_hash = $3 WHERE associate_id = $1 AND password_hash = $2 "
	    "RETURNING associate_id", 3, DB_WRITE },
	/* expires_us is microseconds since the epoch, for the credential cache. */
	[DB_STMT_TOKEN_LOGIN] = { "token_login",
	    "SELECT c.associate_id, a.deleted, c.expires_at <= now(), c.revoked_at IS NOT NULL, '', "
	    "(extract(epoch FROM c.expires_at) * 1000000)::bigint "
	    "FROM credential c JOIN associate a USING (associate_id) "
	    "WHERE c.token_sha256 = decode($2, 'hex') AND c.scheme = $1", 2, DB_READ },
	[DB_STMT_SESSION_LOGIN] = { "session_login",
	    "SELECT s.associate_id, a.deleted, s.expires_at <= now(), s.revoked_at IS NOT NULL, "
	    "encode(s.xsrf_sha256, 'hex'), (extract(epoch FROM s.expires_at) * 1000000)::bigint "
	    "FROM browser_session s JOIN associate a USING (associate_id) "
	    "WHERE s.session_sha256 = decode($1, 'hex')", 1, DB_READ },
	[DB_STMT_APPLICATION_GRANT] = { "application_grant",
	    "SELECT webhook_access, revoked_at IS NOT NULL, application_id FROM application "
	    "WHERE token_sha256 = decode($1, 'hex')", 1, DB_READ },
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
	    "'iana', iana)), '[]') FROM timezone))::text", 0, DB_READ },
	[DB_STMT_PING] = { "ping", "SELECT 1", 0, DB_READ },
	/* What the last write left to announce (migrations/0010): pipelined behind every write of a
	 * connection that announces after commit. Not marked a write: it must not recurse. */
	[DB_STMT_NOTIFY_PENDING] = { "notify_pending", "SELECT webhookd_notify_pending()", 0, DB_READ },
	[DB_STMT_WEBHOOK_GET] = { "webhook_get",
	    "SELECT " WEBHOOK_COLUMNS "FROM webhook w " WEBHOOK_JOINS
	    "WHERE w.webhook_id = $1 AND " WEBHOOK_VISIBLE(2), 2, DB_READ },
	/* The name matches case-insensitively, as on SQL Server's default collation; event names
	 * are identifiers and match exactly, through the GIN index. */
	[DB_STMT_WEBHOOK_LIST] = { "webhook_list",
	    "SELECT " WEBHOOK_COLUMNS "FROM webhook w " WEBHOOK_JOINS
	    "WHERE " WEBHOOK_VISIBLE(1) "AND ($2::text IS NULL OR lower(w.name) = lower($2)) "
	    "AND ($3::text IS NULL OR w.events @> ARRAY[$3::text]) AND ($4::smallint IS NULL OR w.state = $4) "
	    "ORDER BY w.webhook_id", 4, DB_READ },
	/* Every webhook, for the snapshot (hookcache.h): with lower(name) as webhook_list folds it,
	 * and whether lower() folds ASCII as C does (an InitPlan, computed once). */
	[DB_STMT_WEBHOOK_ALL] = { "webhook_all",
	    "SELECT " WEBHOOK_COLUMNS ", lower(w.name), (SELECT lower(a) = translate(a, "
	    "'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM (SELECT string_agg(chr(c), '' "
	    "ORDER BY c) AS a FROM generate_series(1, 127) AS c) AS ascii) FROM webhook w " WEBHOOK_JOINS
	    "ORDER BY w.webhook_id", 0, DB_READ },
	[DB_STMT_WEBHOOK_INSERT] = { "webhook_insert",
	    "WITH w AS (INSERT INTO webhook (name, events, target_url, secret, state, type, headers, properties, "
	    "registered_associate_id, updated_associate_id, application_id) "
	    "VALUES ($1, string_to_array($2, ','), $3, $4, $5, $6, $7::json, $8::json, $9, $9, $10) RETURNING *) "
	    "SELECT " WEBHOOK_COLUMNS "FROM w " WEBHOOK_JOINS, 10, DB_WRITE },
	/* Replaces a visible row, only over the version the caller read ($12) and only when it is
	 * unmodified since a time ($13), when those are given. A Secret changed from one value to
	 * another keeps the old one as the previous secret for $14 seconds (0: not at all); an
	 * unchanged Secret keeps the previous one as it is. */
	[DB_STMT_WEBHOOK_UPDATE] = { "webhook_update",
	    "WITH w AS (UPDATE webhook w SET name = $2, events = string_to_array($3, ','), target_url = $4, "
	    "secret = $5, state = $6, type = $7, headers = $8::json, properties = $9::json, updated = now(), "
	    "updated_associate_id = $10, updated_count = w.updated_count + 1, "
	    "previous_secret = CASE WHEN $5 IS NOT DISTINCT FROM w.secret THEN w.previous_secret "
	    "WHEN $14::integer > 0 AND w.secret <> '' AND $5 <> '' THEN w.secret END, "
	    "previous_secret_until = CASE WHEN $5 IS NOT DISTINCT FROM w.secret THEN w.previous_secret_until "
	    "WHEN $14::integer > 0 AND w.secret <> '' AND $5 <> '' THEN now() + make_interval(secs => $14) END "
	    "WHERE w.webhook_id = $1 AND " WEBHOOK_VISIBLE(11) "AND ($12::bigint IS NULL OR w.updated_count = $12) "
	    "AND " WEBHOOK_UNMODIFIED(13) "RETURNING w.*) "
	    "SELECT " WEBHOOK_COLUMNS "FROM w " WEBHOOK_JOINS, 14, DB_WRITE },
	[DB_STMT_WEBHOOK_DELETE] = { "webhook_delete",
	    "DELETE FROM webhook w WHERE w.webhook_id = $1 AND " WEBHOOK_VISIBLE(2) "AND " WEBHOOK_UNMODIFIED(3)
	    "RETURNING w.webhook_id", 3, DB_WRITE },
	[DB_STMT_WEBHOOK_LAST_ERROR] = { "webhook_last_error",
	    "SELECT coalesce(u.last_error, '') FROM webhook w LEFT JOIN webhook_usage u USING (webhook_id) "
	    "WHERE w.webhook_id = $1 AND " WEBHOOK_VISIBLE(2), 2, DB_READ },
	/* One webhook's counters ($1), or every visible webhook's (NULL), zero before its first delivery. */
	[DB_STMT_WEBHOOK_USAGE] = { "webhook_usage",
	    "SELECT w.webhook_id, coalesce(u.total_calls, 0), coalesce(u.total_errors, 0), "
	    "coalesce(u.consecutive_errors, 0), (extract(epoch FROM u.last_error_at) * 1000000)::bigint, "
	    "coalesce(u.last_error, '') FROM webhook w LEFT JOIN webhook_usage u USING (webhook_id) "
	    "WHERE ($1::integer IS NULL OR w.webhook_id = $1) AND " WEBHOOK_VISIBLE(2) "ORDER BY w.webhook_id", 2, DB_READ },
	/* Into the inbox the delivery daemons fan out, waking one that waits (migrations/0012). json,
	 * not jsonb: FieldValues go out as the client sent them, members in order and numbers as
	 * written (jsonb would sort, fold and expand them). */
	[DB_STMT_WEBHOOK_SIGNAL] = { "webhook_signal",
	    "SELECT webhook_signal_event($1, $2, $3::json, $4)", 4, DB_WRITE_ANNOUNCED },
	/* webhook_signal_fan_out (migrations/0012): the oldest signals into the queue. */
	[DB_STMT_SIGNAL_FAN_OUT] = { "signal_fan_out", "SELECT webhook_signal_fan_out($1)", 1, DB_WRITE },
	/* webhook_delivery_wait (migrations/0012): this daemon waits for a NOTIFY, or is busy. */
	[DB_STMT_DELIVERY_WAIT] = { "delivery_wait", "SELECT webhook_delivery_wait($1::boolean)", 1, DB_WRITE },
	/* webhook_delivery_claim (migrations/0009): due deliveries, paced per webhook's controls. */
	[DB_STMT_DELIVERY_CLAIM] = { "delivery_claim",
	    "SELECT * FROM webhook_delivery_claim($1, $2, $3, $4, $5)", 5, DB_WRITE },
	/* webhook_delivery_record_batch (migrations/0011): the attempts one loop turn finished. */
	[DB_STMT_DELIVERY_RECORD_BATCH] = { "delivery_record_batch",
	    "SELECT webhook_delivery_record_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", 12, DB_WRITE },
	/* RETURNING: db_query takes rows, and a bare UPDATE's answer would read as a failure. */
	[DB_STMT_DELIVERY_RELEASE] = { "delivery_release",
	    "UPDATE webhook_delivery SET leased_until = NULL, leased_by = NULL "
	    "WHERE leased_by = $1 AND delivery_id = ANY ($2::bigint[]) RETURNING delivery_id", 2, DB_WRITE },
	/* Milliseconds until a daemon has something to claim; NULL when nothing waits. */
	[DB_STMT_DELIVERY_NEXT_DUE] = { "delivery_next_due", "SELECT webhook_delivery_next_due()", 0, DB_READ },
	/* Due deliveries and signals not fanned out yet; how long the oldest of them has waited. */
	[DB_STMT_DELIVERY_QUEUE] = { "delivery_queue",
	    "SELECT q.n + s.n, greatest(q.oldest, s.oldest) FROM "
	    "(SELECT count(*) AS n, coalesce((extract(epoch FROM clock_timestamp() - min(due_at)) * 1000)::bigint, 0) "
	    "AS oldest FROM webhook_delivery WHERE due_at <= clock_timestamp()) q, "
	    "(SELECT count(*) AS n, coalesce((extract(epoch FROM clock_timestamp() - min(signalled_at)) * 1000)::bigint, "
	    "0) AS oldest FROM webhook_signal) s", 0, DB_READ },
	[DB_STMT_LOG_WEBHOOK_STATE] = { "log_webhook_state",
	    "SELECT w.state FROM webhook w WHERE w.webhook_id = $1 AND " WEBHOOK_VISIBLE(2), 2, DB_READ },
	/* Pending and finished events in one listing (migrations/0008): one snapshot sees an event
	 * in exactly one of the two tables. Keyset on delivery_id: new events never shift a page. */
	[DB_STMT_LOG_EVENTS] = { "log_events",
	    "SELECT " LOG_EVENT_COLUMNS("") "FROM webhook_event_log WHERE webhook_id = $1 "
	    "AND ($2::text IS NULL OR outcome = $2) " LOG_PAGE("signalled_at", "delivery_id"), 6, DB_READ },
	[DB_STMT_LOG_EVENT] = { "log_event",
	    "SELECT " LOG_EVENT_COLUMNS("") ", data::text FROM webhook_event_log WHERE webhook_id = $1 AND delivery_id = $2",
	    2, DB_READ },
	[DB_STMT_LOG_ATTEMPTS] = { "log_attempts",
	    "SELECT " LOG_ATTEMPT_COLUMNS "FROM webhook_attempt WHERE webhook_id = $1 "
	    "AND ($2::boolean IS NULL OR " LOG_SUCCEEDED " = $2) " LOG_PAGE("attempted_at", "attempt_id"), 6, DB_READ },
	[DB_STMT_LOG_EVENT_ATTEMPTS] = { "log_event_attempts",
	    "SELECT " LOG_ATTEMPT_COLUMNS "FROM webhook_attempt WHERE webhook_id = $1 AND delivery_id = $2 "
	    "ORDER BY attempt_id", 2, DB_READ },
	/* Hours by the epoch, not date_trunc, which would follow the session's time zone. */
	[DB_STMT_LOG_ACTIVITY] = { "log_activity",
	    "SELECT floor(extract(epoch FROM a.attempted_at) / 3600)::bigint * 3600, "
	    "count(*) FILTER (WHERE " LOG_SUCCEEDED "), count(*) FILTER (WHERE NOT " LOG_SUCCEEDED ") "
	    "FROM webhook_attempt a JOIN webhook w ON w.webhook_id = a.webhook_id "
	    "WHERE a.attempted_at >= to_timestamp($3) AND ($1::integer IS NULL OR a.webhook_id = $1) "
	    "AND " WEBHOOK_VISIBLE(2) "GROUP BY 1", 3, DB_READ },
	[DB_STMT_LOG_RESEND] = { "log_resend",
	    "SELECT r.result, " LOG_EVENT_COLUMNS("(r.ev).") "FROM webhook w "
	    "CROSS JOIN LATERAL webhook_delivery_resend(w.webhook_id, $2) r "
	    "WHERE w.webhook_id = $1 AND " WEBHOOK_VISIBLE(3), 3, DB_WRITE },
	[DB_STMT_LOG_RECOVER] = { "log_recover",
	    "SELECT r.result, r.recovered, r.remaining FROM webhook w "
	    "CROSS JOIN LATERAL webhook_delivery_recover(w.webhook_id, " LOG_TIME(2) ", $3) r "
	    "WHERE w.webhook_id = $1 AND " WEBHOOK_VISIBLE(4), 4, DB_WRITE },
	[DB_STMT_LOG_PRUNE_AGE] = { "log_prune_age", "SELECT webhook_log_prune_age($1, $2)", 2, DB_WRITE },
	[DB_STMT_LOG_PRUNE_ROWS] = { "log_prune_rows",
	    "SELECT coalesce(o_webhook, 0), o_deleted FROM webhook_log_prune_rows($1, $2, $3)", 3, DB_WRITE },
	/* Probe (migrations/0009): the TooManyErrors webhooks to probe now, each to one daemon. */
	[DB_STMT_PROBE_CLAIM] = { "probe_claim", "SELECT * FROM webhook_probe_claim($1)", 1, DB_WRITE },
	/* A probe answered 2xx: Active again (the state trigger raises webhook.started). */
	[DB_STMT_PROBE_ANSWERED] = { "probe_answered",
	    "UPDATE webhook SET state = 1 WHERE webhook_id = $1 AND state = 3 AND probe RETURNING webhook_id", 1, DB_WRITE },
	[DB_STMT_CONTROLS_GET] = { "controls_get",
	    "SELECT " CONTROLS_COLUMNS "FROM webhook w WHERE w.webhook_id = $1 AND " WEBHOOK_VISIBLE(2), 2, DB_READ },
	/* Sets what is given: $3/$5 say whether RateLimit/MaxInFlight are given ($4/$6 NULL clears
	 * them), a NULL $7/$8 keeps Ordered/Probe. Either limit given starts the pace afresh. */
	[DB_STMT_CONTROLS_SET] = { "controls_set",
	    "WITH w AS (UPDATE webhook w SET rate_limit = CASE WHEN $3::boolean THEN $4::integer ELSE w.rate_limit END, "
	    "max_in_flight = CASE WHEN $5::boolean THEN $6::integer ELSE w.max_in_flight END, "
	    "ordered = coalesce($7::boolean, w.ordered), probe = coalesce($8::boolean, w.probe) "
	    "WHERE w.webhook_id = $1 AND " WEBHOOK_VISIBLE(2) "RETURNING w.*), "
	    "repaced AS (SELECT webhook_delivery_repace(w.webhook_id) FROM w WHERE $3 OR $5) "
	    "SELECT " CONTROLS_COLUMNS "FROM w LEFT JOIN repaced ON true", 8, DB_WRITE },
	[DB_STMT_PREVIOUS_SECRET_DROP] = { "previous_secret_drop",
	    "UPDATE webhook w SET previous_secret = NULL, previous_secret_until = NULL "
	    "WHERE w.webhook_id = $1 AND " WEBHOOK_VISIBLE(2) "RETURNING w.webhook_id", 2, DB_WRITE },
};

struct db *
db_new(const char *conninfo, long statement_timeout_ms, const char *application)
{
	struct db *db = xcalloc(1, sizeof *db);

	db->application = application;
	db->conninfo = xstrdup(conninfo);
	db->sent = -1;
	/* A runaway query must come back as an error well before nginx's fastcgi_read_timeout. */
	snprintf(db->options, sizeof db->options, "-c statement_timeout=%ld", statement_timeout_ms);
	return db;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	PQclear(db->answer);
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db->listen_channel);
	free(db);
}

void
db_notify_after_commit(struct db *db)
{
	size_t len = strlen(db->options);

	db->notify_after_commit = true;
	snprintf(db->options + len, sizeof db->options - len, " -c webhookd.notify_after_commit=on");
}

/* PQerrorMessage ends with a newline and may span lines; the logger flattens control characters. */
static const char *
db_error_text(const PGconn *conn)
{
	const char *msg = conn != NULL ? PQerrorMessage(conn) : "out of memory";

	return *msg != '\0' ? msg : "unknown error";
}

static const char *
db_result_error_text(const struct db *db, const PGresult *res)
{
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	return primary != NULL ? primary : db_error_text(db->conn);
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

/* LISTEN on this connection, when a channel is set. */
static bool
db_listen_now(struct db *db)
{
	char sql[128];
	PGresult *res;
	bool ok;

	if (db->listen_channel == NULL)
		return true;
	snprintf(sql, sizeof sql, "LISTEN %s", db->listen_channel);
	res = PQexec(db->conn, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		log_error("database: cannot LISTEN %s: %s", db->listen_channel, db_error_text(db->conn));
	PQclear(res);
	return ok;
}

bool
db_listen(struct db *db, const char *channel)
{
	free(db->listen_channel);
	db->listen_channel = xstrdup(channel);
	return db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK || db_listen_now(db);
}

int
db_socket(const struct db *db)
{
	return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK ? PQsocket(db->conn) : -1;
}

int
db_session(const struct db *db)
{
	return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK ? PQbackendPID(db->conn) : 0;
}

int
db_notifications(struct db *db)
{
	PGnotify *n;
	int count = 0;

	if (db->conn == NULL || PQconsumeInput(db->conn) == 0)
		return -1;
	while ((n = PQnotifies(db->conn)) != NULL) {
		count++;
		PQfreemem(n);
	}
	return count;
}

/* One attempt; probe: the attempt of the interval while the database is away (db_health). */
static bool
db_connect_now(struct db *db, bool probe)
{
	/* Keywords before "dbname" are defaults that the operator's connection string may override. */
	const char *const keys[] = { "connect_timeout", "fallback_application_name", "options", "dbname", NULL };
	const char *const values[] = { "5", db->application, db->options, db->conninfo, NULL };

	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->conn = PQconnectdbParams(keys, values, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		db_health_record(false, probe, db_error_text(db->conn));
		metrics_count_db_connect_failure();
		return false;
	}
	db_health_record(true, probe, NULL);
	/* A server's NOTICE or WARNING (a trigger's RAISE, say) becomes a log line with its priority,
	 * not a bare line on stderr. */
	PQsetNoticeProcessor(db->conn, log_pq_notice, NULL);
	if (!db_prepare_all(db) || !db_listen_now(db)) {
		/* A connection without its statements would fail every later query (SQLSTATE 26000):
		 * drop it, so the next call connects and prepares afresh. */
		PQfinish(db->conn);
		db->conn = NULL;
		metrics_count_db_connect_failure();
		return false;
	}
	return true;
}

/* Explicit: at start and after a reload, where new settings deserve an attempt of their own. */
bool
db_connect(struct db *db)
{
	return db_connect_now(db, false);
}

/* Reconnects a lost session, unless the database is away and this is not the caller's turn to
 * try (db_health): then it fails at once, and the request gets its 503 without waiting. */
static bool
db_ensure_connected(struct db *db)
{
	bool lost = db->conn != NULL, probe;

	if (lost && PQstatus(db->conn) == CONNECTION_OK)
		return true;
	if (!db_health_may_try(&probe) || !db_connect_now(db, probe))
		return false;
	if (lost) {
		/* Quiet: db_health logs the database's state, and a restart of PostgreSQL would give
		 * one line per worker here. The metric counts them. */
		log_debug("database: a lost session was re-established");
		metrics_count_db_reconnect();
	}
	return true;
}

/*
 * A write and, in the same round trip, webhookd_notify_pending() in a transaction of its own
 * (libpq's pipeline mode, a Sync after each): the write commits first, durably, then what it
 * announced is sent. Returns the write's result (NULL when there is none, as for a broken
 * connection); a failed announcement is logged, and the next write sends it.
 */
static PGresult *
db_exec_then_announce(struct db *db, enum db_statement stmt, const char *const *params)
{
	PGconn *conn = db->conn;
	PGresult *res = NULL, *r;
	int syncs = 0, idle = 0;

	if (PQenterPipelineMode(conn) != 1)
		return PQexecPrepared(conn, db_statements[stmt].name, db_statements[stmt].nparams, params, NULL, NULL, 0);
	if (PQsendQueryPrepared(conn, db_statements[stmt].name, db_statements[stmt].nparams, params, NULL, NULL, 0) != 1 ||
	    PQpipelineSync(conn) != 1 ||
	    PQsendQueryPrepared(conn, db_statements[DB_STMT_NOTIFY_PENDING].name, 0, NULL, NULL, NULL, 0) != 1 ||
	    PQpipelineSync(conn) != 1)
		syncs = 2;  /* nothing more will come: the connection is gone (PQstatus tells below) */
	/* The write's result, a NULL, a Sync; the announcement's result, a NULL, a Sync. */
	while (syncs < 2 && idle < 2) {
		r = PQgetResult(conn);
		if (r == NULL) {
			idle = PQstatus(conn) == CONNECTION_BAD ? 2 : idle + 1;
			continue;
		}
		idle = 0;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			syncs++;
			PQclear(r);
		} else if (syncs == 0 && res == NULL) {
			res = r;
		} else {
			if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_PIPELINE_ABORTED)
				log_error("database: announcing a change after its commit failed: %s", db_result_error_text(db, r));
			PQclear(r);
		}
	}
	if (PQexitPipelineMode(conn) != 1) {
		/* Results left unread: the session is in no state to run the next statement. */
		PQfinish(db->conn);
		db->conn = NULL;
	}
	return res;
}

/*
 * What a statement's result means; logs a failure. *retry: the session broke, so a read may be
 * tried again on a new one. The result is the caller's to clear.
 */
static enum db_result
db_judge(struct db *db, enum db_statement stmt, const PGresult *res, bool *retry)
{
	const char *sqlstate;
	bool transient;

	*retry = false;
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return DB_OK;
	/* 57014 is statement_timeout or a cancel, 57P0x the server shutting down, class 40 a
	 * deadlock or serialization failure: worth a retry by the client, so 503. */
	sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	transient = sqlstate != NULL && (strncmp(sqlstate, "57", 2) == 0 || strncmp(sqlstate, "40", 2) == 0);
	/* The primary message only: a DETAIL may quote the failing row, secrets and all. A session
	 * that broke (the server stopped, a backend was terminated) is no query error: the reconnect
	 * reports the database's state, once, not one line per request. */
	log_msg(PQstatus(db->conn) == CONNECTION_BAD ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR,
	    "database: %s failed (SQLSTATE %s): %s", db_statements[stmt].name,
	    sqlstate != NULL ? sqlstate : "none", db_result_error_text(db, res));
	/* Class 23 is an integrity constraint: the row breaks a rule the input checks missed. */
	if (sqlstate != NULL && strncmp(sqlstate, "23", 2) == 0)
		return DB_CONSTRAINT;
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		*retry = true;
		return DB_UNAVAILABLE;
	}
	return transient ? DB_UNAVAILABLE : DB_FAILED;
}

/* Runs a prepared statement; a connection lost on the way is re-established and a read retried once. */
enum db_result
db_query(struct db *db, enum db_statement stmt, const char *const *params, PGresult **out)
{
	*out = NULL;
	for (int attempt = 0; attempt < (db_statements[stmt].access == DB_READ ? 2 : 1); attempt++) {
		PGresult *res;
		enum db_result r;
		bool retry;

		if (!db_ensure_connected(db))
			return DB_UNAVAILABLE;
		res = db->notify_after_commit && db_statements[stmt].access == DB_WRITE ?
		    db_exec_then_announce(db, stmt, params) :
		    PQexecPrepared(db->conn, db_statements[stmt].name, db_statements[stmt].nparams, params, NULL, NULL, 0);
		r = db_judge(db, stmt, res, &retry);
		if (r == DB_OK) {
			*out = res;
			return DB_OK;
		}
		PQclear(res);
		if (!retry)
			return r;
	}
	return DB_UNAVAILABLE;
}

bool
db_send(struct db *db, enum db_statement stmt, const char *const *params)
{
	if (db->sent >= 0 || !db_ensure_connected(db))
		return false;
	/* A blocking connection: the whole statement (a batch may be a few hundred KiB) is written
	 * before this returns; only the answer is awaited elsewhere. */
	if (PQsendQueryPrepared(db->conn, db_statements[stmt].name, db_statements[stmt].nparams, params, NULL, NULL,
	    0) == 0) {
		log_msg(PQstatus(db->conn) == CONNECTION_BAD ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR,
		    "database: %s could not be sent: %s", db_statements[stmt].name, db_error_text(db->conn));
		return false;
	}
	db->sent = (int)stmt;
	return true;
}

bool
db_receive(struct db *db, enum db_result *r)
{
	bool retry;

	if (db->sent < 0)
		return false;
	if (PQconsumeInput(db->conn) == 0) {
		/* The session broke; the next statement reconnects. */
		log_debug("database: %s: the session broke before its answer", db_statements[db->sent].name);
		*r = DB_UNAVAILABLE;
	} else {
		for (;;) {
			PGresult *res;

			if (PQisBusy(db->conn))
				return false;  /* more of the answer is on its way */
			res = PQgetResult(db->conn);
			if (res == NULL)
				break;
			PQclear(db->answer);
			db->answer = res;
		}
		*r = db->answer != NULL ? db_judge(db, (enum db_statement)db->sent, db->answer, &retry) : DB_FAILED;
	}
	PQclear(db->answer);
	db->answer = NULL;
	db->sent = -1;
	return true;
}

/* Runs a statement expected to return at most one row: DB_NOT_FOUND when it returns none. */
enum db_result
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

enum db_result
db_associate_rehash(struct db *db, int32_t associate_id, const char *old_hash, const char *new_hash)
{
	char id[16];
	const char *params[3] = { id, old_hash, new_hash };
	PGresult *res;
	enum db_result r;

	snprintf(id, sizeof id, "%d", (int)associate_id);
	r = db_query_row(db, DB_STMT_ASSOCIATE_REHASH, params, &res);
	if (r == DB_OK)
		PQclear(res);
	return r;
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

long long
db_int(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

char *
db_text_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

bool
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
	out->application_id = (int32_t)strtol(PQgetvalue(res, 0, 2), NULL, 10);
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
