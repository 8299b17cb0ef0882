#include "config.h"

#include "fcgi_io.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"

/* CONTENT_LENGTH as nginx sends it: decimal digits only. */
static bool
fcgi_io_content_length(const char *text, unsigned long long *out)
{
	char *end;

	*out = 0;
	if (text == NULL || *text == '\0')
		return true;
	if (*text < '0' || *text > '9')
		return false;
	errno = 0;
	*out = strtoull(text, &end, 10);
	return errno == 0 && *end == '\0';
}

/*
 * Reads the body into the worker's buffer, at most max_body bytes. The stream, not the declared
 * length, decides: nginx ends it with an empty record. A larger body is not read any further.
 */
static void
fcgi_io_read_body(FCGX_Request *fr, struct request *req, char *body, long max_body)
{
	unsigned long long declared;
	size_t len = 0;

	req->body = body;
	body[0] = '\0';
	if (!fcgi_io_content_length(FCGX_GetParam("CONTENT_LENGTH", fr->envp), &declared) ||
	    declared > (unsigned long long)max_body) {
		req->body_too_large = true;
		return;
	}
	for (;;) {
		int n = FCGX_GetStr(body + len, (int)((size_t)max_body + 1 - len), fr->in);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > (size_t)max_body) {
			req->body_too_large = true;
			len = 0;
			break;
		}
	}
	body[len] = '\0';
	req->body_len = len;
}

static bool
fcgi_io_write_response(FCGX_Request *fr, const struct response *resp)
{
	char head[1024];
	size_t used;
	int n;

	/* 204 and 304 have no body, so no Content-Type or Content-Length either (RFC 9110, 8.6). */
	if (resp->content_type == NULL)
		n = snprintf(head, sizeof head, "Status: %d %s\r\n", resp->status, http_status_text(resp->status));
	else
		n = snprintf(head, sizeof head, "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
		    resp->status, http_status_text(resp->status), resp->content_type, resp->body.len);
	if (n < 0 || (size_t)n >= sizeof head)
		return false;
	used = (size_t)n;
	for (size_t i = 0; i < resp->nheaders; i++) {
		n = snprintf(head + used, sizeof head - used, "%s: %s\r\n", resp->headers[i].name,
		    resp->headers[i].value);
		if (n < 0 || (size_t)n >= sizeof head - used)
			return false;
		used += (size_t)n;
	}
	if (used + 2 >= sizeof head)
		return false;
	memcpy(head + used, "\r\n", 2);
	used += 2;
	/* libfcgi's own printf lacks %zu, so text is formatted with snprintf and written with PutStr. */
	if (FCGX_PutStr(head, (int)used, fr->out) != (int)used)
		return false;
	/* No flush: FCGX_Finish_r sends the buffered response and the end-of-request record together,
	 * in one write(), which nginx then reads at once. */
	return resp->body.len == 0 || FCGX_PutStr(resp->body.data, (int)resp->body.len, fr->out) == (int)resp->body.len;
}

/*
 * The request headers the service reads. nginx passes each header field line as its own HTTP_*
 * parameter, so a header sent twice arrives as two parameters, and FCGX_GetParam would silently
 * return the first. (nginx itself refuses a second Host, Content-Length, Authorization,
 * If-Modified-Since or If-Unmodified-Since with a 400; it joins nothing.) Here a list header
 * (RFC 9110, 5.3) is recombined into one value, as the RFC says a recipient may; a header that
 * takes a single value is reported, and the request refused, whatever nginx lets through.
 */
enum fcgi_io_kind {
	FCGI_IO_SINGLE,   /* one value; a repeat is a 400 */
	FCGI_IO_LIST,     /* #element: repeats join with ", " */
	FCGI_IO_COOKIE,   /* cookie-string: repeats join with "; " (RFC 9113, 8.2.3) */
};

