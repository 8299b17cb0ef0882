/* Request header parsers: Accept, Accept-Language/SO-Language, SO-Culture, SO-TimeZone, Cookie,
 * and the translation helpers for multi-language values, resources and cultures. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cookie.h"
#include "http.h"
#include "lang.h"
#include "negotiate.h"
#include "tzheader.h"

struct accept_case {
	const char *accept;
	enum negotiate_result result;
	enum media_type type;
};

static void
test_accept_table(void **state)
{
	static const struct accept_case cases[] = {
		{ NULL, NEGOTIATE_OK, MEDIA_APPLICATION_JSON },
		{ "", NEGOTIATE_OK, MEDIA_APPLICATION_JSON },
		{ "*/*", NEGOTIATE_OK, MEDIA_APPLICATION_JSON },
		{ "application/json; charset=utf-8", NEGOTIATE_OK, MEDIA_APPLICATION_JSON }, /* the reference sample */
		{ "text/json", NEGOTIATE_OK, MEDIA_TEXT_JSON },
		{ "application/xml", NEGOTIATE_OK, MEDIA_APPLICATION_XML },
		{ "TEXT/XML", NEGOTIATE_OK, MEDIA_TEXT_XML },
		{ "application/json-patch+json", NEGOTIATE_OK, MEDIA_JSON_PATCH },
		{ "application/merge-patch+json", NEGOTIATE_OK, MEDIA_MERGE_PATCH },
		{ "text/*", NEGOTIATE_OK, MEDIA_TEXT_JSON },
		{ "application/*;q=0.5, text/xml", NEGOTIATE_OK, MEDIA_TEXT_XML },
		{ "application/json;q=0.4, application/xml;q=0.9", NEGOTIATE_OK, MEDIA_APPLICATION_XML },
		{ "application/xml;q=0.5, application/json;q=0.5", NEGOTIATE_OK, MEDIA_APPLICATION_JSON }, /* tie: ours */
		{ "*/*;q=0.1, application/json;q=0", NEGOTIATE_OK, MEDIA_TEXT_JSON }, /* json refused explicitly */
		{ "text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", NEGOTIATE_OK, MEDIA_APPLICATION_XML },
		{ "application/json; odata=verbose", NEGOTIATE_OK, MEDIA_APPLICATION_JSON },
		{ "application/json; charset=\"UTF-8\"", NEGOTIATE_OK, MEDIA_APPLICATION_JSON },
		{ ",, application/xml ,", NEGOTIATE_OK, MEDIA_APPLICATION_XML },
		{ "text/html", NEGOTIATE_NOT_ACCEPTABLE, MEDIA_APPLICATION_JSON },
		{ "application/json; charset=iso-8859-1", NEGOTIATE_NOT_ACCEPTABLE, MEDIA_APPLICATION_JSON },
		{ "application/json;q=0", NEGOTIATE_NOT_ACCEPTABLE, MEDIA_APPLICATION_JSON },
		{ "image/png, text/plain;q=0.9", NEGOTIATE_NOT_ACCEPTABLE, MEDIA_APPLICATION_JSON },
		{ "json", NEGOTIATE_MALFORMED, MEDIA_APPLICATION_JSON },
		{ "application/", NEGOTIATE_MALFORMED, MEDIA_APPLICATION_JSON },
		{ "*/json", NEGOTIATE_MALFORMED, MEDIA_APPLICATION_JSON },
		{ "application/json;q=2", NEGOTIATE_MALFORMED, MEDIA_APPLICATION_JSON },
		{ "application/json;q=0.1234", NEGOTIATE_MALFORMED, MEDIA_APPLICATION_JSON },
		{ "application/json;q", NEGOTIATE_MALFORMED, MEDIA_APPLICATION_JSON },
		{ "application/json x", NEGOTIATE_MALFORMED, MEDIA_APPLICATION_JSON },
		{ "application/json; p=\"open", NEGOTIATE_MALFORMED, MEDIA_APPLICATION_JSON },
		{ "a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,"
		  "a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b,a/b", NEGOTIATE_MALFORMED, MEDIA_APPLICATION_JSON },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum media_type t;
		enum negotiate_result r = negotiate_accept(cases[i].accept, &t);

		if (r != cases[i].result || (r == NEGOTIATE_OK && t != cases[i].type))
			fail_msg("case %zu (%s): got %d/%d, expected %d/%d", i, cases[i].accept ? cases[i].accept : "NULL",
			    (int)r, (int)t, (int)cases[i].result, (int)cases[i].type);
	}
	assert_string_equal(media_type_content_type(MEDIA_TEXT_XML), "text/xml; charset=utf-8");
	assert_int_equal(media_type_format(MEDIA_MERGE_PATCH), EMIT_JSON);
	assert_int_equal(media_type_format(MEDIA_TEXT_XML), EMIT_XML);
}

