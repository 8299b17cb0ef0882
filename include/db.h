/*
 * One PostgreSQL connection with its prepared statements, owned by one worker thread.
 * A broken connection is re-established (and the statements re-prepared) on the next call;
 * reads are retried once after a reconnect. While the database is away, the process's
 * connections try again together at growing intervals (at most a second), one attempt at a
 * time, and a call that meets no attempt due fails at once with DB_UNAVAILABLE; the loss and
 * the return are logged once each.
 */
#ifndef WEBHOOKD_DB_H
#define WEBHOOKD_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"


enum db_result {
	DB_OK,
	DB_NOT_FOUND,
	DB_UNAVAILABLE,  /* no connection, or the statement timed out: worth a retry (503) */
	DB_FAILED,       /* the query or the stored data is wrong: an operator must look (500) */
	DB_CONSTRAINT,   /* a write broke a constraint of the schema */
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
	int64_t expires_us;        /* microseconds since the epoch */
	char xsrf_sha256_hex[65];  /* browser sessions only */
};

struct application_grant {
	int32_t application_id;
	bool webhook_access;
	bool revoked;
};

struct db;

/* conninfo is a libpq connection string; it may hold a password and is never logged.
 * application (a static string) is the fallback application_name: "webhookd" for the FastCGI
 * workers, "webhook-deliverd" for the delivery daemon. */
struct db *db_new(const char *conninfo, long statement_timeout_ms, const char *application);
void db_free(struct db *db);
/* Before db_connect: this connection's writes announce their changes (NOTIFY) right after their
 * commit, in a transaction of their own pipelined behind each write, instead of inside it, where
 * a NOTIFY makes commits wait for each other's flush (migrations/0010). For webhookd's workers. */
void db_notify_after_commit(struct db *db);
/* Connects and prepares the statements; logs the reason on failure. */
bool db_connect(struct db *db) __attribute__((warn_unused_result));

/* A cheap round trip: is the database there? */
enum db_result db_ping(struct db *db);
enum db_result db_associate_login(struct db *db, const char *name, struct associate_login *out);
/* Replaces old_hash with new_hash (a good login's upgrade); DB_NOT_FOUND when it changed meanwhile.
 * Needs UPDATE (password_hash) ON associate. */
enum db_result db_associate_rehash(struct db *db, int32_t associate_id, const char *old_hash, const char *new_hash);
/* scheme is "soticket" or "bearer"; digest_hex the token's SHA-256. */
enum db_result db_token_login(struct db *db, const char *scheme, const char *digest_hex, struct token_login *out);
enum db_result db_session_login(struct db *db, const char *digest_hex, struct token_login *out);
enum db_result db_application_grant(struct db *db, const char *digest_hex, struct application_grant *out);
/* The reference data as one JSON document (see refdata.c), for the caller to free. */
enum db_result db_reference_data(struct db *db, char **json);
struct webhook;
struct webhook_list;
struct webhook_usage_list;

/* Which webhooks a caller sees: all of them without an application, else the application's own. */
struct db_webhook_scope {
	int32_t application_id;  /* 0: no SO-AppToken */
};

struct db_webhook_filter {
	const char *name;        /* NULL: any */
	const char *event;       /* NULL: any */
	int state;               /* -1: any */
};

/* Preconditions of a write; a NULL-like value (-1, INT64_MIN) is none. */
struct db_webhook_guard {
	int64_t version;              /* the updated_count the caller read; -1: any */
	int64_t unmodified_since_s;   /* If-Unmodified-Since, seconds since the epoch; INT64_MIN: none */
};

enum db_result db_webhook_get(struct db *db, const struct db_webhook_scope *scope, int32_t id, struct webhook *out);
enum db_result db_webhook_list(struct db *db, const struct db_webhook_scope *scope, const struct db_webhook_filter *f,
    struct webhook_list *out);
/* Every webhook by id, with lower(name) of each as the database folds it (NULL for a null name)
 * and whether its lower() folds ASCII as C does: what a snapshot (hookcache.h) is made of. */
