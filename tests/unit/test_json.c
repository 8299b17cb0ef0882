/* Serializer: exact bytes of the Webhook carrier and of error bodies. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "xalloc.h"

static const char default_json[] =
    "{\"WebhookId\":0,\"Name\":null,\"Events\":[\"contact.created\",\"contact.deleted\"],"
    "\"TargetUrl\":null,\"Secret\":null,\"State\":\"Active\",\"Type\":\"webhook\",\"Headers\":null,"
    "\"Properties\":null,\"Registered\":\"0001-01-01T00:00:00\",\"RegisteredAssociate\":null,"
    "\"Updated\":\"0001-01-01T00:00:00\",\"UpdatedAssociate\":null}";

static void
default_webhook(struct webhook *w)
{
	webhook_init(w);
	w->nevents = 2;
	w->events = xcalloc(2, sizeof *w->events);
	w->events[0] = xstrdup("contact.created");
	w->events[1] = xstrdup("contact.deleted");
	w->state = WEBHOOK_STATE_ACTIVE;
	w->type = xstrdup("webhook");
}

static void
test_default_webhook_bytes(void **state)
{
	struct webhook w;
	struct buf out;

	(void)state;
	default_webhook(&w);
	buf_init(&out);
	assert_true(json_write_webhook(&out, &w));
	assert_string_equal(out.data, default_json);
	webhook_free(&w);
	buf_free(&out);
}

static void
test_all_members_set(void **state)
{
	struct webhook w;
	struct buf out;

	(void)state;
	webhook_init(&w);
	w.id = 42;
	w.name = xstrdup("Caf\xc3\xa9 \"hook\"\n");
	w.events = xcalloc(1, sizeof *w.events); /* an empty array is not null */
	w.target_url = xstrdup("https://example.com/hook");
	w.secret = xstrdup("s3cret");
	w.state = WEBHOOK_STATE_TOO_MANY_ERRORS;
	w.type = xstrdup("crmscript");
	w.headers_json = xstrdup("{\"X-A\": \"b\", \"X-C\": \"d\"}");
	w.properties_json = xstrdup("{\"n\": 1.50, \"big\": 12345678901234567890, \"o\": {\"a\": [true, null, \"x\"]}}");
	w.registered = INT64_C(1714566600) * 1000000;            /* 2024-05-01T12:30:00Z */
	w.updated = INT64_C(1714566600) * 1000000 + 250000;      /* with fractional seconds */
	buf_init(&out);
	assert_true(json_write_webhook(&out, &w));
	assert_string_equal(out.data,
	    "{\"WebhookId\":42,\"Name\":\"Caf\xc3\xa9 \\\"hook\\\"\\n\",\"Events\":[],"
	    "\"TargetUrl\":\"https://example.com/hook\",\"Secret\":\"s3cret\",\"State\":\"TooManyErrors\","
	    "\"Type\":\"crmscript\",\"Headers\":{\"X-A\":\"b\",\"X-C\":\"d\"},"
	    "\"Properties\":{\"n\":1.50,\"big\":12345678901234567890,\"o\":{\"a\":[true,null,\"x\"]}},"
	    "\"Registered\":\"2024-05-01T12:30:00\",\"RegisteredAssociate\":null,"
	    "\"Updated\":\"2024-05-01T12:30:00.250000\",\"UpdatedAssociate\":null}");
	webhook_free(&w);
	buf_free(&out);
}

static void
test_header_values_must_be_strings(void **state)
{
	struct webhook w;
	struct buf out;

	(void)state;
	default_webhook(&w);
	w.headers_json = xstrdup("{\"X-A\": 1}");
	buf_init(&out);
	assert_false(json_write_webhook(&out, &w));
	webhook_free(&w);
	buf_free(&out);
}

static void
test_stored_object_must_be_an_object(void **state)
{
	struct webhook w;
	struct buf out;

	(void)state;
	default_webhook(&w);
	w.properties_json = xstrdup("[1, 2]");
	buf_init(&out);
	assert_false(json_write_webhook(&out, &w));
	webhook_free(&w);
	buf_free(&out);
}

static void
test_invalid_utf8_is_refused(void **state)
{
	struct webhook w;
	struct buf out;

	(void)state;
	default_webhook(&w);
	w.name = xstrdup("bad \xff byte");
	buf_init(&out);
	assert_false(json_write_webhook(&out, &w));
	webhook_free(&w);
	buf_free(&out);
}

static void
test_state_outside_enumeration(void **state)
{
	struct webhook w;
	struct buf out;

	(void)state;
	default_webhook(&w);
	w.state = (enum webhook_state)7;
	buf_init(&out);
	assert_false(json_write_webhook(&out, &w));
	webhook_free(&w);
	buf_free(&out);
}

static void
test_error_body(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out);
	assert_true(json_write_error(&out, "NotFound", "No \"such\" thing", "webhookd/router"));
	assert_string_equal(out.data, "{\"Error\":true,\"ErrorType\":\"NotFound\","
	    "\"ErrorMessage\":\"No \\\"such\\\" thing\",\"ErrorSource\":\"webhookd/router\"}");
	buf_free(&out);
}

static void
test_time_formatting(void **state)
{
	char text[WEBHOOK_TIME_TEXT_SIZE];

	(void)state;
	assert_true(webhook_format_time(WEBHOOK_TIME_UNSET, text));
	assert_string_equal(text, "0001-01-01T00:00:00");
	assert_true(webhook_format_time(0, text));
	assert_string_equal(text, "1970-01-01T00:00:00");
	assert_true(webhook_format_time(-1, text)); /* one microsecond before the epoch */
	assert_string_equal(text, "1969-12-31T23:59:59.999999");
	assert_false(webhook_format_time(INT64_C(253402300800) * 1000000, text)); /* year 10000 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_webhook_bytes),
		cmocka_unit_test(test_all_members_set),
		cmocka_unit_test(test_header_values_must_be_strings),
		cmocka_unit_test(test_stored_object_must_be_an_object),
		cmocka_unit_test(test_invalid_utf8_is_refused),
		cmocka_unit_test(test_state_outside_enumeration),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_time_formatting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
