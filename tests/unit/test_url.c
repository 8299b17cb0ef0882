/* TargetUrl checks: accepted forms, each rule's message, and what a message may quote. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "url.h"

#define MSG_ABSOLUTE "TargetUrl must be an absolute https:// URL."
#define MSG_ABSOLUTE_HTTP "TargetUrl must be an absolute http:// or https:// URL."
#define MSG_NO_HTTP "TargetUrl must use https:// (this installation does not allow http://)."
#define MSG_CREDENTIALS "TargetUrl must not contain a user name or password."
#define MSG_HOST "TargetUrl must name a host (https://host/...)."
#define MSG_BAD_HOST "TargetUrl has an invalid host name."
#define MSG_PORT "TargetUrl has an invalid port: it must be a number from 1 to 65535."
#define MSG_SPACE "TargetUrl must not contain spaces or control characters."
#define MSG_FRAGMENT "TargetUrl must not contain a fragment (#...): it is never sent to the target."
#define MSG_LONG "TargetUrl must be at most 4000 characters long."

struct url_case {
	const char *url;
	bool allow_http;
	const char *msg;  /* NULL: accepted */
};

static const struct url_case cases[] = {
	/* Accepted. */
	{ "https://example.com/hook", false, NULL },
	{ "https://example.com", false, NULL },
	{ "HTTPS://Example.COM/Hook", false, NULL },
	{ "https://example.com:8443/a/b?token=abc&x=1", false, NULL },
	{ "https://example.com:1/", false, NULL },
	{ "https://example.com:65535/", false, NULL },
	{ "https://example.com/?", false, NULL },
	{ "https://93.184.216.34/hook", false, NULL },
	{ "https://[2001:db8::1]:8443/hook", false, NULL },
	{ "https://b\xc3\xbc" "cher.example/hook", false, NULL },  /* IDN host, UTF-8 */
	{ "https://example.com/%20x", false, NULL },
	{ "http://example.com/hook", true, NULL },
	{ "https://example.com/hook", true, NULL },
	/* Private addresses are net_post's business (they depend on where a name resolves). */
	{ "https://127.0.0.1/", false, NULL },

	/* Not absolute. */
	{ "", false, MSG_ABSOLUTE },
	{ "", true, MSG_ABSOLUTE_HTTP },
	{ "example.com/hook", false, MSG_ABSOLUTE },
	{ "example.com/hook", true, MSG_ABSOLUTE_HTTP },
	{ "//example.com/hook", false, MSG_ABSOLUTE },
	{ "/hook", false, MSG_ABSOLUTE },
	{ "https:example.com", false, MSG_ABSOLUTE },
	{ "https:/example.com", false, MSG_ABSOLUTE },
	{ "localhost:8080/hook", false, MSG_ABSOLUTE },
	{ "3https://example.com/", false, MSG_ABSOLUTE },

	/* Schemes. */
	{ "http://example.com/hook", false, MSG_NO_HTTP },
	{ "HTTP://example.com/hook", false, MSG_NO_HTTP },
	{ "ftp://example.com/", false, "TargetUrl must use https://, not ftp://." },
	{ "ftp://example.com/", true, "TargetUrl must use http:// or https://, not ftp://." },
	{ "file:///etc/passwd", false, "TargetUrl must use https://, not file://." },
	{ "gopher://example.com/", false, "TargetUrl must use https://, not gopher://." },
	{ "ws://example.com/", false, "TargetUrl must use https://, not ws://." },
	{ "foo+bar.baz-1://example.com/", false, "TargetUrl must use https://, not foo+bar.baz-1://." },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa://example.com/", false,
	    "TargetUrl must use https://, not aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...://." },

	/* Host. */
	{ "https://", false, MSG_HOST },
	{ "https:///hook", false, MSG_HOST },
	{ "https://:443/hook", false, MSG_HOST },
	{ "https://?x", false, MSG_HOST },
	{ "https://exa%2fmple.com/", false, MSG_BAD_HOST },
	{ "https://example.com\\hook", false, MSG_BAD_HOST },
	{ "https://[::1/", false, MSG_BAD_HOST },

	/* Port. */
	{ "https://example.com:0/", false, MSG_PORT },
	{ "https://example.com:65536/", false, MSG_PORT },
	{ "https://example.com:99999999999999999999/", false, MSG_PORT },
	{ "https://example.com:-1/", false, MSG_PORT },
	{ "https://example.com:x/", false, MSG_PORT },

	/* Credentials, even empty ones. */
	{ "https://user@example.com/", false, MSG_CREDENTIALS },
	{ "https://user:secret@example.com/", false, MSG_CREDENTIALS },
	{ "https://:secret@example.com/", false, MSG_CREDENTIALS },
	{ "https://@example.com/", false, MSG_CREDENTIALS },
	{ "https://user;auth=x@example.com/", false, MSG_CREDENTIALS },

	/* Whitespace and control characters anywhere. */
	{ " https://example.com/", false, MSG_SPACE },
	{ "https://example.com/ ", false, MSG_SPACE },
	{ "https://exa mple.com/", false, MSG_SPACE },
	{ "https://example.com/a b", false, MSG_SPACE },
	{ "https://example.com/a\tb", false, MSG_SPACE },
	{ "https://example.com/\r\nX-Injected: 1", false, MSG_SPACE },
	{ "https://example.com/\x01", false, MSG_SPACE },
	{ "https://example.com/?q=\x7f", false, MSG_SPACE },

	/* Fragments, even empty ones. */
	{ "https://example.com/#frag", false, MSG_FRAGMENT },
	{ "https://example.com/hook#", false, MSG_FRAGMENT },
	{ "https://example.com?x=1#y", false, MSG_FRAGMENT },
};