enum db_result db_webhook_all(struct db *db, struct webhook_list *out, char ***lowered_names, bool *folds_ascii);
/* Stores a new webhook (registered and updated by associate_id) and reads it back into *out. */
enum db_result db_webhook_insert(struct db *db, const struct db_webhook_scope *scope, const struct webhook *in,
    int32_t associate_id, struct webhook *out);
/* Replaces webhook in->id; DB_NOT_FOUND when no visible row satisfies the guard. A changed Secret
 * keeps the one it replaces as the previous secret for rotation_grace_s seconds (0: not kept). */
enum db_result db_webhook_update(struct db *db, const struct db_webhook_scope *scope, const struct webhook *in,
    int32_t associate_id, const struct db_webhook_guard *guard, long rotation_grace_s, struct webhook *out);
/* DB_NOT_FOUND when no visible row satisfies the guard. */
enum db_result db_webhook_delete(struct db *db, const struct db_webhook_scope *scope, int32_t id,
    const struct db_webhook_guard *guard);
/* The last error delivery recorded ("" when none), for the caller to free. */
enum db_result db_webhook_last_error(struct db *db, const struct db_webhook_scope *scope, int32_t id, char **out);
/* Counters of webhook id, or of every visible webhook when id is 0 (by id); DB_NOT_FOUND when
 * id is not a visible webhook. */
enum db_result db_webhook_usage(struct db *db, const struct db_webhook_scope *scope, int32_t id,
    struct webhook_usage_list *out);

/* SignalEvent: the event into the inbox the delivery daemons fan out (migrations/0012). */
enum db_result db_webhook_signal(struct db *db, const char *event, int32_t primary_key, const char *data_json,
    int32_t changed_by);

/* LISTEN on channel (an identifier, not client input), now and after every reconnect. */
bool db_listen(struct db *db, const char *channel) __attribute__((warn_unused_result));
/* The connection's socket, to wait on; -1 when not connected. */
int db_socket(const struct db *db);
/* The server process of the current session, which a reconnect changes; 0 when not connected. */
int db_session(const struct db *db);
/* Reads what the server sent and drops the notifications; how many there were, -1 when the
 * connection is broken (the next statement reconnects). */
int db_notifications(struct db *db);

/* The delivery queue (deliver/). A claimed delivery: the event, and the webhook it goes to. */
struct db_delivery {
	int64_t delivery_id;
	char event_id[37];        /* the cycle's GUID */
	int cycle;
	int attempt;              /* the attempt about to be made, 1-based */
	char *event;
	int32_t primary_key;
	char *data_json;          /* an object, or NULL */
	int32_t changed_by;
	int64_t signalled_us;
	struct webhook *hook;     /* id, name, target_url, secret, previous_secret, headers_json, properties_json */
	int cap;                  /* deliveries in flight this daemon allows the webhook (MaxInFlight or its default) */
};

/* Leases up to limit due deliveries, at most per_webhook of one webhook's (or its MaxInFlight over
 * all daemons), paced by each webhook's RateLimit and Ordered, for lease_s seconds to owner,
 * skipping the webhooks in exclude (a PostgreSQL array literal such as "{1,2}"); *out is an array
 * the caller frees with db_delivery_free_all. */
enum db_result db_delivery_claim(struct db *db, int limit, long lease_s, const char *exclude, const char *owner,
    int per_webhook, struct db_delivery **out, int *n);
void db_delivery_free_all(struct db_delivery *d, int n);
/* Frees what one delivery holds (not the delivery itself). */
void db_delivery_clear(struct db_delivery *d);
/* What became of one attempt, as the rules (src/delivery.c) judged it. */
struct db_delivery_outcome {
	long status;              /* 0: no answer */
	const char *error;        /* why not, or NULL */
	long latency_ms;
	const char *response;     /* the excerpt; the webhook's last error when failed */
	bool failed;
	bool gone;
	int action;               /* enum delivery_action */
	long delay_ms;
};
/* Finished attempts waiting to be recorded together by webhook_delivery_record_batch
 * (migrations/0011): the attempts, the counters and what comes next, in one round trip and one
 * commit for all of them. Held as array literals that grow with each attempt. */
