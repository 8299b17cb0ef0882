/* Settings: defaults, file, environment precedence, and errors that name the setting. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "settings.h"

static char path[64];

static void
write_file(const char *text)
{
	FILE *f;

	strcpy(path, "/tmp/webhookd-settings-XXXXXX");
	assert_true(mkstemp(path) >= 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_defaults_and_required_database(void **state)
{
	char *const env_ok[] = { "WEBHOOKD_DATABASE=dbname=x", "PATH=/bin", NULL };
	char *const env_none[] = { "PATH=/bin", NULL };
	struct settings s;
	char err[256];

	(void)state;
	assert_true(settings_load(&s, NULL, env_ok, err, sizeof err));
	assert_string_equal(s.database, "dbname=x");
	assert_null(s.listen);
	assert_int_equal(s.listen_mode, 0660);
	assert_int_equal(s.workers, 8);
	assert_int_equal(s.max_body, 65536);
	assert_int_equal(s.secret_rotation_grace_s, 86400);
	assert_int_equal(s.delivery_probe_interval_s, 60);
	settings_free(&s);

	assert_false(settings_load(&s, NULL, env_none, err, sizeof err));
	assert_non_null(strstr(err, "database is not set"));
}

static void
test_file_then_environment(void **state)
{
	char *const env[] = { "WEBHOOKD_WORKERS=3", NULL };
	struct settings s;
	char err[256];

	(void)state;
	write_file("# comment\n\n  listen = /run/w.sock  \nworkers=5\nlisten_mode = 0600\n"
	    "database = host=/tmp dbname=webhookd user=w\nlog_level = debug\n");
	assert_true(settings_load(&s, path, env, err, sizeof err));
	assert_string_equal(s.listen, "/run/w.sock");
	assert_int_equal(s.workers, 3); /* the environment wins */
	assert_int_equal(s.listen_mode, 0600);
	assert_string_equal(s.database, "host=/tmp dbname=webhookd user=w");
	assert_int_equal(s.log_level, 7);
	settings_free(&s);
	unlink(path);
}

struct error_case {
	const char *file;
	const char *env;
	const char *message;
};

static void
test_errors_name_the_setting(void **state)
{
	static const struct error_case cases[] = {
		{ "workers = 0\ndatabase = x\n", NULL, ":1: invalid workers \"0\": expected an integer from 1 to 256" },
		{ "workers = 8x\ndatabase = x\n", NULL, ":1: invalid workers \"8x\"" },
		{ "database = x\nworkers = -1\n", NULL, ":2: invalid workers \"-1\"" },
		{ "listen_mode = 0999\ndatabase = x\n", NULL, "invalid listen_mode \"0999\": expected an octal mode" },
		{ "colour = blue\n", NULL, ":1: unknown setting \"colour\"" },
		{ "just a line\n", NULL, ":1: expected \"key = value\"" },
		{ "log_level = loud\ndatabase = x\n", NULL, "invalid log_level \"loud\"" },
		{ "database = x\n", "WEBHOOKD_MAX_BODY=lots", "WEBHOOKD_MAX_BODY: invalid max_body \"lots\"" },
		{ "database = x\n", "WEBHOOKD_COLOUR=blue", "WEBHOOKD_COLOUR: unknown setting" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *env[] = { (char *)(uintptr_t)cases[i].env, NULL };
		struct settings s;
		char err[256];

		write_file(cases[i].file);
		assert_false(settings_load(&s, path, env, err, sizeof err));
		if (strstr(err, cases[i].message) == NULL)
			fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].message);
		unlink(path);
	}
}

static void
test_missing_file(void **state)
{
	char *const env[] = { NULL };
	struct settings s;
	char err[256];

	(void)state;
	assert_false(settings_load(&s, "/nonexistent/webhookd.conf", env, err, sizeof err));
	assert_string_equal(err, "cannot read configuration file /nonexistent/webhookd.conf: No such file or directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_required_database),
		cmocka_unit_test(test_file_then_environment),
		cmocka_unit_test(test_errors_name_the_setting),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
