#include "config.h"

#include "controls.h"

#include <stdarg.h>
#include <stdio.h>

#include "jsontree.h"
#include "webhook.h"

static bool
controls_fail(char msg[CONTROLS_MESSAGE_SIZE], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
controls_fail(char msg[CONTROLS_MESSAGE_SIZE], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, CONTROLS_MESSAGE_SIZE, fmt, ap);
	va_end(ap);
	return false;
}

/* The member name of body (any case), at most once; *out NULL when absent. */
static bool
controls_member(yajl_val body, const char *name, yajl_val *out, char msg[CONTROLS_MESSAGE_SIZE])
{
	bool duplicate = false;

	*out = jsontree_member(body, name, &duplicate);
	if (duplicate)
		return controls_fail(msg, "%s is given more than once (property names match in any case).", name);
	return true;
}

/* RateLimit, MaxInFlight: absent (*given false), null (0) or an integer from 1 to max. */
static bool
controls_limit(yajl_val body, const char *name, int max, bool *given, int *out, char msg[CONTROLS_MESSAGE_SIZE])
{
	yajl_val v;

	if (!controls_member(body, name, &v, msg))
		return false;
	*given = v != NULL;
	*out = 0;
	if (v == NULL || YAJL_IS_NULL(v))
		return true;
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 1 || YAJL_GET_INTEGER(v) > max)
		return controls_fail(msg, "%s must be null or an integer from 1 to %d.", name, max);
	*out = (int)YAJL_GET_INTEGER(v);
	return true;
}

/* Ordered, Probe: absent (*given false), true or false. */
static bool
controls_flag(yajl_val body, const char *name, bool *given, bool *out, char msg[CONTROLS_MESSAGE_SIZE])
{
	yajl_val v;

	if (!controls_member(body, name, &v, msg))
		return false;
	*given = v != NULL;
	*out = false;
	if (v == NULL)
		return true;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return controls_fail(msg, "%s must be true or false.", name);
	*out = YAJL_IS_TRUE(v);
	return true;
}

bool
controls_parse_change(yajl_val body, struct webhook_controls_change *out, char msg[CONTROLS_MESSAGE_SIZE])
{
	*out = (struct webhook_controls_change){ 0 };
	if (!YAJL_IS_OBJECT(body))
		return controls_fail(msg, "The body must be a WebhookControls object, such as {\"RateLimit\": 10}.");
	return controls_limit(body, "RateLimit", CONTROLS_RATE_LIMIT_MAX, &out->has_rate_limit, &out->rate_limit, msg) &&
	    controls_limit(body, "MaxInFlight", CONTROLS_MAX_IN_FLIGHT_MAX, &out->has_max_in_flight,
	        &out->max_in_flight, msg) &&
	    controls_flag(body, "Ordered", &out->has_ordered, &out->ordered, msg) &&
	    controls_flag(body, "Probe", &out->has_probe, &out->probe, msg);
}

static bool
controls_write_limit(struct emitter *e, const char *name, int value)
{
	return value == 0 ? e->ops->null(e->ctx, name) : e->ops->integer(e->ctx, name, value);
}

bool
controls_write(struct emitter *e, const struct webhook_controls *c, const struct carrier_options *opt)
{
	char until[WEBHOOK_TIME_TEXT_SIZE];

	if (c->previous_secret_until != WEBHOOK_TIME_UNSET && !webhook_format_time(c->previous_secret_until,
	    opt->tag_utc, until))
		return false;
	return e->ops->begin(e->ctx, "WebhookControls") &&
	    controls_write_limit(e, "RateLimit", c->rate_limit) &&
	    controls_write_limit(e, "MaxInFlight", c->max_in_flight) &&
	    e->ops->boolean(e->ctx, "Ordered", c->ordered) &&
	    e->ops->boolean(e->ctx, "Probe", c->probe) &&
	    (c->previous_secret_until == WEBHOOK_TIME_UNSET ? e->ops->null(e->ctx, "PreviousSecretUntil") :
	        e->ops->string(e->ctx, "PreviousSecretUntil", until)) &&
	    e->ops->end(e->ctx, "WebhookControls");
}