static void
test_languages(void **state)
{
	struct lang_request r;

	(void)state;
	assert_int_equal(lang_parse(NULL, NULL, &r), LANG_OK);
	assert_false(r.off);
	assert_int_equal(r.n, 0);

	assert_int_equal(lang_parse("da, en-GB;q=0.8, en;q=0.7", NULL, &r), LANG_OK);
	assert_int_equal(r.n, 2); /* en-GB and en share the primary subtag */
	assert_string_equal(r.tags[0], "da");
	assert_string_equal(r.tags[1], "en");

	assert_int_equal(lang_parse("en;q=0.5, SV, de;q=0.9, fr;q=0", NULL, &r), LANG_OK);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.tags[0], "sv");
	assert_string_equal(r.tags[1], "de");
	assert_string_equal(r.tags[2], "en");

	/* SO-Language overrides and Accept-Language still supplies fallbacks (the TypeScript client
	 * sends both from one code). */
	assert_int_equal(lang_parse("en", "sv", &r), LANG_OK);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.tags[0], "sv");
	assert_int_equal(lang_parse("sv", "sv", &r), LANG_OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(lang_parse("en", "*", &r), LANG_OK);
	assert_true(r.off);
	assert_int_equal(lang_parse("en", " x ", &r), LANG_OK);
	assert_true(r.off);
	assert_int_equal(lang_parse("*", NULL, &r), LANG_OK);
	assert_int_equal(r.n, 0);

	assert_int_equal(lang_parse("en;q=1.5", NULL, &r), LANG_MALFORMED_ACCEPT_LANGUAGE);
	assert_int_equal(lang_parse("en;x=1", NULL, &r), LANG_MALFORMED_ACCEPT_LANGUAGE);
	assert_int_equal(lang_parse("e$n", NULL, &r), LANG_MALFORMED_ACCEPT_LANGUAGE);
	assert_int_equal(lang_parse("toolonglanguage", NULL, &r), LANG_MALFORMED_ACCEPT_LANGUAGE);
	assert_int_equal(lang_parse(NULL, "sv en", &r), LANG_MALFORMED_SO_LANGUAGE);
	assert_int_equal(lang_parse(NULL, "1", &r), LANG_MALFORMED_SO_LANGUAGE);
}

/* One qvalue grammar (RFC 9110, 12.4.2) for Accept and Accept-Language: every spelling strtod or
 * a lax reader would take (hex, exponents, a leading dot, a fourth decimal, more than 1) is
 * malformed in both headers, and every spelling the grammar allows is taken by both. */
