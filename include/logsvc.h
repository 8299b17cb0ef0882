/*
 * The delivery log service (issue 12): a webhook's events and attempts, page by page; one event
 * with every attempt of it; attempts per hour over the last day; resend and recover. Every call
 * is scoped to the webhooks the caller sees, as the webhook service's are.
 */
#ifndef WEBHOOKD_LOGSVC_H
#define WEBHOOKD_LOGSVC_H

#include <stdbool.h>
#include <stdint.h>

#include "db_log.h"

#define LOGSVC_LIMIT_DEFAULT 50
#define LOGSVC_LIMIT_MAX 500
#define LOGSVC_HOURS 24
/* URL-safe base64 of up to 19 digits, and the NUL. */
#define LOGSVC_CURSOR_SIZE 28

enum logsvc_result {
	LOGSVC_OK,
	LOGSVC_NO_WEBHOOK,      /* no such webhook, or not the caller's */
	LOGSVC_NO_EVENT,        /* the webhook has no such event */
	LOGSVC_INACTIVE,        /* 409: the webhook is not Active (*state says what it is) */
	LOGSVC_IN_FLIGHT,       /* 409: the event is being sent right now */
	LOGSVC_DB_UNAVAILABLE,  /* 503 */
	LOGSVC_DB_FAILED,       /* 500 */
};

struct logsvc {
	struct db *db;
	struct db_webhook_scope scope;
};

struct logsvc_event_page {
	struct log_event_list events;
	char next_cursor[LOGSVC_CURSOR_SIZE];  /* "": the last page */
};

struct logsvc_attempt_page {
	struct log_attempt_list attempts;
	char next_cursor[LOGSVC_CURSOR_SIZE];
};

/* Hourly buckets, oldest first; the last is the hour now is in (UTC). */
struct logsvc_activity {
	int64_t first_hour_s;
	long long succeeded[LOGSVC_HOURS];
	long long failed[LOGSVC_HOURS];
};

/* q->limit rows at most (1..LOGSVC_LIMIT_MAX), newest first, and the cursor of the next page. */
enum logsvc_result logsvc_events(struct logsvc *svc, int32_t webhook_id, const struct log_query *q,
    struct logsvc_event_page *out);
enum logsvc_result logsvc_attempts(struct logsvc *svc, int32_t webhook_id, const struct log_query *q,
    struct logsvc_attempt_page *out);
/* One event with its Data, and every attempt of it, oldest first. */
enum logsvc_result logsvc_event(struct logsvc *svc, int32_t webhook_id, int64_t delivery_id, struct log_event *event,
    struct log_attempt_list *attempts);
/* The 24 hours up to now_us of one webhook (webhook_id > 0) or of every webhook the caller sees. */
enum logsvc_result logsvc_activity(struct logsvc *svc, int32_t webhook_id, int64_t now_us,
    struct logsvc_activity *out);
/* Resend: on LOGSVC_OK *out is the event, pending again. */
enum logsvc_result logsvc_resend(struct logsvc *svc, int32_t webhook_id, int64_t delivery_id, struct log_event *out,
    int *state);
/* Recover: up to max failed events signalled since since_us, oldest first. */
enum logsvc_result logsvc_recover(struct logsvc *svc, int32_t webhook_id, int64_t since_us, long max,
    long *recovered, long long *remaining, int *state);

/* The cursor that continues after id (opaque to clients: URL-safe base64 of its digits). */
void logsvc_cursor_encode(int64_t id, char out[LOGSVC_CURSOR_SIZE]);
/* The id a cursor continues after; false for anything this server did not give. */
bool logsvc_cursor_decode(const char *text, int64_t *id) __attribute__((warn_unused_result));
/* Empty buckets for the 24 hours up to now_us, and one hour's counts into its bucket (hours
 * outside the window are ignored). */
void logsvc_activity_init(struct logsvc_activity *a, int64_t now_us);
void logsvc_activity_add(void *activity, int64_t hour_s, long long succeeded, long long failed);

#endif