static void
test_cases(void **state)
{
	size_t failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char msg[NET_URL_MSG_SIZE] = "unset";
		bool ok = net_url_check(cases[i].url, cases[i].allow_http, msg, sizeof msg);

		if (cases[i].msg == NULL && (!ok || msg[0] != '\0')) {
			print_error("%s: refused: %s\n", cases[i].url, msg);
			failures++;
		} else if (cases[i].msg != NULL && (ok || strcmp(msg, cases[i].msg) != 0)) {
			print_error("%s: got \"%s\" (%s), want \"%s\"\n", cases[i].url, msg, ok ? "accepted" : "refused",
			    cases[i].msg);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void
test_length(void **state)
{
	static char url[NET_URL_MAX + 2];
	static const char prefix[] = "https://example.com/";
	char msg[NET_URL_MSG_SIZE];

	(void)state;
	memcpy(url, prefix, sizeof prefix - 1);
	memset(url + sizeof prefix - 1, 'a', NET_URL_MAX - (sizeof prefix - 1));
	url[NET_URL_MAX] = '\0';
	assert_true(net_url_check(url, false, msg, sizeof msg));
	url[NET_URL_MAX] = 'a';
	url[NET_URL_MAX + 1] = '\0';
	assert_false(net_url_check(url, false, msg, sizeof msg));
	assert_string_equal(msg, MSG_LONG);
}

/* A quoted scheme is printable ASCII only, so a message is safe in a log line and in JSON. */
static void
test_quote_sanitised(void **state)
{
	char msg[NET_URL_MSG_SIZE];

	(void)state;
	/* A scheme cannot hold such bytes, so nothing but the scheme's own characters shows. */
	assert_false(net_url_check("x\"y://example.com/", false, msg, sizeof msg));
	assert_string_equal(msg, MSG_ABSOLUTE);
	assert_false(net_url_check("https://user:hunter2@example.com/", false, msg, sizeof msg));
	assert_null(strstr(msg, "hunter2"));
	assert_false(net_url_check("ftp://user:hunter2@example.com/", false, msg, sizeof msg));
	assert_null(strstr(msg, "hunter2"));
}

static void
test_small_or_no_msg(void **state)
{
	char msg[10];

	(void)state;
	assert_false(net_url_check("ftp://example.com/", false, msg, sizeof msg));
	assert_string_equal(msg, "TargetUrl");
	assert_false(net_url_check("ftp://example.com/", false, NULL, 0));
	assert_true(net_url_check("https://example.com/", false, NULL, 0));
	assert_false(net_url_check(NULL, false, msg, sizeof msg));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_quote_sanitised),
		cmocka_unit_test(test_small_or_no_msg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
