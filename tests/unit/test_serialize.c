/* Serializers: exact bytes of the Webhook carrier and of error bodies, in JSON and XML. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "carrier.h"
#include "xalloc.h"

static const char default_json[] =
    "{\"WebhookId\":0,\"Name\":null,\"Events\":[\"contact.created\",\"contact.deleted\"],"
    "\"TargetUrl\":null,\"Secret\":null,\"State\":\"Active\",\"Type\":\"webhook\",\"Headers\":null,"
    "\"Properties\":null,\"Registered\":\"0001-01-01T00:00:00\",\"RegisteredAssociate\":null,"
    "\"Updated\":\"0001-01-01T00:00:00\",\"UpdatedAssociate\":null}";

static bool
write_webhook(enum emit_format format, struct buf *out, const struct webhook *w, bool tag_utc)
{
	struct carrier_options opt = { .tag_utc = tag_utc };
	struct emitter *e = emitter_open(format, out);
	bool ok;

	assert_non_null(e);
	ok = carrier_write_webhook(e, w, &opt);
	emitter_close(e);
	return ok;
}

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
	assert_true(write_webhook(EMIT_JSON, &out, &w, false));
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
	assert_true(write_webhook(EMIT_JSON, &out, &w, false));
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
	assert_false(write_webhook(EMIT_JSON, &out, &w, false));
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
	assert_false(write_webhook(EMIT_JSON, &out, &w, false));
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
	assert_false(write_webhook(EMIT_JSON, &out, &w, false));
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
	assert_false(write_webhook(EMIT_JSON, &out, &w, false));
	webhook_free(&w);
	buf_free(&out);
}

static void
test_error_body(void **state)
{
	struct buf out;

	(void)state;
	struct emitter *e;

	buf_init(&out);
	e = emitter_open(EMIT_JSON, &out);
	assert_true(carrier_write_error(e, "NotFound", "No \"such\" thing", "webhookd/router"));
	emitter_close(e);
	assert_string_equal(out.data, "{\"Error\":true,\"ErrorType\":\"NotFound\","
	    "\"ErrorMessage\":\"No \\\"such\\\" thing\",\"ErrorSource\":\"webhookd/router\"}");
	buf_reset(&out);
	e = emitter_open(EMIT_XML, &out);
	assert_true(carrier_write_error(e, "NotFound", "a < b & \"c\"", "webhookd/router"));
	emitter_close(e);
	assert_string_equal(out.data, "<?xml version=\"1.0\" encoding=\"utf-8\"?><ErrorResponse "
	    "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><Error>true</Error><ErrorType>NotFound</ErrorType>"
	    "<ErrorMessage>a &lt; b &amp; \"c\"</ErrorMessage><ErrorSource>webhookd/router</ErrorSource></ErrorResponse>");
	buf_free(&out);
}

static void
test_time_formatting(void **state)
{
	char text[WEBHOOK_TIME_TEXT_SIZE];

	(void)state;
	assert_true(webhook_format_time(WEBHOOK_TIME_UNSET, false, text));
	assert_string_equal(text, "0001-01-01T00:00:00");
	assert_true(webhook_format_time(WEBHOOK_TIME_UNSET, true, text)); /* unset is never tagged */
	assert_string_equal(text, "0001-01-01T00:00:00");
	assert_true(webhook_format_time(0, false, text));
	assert_string_equal(text, "1970-01-01T00:00:00");
	assert_true(webhook_format_time(0, true, text));
	assert_string_equal(text, "1970-01-01T00:00:00Z");
	assert_true(webhook_format_time(-1, false, text)); /* one microsecond before the epoch */
	assert_string_equal(text, "1969-12-31T23:59:59.999999");
	assert_false(webhook_format_time(INT64_C(253402300800) * 1000000, false, text)); /* year 10000 */
}

static void
test_default_webhook_xml(void **state)
{
	struct webhook w;
	struct buf out;

	(void)state;
	default_webhook(&w);
	buf_init(&out);
	assert_true(write_webhook(EMIT_XML, &out, &w, false));
	assert_string_equal(out.data,
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<Webhook xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">"
	    "<WebhookId>0</WebhookId><Name i:nil=\"true\"/>"
	    "<Events><string>contact.created</string><string>contact.deleted</string></Events>"
	    "<TargetUrl i:nil=\"true\"/><Secret i:nil=\"true\"/><State>Active</State><Type>webhook</Type>"
	    "<Headers i:nil=\"true\"/><Properties i:nil=\"true\"/><Registered>0001-01-01T00:00:00</Registered>"
	    "<RegisteredAssociate i:nil=\"true\"/><Updated>0001-01-01T00:00:00</Updated>"
	    "<UpdatedAssociate i:nil=\"true\"/></Webhook>");
	webhook_free(&w);
	buf_free(&out);
}

static void
test_xml_dictionaries_and_escaping(void **state)
{
	struct webhook w;
	struct buf out;

	(void)state;
	default_webhook(&w);
	w.name = xstrdup("<b>&amp;\r");
	w.headers_json = xstrdup("{\"X-A\": \"1 < 2\"}");
	w.properties_json = xstrdup("{\"n\": 1.5, \"t\": true, \"z\": null, \"o\": {\"a\": [1]}}");
	w.registered = 0;
	buf_init(&out);
	assert_true(write_webhook(EMIT_XML, &out, &w, true));
	assert_non_null(strstr(out.data, "<Name>&lt;b&gt;&amp;amp;&#xD;</Name>"));
	assert_non_null(strstr(out.data, "<Headers><StringKeyValuePair><Key>X-A</Key><Value>1 &lt; 2</Value>"
	    "</StringKeyValuePair></Headers>"));
	assert_non_null(strstr(out.data, "<Properties><StringObjectKeyValuePair><Key>n</Key><Value>1.5</Value>"
	    "</StringObjectKeyValuePair><StringObjectKeyValuePair><Key>t</Key><Value>true</Value>"
	    "</StringObjectKeyValuePair><StringObjectKeyValuePair><Key>z</Key><Value i:nil=\"true\"/>"
	    "</StringObjectKeyValuePair><StringObjectKeyValuePair><Key>o</Key><Value>{\"a\":[1]}</Value>"
	    "</StringObjectKeyValuePair></Properties>"));
	assert_non_null(strstr(out.data, "<Registered>1970-01-01T00:00:00Z</Registered>"));
	webhook_free(&w);
	buf_free(&out);
}

static void
test_xml_refuses_what_xml_cannot_carry(void **state)
{
	static const char *const names[] = { "bell \x07", "bad \xff", "overlong \xc0\xaf", "surrogate \xed\xa0\x80" };

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct webhook w;
		struct buf out;

		default_webhook(&w);
		w.name = xstrdup(names[i]);
		buf_init(&out);
		if (write_webhook(EMIT_XML, &out, &w, false))
			fail_msg("case %zu was written", i);
		webhook_free(&w);
		buf_free(&out);
	}
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
		cmocka_unit_test(test_default_webhook_xml),
		cmocka_unit_test(test_xml_dictionaries_and_escaping),
		cmocka_unit_test(test_xml_refuses_what_xml_cannot_carry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