struct db_record_batch {
	int n;
	bool closed;              /* the array literals are complete (sent) */
	struct buf webhooks, deliveries, statuses, errors, latencies, responses, failed, gone, actions, delays;
};
void db_record_batch_init(struct db_record_batch *b);
void db_record_batch_free(struct db_record_batch *b);
/* Adds an attempt (its strings are copied); attempts are recorded in the order they are added,
 * which should be the order they finished. */
void db_record_batch_add(struct db_record_batch *b, int32_t webhook_id, int64_t delivery_id,
    const struct db_delivery_outcome *o);
/* Sends the batch for owner to record (what comes next only where owner still holds the lease)
 * without waiting for the answer; false when it could not be sent (the database is away, or the
 * previous batch awaits its answer on this connection). The batch stays as it is, to be sent
 * again, until db_record_batch_clear. An attempt that is never recorded is sent again when its
 * lease runs out. */
bool db_record_batch_send(struct db *db, struct db_record_batch *b, const char *owner, int max_consecutive)
	__attribute__((warn_unused_result));
/* Empties the batch for the next attempts. */
void db_record_batch_clear(struct db_record_batch *b);
/* Once db_socket(db) is readable: true when the answer to the batch sent is complete, with *r
 * what it says; false while it is on its way. */
bool db_record_batch_receive(struct db *db, enum db_result *r) __attribute__((warn_unused_result));
/* Hands leases back (ids: "{1,2}"), so another daemon may take them at once. */
enum db_result db_delivery_release(struct db *db, const char *owner, const char *ids);
/* Moves up to limit of the oldest signals into the queue (migrations/0012); *moved is how many,
 * or -1 when another daemon is at it. */
enum db_result db_signal_fan_out(struct db *db, int limit, int *moved);
/* This daemon's session waits for a NOTIFY (true: it found nothing to claim) or is busy; *done is
 * false when it could not say it waits because a signal was being made (look again soon). */
enum db_result db_delivery_wait(struct db *db, bool waiting, bool *done);
/* Milliseconds until the next delivery is due (negative when overdue), 0 while a signal waits to
 * be fanned out; false when nothing is. */
enum db_result db_delivery_next_due(struct db *db, long long *ms, bool *any);
/* Due deliveries and signals waiting, and how long the oldest has waited. */
enum db_result db_delivery_queue(struct db *db, long long *depth, long long *oldest_ms);
/* Probe: the TooManyErrors webhooks with Probe that no daemon probed within interval_s, now this
 * owner's to probe, each as a `test` event shaped like a claimed delivery (delivery_id 0). */
enum db_result db_probe_claim(struct db *db, long interval_s, struct db_delivery **out, int *n);
/* A probe answered 2xx: the webhook is Active again (DB_NOT_FOUND when it no longer waits for one). */
enum db_result db_probe_answered(struct db *db, int32_t webhook_id);

/* A webhook's delivery controls (src/controls.c), scoped like db_webhook_get. */
struct webhook_controls;
struct webhook_controls_change;
enum db_result db_webhook_controls_get(struct db *db, const struct db_webhook_scope *scope, int32_t id,
    struct webhook_controls *out);
/* Applies change and reads the result back; a change of RateLimit or MaxInFlight starts the
 * webhook's pace afresh. */
enum db_result db_webhook_controls_set(struct db *db, const struct db_webhook_scope *scope, int32_t id,
    const struct webhook_controls_change *change, struct webhook_controls *out);
/* Ends the grace of the previous secret at once. */
enum db_result db_webhook_previous_secret_drop(struct db *db, const struct db_webhook_scope *scope, int32_t id);

/* True when the connection is to a primary: only then may what it reads be cached, as a standby
 * may not have replayed a change the feed already announced. */
bool db_is_primary(const struct db *db);

#endif
