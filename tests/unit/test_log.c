/* The logger: one line per call with its journald priority, control characters flattened (a
 * newline in a client's value cannot forge a line), levels filtered, long lines cut whole. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* What one call of fn writes to stderr. */
static size_t
capture(void (*fn)(void), char *out, size_t cap)
{
	int fds[2], saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	assert_true(saved >= 0);
	assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
	close(fds[1]);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = read(fds[0], out, cap - 1);
	close(fds[0]);
	assert_true(n >= 0);
	out[n] = '\0';
	return (size_t)n;
}

static void
log_forged(void)
{
	log_error("user %s failed", "mallory\n<6>login ok\x01\x7f");
}

static void
log_debug_line(void)
{
	log_debug("not shown at info");
	log_info("shown");
}

static void
log_long(void)
{
	char big[3000];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_warning("%s", big);
}

static void
test_control_characters_cannot_forge_lines(void **state)
{
	char out[256];

	(void)state;
	log_set_level(LOG_LEVEL_INFO);
	capture(log_forged, out, sizeof out);
	assert_string_equal(out, "<3>user mallory?<6>login ok?? failed\n");
}

static void
test_levels_are_filtered(void **state)
{
	char out[256];

	(void)state;
	log_set_level(LOG_LEVEL_INFO);
	capture(log_debug_line, out, sizeof out);
	assert_string_equal(out, "<6>shown\n");
}

static void
test_a_long_line_is_cut_and_still_one_line(void **state)
{
	char out[4096];
	size_t n;

	(void)state;
	n = capture(log_long, out, sizeof out);
	assert_true(n > 900 && n <= 1024);
	assert_memory_equal(out, "<4>xxx", 6);
	assert_int_equal(out[n - 1], '\n');
	assert_null(memchr(out, '\n', n - 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_characters_cannot_forge_lines),
		cmocka_unit_test(test_levels_are_filtered),
		cmocka_unit_test(test_a_long_line_is_cut_and_still_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
