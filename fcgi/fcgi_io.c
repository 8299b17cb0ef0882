#include "config.h"

#include "fcgi_io.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void
fcgi_io_serve(FCGX_Request *fr, struct app_worker *w, char *body, long max_body, struct response *resp)
{
	struct request req;
	struct timespec start, end;

	clock_gettime(CLOCK_MONOTONIC, &start);
	memset(&req, 0, sizeof req);
	req.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	req.path = FCGX_GetParam("DOCUMENT_URI", fr->envp);
	req.query = FCGX_GetParam("QUERY_STRING", fr->envp);
	req.authorization = FCGX_GetParam("HTTP_AUTHORIZATION", fr->envp);
	req.accept = FCGX_GetParam("HTTP_ACCEPT", fr->envp);
	req.accept_language = FCGX_GetParam("HTTP_ACCEPT_LANGUAGE", fr->envp);
	req.so_language = FCGX_GetParam("HTTP_SO_LANGUAGE", fr->envp);
	req.so_culture = FCGX_GetParam("HTTP_SO_CULTURE", fr->envp);
	req.so_timezone = FCGX_GetParam("HTTP_SO_TIMEZONE", fr->envp);
	req.so_apptoken = FCGX_GetParam("HTTP_SO_APPTOKEN", fr->envp);
	req.xsrf_token = FCGX_GetParam("HTTP_X_XSRF_TOKEN", fr->envp);
	req.cookie = FCGX_GetParam("HTTP_COOKIE", fr->envp);
	req.remote_addr = FCGX_GetParam("REMOTE_ADDR", fr->envp);
	req.content_type = FCGX_GetParam("CONTENT_TYPE", fr->envp);
	req.if_modified_since = FCGX_GetParam("HTTP_IF_MODIFIED_SINCE", fr->envp);
	req.if_unmodified_since = FCGX_GetParam("HTTP_IF_UNMODIFIED_SINCE", fr->envp);
	fcgi_io_read_body(fr, &req, body, max_body);

	response_reset(resp);
	app_handle(w, &req, resp);
	if (!fcgi_io_write_response(fr, resp)) {
		/* Most often nginx gave up on the request (the client went away): not our fault. */
		log_debug("response not delivered (status %d, stream error %d)", resp->status,
		    FCGX_GetError(fr->out));
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	metrics_observe_request(resp->status,
	    (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9);
}
