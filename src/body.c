#include "config.h"

#include "body.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hookparse.h"
#include "jsontree.h"
#include "query.h"

bool
body_content_type(const char *content_type, enum body_media *out)
{
	static const struct { const char *name; enum body_media media; } known[] = {
		{ "application/json", BODY_MEDIA_JSON }, { "text/json", BODY_MEDIA_JSON },
		{ "application/json-patch+json", BODY_MEDIA_JSON_PATCH },
		{ "application/merge-patch+json", BODY_MEDIA_MERGE_PATCH },
	};
	const char *p = http_skip_ows(content_type), *semi;
	size_t len;

	*out = BODY_MEDIA_JSON;
	if (*p == '\0')
		return true;
	semi = strchr(p, ';');
	len = semi != NULL ? (size_t)(semi - p) : strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strlen(known[i].name) == len && strncasecmp(p, known[i].name, len) == 0) {
			const char *charset = semi != NULL ? strcasestr(semi, "charset=") : NULL;

			*out = known[i].media;
			if (charset == NULL)
				return true;
			charset += strlen("charset=");
			if (*charset == '"')
				charset++;
			return strncasecmp(charset, "utf-8", 5) == 0 || strncasecmp(charset, "utf8", 4) == 0;
		}
	}
	return false;
}

bool
body_json(struct call *call, yajl_val *out, enum body_media *media)
{
	const struct request *req = call->req;
	char err[128];
	size_t i;

	*out = NULL;
	if (!body_content_type(req->content_type != NULL ? req->content_type : "", media)) {
		reply_error(call, 415, "UnsupportedMediaType", "The request body must be JSON in UTF-8: "
		    "Content-Type application/json (or text/json, application/json-patch+json, "
		    "application/merge-patch+json).", "webhookd/request");
		return false;
	}
	for (i = 0; i < req->body_len && strchr(" \t\r\n", req->body[i]) != NULL; i++)
		;
	if (i == req->body_len)
		return true;
	*out = jsontree_parse(req->body, req->body_len, HOOKPARSE_DEPTH_MAX, err, sizeof err);
	if (*out == NULL) {
		reply_bad_request(call, err);
		return false;
	}
	return true;
}

bool
body_query_text(struct call *call, const char *name, char *out, size_t cap, bool *found)
{
	char message[160];

	*found = false;
	switch (query_param(call->req->query, name, out, cap)) {
	case QUERY_ABSENT:
		return true;
	case QUERY_FOUND:
		*found = true;
		return true;
	case QUERY_MALFORMED:
		snprintf(message, sizeof message, "The query parameter %s is malformed or too long.", name);
		break;
	case QUERY_REPEATED:
		snprintf(message, sizeof message, "The query parameter %s is given more than once.", name);
		break;
	}
	reply_bad_request(call, message);
	return false;
}

bool
body_param_id(struct call *call, yajl_val body, const char *name, bool required, int32_t *out)
{
	char msg[HOOKPARSE_MESSAGE_SIZE], text[32];
	int32_t from_body;
	yajl_val member;
	bool in_query;

	*out = 0;
	if (!body_query_text(call, name, text, sizeof text, &in_query))
		return false;
	if (in_query && !hookparse_id_text(name, text, out, msg))
		goto bad;
	if (!hookparse_member(body, name, &member, msg))
		goto bad;
	if (member != NULL && !YAJL_IS_NULL(member)) {
		if (!hookparse_id_value(name, member, &from_body, msg))
			goto bad;
		if (in_query && from_body != *out) {
			snprintf(msg, sizeof msg, "%s is given in the query and in the body, with different values.", name);
			goto bad;
		}
		*out = from_body;
		return true;
	}
	if (in_query || !required)
		return true;
	snprintf(msg, sizeof msg, "%s is required: give it in the query (?%s=1) or in the body.", name, name);
bad:
	reply_bad_request(call, msg);
	return false;
}

bool
body_http_date(struct call *call, const char *header, const char *value, int64_t *out)
{
	char message[160];
	long long secs;

	*out = INT64_MIN;
	if (value == NULL)
		return true;
	if (!http_date_parse(value, &secs)) {
		/* RFC 9110 says to ignore an invalid date; a condition the client meant to set is not
		 * silently dropped here. */
		snprintf(message, sizeof message, "%s is not an HTTP date such as \"Sun, 06 Nov 1994 08:49:37 GMT\".",
		    header);
		reply_bad_request(call, message);
		return false;
	}
	*out = secs;
	return true;
}

void
body_format_http_date(int64_t us, char out[BODY_HTTP_DATE_SIZE])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, BODY_HTTP_DATE_SIZE, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		out[0] = '\0';
}
