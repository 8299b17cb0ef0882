/*
 * The plain request view and response that the service core works on. The front (FastCGI today)
 * fills a request view from its own representation and writes the response out.
 */
#ifndef WEBHOOKD_HTTP_H
#define WEBHOOKD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Borrowed strings, valid while the request is handled; NULL when absent. */
struct request {
	const char *method;
	const char *path;          /* decoded and normalised by the web server */
	const char *query;
	const char *authorization;
	const char *accept;
	const char *accept_language;
	const char *so_language;
	const char *so_culture;
	const char *so_timezone;
	const char *so_apptoken;
	const char *xsrf_token;
	const char *cookie;
	const char *remote_addr;   /* the client's address, as nginx saw it */
	const char *content_type;
	const char *if_modified_since;
	const char *if_unmodified_since;
	/* A header that takes one value (SO-TimeZone, Content-Type, ...) but came more than once, by
	 * the name a client writes; NULL when none did. List headers (Accept, Accept-Language,
	 * Cookie) arrive joined instead, as RFC 9110, 5.3 allows. */
	const char *repeated_header;
	const char *body;          /* NUL-terminated copy of the body, at most max_body bytes */
	size_t body_len;
	bool body_too_large;       /* the declared body exceeds max_body; body is then empty */
};

#define RESPONSE_MAX_HEADERS 8

struct response_header {
	const char *name;  /* static */
	char *value;
};

struct response {
	int status;
	const char *content_type;  /* static; NULL: no body (204, 304) */
	struct response_header headers[RESPONSE_MAX_HEADERS];
	size_t nheaders;
	struct buf body;
};

void response_init(struct response *r);
void response_reset(struct response *r);
void response_free(struct response *r);
/* Adds a header (the value is copied); more than RESPONSE_MAX_HEADERS is a programming error. */
void response_add_header(struct response *r, const char *name, const char *value);
const char *http_status_text(int status);
/* Skips optional white space (space and tab, RFC 9110, 5.6.3). */
const char *http_skip_ows(const char *p);
/* A token character (RFC 9110, 5.6.2). */
bool http_is_tchar(char c);
/* An HTTP date in the IMF-fixdate form every current sender uses ("Sun, 06 Nov 1994 08:49:37
 * GMT", RFC 9110 5.6.7), as seconds since the epoch; false for anything else. */
bool http_date_parse(const char *value, long long *out) __attribute__((warn_unused_result));
/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110, 12.4.2), the one parser
 * of weights (Accept, Accept-Language): *thousandths gets 0..1000. Returns the character after
 * the qvalue, or NULL when p does not start with one; the caller checks that a delimiter follows,
 * so "0x1", "1e-3" and "0.5x" are refused rather than read as a number strtod would make of them. */
const char *http_parse_qvalue(const char *p, int *thousandths) __attribute__((warn_unused_result));

#endif
