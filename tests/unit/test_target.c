/*
 * net_post against a loopback HTTP server in a thread of this test: status, headers and body
 * captured, the body cap, redirects not followed, what is sent, and the error texts for a
 * refused connection, the SSRF guard, http where only https is allowed, TLS and a timeout.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "target.h"

/* How long the server waits for the client at each step before giving up (a failing test). */
#define SERVER_WAIT_MS 5000

struct server {
	int fd;                  /* listening */
	int port;
	const char *response;    /* sent as is */
	size_t response_len;
	bool read_first;         /* read the request before answering (false: answer at once) */
	pthread_t thread;
	bool started;
	char request[65536];     /* what the client sent, NUL-terminated */
	size_t request_len;
	bool accepted;
};

static int
listen_socket(bool do_listen, int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static bool
wait_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

/* The request is complete once the header section and Content-Length bytes of body are in. */
static bool
request_complete(const struct server *s)
{
	const char *end = strstr(s->request, "\r\n\r\n");
	const char *cl;
	size_t body = 0;

	if (end == NULL)
		return false;
	for (cl = s->request; cl < end; cl++) {
		if (strncasecmp(cl, "\r\ncontent-length:", 17) == 0) {
			body = strtoul(cl + 17, NULL, 10);
			break;
		}
	}
	return s->request_len >= (size_t)(end + 4 - s->request) + body;
}

/* Serves one connection: reads the request, answers, then drains until the client closes. */
static void *
server_main(void *arg)
{
	struct server *s = arg;
	char drain[4096];
	size_t sent = 0;
	int c;

	if (!wait_readable(s->fd, SERVER_WAIT_MS))
		return NULL;
	c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	s->accepted = true;
	while (s->read_first && !request_complete(s) && s->request_len < sizeof s->request - 1 &&
	    wait_readable(c, SERVER_WAIT_MS)) {
		ssize_t n = recv(c, s->request + s->request_len, sizeof s->request - 1 - s->request_len, 0);

		if (n <= 0)
			break;
		s->request_len += (size_t)n;
		s->request[s->request_len] = '\0';
	}
	while (sent < s->response_len) {
		ssize_t n = send(c, s->response + sent, s->response_len - sent, MSG_NOSIGNAL);

		if (n <= 0)
			break;  /* the client stopped reading (the body cap): fine */
		sent += (size_t)n;
	}
	/* Closing with unread data would reset the connection under the client's feet. */
	(void)shutdown(c, SHUT_WR);
	while (wait_readable(c, SERVER_WAIT_MS) && recv(c, drain, sizeof drain, 0) > 0)
		;
	close(c);
	return NULL;
}

static struct server *
server_start(const char *response, size_t response_len, bool read_first)
{
	struct server *s = calloc(1, sizeof *s);

	assert_non_null(s);
	s->fd = listen_socket(true, &s->port);
	s->response = response;
	s->response_len = response_len;
	s->read_first = read_first;
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
	s->started = true;
	return s;
}

/* Joins the thread (so its writes to s are visible) and closes the listening socket. */
static void
server_stop(struct server *s)
{
	if (s->started)
		assert_int_equal(pthread_join(s->thread, NULL), 0);
	close(s->fd);
}

static void
server_free(struct server *s)
{
	free(s);
}

static const struct outbound_policy dev_policy = {
	.allow_http = true,
	.allow_private = true,
	.timeout_ms = 5000,
	.max_response_bytes = 1024,
	.user_agent = "webhookd-test/1",
};

static void
make_url(char *url, size_t len, const char *scheme, const char *host, int port, const char *path)
{
	int n = snprintf(url, len, "%s://%s:%d%s", scheme, host, port, path);

	assert_true(n > 0 && (size_t)n < len);
}

static void
test_ok_status_headers_body(void **state)
{
	static const char response[] =
	    "HTTP/1.1 201 Created\r\nX-Test: yes\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
	static char body[2000];
	const struct outbound_header headers[] = {
		{ "Content-Type", "application/json" },
		{ "X-Custom", "abc" },
		{ "X-Empty", "" },
	};
	struct server *s = server_start(response, sizeof response - 1, true);
	struct outbound_result r;
	char url[128];

	(void)state;
	/* Large enough that libcurl would otherwise send "Expect: 100-continue" and wait. */
	memset(body, 'b', sizeof body);
	make_url(url, sizeof url, "http", "127.0.0.1", s->port, "/hook?x=1");
	outbound_result_init(&r);
	assert_true(net_post(&dev_policy, url, headers, 3, body, sizeof body, &r));
	server_stop(s);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.error, "");
	assert_false(r.truncated);
	assert_int_equal(r.body.len, 5);
	assert_string_equal(r.body.data, "hello");
	assert_non_null(r.headers.data);
	assert_int_equal(strncmp(r.headers.data, "HTTP/1.1 201 Created\r\n", 22), 0);
	assert_non_null(strstr(r.headers.data, "\r\nX-Test: yes\r\n"));
	/* What went out. */
	assert_int_equal(strncmp(s->request, "POST /hook?x=1 HTTP/1.1\r\n", 25), 0);
	assert_non_null(strstr(s->request, "\r\nUser-Agent: webhookd-test/1\r\n"));
	assert_non_null(strstr(s->request, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(s->request, "\r\nX-Custom: abc\r\n"));
	assert_non_null(strstr(s->request, "\r\nX-Empty:\r\n"));
	assert_non_null(strstr(s->request, "\r\nContent-Length: 2000\r\n"));
	assert_null(strcasestr(s->request, "\r\nExpect:"));
	assert_int_equal(s->request_len, strstr(s->request, "\r\n\r\n") + 4 - s->request + sizeof body);
	outbound_result_free(&r);
	server_free(s);
}

static void
post_expect_body(const char *response, size_t response_len, size_t cap, long status, const char *body,
    bool truncated)
{
	struct outbound_policy policy = dev_policy;
	struct server *s = server_start(response, response_len, true);
	struct outbound_result r;
	char url[128];

	policy.max_response_bytes = cap;
	make_url(url, sizeof url, "http", "127.0.0.1", s->port, "/");
	outbound_result_init(&r);
	assert_true(net_post(&policy, url, NULL, 0, "{}", 2, &r));
	server_stop(s);
	assert_int_equal(r.status, status);
	assert_int_equal(r.truncated, truncated);
	assert_int_equal(r.body.len, strlen(body));
	assert_memory_equal(r.body.len > 0 ? r.body.data : "", body, strlen(body));
	assert_string_equal(r.error, "");
	outbound_result_free(&r);
	server_free(s);
}

static void
test_body_cap(void **state)
{
	static const char hello[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	static char big[200000];
	int n;

	(void)state;
	post_expect_body(hello, sizeof hello - 1, 5, 200, "hello", false);  /* exactly the cap */
	post_expect_body(hello, sizeof hello - 1, 4, 200, "hell", true);
	post_expect_body(hello, sizeof hello - 1, 0, 200, "", true);
	/* A body far past the cap: the transfer stops early, the status is kept. */
	n = snprintf(big, sizeof big, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: %zu\r\n\r\n",
	    sizeof big - 100);
	memset(big + n, 'z', sizeof big - 100);
	post_expect_body(big, (size_t)n + sizeof big - 100, 10, 503, "zzzzzzzzzz", true);
}

static void
test_headers_cap(void **state)
{
	static char response[NET_HEADERS_MAX * 3];
	struct server *s;
	struct outbound_result r;
	char url[128];
	size_t n;

	(void)state;
	n = (size_t)snprintf(response, sizeof response, "HTTP/1.1 204 No Content\r\n");
	for (int i = 0; n + 64 < sizeof response - 64; i++)
		n += (size_t)snprintf(response + n, sizeof response - n, "X-Filler-%05d: %040d\r\n", i, i);
	n += (size_t)snprintf(response + n, sizeof response - n, "\r\n");
	s = server_start(response, n, true);
	make_url(url, sizeof url, "http", "127.0.0.1", s->port, "/");
	outbound_result_init(&r);
	assert_true(net_post(&dev_policy, url, NULL, 0, NULL, 0, &r));
	server_stop(s);
	assert_int_equal(r.status, 204);
	assert_true(r.headers.len <= NET_HEADERS_MAX);
	assert_true(r.headers.len > NET_HEADERS_MAX - 64);
	/* Whole lines only. */
	assert_memory_equal(r.headers.data + r.headers.len - 2, "\r\n", 2);
	outbound_result_free(&r);
	server_free(s);
}

static void
test_redirect_not_followed(void **state)
{
	char response[256];
	struct server *s;
	struct server *other;
	struct outbound_result r;
	char url[128];
	int n;

	(void)state;
	/* The Location points at a second server, which must see no connection. */
	other = calloc(1, sizeof *other);
	assert_non_null(other);
	other->fd = listen_socket(true, &other->port);
	n = snprintf(response, sizeof response,
	    "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/elsewhere\r\nContent-Length: 0\r\n\r\n", other->port);
	s = server_start(response, (size_t)n, true);
	make_url(url, sizeof url, "http", "127.0.0.1", s->port, "/");
	outbound_result_init(&r);
	assert_true(net_post(&dev_policy, url, NULL, 0, "{}", 2, &r));
	server_stop(s);
	assert_int_equal(r.status, 302);
	assert_non_null(strstr(r.headers.data, "Location: http://127.0.0.1:"));
	assert_false(wait_readable(other->fd, 0));
	server_stop(other);
	outbound_result_free(&r);
	server_free(s);
	server_free(other);
}

static void
test_connection_refused(void **state)
{
	struct outbound_result r;
	char url[128];
	int port;
	/* Bound but not listening: the port stays ours, and a connection to it is refused. */
	int fd = listen_socket(false, &port);

	(void)state;
	make_url(url, sizeof url, "http", "127.0.0.1", port, "/");
	outbound_result_init(&r);
	assert_false(net_post(&dev_policy, url, NULL, 0, "{}", 2, &r));
	assert_int_equal(r.status, 0);
	assert_string_equal(r.error, "connection refused");
	close(fd);
	outbound_result_free(&r);
}

/* The guard refuses host; nothing may reach the listening socket. */
static void
expect_refused(const struct outbound_policy *policy, const char *host, const char *error)
{
	struct outbound_result r;
	char url[128];
	int port;
	int fd = listen_socket(true, &port);

	make_url(url, sizeof url, "http", host, port, "/");
	outbound_result_init(&r);
	assert_false(net_post(policy, url, NULL, 0, "{}", 2, &r));
	assert_int_equal(r.status, 0);
	assert_string_equal(r.error, error);
	assert_false(wait_readable(fd, 0));
	close(fd);
	outbound_result_free(&r);
}

static void
test_private_refused(void **state)
{
	struct outbound_policy strict = dev_policy;

	(void)state;
	strict.allow_private = false;
	expect_refused(&strict, "127.0.0.1",
	    "refused: 127.0.0.1 is a loopback address and this installation does not allow private targets");
	/* An IPv6 literal, and an IPv4 address hidden in one. */
	expect_refused(&strict, "[::1]",
	    "refused: ::1 is a loopback address and this installation does not allow private targets");
	expect_refused(&strict, "[::ffff:127.0.0.1]",
	    "refused: ::ffff:127.0.0.1 is a loopback address and this installation does not allow private targets");
	/* Numeric forms libcurl normalises still end at the guard. */
	expect_refused(&strict, "2130706433",
	    "refused: 127.0.0.1 is a loopback address and this installation does not allow private targets");
	/* Linux connects 0.0.0.0 to the local host: refused even where private targets are allowed. */
	expect_refused(&dev_policy, "0.0.0.0", "refused: 0.0.0.0 is an unspecified address, which is never allowed");
}

/* A name: the guard sees the resolved addresses (every one of them), not the name. */
static void
test_localhost_refused(void **state)
{
	struct outbound_policy strict = dev_policy;
	struct outbound_result r;
	char url[128];
	int port;
	int fd = listen_socket(true, &port);

	(void)state;
	strict.allow_private = false;
	make_url(url, sizeof url, "http", "localhost", port, "/");
	outbound_result_init(&r);
	assert_false(net_post(&strict, url, NULL, 0, "{}", 2, &r));
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.error, "refused: ", 9), 0);
	assert_non_null(strstr(r.error, " is a loopback address and this installation does not allow private targets"));
	assert_false(wait_readable(fd, 0));
	close(fd);
	outbound_result_free(&r);
}