static void
test_qvalues(void **state)
{
	static const struct {
		const char *q;
		int thousandths;  /* -1: malformed */
	} cases[] = {
		{ "0", 0 }, { "1", 1000 }, { "0.", 0 }, { "1.", 1000 }, { "0.5", 500 }, { "0.05", 50 },
		{ "0.001", 1 }, { "0.999", 999 }, { "1.0", 1000 }, { "1.000", 1000 }, { "0.000", 0 },
		{ "0x1", -1 }, { "1e-3", -1 }, { "0e0", -1 }, { ".5", -1 }, { "1.0001", -1 }, { "0.1234", -1 },
		{ "2", -1 }, { "1.5", -1 }, { "1.001", -1 }, { "01", -1 }, { "00.5", -1 }, { "-0", -1 },
		{ "+1", -1 }, { "0.5x", -1 }, { "\"0.5\"", -1 }, { "", -1 }, { " 0.5", -1 }, { "0,5", -1 },
		{ "1.0e0", -1 }, { "inf", -1 }, { "nan", -1 }, { "0.5.", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char accept[64], language[64];
		enum media_type t;
		struct lang_request lr;
		enum negotiate_result nr;
		enum lang_parse_result lpr;
		bool ok = cases[i].thousandths >= 0;

		snprintf(accept, sizeof accept, "text/json;q=0.001, application/xml;q=%s", cases[i].q);
		nr = negotiate_accept(accept, &t);
		if (nr != (ok ? NEGOTIATE_OK : NEGOTIATE_MALFORMED))
			fail_msg("Accept q=%s: got %d", cases[i].q, (int)nr);
		if (ok && cases[i].thousandths > 1 && t != MEDIA_APPLICATION_XML)
			fail_msg("Accept q=%s: XML should win over q=0.001", cases[i].q);
		snprintf(language, sizeof language, "sv;q=0.001, en;q=%s", cases[i].q);
		lpr = lang_parse(language, NULL, &lr);
		if (lpr != (ok ? LANG_OK : LANG_MALFORMED_ACCEPT_LANGUAGE))
			fail_msg("Accept-Language q=%s: got %d", cases[i].q, (int)lpr);
		if (ok && cases[i].thousandths > 1 && (lr.n != 2 || strcmp(lr.tags[0], "en") != 0))
			fail_msg("Accept-Language q=%s: en should come first", cases[i].q);
		if (ok && cases[i].thousandths == 0 && lr.n != 1)
			fail_msg("Accept-Language q=%s: q=0 excludes en", cases[i].q);
	}
	/* The shared parser itself: where it stops, and what it reads. */
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int q = -7;
		const char *end = http_parse_qvalue(cases[i].q, &q);
		bool whole = end != NULL && *end == '\0';

		if (whole != (cases[i].thousandths >= 0) || (whole && q != cases[i].thousandths))
			fail_msg("http_parse_qvalue(%s): end %s, q %d", cases[i].q, end != NULL ? end : "NULL", q);
	}
	/* "Q" is the same parameter (ABNF strings are case-insensitive); white space around ";" too. */
	{
		enum media_type t;
		struct lang_request lr;

		assert_int_equal(negotiate_accept("application/json;Q=0.1, application/xml ; q=0.9", &t), NEGOTIATE_OK);
		assert_int_equal(t, MEDIA_APPLICATION_XML);
		assert_int_equal(lang_parse("en;Q=0.1, sv ; q=0.9", NULL, &lr), LANG_OK);
		assert_string_equal(lr.tags[0], "sv");
		assert_int_equal(negotiate_accept("application/json;q=0.5;charset=utf-8", &t), NEGOTIATE_OK);
		assert_int_equal(negotiate_accept("application/json;q=\"1\"", &t), NEGOTIATE_MALFORMED);
	}
}

static void
test_cultures(void **state)
{
	char tag[LANG_TAG_MAX + 1];

	(void)state;
	assert_true(lang_parse_culture("nb", tag));
	assert_string_equal(tag, "nb");
	assert_true(lang_parse_culture("en-us", tag));
	assert_string_equal(tag, "en-US");
	assert_true(lang_parse_culture("SV_se", tag));
	assert_string_equal(tag, "sv-SE");
	assert_false(lang_parse_culture("e", tag));
	assert_false(lang_parse_culture("english", tag));
	assert_false(lang_parse_culture("en-USA", tag));
	assert_false(lang_parse_culture("en-", tag));
	assert_false(lang_parse_culture("en US", tag));
}

static void
test_multilanguage_values(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out);
	assert_true(lang_pick_variant("US:\"New hook\";NO:\"Ny hook\"", "NO", "US", &out));
	assert_string_equal(out.data, "Ny hook");
	buf_reset(&out);
	assert_true(lang_pick_variant("US:\"New hook\";NO:\"Ny hook\"", "SE", "US", &out)); /* fallback */
	assert_string_equal(out.data, "New hook");
	buf_reset(&out);
	assert_true(lang_pick_variant("NO:\"Ny hook\";GE:\"Neuer\";", "SE", "US", &out)); /* first variant */
	assert_string_equal(out.data, "Ny hook");
	buf_reset(&out);
	assert_false(lang_pick_variant("Plain name", "NO", "US", &out));
	assert_false(lang_pick_variant("US:\"open", "NO", "US", &out));
	assert_false(lang_pick_variant("US:\"a\" NO:\"b\"", "NO", "US", &out));
	assert_false(lang_pick_variant("us:\"a\"", "NO", "US", &out));
	buf_free(&out);
}

