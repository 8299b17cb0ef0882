#include "config.h"

#include "webhook.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "xalloc.h"

void
webhook_init(struct webhook *w)
{
	memset(w, 0, sizeof *w);
	w->state = WEBHOOK_STATE_UNKNOWN;
	w->registered = WEBHOOK_TIME_UNSET;
	w->updated = WEBHOOK_TIME_UNSET;
}

static void
webhook_associate_free(struct webhook_associate *a)
{
	free(a->name);
	free(a->full_name);
}

void
webhook_free(struct webhook *w)
{
	for (size_t i = 0; i < w->nevents; i++)
		free(w->events[i]);
	free(w->events);
	free(w->name);
	free(w->target_url);
	free(w->secret);
	free(w->previous_secret);
	free(w->type);
	free(w->headers_json);
	free(w->properties_json);
	webhook_associate_free(&w->registered_by);
	webhook_associate_free(&w->updated_by);
	webhook_init(w);
}

void
webhook_list_free(struct webhook_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		webhook_free(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void
webhook_usage_list_free(struct webhook_usage_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].last_error);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static char *
webhook_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
webhook_associate_copy(struct webhook_associate *to, const struct webhook_associate *from)
{
	*to = *from;
	to->name = webhook_dup(from->name);
	to->full_name = webhook_dup(from->full_name);
}

void
webhook_copy(struct webhook *to, const struct webhook *from)
{
	*to = *from;
	to->name = webhook_dup(from->name);
	to->target_url = webhook_dup(from->target_url);
	to->secret = webhook_dup(from->secret);
	to->previous_secret = webhook_dup(from->previous_secret);
	to->type = webhook_dup(from->type);
	to->headers_json = webhook_dup(from->headers_json);
	to->properties_json = webhook_dup(from->properties_json);
	if (from->events != NULL) {
		to->events = xcalloc(from->nevents ? from->nevents : 1, sizeof *to->events);
		for (size_t i = 0; i < from->nevents; i++)
			to->events[i] = xstrdup(from->events[i]);
	}
	webhook_associate_copy(&to->registered_by, &from->registered_by);
	webhook_associate_copy(&to->updated_by, &from->updated_by);
}

void
webhook_move(struct webhook *to, struct webhook *from)
{
	webhook_free(to);
	*to = *from;
	webhook_init(from);
}

bool
webhook_state_parse(const char *text, enum webhook_state *out)
{
	static const enum webhook_state all[] = { WEBHOOK_STATE_UNKNOWN, WEBHOOK_STATE_ACTIVE,
		WEBHOOK_STATE_STOPPED, WEBHOOK_STATE_TOO_MANY_ERRORS };

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		char digit[2] = { (char)('0' + (int)all[i]), '\0' };

		if (strcasecmp(text, webhook_state_name(all[i])) == 0 || strcmp(text, digit) == 0) {
			*out = all[i];
			return true;
		}
	}
	return false;
}

const char *
webhook_state_name(enum webhook_state state)
{
	switch (state) {
	case WEBHOOK_STATE_UNKNOWN: return "Unknown";
	case WEBHOOK_STATE_ACTIVE: return "Active";
	case WEBHOOK_STATE_STOPPED: return "Stopped";
	case WEBHOOK_STATE_TOO_MANY_ERRORS: return "TooManyErrors";
	}
	return NULL;
}

bool
webhook_format_time(int64_t us, bool tag_utc, char out[WEBHOOK_TIME_TEXT_SIZE])
{
	int64_t secs, frac;
	time_t t;
	struct tm tm;
	int n;

	if (us == WEBHOOK_TIME_UNSET) {
		memcpy(out, "0001-01-01T00:00:00", sizeof "0001-01-01T00:00:00");
		return true;
	}
	secs = us / 1000000;
	frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	t = (time_t)secs;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return false;
	n = snprintf(out, WEBHOOK_TIME_TEXT_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (frac != 0)
		n += snprintf(out + n, WEBHOOK_TIME_TEXT_SIZE - (size_t)n, ".%06ld", (long)frac);
	if (tag_utc)
		snprintf(out + n, WEBHOOK_TIME_TEXT_SIZE - (size_t)n, "Z");
	return true;
}