static void
test_http_refused(void **state)
{
	struct outbound_policy https_only = dev_policy;
	struct outbound_result r;
	char url[128];
	int port;
	int fd = listen_socket(true, &port);

	(void)state;
	https_only.allow_http = false;
	make_url(url, sizeof url, "http", "127.0.0.1", port, "/");
	outbound_result_init(&r);
	assert_false(net_post(&https_only, url, NULL, 0, "{}", 2, &r));
	assert_int_equal(r.status, 0);
	assert_string_equal(r.error, "TargetUrl must use https:// (this installation does not allow http://).");
	assert_false(wait_readable(fd, 0));
	close(fd);
	outbound_result_free(&r);
}

/* https to a server that speaks plain HTTP: the TLS handshake fails, and says so. */
static void
test_tls_error(void **state)
{
	static const char response[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	struct server *s = server_start(response, sizeof response - 1, false);
	struct outbound_result r;
	char url[128];

	(void)state;
	make_url(url, sizeof url, "https", "127.0.0.1", s->port, "/");
	outbound_result_init(&r);
	assert_false(net_post(&dev_policy, url, NULL, 0, "{}", 2, &r));
	server_stop(s);
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.error, "TLS: ", 5), 0);
	outbound_result_free(&r);
	server_free(s);
}

