#include "config.h"

#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xalloc.h"

void
response_init(struct response *r)
{
	r->status = 500;
	r->content_type = NULL;
	r->nheaders = 0;
	buf_init(&r->body);
}

void
response_reset(struct response *r)
{
	for (size_t i = 0; i < r->nheaders; i++)
		free(r->headers[i].value);
	r->nheaders = 0;
	r->status = 500;
	r->content_type = NULL;
	buf_reset(&r->body);
}

void
response_free(struct response *r)
{
	response_reset(r);
	buf_free(&r->body);
}

void
response_add_header(struct response *r, const char *name, const char *value)
{
	if (r->nheaders == RESPONSE_MAX_HEADERS)
		abort();
	r->headers[r->nheaders].name = name;
	r->headers[r->nheaders].value = xstrdup(value);
	r->nheaders++;
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

const char *
http_skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

bool
http_date_parse(const char *value, long long *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return false;
	*out = (long long)timegm(&tm);
	return true;
}

bool
http_is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

const char *
http_parse_qvalue(const char *p, int *thousandths)
{
	int value, scale = 100;

	if (*p != '0' && *p != '1')
		return NULL;
	value = (*p++ - '0') * 1000;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale == 0)
				return NULL; /* a fourth decimal */
			value += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (value > 1000)
		return NULL; /* "1.5": after a 1 only zeros may follow */
	*thousandths = value;
	return p;
}
