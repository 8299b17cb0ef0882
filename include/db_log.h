/*
 * The delivery log in the database (migrations/0008): a webhook's events (pending in the queue,
 * or finished in webhook_message) and their attempts, newest first with keyset paging; resend and
 * recover; and the batches of retention that webhook-deliverd runs.
 */
#ifndef WEBHOOKD_DB_LOG_H
#define WEBHOOKD_DB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* A date-time that is null (an event never attempted has no LastAttemptAt). */
#define LOG_NO_TIME INT64_MIN

enum log_outcome {
	LOG_OUTCOME_ANY,
	LOG_OUTCOME_PENDING,     /* in the queue */
	LOG_OUTCOME_DELIVERED,
	LOG_OUTCOME_FAILED,      /* given up */
};

/* An attempt's outcome filter: any, a 2xx answer, or anything else. */
enum log_result_filter { LOG_RESULT_ANY, LOG_RESULT_SUCCESS, LOG_RESULT_FAILURE };

struct log_event {
	int64_t delivery_id;
	char event_id[37];
	char *event;
	int32_t primary_key;
	int64_t signalled_us;
	enum log_outcome outcome;
	int cycle;
	int attempts;             /* over every cycle */
	long last_status;         /* 0: the last attempt had no answer, or there was none */
	char *last_error;
	int64_t last_attempt_us;  /* LOG_NO_TIME: none yet */
	int64_t next_attempt_us;  /* LOG_NO_TIME: finished */
	char *data_json;          /* only when read alone (db_log_event); NULL: null */
};

struct log_attempt {
	int64_t attempt_id;
	int64_t delivery_id;
	char event_id[37];
	char *event;
	int32_t primary_key;
	int cycle;
	int attempt;
	int64_t attempted_us;
	long status;              /* 0: no answer (error says why) */
	char *error;
	long latency_ms;
	char *response;           /* the capped, redacted excerpt */
};

/* One page's selection: before_id is the cursor (only ids below it; 0: from the newest), limit
 * the rows wanted (the caller asks one more to learn whether a next page exists). */
struct log_query {
	int outcome;              /* enum log_outcome for events, enum log_result_filter for attempts */
	int64_t since_us;         /* inclusive; LOG_NO_TIME: open */
	int64_t until_us;         /* exclusive; LOG_NO_TIME: open */
	int64_t before_id;
	int limit;
};

struct log_event_list {
	struct log_event *items;
	size_t n;
};

struct log_attempt_list {
	struct log_attempt *items;
	size_t n;
};

/* The state of a webhook the scope sees; DB_NOT_FOUND otherwise. */
enum db_result db_log_webhook_state(struct db *db, const struct db_webhook_scope *scope, int32_t webhook_id,
    int *state);
enum db_result db_log_events(struct db *db, int32_t webhook_id, const struct log_query *q,
    struct log_event_list *out);
/* One event with its Data; DB_NOT_FOUND when the webhook has no such event. */
enum db_result db_log_event(struct db *db, int32_t webhook_id, int64_t delivery_id, struct log_event *out);
enum db_result db_log_attempts(struct db *db, int32_t webhook_id, const struct log_query *q,
    struct log_attempt_list *out);
/* Every attempt of one event, oldest first. */
enum db_result db_log_event_attempts(struct db *db, int32_t webhook_id, int64_t delivery_id,
    struct log_attempt_list *out);

/* Attempts per hour since first_hour_s (seconds since the epoch, a whole hour), of one webhook
 * (webhook_id > 0) or of every webhook the scope sees; add is called once per hour that had any. */
typedef void (*log_activity_add)(void *ctx, int64_t hour_s, long long succeeded, long long failed);
enum db_result db_log_activity(struct db *db, const struct db_webhook_scope *scope, int32_t webhook_id,
    int64_t first_hour_s, log_activity_add add, void *ctx);

enum log_requeue {
	LOG_REQUEUE_DONE,         /* resent (a new cycle), made due now, or recovered */
	LOG_REQUEUE_UNKNOWN,      /* no such webhook (in the scope) or event */
	LOG_REQUEUE_INACTIVE,     /* the webhook is not Active */
	LOG_REQUEUE_IN_FLIGHT,    /* the event is being sent right now */
};
/* Resend (webhook_delivery_resend): on LOG_REQUEUE_DONE *out is the event as the log shows it. */
enum db_result db_log_resend(struct db *db, const struct db_webhook_scope *scope, int32_t webhook_id,
    int64_t delivery_id, enum log_requeue *result, struct log_event *out);
/* Recover (webhook_delivery_recover): up to max failed events signalled since since_us. */
enum db_result db_log_recover(struct db *db, const struct db_webhook_scope *scope, int32_t webhook_id,
    int64_t since_us, long max, enum log_requeue *result, long *recovered, long long *remaining);

/* One batch of retention by age: *deleted rows (at most batch), -1 when another daemon prunes. */
enum db_result db_log_prune_age(struct db *db, long keep_days, long batch, long *deleted);
/* One batch of the cap on rows for the first webhook from from_webhook on: *webhook is the one
 * it looked at (0: none left), *deleted as above. */
enum db_result db_log_prune_rows(struct db *db, int32_t from_webhook, long max_rows, long batch,
    int32_t *webhook, long *deleted);

void log_event_clear(struct log_event *e);
void log_event_list_free(struct log_event_list *l);
void log_attempt_clear(struct log_attempt *a);
void log_attempt_list_free(struct log_attempt_list *l);

#endif