/* A server that accepts (the kernel does, from the backlog) but never answers. */
static void
test_timeout(void **state)
{
	struct outbound_policy quick = dev_policy;
	struct outbound_result r;
	char url[128];
	int port;
	int fd = listen_socket(true, &port);

	(void)state;
	quick.timeout_ms = 200;
	make_url(url, sizeof url, "http", "127.0.0.1", port, "/");
	outbound_result_init(&r);
	assert_false(net_post(&quick, url, NULL, 0, "{}", 2, &r));
	assert_int_equal(r.status, 0);
	assert_string_equal(r.error, "timed out after 200 ms");
	close(fd);
	outbound_result_free(&r);
}

/* A result is reset by each call: nothing of a previous answer survives a failure. */
static void
test_result_reused(void **state)
{
	static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct server *s = server_start(response, sizeof response - 1, true);
	struct outbound_result r;
	char url[128];

	(void)state;
	make_url(url, sizeof url, "http", "127.0.0.1", s->port, "/");
	outbound_result_init(&r);
	assert_true(net_post(&dev_policy, url, NULL, 0, "{}", 2, &r));
	server_stop(s);
	assert_int_equal(r.status, 200);
	assert_false(net_post(&dev_policy, "ftp://example.com/", NULL, 0, "{}", 2, &r));
	assert_int_equal(r.status, 0);
	assert_int_equal(r.body.len, 0);
	assert_int_equal(r.headers.len, 0);
	assert_string_equal(r.error, "TargetUrl must use http:// or https://, not ftp://.");
	outbound_result_free(&r);
	server_free(s);
}

static int
group_setup(void **state)
{
	(void)state;
	/* As in the daemon: a write to a closed connection fails with EPIPE, it does not kill us. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	return net_global_init() ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	net_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_status_headers_body),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_headers_cap),
		cmocka_unit_test(test_redirect_not_followed),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_private_refused),
		cmocka_unit_test(test_localhost_refused),
		cmocka_unit_test(test_http_refused),
		cmocka_unit_test(test_tls_error),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_result_reused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