static const struct fcgi_io_header {
	const char *param;     /* as nginx names it */
	const char *name;      /* as a client writes it */
	enum fcgi_io_kind kind;
	size_t field;          /* offsetof(struct request, ...); SIZE_MAX: only counted */
} fcgi_io_headers[] = {
	{ "HTTP_AUTHORIZATION", "Authorization", FCGI_IO_SINGLE, offsetof(struct request, authorization) },
	{ "HTTP_ACCEPT", "Accept", FCGI_IO_LIST, offsetof(struct request, accept) },
	{ "HTTP_ACCEPT_LANGUAGE", "Accept-Language", FCGI_IO_LIST, offsetof(struct request, accept_language) },
	{ "HTTP_SO_LANGUAGE", "SO-Language", FCGI_IO_SINGLE, offsetof(struct request, so_language) },
	{ "HTTP_SO_CULTURE", "SO-Culture", FCGI_IO_SINGLE, offsetof(struct request, so_culture) },
	/* Not a list: "NO,includeTZOffset" is one value with a comma in it. */
	{ "HTTP_SO_TIMEZONE", "SO-TimeZone", FCGI_IO_SINGLE, offsetof(struct request, so_timezone) },
	{ "HTTP_SO_APPTOKEN", "SO-AppToken", FCGI_IO_SINGLE, offsetof(struct request, so_apptoken) },
	{ "HTTP_X_XSRF_TOKEN", "X-XSRF-TOKEN", FCGI_IO_SINGLE, offsetof(struct request, xsrf_token) },
	{ "HTTP_COOKIE", "Cookie", FCGI_IO_COOKIE, offsetof(struct request, cookie) },
	/* The value comes from CONTENT_TYPE, which nginx fills with the first line's: count them here. */
	{ "HTTP_CONTENT_TYPE", "Content-Type", FCGI_IO_SINGLE, SIZE_MAX },
	{ "HTTP_IF_MODIFIED_SINCE", "If-Modified-Since", FCGI_IO_SINGLE, offsetof(struct request, if_modified_since) },
	{ "HTTP_IF_UNMODIFIED_SINCE", "If-Unmodified-Since", FCGI_IO_SINGLE,
	    offsetof(struct request, if_unmodified_since) },
};

#define FCGI_IO_NHEADERS (sizeof fcgi_io_headers / sizeof fcgi_io_headers[0])

/* What one request carried of each header: how many lines, and the recombined list values. */
struct fcgi_io_seen {
	unsigned count[FCGI_IO_NHEADERS];
	struct buf joined[FCGI_IO_NHEADERS];
};

static void
fcgi_io_set(struct request *req, size_t field, const char *value)
{
	if (field != SIZE_MAX)
		memcpy((char *)req + field, &value, sizeof value);
}

static const char *
fcgi_io_get(const struct request *req, size_t field)
{
	const char *value = NULL;

	if (field != SIZE_MAX)
		memcpy(&value, (const char *)req + field, sizeof value);
	return value;
}

static void
fcgi_io_read_headers(char **envp, struct request *req, struct fcgi_io_seen *seen)
{
	for (char **e = envp; *e != NULL; e++) {
		if (strncmp(*e, "HTTP_", 5) != 0)
			continue;
		for (size_t i = 0; i < FCGI_IO_NHEADERS; i++) {
			const struct fcgi_io_header *h = &fcgi_io_headers[i];
			size_t n = strlen(h->param);
			struct buf *b = &seen->joined[i];
			const char *value;

			if (strncmp(*e, h->param, n) != 0 || (*e)[n] != '=')
				continue;
			value = *e + n + 1;
			if (seen->count[i]++ == 0) {
				fcgi_io_set(req, h->field, value);
			} else if (h->kind == FCGI_IO_SINGLE) {
				if (req->repeated_header == NULL)
					req->repeated_header = h->name;
			} else {
				if (b->len == 0)
					buf_append_str(b, fcgi_io_get(req, h->field));
				buf_append_str(b, h->kind == FCGI_IO_COOKIE ? "; " : ", ");
				buf_append_str(b, value);
				fcgi_io_set(req, h->field, b->data);
			}
			break;
		}
	}
}

void
fcgi_io_serve(FCGX_Request *fr, struct app_worker *w, char *body, long max_body, struct response *resp)
{
	struct request req;
	struct fcgi_io_seen seen;
	struct timespec start, end;

	clock_gettime(CLOCK_MONOTONIC, &start);
	memset(&req, 0, sizeof req);
	memset(&seen, 0, sizeof seen);
	for (size_t i = 0; i < FCGI_IO_NHEADERS; i++)
		buf_init(&seen.joined[i]);
	req.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	req.path = FCGX_GetParam("DOCUMENT_URI", fr->envp);
	req.query = FCGX_GetParam("QUERY_STRING", fr->envp);
	req.remote_addr = FCGX_GetParam("REMOTE_ADDR", fr->envp);
	req.content_type = FCGX_GetParam("CONTENT_TYPE", fr->envp);
	fcgi_io_read_headers(fr->envp, &req, &seen);
	fcgi_io_read_body(fr, &req, body, max_body);

	response_reset(resp);
	app_handle(w, &req, resp);
	if (!fcgi_io_write_response(fr, resp)) {
		/* Most often nginx gave up on the request (the client went away): not our fault. */
		log_debug("response not delivered (status %d, stream error %d)", resp->status,
		    FCGX_GetError(fr->out));
	}
	for (size_t i = 0; i < FCGI_IO_NHEADERS; i++)
		buf_free(&seen.joined[i]);
	clock_gettime(CLOCK_MONOTONIC, &end);
	metrics_observe_request(resp->status,
	    (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9);
}