static const char *
lookup(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "SR_HOOK") == 0 ? "Webhook" : NULL;
}

static void
test_resource_references(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out);
	lang_replace_references("New [SR_HOOK] and [SR_MISSING], [sr_hook], [SR_] [SR_HOOK]", lookup, NULL, &out);
	assert_string_equal(out.data, "New Webhook and [SR_MISSING], [sr_hook], [SR_] Webhook");
	buf_free(&out);
}

static void
test_culture_formatting(void **state)
{
	const struct lang_culture nb = { ",", " ", "dd.MM.yyyy" };
	const struct lang_culture us = { ".", ",", "M/d/yyyy" };
	struct buf out;

	(void)state;
	buf_init(&out);
	lang_format_culture("Limit {n:1234567.25} from {d:2024-05-01}", &nb, &out);
	assert_string_equal(out.data, "Limit 1 234 567,25 from 01.05.2024");
	buf_reset(&out);
	lang_format_culture("Limit {n:-1234} from {d:2024-05-01}", &us, &out);
	assert_string_equal(out.data, "Limit -1,234 from 5/1/2024");
	buf_reset(&out);
	lang_format_culture("{n:12.5} {d:2024-05-01}", NULL, &out);
	assert_string_equal(out.data, "12.5 2024-05-01");
	buf_reset(&out);
	lang_format_culture("{n:} {n:1.} {d:2024-13-01} {x:1} {", &nb, &out);
	assert_string_equal(out.data, "{n:} {n:1.} {d:2024-13-01} {x:1} {");
	buf_free(&out);
}

static void
test_timezone_header(void **state)
{
	struct tz_request tz;

	(void)state;
	assert_true(tz_parse_header("NO", &tz));
	assert_string_equal(tz.key, "NO");
	assert_false(tz.by_id);
	assert_false(tz.include_offset);
	assert_true(tz_parse_header("us-ny, includeTZOffset", &tz));
	assert_string_equal(tz.key, "US-NY");
	assert_true(tz.include_offset);
	assert_true(tz_parse_header("NO,includetzoffset", &tz));
	assert_true(tz.include_offset);
	assert_true(tz_parse_header(" 261 ", &tz));
	assert_true(tz.by_id);
	assert_string_equal(tz.key, "261");
	assert_false(tz_parse_header("", &tz));
	assert_false(tz_parse_header("NO,", &tz));
	assert_false(tz_parse_header("NO,includeOffset", &tz));
	assert_false(tz_parse_header("NO;includeTZOffset", &tz));
	assert_false(tz_parse_header("-NO", &tz));
	assert_false(tz_parse_header("Europe/Oslo", &tz));
	assert_false(tz_parse_header("1234567890", &tz));
	assert_false(tz_parse_header("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", &tz));
}

static void
test_cookies(void **state)
{
	char v[16];

	(void)state;
	assert_true(cookie_find("a=1; SO_SESSION=abc; b=2", "SO_SESSION", v, sizeof v));
	assert_string_equal(v, "abc");
	assert_true(cookie_find("SO_SESSION=\"q\"", "SO_SESSION", v, sizeof v));
	assert_string_equal(v, "q");
	assert_false(cookie_find("XSO_SESSION=abc", "SO_SESSION", v, sizeof v));
	assert_false(cookie_find("SO_SESSIONX=abc", "SO_SESSION", v, sizeof v));
	assert_false(cookie_find("SO_SESSION=0123456789abcdef", "SO_SESSION", v, sizeof v)); /* too long */
	assert_false(cookie_find(NULL, "SO_SESSION", v, sizeof v));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_table),
		cmocka_unit_test(test_languages),
		cmocka_unit_test(test_qvalues),
		cmocka_unit_test(test_cultures),
		cmocka_unit_test(test_multilanguage_values),
		cmocka_unit_test(test_resource_references),
		cmocka_unit_test(test_culture_formatting),
		cmocka_unit_test(test_timezone_header),
		cmocka_unit_test(test_cookies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
