/* Authorization parsing, password verification and the verification cache. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "auth.h"
#include "credcache.h"

struct parse_case {
	const char *header;
	unsigned accepted;
	enum auth_parse_result expected;
	enum auth_scheme scheme;
	const char *user;
	const char *password;
	const char *token;
};

#define B AUTH_SCHEME_BASIC
#define ALL AUTH_SCHEME_ALL

static void
test_parse_table(void **state)
{
	static const struct parse_case cases[] = {
		{ "Basic dGplMDpUamUw", ALL, AUTH_PARSED, B, "tje0", "Tje0", "" },   /* the reference page's sample */
		{ "basic dGplMDpUamUw", B, AUTH_PARSED, B, "tje0", "Tje0", "" },
		{ "BASIC   dGplMDpUamUw  ", B, AUTH_PARSED, B, "tje0", "Tje0", "" },
		{ "Basic dXNlcjpwYTpzczp3b3Jk", B, AUTH_PARSED, B, "user", "pa:ss:word", "" }, /* colons after the first */
		{ "Basic OnNlY3JldA==", B, AUTH_MALFORMED, B, "", "", "" },        /* ":secret": no user name */
		{ "Basic w6VzYTpwdw==", B, AUTH_PARSED, B, "\xc3\xa5sa", "pw", "" },   /* "åsa:pw": UTF-8 */
		{ "Basic /2FsaWNlOnB3", B, AUTH_MALFORMED, B, "", "", "" },        /* "\xffalice:pw": not UTF-8 */
		{ "Basic 6WxpY2U6cHc=", B, AUTH_MALFORMED, B, "", "", "" },        /* "\xe9lice:pw": Latin-1 */
		{ "Basic YWwJaWNlOnB3", B, AUTH_MALFORMED, B, "", "", "" },        /* "al\tice:pw": a control */
		{ "Basic YWzChWljZTpwdw==", B, AUTH_MALFORMED, B, "", "", "" },    /* "al\u0085ice:pw": a C1 control */
		{ "Basic YWxpY2U6/w==", B, AUTH_PARSED, B, "alice", "\xff", "" },  /* passwords only meet crypt(3) */
		{ "Basic YWxpY2U6cAl3", B, AUTH_PARSED, B, "alice", "p\tw", "" },
		{ "Basic dXNlcjo=", B, AUTH_PARSED, B, "user", "", "" },
		{ "SOTicket 7T:abc==", ALL, AUTH_PARSED, AUTH_SCHEME_SOTICKET, "", "", "7T:abc==" },
		{ "SOTICKET 7T:abc==", ALL, AUTH_PARSED, AUTH_SCHEME_SOTICKET, "", "", "7T:abc==" },
		{ "soticket  7T:abc==  ", ALL, AUTH_PARSED, AUTH_SCHEME_SOTICKET, "", "", "7T:abc==" },
		{ "Bearer abc.def-ghi_jkl", ALL, AUTH_PARSED, AUTH_SCHEME_BEARER, "", "", "abc.def-ghi_jkl" },
		{ "bearer x", AUTH_SCHEME_BEARER, AUTH_PARSED, AUTH_SCHEME_BEARER, "", "", "x" },
		{ NULL, ALL, AUTH_ABSENT, 0, "", "", "" },
		{ "", ALL, AUTH_ABSENT, 0, "", "", "" },
		{ "   ", ALL, AUTH_ABSENT, 0, "", "", "" },
		{ "Bearer abc.def", B, AUTH_UNSUPPORTED, 0, "", "", "" },
		{ "SOTicket 7T:abc==", B, AUTH_UNSUPPORTED, 0, "", "", "" },
		{ "Basic dGplMDpUamUw", AUTH_SCHEME_SOTICKET | AUTH_SCHEME_BEARER, AUTH_UNSUPPORTED, 0, "", "", "" },
		{ "Digest x=y", ALL, AUTH_UNSUPPORTED, 0, "", "", "" },
		{ "Basic", B, AUTH_MALFORMED, B, "", "", "" },
		{ "Basic ", B, AUTH_MALFORMED, B, "", "", "" },
		{ "Basic !!!!", B, AUTH_MALFORMED, B, "", "", "" },
		{ "Basic dXNlcg==", B, AUTH_MALFORMED, B, "", "", "" },                  /* "user": no colon */
		{ "Basic dGplMDpUamUw extra", B, AUTH_MALFORMED, B, "", "", "" },
		{ "Basic dGplMDpUamU", B, AUTH_MALFORMED, B, "", "", "" },               /* bad padding */
		{ "Basic dXNlcgBhOmI=", B, AUTH_MALFORMED, B, "", "", "" },              /* "user\0a:b": NUL byte */
		{ "Basi\x01 x", ALL, AUTH_MALFORMED, 0, "", "", "" },
		{ "SOTicket", ALL, AUTH_MALFORMED, AUTH_SCHEME_SOTICKET, "", "", "" },
		{ "SOTicket a b", ALL, AUTH_MALFORMED, AUTH_SCHEME_SOTICKET, "", "", "" },
		{ "Bearer t\x7f", ALL, AUTH_MALFORMED, AUTH_SCHEME_BEARER, "", "", "" },
		{ "Bearer caf\xc3\xa9", ALL, AUTH_MALFORMED, AUTH_SCHEME_BEARER, "", "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct auth_credentials c;
		enum auth_parse_result r = auth_parse(cases[i].header, cases[i].accepted, &c);

		if (r != cases[i].expected)
			fail_msg("case %zu (%s): got %d, expected %d", i, cases[i].header ? cases[i].header : "NULL",
			    (int)r, (int)cases[i].expected);
		assert_int_equal(c.scheme, cases[i].scheme);
		assert_string_equal(c.user, cases[i].user);
		assert_string_equal(c.password, cases[i].password);
		assert_string_equal(c.token, cases[i].token);
	}
}

