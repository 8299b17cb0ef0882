/*
 * Request bodies and parameters of the API surfaces: the body as strict JSON under a JSON
 * Content-Type (415 otherwise, 400 when malformed), and scalar parameters that may come in the
 * query string or as a member of the body (the agents take either).
 */
#ifndef WEBHOOKD_BODY_H
#define WEBHOOKD_BODY_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "call.h"

enum body_media {
	BODY_MEDIA_JSON,         /* application/json, text/json, or no Content-Type */
	BODY_MEDIA_JSON_PATCH,   /* application/json-patch+json */
	BODY_MEDIA_MERGE_PATCH,  /* application/merge-patch+json */
};

/* Content-Type: the media type, without parameters, in any case; false for another type or a
 * charset other than UTF-8. "" (none) is JSON. */
bool body_content_type(const char *content_type, enum body_media *out) __attribute__((warn_unused_result));

/* The parsed body, or NULL when there is none (empty or white space). False after replying. */
bool body_json(struct call *call, yajl_val *out, enum body_media *media) __attribute__((warn_unused_result));

/* A webhook id from the query (name in any case) or the body's member; false after replying
 * 400 when it is missing (and required), malformed, or given differently in both places. */
bool body_param_id(struct call *call, yajl_val body, const char *name, bool required, int32_t *out)
	__attribute__((warn_unused_result));

/* A text parameter from the query into out (cap bytes); false after replying 400. *found tells. */
bool body_query_text(struct call *call, const char *name, char *out, size_t cap, bool *found)
	__attribute__((warn_unused_result));

/* A conditional header's HTTP date (If-Unmodified-Since, If-Modified-Since) as seconds since the
 * epoch, INT64_MIN when absent; false after replying 400 when it is not a date. */
bool body_http_date(struct call *call, const char *header, const char *value, int64_t *out)
	__attribute__((warn_unused_result));
#define BODY_HTTP_DATE_SIZE 32
/* Formats microseconds since the epoch as an IMF-fixdate (Last-Modified). */
void body_format_http_date(int64_t us, char out[BODY_HTTP_DATE_SIZE]);

#endif
