#include "config.h"

#include "logsvc.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>


static enum logsvc_result
logsvc_db(enum db_result r)
{
	switch (r) {
	case DB_OK:
		return LOGSVC_OK;
	case DB_NOT_FOUND:
		return LOGSVC_NO_WEBHOOK;
	case DB_UNAVAILABLE:
		return LOGSVC_DB_UNAVAILABLE;
	case DB_FAILED:
	case DB_CONSTRAINT:
		break;
	}
	return LOGSVC_DB_FAILED;
}

/* Is the webhook there for this caller? */
static enum logsvc_result
logsvc_visible(struct logsvc *svc, int32_t webhook_id, int *state)
{
	return logsvc_db(db_log_webhook_state(svc->db, &svc->scope, webhook_id, state));
}

/* One row more than the page holds tells whether another page follows; q's copy asks for it. */
static struct log_query
logsvc_lookahead(const struct log_query *q)
{
	struct log_query ahead = *q;

	ahead.limit = q->limit + 1;
	return ahead;
}

enum logsvc_result
logsvc_events(struct logsvc *svc, int32_t webhook_id, const struct log_query *q, struct logsvc_event_page *out)
{
	struct log_query ahead = logsvc_lookahead(q);
	enum logsvc_result r;
	int state;

	memset(out, 0, sizeof *out);
	r = logsvc_visible(svc, webhook_id, &state);
	if (r != LOGSVC_OK)
		return r;
	r = logsvc_db(db_log_events(svc->db, webhook_id, &ahead, &out->events));
	if (r == LOGSVC_OK && out->events.n > (size_t)q->limit) {
		log_event_clear(&out->events.items[--out->events.n]);
		logsvc_cursor_encode(out->events.items[out->events.n - 1].delivery_id, out->next_cursor);
	}
	return r;
}

enum logsvc_result
logsvc_attempts(struct logsvc *svc, int32_t webhook_id, const struct log_query *q, struct logsvc_attempt_page *out)
{
	struct log_query ahead = logsvc_lookahead(q);
	struct log_attempt_list *l = &out->attempts;
	enum logsvc_result r;
	int state;

	memset(out, 0, sizeof *out);
	r = logsvc_visible(svc, webhook_id, &state);
	if (r != LOGSVC_OK)
		return r;
	r = logsvc_db(db_log_attempts(svc->db, webhook_id, &ahead, l));
	if (r == LOGSVC_OK && l->n > (size_t)q->limit) {
		log_attempt_clear(&l->items[--l->n]);
		logsvc_cursor_encode(l->items[l->n - 1].attempt_id, out->next_cursor);
	}
	return r;
}

enum logsvc_result
logsvc_event(struct logsvc *svc, int32_t webhook_id, int64_t delivery_id, struct log_event *event,
    struct log_attempt_list *attempts)
{
	enum logsvc_result r;
	int state;

	memset(event, 0, sizeof *event);
	memset(attempts, 0, sizeof *attempts);
	r = logsvc_visible(svc, webhook_id, &state);
	if (r != LOGSVC_OK)
		return r;
	r = logsvc_db(db_log_event(svc->db, webhook_id, delivery_id, event));
	if (r == LOGSVC_NO_WEBHOOK)
		return LOGSVC_NO_EVENT;
	if (r != LOGSVC_OK)
		return r;
	return logsvc_db(db_log_event_attempts(svc->db, webhook_id, delivery_id, attempts));
}

enum logsvc_result
logsvc_activity(struct logsvc *svc, int32_t webhook_id, int64_t now_us, struct logsvc_activity *out)
{
	int state;

	logsvc_activity_init(out, now_us);
	if (webhook_id > 0) {
		enum logsvc_result r = logsvc_visible(svc, webhook_id, &state);

		if (r != LOGSVC_OK)
			return r;
	}
	return logsvc_db(db_log_activity(svc->db, &svc->scope, webhook_id, out->first_hour_s, logsvc_activity_add,
	    out));
}

