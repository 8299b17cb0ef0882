/* Reference data: parsing the document the database returns, and the in-memory lookups. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "refdata.h"

static const char doc[] =
    "{\"defaults\":[{\"name\":\"US:\\\"New\\\";NO:\\\"Ny\\\"\",\"events\":[\"a.b\",\"c.d\"],\"target_url\":null,"
    "\"secret\":null,\"state\":2,\"type\":\"webhook\",\"headers\":\"{\\\"X-A\\\": \\\"1\\\"}\",\"properties\":null}],"
    "\"languages\":[{\"code\":\"en\",\"ml_code\":\"US\",\"is_default\":true},"
    "{\"code\":\"sv\",\"ml_code\":\"SE\",\"is_default\":false},{\"code\":\"nb\",\"ml_code\":\"NO\",\"is_default\":false}],"
    "\"resources\":[{\"name\":\"SR_B\",\"language\":\"sv\",\"value\":\"B-sv\"},"
    "{\"name\":\"SR_A\",\"language\":\"en\",\"value\":\"A-en\"},{\"name\":\"SR_A\",\"language\":\"sv\",\"value\":\"A-sv\"}],"
    "\"cultures\":[{\"code\":\"en\",\"decimal\":\".\",\"group\":\",\",\"date\":\"M/d/yyyy\"},"
    "{\"code\":\"en-GB\",\"decimal\":\".\",\"group\":\",\",\"date\":\"dd/MM/yyyy\"}],"
    "\"timezones\":[{\"code\":\"NO\",\"id\":261,\"iana\":\"Europe/Oslo\"},{\"code\":\"SE\",\"id\":null,"
    "\"iana\":\"Europe/Stockholm\"}]}";

static void
test_parse_and_look_up(void **state)
{
	struct refdata *rd = refdata_parse(doc, 9);
	const char *cands[] = { "pt", "nb", "sv" };
	struct language_choice lc;
	struct culture_format cf;
	struct timezone_info tz;
	struct webhook w;

	(void)state;
	assert_non_null(rd);
	assert_int_equal(refdata_generation(rd), 9);

	refdata_defaults(rd, &w);
	assert_string_equal(w.name, "US:\"New\";NO:\"Ny\"");
	assert_int_equal(w.nevents, 2);
	assert_string_equal(w.events[1], "c.d");
	assert_null(w.target_url);
	assert_int_equal(w.state, WEBHOOK_STATE_STOPPED);
	assert_string_equal(w.headers_json, "{\"X-A\": \"1\"}");
	assert_null(w.properties_json);
	webhook_free(&w);

	assert_true(refdata_language_choice(rd, cands, 3, &lc));
	assert_string_equal(lc.code, "nb");
	assert_string_equal(lc.ml_code, "NO");
	assert_string_equal(lc.default_code, "en");
	assert_false(refdata_language_choice(rd, cands, 1, &lc));
	assert_string_equal(lc.default_ml_code, "US");

	assert_string_equal(refdata_resource_text(rd, "SR_A", "sv", "en"), "A-sv");
	assert_string_equal(refdata_resource_text(rd, "SR_A", "nb", "en"), "A-en");
	assert_null(refdata_resource_text(rd, "SR_B", "nb", "en"));
	assert_null(refdata_resource_text(rd, "SR_C", "sv", "en"));

	assert_true(refdata_culture(rd, "en-GB", &cf));
	assert_string_equal(cf.date_pattern, "dd/MM/yyyy");
	assert_true(refdata_culture(rd, "en-US", &cf)); /* falls back to the language */
	assert_string_equal(cf.date_pattern, "M/d/yyyy");
	assert_false(refdata_culture(rd, "de", &cf));

	assert_true(refdata_timezone(rd, "NO", false, &tz));
	assert_string_equal(tz.iana, "Europe/Oslo");
	assert_true(refdata_timezone(rd, "0261", true, &tz));
	assert_string_equal(tz.code, "NO");
	assert_false(refdata_timezone(rd, "0", true, &tz)); /* SE has no id: 0 is not it */
	assert_false(refdata_timezone(rd, "XX", false, &tz));
	refdata_unref(rd);
}

static void
test_malformed_documents_are_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"defaults\":[],\"languages\":[],\"resources\":[],\"cultures\":[],\"timezones\":[]}",
		"{\"defaults\":[{\"state\":1},{\"state\":1}],\"languages\":[],\"resources\":[],\"cultures\":[],\"timezones\":[]}",
		"{\"defaults\":[{\"state\":\"x\"}],\"languages\":[],\"resources\":[],\"cultures\":[],\"timezones\":[]}",
		"{\"defaults\":[{\"state\":1}],\"languages\":[{\"code\":\"en\"}],\"resources\":[],\"cultures\":[],\"timezones\":[]}",
		"{\"defaults\":[{\"state\":1}],\"languages\":[]}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct refdata *rd = refdata_parse(bad[i], 1);

		if (rd != NULL)
			fail_msg("case %zu was accepted", i);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_look_up),
		cmocka_unit_test(test_malformed_documents_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
