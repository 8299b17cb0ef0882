/* The WebhookControls document: what a PUT may say, and how GET writes it (src/controls.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "controls.h"
#include "jsontree.h"
#include "webhook.h"

/* Parses text as a PUT body; the message when it is refused ("" when taken). */
static bool
parse(const char *text, struct webhook_controls_change *out, char msg[CONTROLS_MESSAGE_SIZE])
{
	char err[128];
	yajl_val body = jsontree_parse(text, strlen(text), 8, err, sizeof err);
	bool ok;

	msg[0] = '\0';
	ok = controls_parse_change(body, out, msg);
	yajl_tree_free(body);
	return ok;
}

static void
test_change_names_only_what_is_given(void **state)
{
	struct webhook_controls_change c;
	char msg[CONTROLS_MESSAGE_SIZE];

	(void)state;
	assert_true(parse("{}", &c, msg));
	assert_false(c.has_rate_limit || c.has_max_in_flight || c.has_ordered || c.has_probe);
	/* Names in any case; null clears; unknown and read-only members are ignored. */
	assert_true(parse("{\"ratelimit\": 25, \"MAXINFLIGHT\": null, \"ordered\": true, \"Other\": 1, "
	    "\"PreviousSecretUntil\": \"2030-01-01T00:00:00\"}", &c, msg));
	assert_true(c.has_rate_limit && c.rate_limit == 25);
	assert_true(c.has_max_in_flight && c.max_in_flight == 0);
	assert_true(c.has_ordered && c.ordered);
	assert_false(c.has_probe);
	assert_true(parse("{\"Probe\": false, \"RateLimit\": 10000, \"MaxInFlight\": 1}", &c, msg));
	assert_true(c.has_probe && !c.probe && c.rate_limit == 10000 && c.max_in_flight == 1);
	assert_true(parse("{\"RateLimit\": 1, \"MaxInFlight\": 1000}", &c, msg));
	assert_true(c.rate_limit == 1 && c.max_in_flight == 1000);
}

static void
test_change_refusals_name_the_property(void **state)
{
	static const struct { const char *body, *message; } cases[] = {
		{ "[]", "The body must be a WebhookControls object, such as {\"RateLimit\": 10}." },
		{ "{\"RateLimit\": 0}", "RateLimit must be null or an integer from 1 to 10000." },
		{ "{\"RateLimit\": 10001}", "RateLimit must be null or an integer from 1 to 10000." },
		{ "{\"RateLimit\": \"5\"}", "RateLimit must be null or an integer from 1 to 10000." },
		{ "{\"RateLimit\": 2.5}", "RateLimit must be null or an integer from 1 to 10000." },
		{ "{\"MaxInFlight\": 1001}", "MaxInFlight must be null or an integer from 1 to 1000." },
		{ "{\"MaxInFlight\": -1}", "MaxInFlight must be null or an integer from 1 to 1000." },
		{ "{\"Ordered\": null}", "Ordered must be true or false." },
		{ "{\"Probe\": 1}", "Probe must be true or false." },
		{ "{\"Probe\": \"true\"}", "Probe must be true or false." },
		{ "{\"rateLimit\": 1, \"RATELIMIT\": 2}", "RateLimit is given more than once (property names match in any case)." },
	};
	struct webhook_controls_change c;
	char msg[CONTROLS_MESSAGE_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_false(parse(cases[i].body, &c, msg));
		assert_string_equal(msg, cases[i].message);
	}
	assert_false(controls_parse_change(NULL, &c, msg));
}

static void
write_json(const struct webhook_controls *c, bool tag_utc, struct buf *out)
{
	struct carrier_options opt = { .tag_utc = tag_utc };
	struct emitter *e = emitter_open(EMIT_JSON, out);

	assert_non_null(e);
	assert_true(controls_write(e, c, &opt));
	emitter_close(e);
	buf_append(out, "", 1);
}

static void
test_document(void **state)
{
	struct webhook_controls none = { .previous_secret_until = WEBHOOK_TIME_UNSET };
	/* 2026-11-28T12:00:00.5 UTC */
	struct webhook_controls all = { .rate_limit = 50, .max_in_flight = 4, .ordered = true, .probe = true,
		.previous_secret_until = 1795867200500000 };
	struct buf text;

	(void)state;
	buf_init(&text);
	write_json(&none, false, &text);
	assert_string_equal(text.data, "{\"RateLimit\":null,\"MaxInFlight\":null,\"Ordered\":false,\"Probe\":false,"
	    "\"PreviousSecretUntil\":null}");
	buf_reset(&text);
	write_json(&all, false, &text);
	assert_string_equal(text.data, "{\"RateLimit\":50,\"MaxInFlight\":4,\"Ordered\":true,\"Probe\":true,"
	    "\"PreviousSecretUntil\":\"2026-11-28T12:00:00.500000\"}");
	buf_reset(&text);
	write_json(&all, true, &text);
	assert_non_null(strstr(text.data, "\"PreviousSecretUntil\":\"2026-11-28T12:00:00.500000Z\""));
	buf_free(&text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_change_names_only_what_is_given),
		cmocka_unit_test(test_change_refusals_name_the_property),
		cmocka_unit_test(test_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
