/* PostgreSQL array literals for the delivery daemon's batches (src/pgarray.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pgarray.h"

static void
test_empty_and_numbers(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	pgarray_begin(&b);
	pgarray_end(&b);
	assert_string_equal(b.data, "{}");
	pgarray_begin(&b);  /* begin empties what was there */
	pgarray_int(&b, 7);
	pgarray_int(&b, -9223372036854775807LL - 1);
	pgarray_bool(&b, true);
	pgarray_bool(&b, false);
	pgarray_end(&b);
	assert_string_equal(b.data, "{7,-9223372036854775808,t,f}");
	buf_free(&b);
}

/* Whatever a text holds stays inside its element: quotes and backslashes escaped, and braces,
 * commas, blanks and the word NULL quoted as they are; a missing value is NULL, unquoted. */
static void
test_texts_are_quoted_and_escaped(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	pgarray_begin(&b);
	pgarray_text(&b, "plain");
	pgarray_text(&b, NULL);
	pgarray_text(&b, "NULL");
	pgarray_text(&b, "");
	pgarray_text(&b, "a \"quoted\" \\path\\, {braces}\r\n");
	pgarray_text(&b, "\\\"");
	pgarray_end(&b);
	assert_string_equal(b.data, "{\"plain\",NULL,\"NULL\",\"\","
	    "\"a \\\"quoted\\\" \\\\path\\\\, {braces}\r\n\",\"\\\\\\\"\"}");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_numbers),
		cmocka_unit_test(test_texts_are_quoted_and_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
