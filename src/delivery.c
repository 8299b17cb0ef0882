#include "config.h"

#include "delivery.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

void
delivery_schedule_default(struct delivery_schedule *s)
{
	memset(s, 0, sizeof *s);
	s->retry_delays_ms[0] = 1000;
	s->retry_delays_ms[1] = 4000;
	s->nretries = 2;
	s->cycle_delay_ms = 60000;
	s->max_cycles = 3;
	s->retry_after_max_ms = 300000;
	s->max_consecutive_errors = 9;
}

bool
delivery_parse_delays(const char *text, struct delivery_schedule *s)
{
	int n = 0;

	if (*text == '\0') {
		s->nretries = 0;
		return true;
	}
	for (const char *p = text;;) {
		char *end;
		long v;

		if (*p < '0' || *p > '9' || n == DELIVERY_MAX_RETRIES)
			return false;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno != 0 || v > 86400000L)
			return false;
		s->retry_delays_ms[n++] = v;
		if (*end == '\0')
			break;
		if (*end != ',')
			return false;
		p = end + 1;
	}
	s->nretries = n;
	return true;
}

long
delivery_retry_after_ms(const char *value, int64_t now_s)
{
	long long date;
	char *num_end;
	long secs;

	if (value == NULL || *value == '\0')
		return -1;
	if (*value >= '0' && *value <= '9') {
		errno = 0;
		secs = strtol(value, &num_end, 10);
		if (errno != 0 || *num_end != '\0' || secs > 86400L * 365)
			return -1;
		return secs * 1000;
	}
	if (!http_date_parse(value, &date))
		return -1;
	if (date - now_s > 86400LL * 365)
		return 86400L * 365 * 1000;
	return date > now_s ? (long)(date - now_s) * 1000 : 0;
}

struct delivery_verdict
delivery_judge(const struct delivery_schedule *s, long status, const char *retry_after, int cycle, int attempt,
    int64_t now_s)
{
	struct delivery_verdict v = { .action = DELIVERY_DONE, .delay_ms = 0, .failed = false, .gone = false };
	long wait;

	if (status >= 200 && status <= 299)
		return v;
	v.failed = true;
	if (status == 410) {
		v.gone = true;
		v.action = DELIVERY_GIVE_UP;
		return v;
	}
	if (attempt <= s->nretries) {
		v.action = DELIVERY_RETRY;
		v.delay_ms = s->retry_delays_ms[attempt - 1];
	} else if (cycle < s->max_cycles) {
		v.action = DELIVERY_NEXT_CYCLE;
		v.delay_ms = s->cycle_delay_ms;
	} else {
		v.action = DELIVERY_GIVE_UP;
		return v;
	}
	if (status == 429 || status == 503) {
		wait = delivery_retry_after_ms(retry_after, now_s);
		if (wait > s->retry_after_max_ms)
			wait = s->retry_after_max_ms;
		if (wait > v.delay_ms)
			v.delay_ms = wait;
	}
	return v;
}
