/* Authorization parsing, password verification and the verification cache. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "auth.h"
#include "authcache.h"

struct parse_case {
	const char *header;
	enum auth_parse_result expected;
	const char *user;
	const char *password;
};

static void
test_parse_table(void **state)
{
	static const struct parse_case cases[] = {
		{ "Basic dGplMDpUamUw", AUTH_PARSED, "tje0", "Tje0" },          /* the reference page's sample */
		{ "basic dGplMDpUamUw", AUTH_PARSED, "tje0", "Tje0" },
		{ "BASIC   dGplMDpUamUw  ", AUTH_PARSED, "tje0", "Tje0" },
		{ "Basic dXNlcjpwYTpzczp3b3Jk", AUTH_PARSED, "user", "pa:ss:word" }, /* colons after the first */
		{ "Basic OnNlY3JldA==", AUTH_PARSED, "", "secret" },            /* empty user: a lookup miss */
		{ "Basic dXNlcjo=", AUTH_PARSED, "user", "" },
		{ NULL, AUTH_ABSENT, "", "" },
		{ "", AUTH_ABSENT, "", "" },
		{ "   ", AUTH_ABSENT, "", "" },
		{ "Bearer abc.def", AUTH_UNSUPPORTED, "", "" },
		{ "SOTicket 7T:abc==", AUTH_UNSUPPORTED, "", "" },
		{ "Basic", AUTH_MALFORMED, "", "" },
		{ "Basic ", AUTH_MALFORMED, "", "" },
		{ "Basic !!!!", AUTH_MALFORMED, "", "" },
		{ "Basic dXNlcg==", AUTH_MALFORMED, "", "" },                   /* "user": no colon */
		{ "Basic dGplMDpUamUw extra", AUTH_MALFORMED, "", "" },
		{ "Basic dGplMDpUamU", AUTH_MALFORMED, "", "" },                /* bad padding */
		{ "Basic dXNlcgBhOmI=", AUTH_MALFORMED, "", "" },               /* "user\0a:b": NUL byte */
		{ "Basi\x01 x", AUTH_MALFORMED, "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct basic_credentials c;
		enum auth_parse_result r = auth_parse_basic(cases[i].header, &c);

		if (r != cases[i].expected)
			fail_msg("case %zu (%s): got %d, expected %d", i, cases[i].header ? cases[i].header : "NULL",
			    (int)r, (int)cases[i].expected);
		assert_string_equal(c.user, cases[i].user);
		assert_string_equal(c.password, cases[i].password);
	}
}

static void
test_parse_size_limits(void **state)
{
	char decoded[AUTH_USER_MAX + AUTH_PASSWORD_MAX + 8];
	char header[2048] = "Basic ";
	struct basic_credentials c;

	(void)state;
	/* The longest acceptable user and password. */
	memset(decoded, 'u', AUTH_USER_MAX);
	decoded[AUTH_USER_MAX] = ':';
	memset(decoded + AUTH_USER_MAX + 1, 'p', AUTH_PASSWORD_MAX);
	sodium_bin2base64(header + 6, sizeof header - 6, (unsigned char *)decoded, AUTH_USER_MAX + 1 + AUTH_PASSWORD_MAX,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(auth_parse_basic(header, &c), AUTH_PARSED);
	assert_int_equal(strlen(c.user), AUTH_USER_MAX);
	assert_int_equal(strlen(c.password), AUTH_PASSWORD_MAX);

	/* One byte more in the password. */
	memset(decoded + AUTH_USER_MAX + 1, 'p', AUTH_PASSWORD_MAX + 1);
	sodium_bin2base64(header + 6, sizeof header - 6, (unsigned char *)decoded, AUTH_USER_MAX + 2 + AUTH_PASSWORD_MAX,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(auth_parse_basic(header, &c), AUTH_MALFORMED);

	/* One byte more in the user. */
	memset(decoded, 'u', AUTH_USER_MAX + 1);
	decoded[AUTH_USER_MAX + 1] = ':';
	sodium_bin2base64(header + 6, sizeof header - 6, (unsigned char *)decoded, AUTH_USER_MAX + 3,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(auth_parse_basic(header, &c), AUTH_MALFORMED);

	/* A huge token is refused before decoding. */
	memset(header + 6, 'A', sizeof header - 7);
	header[sizeof header - 1] = '\0';
	assert_int_equal(auth_parse_basic(header, &c), AUTH_MALFORMED);
}

static void
test_password_hash_and_verify(void **state)
{
	struct auth_crypt *c = auth_crypt_new();
	char hash[256];

	(void)state;
	assert_true(auth_password_hash(c, "correct horse", hash, sizeof hash));
	assert_memory_equal(hash, "$y$", 3);
	assert_true(auth_password_verify(c, "correct horse", hash));
	assert_false(auth_password_verify(c, "correct horsE", hash));
	assert_false(auth_password_verify(c, "", hash));
	/* A clear-text "hash" or garbage never verifies, even against itself. */
	assert_false(auth_password_verify(c, "plain", "plain"));
	assert_false(auth_password_verify(c, "*0", "*0"));
	auth_crypt_free(c);
}

static void
test_bcrypt_hashes_verify(void **state)
{
	struct auth_crypt *c = auth_crypt_new();
	/* bcrypt of "secret", cost 5. */
	static const char bcrypt[] = "$2b$05$hf7U3.CEhyaJUm6GifjhwO9grvnw5U1cd3AHGG9bGB9nWaACTRu5S";

	(void)state;
	assert_true(auth_password_verify(c, "secret", bcrypt));
	assert_false(auth_password_verify(c, "Secret", bcrypt));
	auth_crypt_free(c);
}

static void
test_cache(void **state)
{
	struct authcache *cache = authcache_new(4);

	(void)state;
	assert_false(authcache_lookup(cache, "alice", "$y$hash1", "pw"));
	authcache_store(cache, "alice", "$y$hash1", "pw");
	assert_true(authcache_lookup(cache, "alice", "$y$hash1", "pw"));
	assert_false(authcache_lookup(cache, "alice", "$y$hash1", "pw2"));     /* other password */
	assert_false(authcache_lookup(cache, "alice", "$y$hash2", "pw"));      /* password changed */
	assert_false(authcache_lookup(cache, "bob", "$y$hash1", "pw"));        /* other user */
	authcache_free(cache);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_size_limits),
		cmocka_unit_test(test_password_hash_and_verify),
		cmocka_unit_test(test_bcrypt_hashes_verify),
		cmocka_unit_test(test_cache),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