/* What a resend or recover that did not happen means; *state is read for the 409's message. */
static enum logsvc_result
logsvc_requeue_refused(struct logsvc *svc, int32_t webhook_id, enum log_requeue result, int *state)
{
	switch (result) {
	case LOG_REQUEUE_DONE:
		return LOGSVC_OK;
	case LOG_REQUEUE_UNKNOWN:
		return LOGSVC_NO_EVENT;
	case LOG_REQUEUE_IN_FLIGHT:
		return LOGSVC_IN_FLIGHT;
	case LOG_REQUEUE_INACTIVE:
		break;
	}
	/* Deleted since: then it is unknown. */
	return logsvc_visible(svc, webhook_id, state) == LOGSVC_OK ? LOGSVC_INACTIVE : LOGSVC_NO_WEBHOOK;
}

enum logsvc_result
logsvc_resend(struct logsvc *svc, int32_t webhook_id, int64_t delivery_id, struct log_event *out, int *state)
{
	enum log_requeue result;
	enum logsvc_result r;

	*state = 0;
	memset(out, 0, sizeof *out);
	r = logsvc_visible(svc, webhook_id, state);
	if (r != LOGSVC_OK)
		return r;
	r = logsvc_db(db_log_resend(svc->db, &svc->scope, webhook_id, delivery_id, &result, out));
	return r != LOGSVC_OK ? r : logsvc_requeue_refused(svc, webhook_id, result, state);
}

enum logsvc_result
logsvc_recover(struct logsvc *svc, int32_t webhook_id, int64_t since_us, long max, long *recovered,
    long long *remaining, int *state)
{
	enum log_requeue result;
	enum logsvc_result r;

	*state = 0;
	r = logsvc_db(db_log_recover(svc->db, &svc->scope, webhook_id, since_us, max, &result, recovered, remaining));
	if (r != LOGSVC_OK)
		return r;
	r = logsvc_requeue_refused(svc, webhook_id, result, state);
	/* Recover names no event: an unknown result is the webhook's. */
	return r == LOGSVC_NO_EVENT ? LOGSVC_NO_WEBHOOK : r;
}

void
logsvc_cursor_encode(int64_t id, char out[LOGSVC_CURSOR_SIZE])
{
	char digits[24];
	int n = snprintf(digits, sizeof digits, "%lld", (long long)id);

	sodium_bin2base64(out, LOGSVC_CURSOR_SIZE, (const unsigned char *)digits, (size_t)n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool
logsvc_cursor_decode(const char *text, int64_t *id)
{
	unsigned char digits[20];
	size_t n = 0;
	const char *end = NULL;
	int64_t v = 0;

	*id = 0;
	if (sodium_base642bin(digits, sizeof digits, text, strlen(text), NULL, &n, &end,
	        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || *end != '\0' || n == 0 || n > 19 || digits[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (digits[i] < '0' || digits[i] > '9' || v > (INT64_MAX - (digits[i] - '0')) / 10)
			return false;
		v = v * 10 + (digits[i] - '0');
	}
	*id = v;
	return true;
}

void
logsvc_activity_init(struct logsvc_activity *a, int64_t now_us)
{
	int64_t now_s = now_us / 1000000;

	memset(a, 0, sizeof *a);
	a->first_hour_s = (now_s - now_s % 3600) - (LOGSVC_HOURS - 1) * 3600;
}

void
logsvc_activity_add(void *activity, int64_t hour_s, long long succeeded, long long failed)
{
	struct logsvc_activity *a = activity;
	int64_t i;

	if (hour_s < a->first_hour_s || (hour_s - a->first_hour_s) % 3600 != 0)
		return;
	i = (hour_s - a->first_hour_s) / 3600;
	if (i >= LOGSVC_HOURS)
		return;
	a->succeeded[i] += succeeded;
	a->failed[i] += failed;
}
