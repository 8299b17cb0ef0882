#include "config.h"

#include "logcarrier.h"

#include "webhook.h"

static const char *const logcarrier_outcomes[] = {
	[LOG_OUTCOME_ANY] = NULL, [LOG_OUTCOME_PENDING] = "Pending", [LOG_OUTCOME_DELIVERED] = "Delivered",
	[LOG_OUTCOME_FAILED] = "Failed",
};

/* A date-time that may be null. */
static bool
logcarrier_time(struct emitter *e, const char *name, int64_t us, const struct carrier_options *opt)
{
	return us == LOG_NO_TIME ? e->ops->null(e->ctx, name) : carrier_time(e, name, us, opt);
}

/* An HTTP status, null when there was no answer. */
static bool
logcarrier_status(struct emitter *e, const char *name, long status)
{
	return status == 0 ? e->ops->null(e->ctx, name) : e->ops->integer(e->ctx, name, status);
}

/* The members of an event as the listing shows it, in order. */
static bool
logcarrier_event_members(struct emitter *e, const struct log_event *ev, const struct carrier_options *opt)
{
	const char *outcome = logcarrier_outcomes[ev->outcome];

	return outcome != NULL &&
	    e->ops->integer(e->ctx, "DeliveryId", ev->delivery_id) &&
	    e->ops->string(e->ctx, "EventId", ev->event_id) &&
	    carrier_string(e, "Event", ev->event) &&
	    e->ops->integer(e->ctx, "PrimaryKey", ev->primary_key) &&
	    carrier_time(e, "SignalledAt", ev->signalled_us, opt) &&
	    e->ops->string(e->ctx, "Outcome", outcome) &&
	    e->ops->integer(e->ctx, "Cycle", ev->cycle) &&
	    e->ops->integer(e->ctx, "Attempts", ev->attempts) &&
	    logcarrier_status(e, "LastStatus", ev->last_status) &&
	    carrier_string(e, "LastError", ev->last_error) &&
	    logcarrier_time(e, "LastAttemptAt", ev->last_attempt_us, opt) &&
	    logcarrier_time(e, "NextAttemptAt", ev->next_attempt_us, opt);
}

bool
logcarrier_write_event(struct emitter *e, const void *event, const struct carrier_options *opt)
{
	return e->ops->begin(e->ctx, "DeliveryEvent") &&
	    logcarrier_event_members(e, event, opt) &&
	    e->ops->end(e->ctx, "DeliveryEvent");
}

static bool
logcarrier_write_attempt(struct emitter *e, const struct log_attempt *a, const struct carrier_options *opt)
{
	return e->ops->begin(e->ctx, "DeliveryAttempt") &&
	    e->ops->integer(e->ctx, "AttemptId", a->attempt_id) &&
	    e->ops->integer(e->ctx, "DeliveryId", a->delivery_id) &&
	    e->ops->string(e->ctx, "EventId", a->event_id) &&
	    carrier_string(e, "Event", a->event) &&
	    e->ops->integer(e->ctx, "PrimaryKey", a->primary_key) &&
	    e->ops->integer(e->ctx, "Cycle", a->cycle) &&
	    e->ops->integer(e->ctx, "Attempt", a->attempt) &&
	    carrier_time(e, "AttemptedAt", a->attempted_us, opt) &&
	    logcarrier_status(e, "Status", a->status) &&
	    carrier_string(e, "Error", a->error) &&
	    e->ops->integer(e->ctx, "LatencyMs", a->latency_ms) &&
	    carrier_string(e, "Response", a->response) &&
	    e->ops->end(e->ctx, "DeliveryAttempt");
}

static bool
logcarrier_attempts(struct emitter *e, const char *name, const struct log_attempt_list *l,
    const struct carrier_options *opt)
{
	if (!e->ops->array_begin(e->ctx, name))
		return false;
	for (size_t i = 0; i < l->n; i++) {
		if (!logcarrier_write_attempt(e, &l->items[i], opt))
			return false;
	}
	return e->ops->array_end(e->ctx, name);
}

/* NextCursor: null on the last page. */
static bool
logcarrier_cursor(struct emitter *e, const char *cursor)
{
	return carrier_string(e, "NextCursor", cursor[0] != '\0' ? cursor : NULL);
}

bool
logcarrier_write_event_page(struct emitter *e, const void *page, const struct carrier_options *opt)
{
	const struct logsvc_event_page *p = page;

	if (!e->ops->begin(e->ctx, "DeliveryEventPage") || !e->ops->array_begin(e->ctx, "Items"))
		return false;
	for (size_t i = 0; i < p->events.n; i++) {
		if (!logcarrier_write_event(e, &p->events.items[i], opt))
			return false;
	}
	return e->ops->array_end(e->ctx, "Items") &&
	    logcarrier_cursor(e, p->next_cursor) &&
	    e->ops->end(e->ctx, "DeliveryEventPage");
}

bool
logcarrier_write_event_detail(struct emitter *e, const void *detail, const struct carrier_options *opt)
{
	const struct logcarrier_event_detail *d = detail;

	return e->ops->begin(e->ctx, "DeliveryEvent") &&
	    logcarrier_event_members(e, d->event, opt) &&
	    carrier_dictionary(e, "Data", d->event->data_json, false) &&
	    logcarrier_attempts(e, "AttemptLog", d->attempts, opt) &&
	    e->ops->end(e->ctx, "DeliveryEvent");
}

bool
logcarrier_write_attempt_page(struct emitter *e, const void *page, const struct carrier_options *opt)
{
	const struct logsvc_attempt_page *p = page;

	return e->ops->begin(e->ctx, "DeliveryAttemptPage") &&
	    logcarrier_attempts(e, "Items", &p->attempts, opt) &&
	    logcarrier_cursor(e, p->next_cursor) &&
	    e->ops->end(e->ctx, "DeliveryAttemptPage");
}

bool
logcarrier_write_activity(struct emitter *e, const void *activity, const struct carrier_options *opt)
{
	const struct logsvc_activity *a = activity;

	if (!e->ops->begin(e->ctx, "DeliveryActivity") || !e->ops->array_begin(e->ctx, "Items"))
		return false;
	for (int i = 0; i < LOGSVC_HOURS; i++) {
		if (!e->ops->begin(e->ctx, "ActivityHour") ||
		    !carrier_time(e, "Hour", (a->first_hour_s + (int64_t)i * 3600) * 1000000, opt) ||
		    !e->ops->integer(e->ctx, "Succeeded", a->succeeded[i]) ||
		    !e->ops->integer(e->ctx, "Failed", a->failed[i]) ||
		    !e->ops->end(e->ctx, "ActivityHour"))
			return false;
	}
	return e->ops->array_end(e->ctx, "Items") && e->ops->end(e->ctx, "DeliveryActivity");
}

bool
logcarrier_write_recovered(struct emitter *e, const void *result, const struct carrier_options *opt)
{
	const struct logcarrier_recovered *r = result;

	(void)opt;
	return e->ops->begin(e->ctx, "RecoverResult") &&
	    e->ops->integer(e->ctx, "Recovered", r->recovered) &&
	    e->ops->integer(e->ctx, "Remaining", r->remaining) &&
	    e->ops->end(e->ctx, "RecoverResult");
}