static void
test_token_size_limit(void **state)
{
	char header[AUTH_TOKEN_MAX + 16] = "Bearer ";
	struct auth_credentials c;

	(void)state;
	memset(header + 7, 'a', AUTH_TOKEN_MAX);
	header[7 + AUTH_TOKEN_MAX] = '\0';
	assert_int_equal(auth_parse(header, ALL, &c), AUTH_PARSED);
	header[7 + AUTH_TOKEN_MAX] = 'a';
	header[8 + AUTH_TOKEN_MAX] = '\0';
	assert_int_equal(auth_parse(header, ALL, &c), AUTH_MALFORMED);
}

static void
test_scheme_list(void **state)
{
	unsigned mask;

	(void)state;
	assert_true(auth_parse_scheme_list("basic,soticket,bearer", &mask));
	assert_int_equal(mask, ALL);
	assert_true(auth_parse_scheme_list(" SOTicket , Bearer ", &mask));
	assert_int_equal(mask, AUTH_SCHEME_SOTICKET | AUTH_SCHEME_BEARER);
	assert_false(auth_parse_scheme_list("basic,ntlm", &mask));
	assert_false(auth_parse_scheme_list("", &mask));
	assert_string_equal(auth_challenge(AUTH_SCHEME_BASIC),
	    "Basic realm=\"SuperOffice Username or Ticket\", charset=\"UTF-8\"");
	assert_string_equal(auth_challenge(AUTH_SCHEME_SOTICKET), "SOTicket realm=\"SuperOffice Username or Ticket\"");
}

