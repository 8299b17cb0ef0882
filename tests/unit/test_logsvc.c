/* The delivery log's pure parts: the paging cursor, the hourly buckets of Activity, and the
 * ISO 8601 date-times of since and until. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "isotime.h"
#include "logsvc.h"

static void
test_cursor_round_trip(void **state)
{
	static const int64_t ids[] = { 1, 9, 812, 1000000, INT64_MAX };
	char text[LOGSVC_CURSOR_SIZE];
	int64_t id;

	(void)state;
	logsvc_cursor_encode(812, text);
	assert_string_equal(text, "ODEy");  /* the contract's example */
	logsvc_cursor_encode(INT64_MAX, text);
	assert_string_equal(text, "OTIyMzM3MjAzNjg1NDc3NTgwNw");  /* URL-safe, no padding */
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		logsvc_cursor_encode(ids[i], text);
		assert_true(logsvc_cursor_decode(text, &id));
		assert_int_equal(id, ids[i]);
	}
}

static void
test_cursor_refuses_what_it_did_not_give(void **state)
{
	/* "", "abc", "0", "-1", "012", 2^63, "1 ", padded "12", and not base64 at all. */
	static const char *const bad[] = { "", "YWJj", "MA", "LTE", "MDEy", "OTIyMzM3MjAzNjg1NDc3NTgwOA", "MSA",
		"MTI=", "!!", "ODEy\n" };
	int64_t id = 5;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(logsvc_cursor_decode(bad[i], &id));
		assert_int_equal(id, 0);
	}
}

static void
test_activity_buckets(void **state)
{
	struct logsvc_activity a;
	/* 2026-11-28T12:34:56.5Z */
	int64_t now_us = 1795869296500000LL;
	int64_t hour = 1795867200;  /* 12:00 */

	(void)state;
	logsvc_activity_init(&a, now_us);
	assert_int_equal(a.first_hour_s, hour - 23 * 3600);
	logsvc_activity_add(&a, hour, 3, 1);                 /* the current hour: the last bucket */
	logsvc_activity_add(&a, hour - 23 * 3600, 2, 0);     /* the oldest: the first */
	logsvc_activity_add(&a, hour - 3 * 3600, 0, 5);
	logsvc_activity_add(&a, hour - 3 * 3600, 1, 1);      /* added up */
	logsvc_activity_add(&a, hour - 24 * 3600, 9, 9);     /* before the window */
	logsvc_activity_add(&a, hour + 3600, 9, 9);          /* after it (clocks apart) */
	logsvc_activity_add(&a, hour - 1800, 9, 9);          /* not a whole hour */
	assert_int_equal(a.succeeded[23], 3);
	assert_int_equal(a.failed[23], 1);
	assert_int_equal(a.succeeded[0], 2);
	assert_int_equal(a.succeeded[20], 1);
	assert_int_equal(a.failed[20], 6);
	for (int i = 1; i < 23; i++) {
		if (i != 20)
			assert_true(a.succeeded[i] == 0 && a.failed[i] == 0);
	}
	/* On the hour exactly, that hour is the last bucket. */
	logsvc_activity_init(&a, hour * 1000000);
	assert_int_equal(a.first_hour_s, hour - 23 * 3600);
}

static void
test_iso_times(void **state)
{
	static const struct { const char *text; int64_t us; } good[] = {
		{ "1970-01-01", 0 },
		{ "2026-11-28T12:34:56.5Z", 1795869296500000LL },
		{ "2026-11-28T12:34:56.5", 1795869296500000LL },
		{ "2026-11-28t12:34:56,500000z", 1795869296500000LL },
		{ "2026-11-28 13:34:56.5+01:00", 1795869296500000LL },
		{ "2026-11-28T13:34:56.5+0100", 1795869296500000LL },
		{ "2026-11-28T11:34:56.5-01", 1795869296500000LL },
		{ "2026-11-28T12:34:56.123456789", 1795869296123456LL },
		{ "2026-11-28T12:34", 1795869240000000LL },
		{ "2024-02-29T00:00:00", 1709164800000000LL },
		{ "0001-01-01T00:00:00Z", -62135596800000000LL },
	};
	static const char *const bad[] = { "", "2026", "2026-11", "2026-11-28T", "2026-11-28T12", "2026-13-01",
		"2026-02-29", "2026-04-31", "2026-11-28T24:00", "2026-11-28T12:60", "2026-11-28T12:00:60",
		"2026-11-28T12:00:00.", "2026-11-28T12:00:00+", "2026-11-28T12:00:00+1", "2026-11-28T12:00:00+01:",
		"2026-11-28T12:00:00+24:00", "2026-11-28T12:00:00Z ", "2026-11-28Z", "0000-01-01", "yesterday",
		"2026-1-28" };
	int64_t us;

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_true(isotime_parse(good[i].text, &us));
		assert_int_equal(us, good[i].us);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(isotime_parse(bad[i], &us));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_round_trip),
		cmocka_unit_test(test_cursor_refuses_what_it_did_not_give),
		cmocka_unit_test(test_activity_buckets),
		cmocka_unit_test(test_iso_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