static void
test_token_digest(void **state)
{
	char hex[AUTH_DIGEST_HEX_SIZE];

	(void)state;
	auth_token_digest_hex("abc", hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(auth_token_digest_matches("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(auth_token_digest_matches("abd", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(auth_token_digest_matches("abc", ""));
}

static void
test_parse_size_limits(void **state)
{
	char decoded[AUTH_USER_MAX + AUTH_PASSWORD_MAX + 8];
	char header[2048] = "Basic ";
	struct auth_credentials c;

	(void)state;
	/* The longest acceptable user and password. */
	memset(decoded, 'u', AUTH_USER_MAX);
	decoded[AUTH_USER_MAX] = ':';
	memset(decoded + AUTH_USER_MAX + 1, 'p', AUTH_PASSWORD_MAX);
	sodium_bin2base64(header + 6, sizeof header - 6, (unsigned char *)decoded, AUTH_USER_MAX + 1 + AUTH_PASSWORD_MAX,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(auth_parse(header, B, &c), AUTH_PARSED);
	assert_int_equal(strlen(c.user), AUTH_USER_MAX);
	assert_int_equal(strlen(c.password), AUTH_PASSWORD_MAX);

	/* One byte more in the password. */
	memset(decoded + AUTH_USER_MAX + 1, 'p', AUTH_PASSWORD_MAX + 1);
	sodium_bin2base64(header + 6, sizeof header - 6, (unsigned char *)decoded, AUTH_USER_MAX + 2 + AUTH_PASSWORD_MAX,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(auth_parse(header, B, &c), AUTH_MALFORMED);

	/* One byte more in the password, with a short user: the decoded pair fits the buffer, so
	 * only the password's own limit refuses it. */
	memcpy(decoded, "u:", 2);
	memset(decoded + 2, 'p', AUTH_PASSWORD_MAX + 1);
	sodium_bin2base64(header + 6, sizeof header - 6, (unsigned char *)decoded, AUTH_PASSWORD_MAX + 3,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(auth_parse(header, B, &c), AUTH_MALFORMED);

	/* One byte more in the user. */
	memset(decoded, 'u', AUTH_USER_MAX + 1);
	decoded[AUTH_USER_MAX + 1] = ':';
	sodium_bin2base64(header + 6, sizeof header - 6, (unsigned char *)decoded, AUTH_USER_MAX + 3,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(auth_parse(header, B, &c), AUTH_MALFORMED);

	/* A huge token is refused before decoding. */
	memset(header + 6, 'A', sizeof header - 7);
	header[sizeof header - 1] = '\0';
	assert_int_equal(auth_parse(header, B, &c), AUTH_MALFORMED);
}

static void
test_user_rules(void **state)
{
	static const struct {
		const char *name;
		size_t len;     /* 0: strlen */
		bool valid;
	} cases[] = {
		{ "alice", 0, true },
		{ "frank.o'neil@example.com", 0, true },
		{ "\xc3\x85sa \xc3\x98vreb\xc3\xb8", 0, true },      /* Åsa Øvrebø */
		{ "\xf0\x9f\x98\x80", 0, true },                       /* U+1F600 */
		{ "\xef\xbf\xbd", 0, true },                            /* U+FFFD */
		{ "a b", 0, true },                                     /* spaces belong to names */
		{ "", 0, false },
		{ "\xff", 0, false },
		{ "\xc0\xaf", 0, false },                                /* an overlong "/" */
		{ "\xe0\x80\xaf", 0, false },                            /* another */
		{ "\xed\xa0\x80", 0, false },                            /* a UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", 0, false },                        /* beyond U+10FFFF */
		{ "\xc3", 0, false },                                    /* cut short */
		{ "a\tb", 0, false },
		{ "a\rb", 0, false },
		{ "a\x1b[31m", 0, false },                                /* an escape sequence */
		{ "a\x7f", 0, false },
		{ "a\xc2\x85", 0, false },                                /* NEL, a C1 control */
		{ "a\xc2\x9f", 0, false },
		{ "a\xc2\xa0", 0, true },                                 /* NBSP is no control */
		{ "al\0ce", 6, false },
	};
	char name[AUTH_USER_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].name);

		if (auth_user_valid(cases[i].name, len) != cases[i].valid)
			fail_msg("case %zu: expected %s", i, cases[i].valid ? "valid" : "invalid");
	}
	memset(name, 'u', sizeof name);
	assert_true(auth_user_valid(name, AUTH_USER_MAX));
	assert_false(auth_user_valid(name, AUTH_USER_MAX + 1));
	/* A character must not straddle the limit. */
	memcpy(name + AUTH_USER_MAX - 1, "\xc3\xa5", 2);
	assert_true(auth_user_valid(name, AUTH_USER_MAX - 1));
	assert_false(auth_user_valid(name, AUTH_USER_MAX + 1));
	assert_false(auth_user_valid(name, AUTH_USER_MAX));
}

static void
test_token_rules(void **state)
{
	char token[AUTH_TOKEN_MAX + 2];

	(void)state;
	assert_true(auth_token_valid("7T:abc=="));
	assert_true(auth_token_valid("abc.def-ghi_jkl~!"));
	assert_false(auth_token_valid(""));
	assert_false(auth_token_valid(NULL));
	assert_false(auth_token_valid("a b"));
	assert_false(auth_token_valid("caf\xc3\xa9"));
	assert_false(auth_token_valid("x\x7f"));
	assert_false(auth_token_valid("x\x01"));
	memset(token, 'a', AUTH_TOKEN_MAX);
	token[AUTH_TOKEN_MAX] = '\0';
	assert_true(auth_token_valid(token));
	token[AUTH_TOKEN_MAX] = 'a';
	token[AUTH_TOKEN_MAX + 1] = '\0';
	assert_false(auth_token_valid(token));
}

static void
test_user_fold(void **state)
{
	static const struct {
		const char *name;
		const char *folded;
	} cases[] = {
		{ "ALICE", "alice" },
		{ "aLiCe", "alice" },
		{ "\xc3\x85SA", "\xc3\xa5sa" },                  /* ÅSA -> åsa */
		{ "\xc3\x98RJAN", "\xc3\xb8rjan" },              /* ØRJAN -> ørjan */
		{ "\xce\xa3\xce\x91\xce\xa3", "\xcf\x83\xce\xb1\xcf\x83" },  /* ΣΑΣ -> σασ */
		{ "\xe2\x84\xaa", "k" },                         /* the Kelvin sign lowers to k */
		{ "\xc8\xba", "\xe2\xb1\xa5" },                   /* Ⱥ (2 bytes) -> ⱥ (3 bytes) */
		{ "stra\xc3\x9f" "e", "stra\xc3\x9f" "e" },           /* ß has no one-character uppercase */
		{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
	};
	char out[AUTH_USER_FOLD_SIZE], longest[AUTH_USER_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		auth_user_fold(cases[i].name, out);
		assert_string_equal(out, cases[i].folded);
	}
	/* The most a name can grow: 64 two-byte letters that lower to three bytes each. */
	for (size_t i = 0; i < AUTH_USER_MAX; i += 2)
		memcpy(longest + i, "\xc8\xba", 2);
	longest[AUTH_USER_MAX] = '\0';
	assert_true(auth_user_valid(longest, AUTH_USER_MAX));
	auth_user_fold(longest, out);
	assert_int_equal(strlen(out), AUTH_USER_MAX * 3 / 2);
}

static void
test_password_check(void **state)
{
	struct auth_crypt *c = auth_crypt_new();
	/* bcrypt of "secret", cost 5: an older scheme. */
	static const char bcrypt[] = "$2b$05$hf7U3.CEhyaJUm6GifjhwO9grvnw5U1cd3AHGG9bGB9nWaACTRu5S";
	char hash[AUTH_HASH_MAX + 1], upgraded[AUTH_HASH_MAX + 1], other[AUTH_HASH_MAX + 1];

	(void)state;
	assert_true(auth_password_hash(c, "secret", hash, sizeof hash));
	assert_true(auth_password_current(hash));
	assert_false(auth_password_current(bcrypt));
	/* yescrypt with other parameters than the current ones is older too. */
	snprintf(other, sizeof other, "%s", hash);
	other[4] = other[4] == '9' ? '8' : '9';
	assert_false(auth_password_current(other));
	assert_false(auth_password_current("$gy$j9T$abc$def"));
	assert_false(auth_password_current(""));

	/* Unknown users and retired associates never match, whatever they send. */
	assert_false(auth_password_check(c, "secret", NULL, upgraded, sizeof upgraded));
	assert_string_equal(upgraded, "");
	assert_false(auth_password_check(c, "", NULL, upgraded, sizeof upgraded));
	/* A current hash: checked, nothing to upgrade. */
	assert_true(auth_password_check(c, "secret", hash, upgraded, sizeof upgraded));
	assert_string_equal(upgraded, "");
	assert_false(auth_password_check(c, "Secret", hash, upgraded, sizeof upgraded));
	/* An older one: a good password brings the hash of the current scheme, a wrong one nothing. */
	assert_false(auth_password_check(c, "Secret", bcrypt, upgraded, sizeof upgraded));
	assert_string_equal(upgraded, "");
	assert_true(auth_password_check(c, "secret", bcrypt, upgraded, sizeof upgraded));
	assert_true(auth_password_current(upgraded));
	assert_true(auth_password_verify(c, "secret", upgraded));
	assert_false(auth_password_verify(c, "Secret", upgraded));
	auth_crypt_free(c);
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
test_credential_cache(void **state)
{
	struct credcache *cache = credcache_new(8);
	struct credcache_entry e, got;
	unsigned char k2[CREDCACHE_KEY_BYTES];

	(void)state;
	memset(&e, 0, sizeof e);
	credcache_key(cache, "basic", "Basic dGplMDpUamUw", e.key);
	assert_false(credcache_get(cache, e.key, &got));
	e.generation = 7;
	e.associate_id = 42;
	strcpy(e.password_hash, "$y$hash");
	credcache_put(cache, &e);
	assert_true(credcache_get(cache, e.key, &got));
	assert_int_equal(got.associate_id, 42);
	assert_int_equal(got.generation, 7);
	assert_string_equal(got.password_hash, "$y$hash");
	/* Kinds are separate namespaces, and another credential is another key. */
	credcache_key(cache, "bearer", "Basic dGplMDpUamUw", k2);
	assert_memory_not_equal(k2, e.key, CREDCACHE_KEY_BYTES);
	assert_false(credcache_get(cache, k2, &got));
	credcache_key(cache, "basic", "Basic dGplMDpUamUx", k2);
	assert_false(credcache_get(cache, k2, &got));
	/* The same credential gives the same key within a process. */
	credcache_key(cache, "basic", "Basic dGplMDpUamUw", k2);
	assert_memory_equal(k2, e.key, CREDCACHE_KEY_BYTES);
	credcache_free(cache);
}

static void
test_credential_cache_keys_are_per_process(void **state)
{
	struct credcache *a = credcache_new(8), *b = credcache_new(8);
	unsigned char ka[CREDCACHE_KEY_BYTES], kb[CREDCACHE_KEY_BYTES];

	(void)state;
	credcache_key(a, "basic", "Basic dGplMDpUamUw", ka);
	credcache_key(b, "basic", "Basic dGplMDpUamUw", kb);
	assert_memory_not_equal(ka, kb, CREDCACHE_KEY_BYTES);
	credcache_free(a);
	credcache_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_size_limits),
		cmocka_unit_test(test_token_size_limit),
		cmocka_unit_test(test_scheme_list),
		cmocka_unit_test(test_token_digest),
		cmocka_unit_test(test_user_rules),
		cmocka_unit_test(test_token_rules),
		cmocka_unit_test(test_user_fold),
		cmocka_unit_test(test_password_check),
		cmocka_unit_test(test_password_hash_and_verify),
		cmocka_unit_test(test_bcrypt_hashes_verify),
		cmocka_unit_test(test_credential_cache),
		cmocka_unit_test(test_credential_cache_keys_are_per_process),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
