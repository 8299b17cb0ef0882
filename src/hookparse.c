#include "config.h"

#include "hookparse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emit.h"
#include "http.h"
#include "jsontree.h"
#include "xalloc.h"

static bool
hookparse_fail(char msg[HOOKPARSE_MESSAGE_SIZE], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
hookparse_fail(char msg[HOOKPARSE_MESSAGE_SIZE], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, HOOKPARSE_MESSAGE_SIZE, fmt, ap);
	va_end(ap);
	return false;
}

bool
hookparse_member(yajl_val object, const char *name, yajl_val *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	bool duplicate = false;

	*out = YAJL_IS_OBJECT(object) ? jsontree_member(object, name, &duplicate) : NULL;
	if (duplicate)
		return hookparse_fail(msg, "%s is given more than once (property names match in any case).", name);
	return true;
}

/* Characters of valid UTF-8 (yajl has checked it): the bytes that do not continue a sequence. */
static size_t
hookparse_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* A string member that may be null or absent (*out NULL then), at most max characters. */
static bool
hookparse_string(yajl_val body, const char *name, size_t max, char **out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	yajl_val v;

	*out = NULL;
	if (!hookparse_member(body, name, &v, msg))
		return false;
	if (v == NULL || YAJL_IS_NULL(v))
		return true;
	if (!YAJL_IS_STRING(v))
		return hookparse_fail(msg, "%s must be a string or null.", name);
	if (hookparse_chars(v->u.string) > max)
		return hookparse_fail(msg, "%s must be at most %zu characters long.", name, max);
	*out = xstrdup(v->u.string);
	return true;
}

bool
hookparse_id_value(const char *property, yajl_val v, int32_t *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > INT32_MAX)
		return hookparse_fail(msg, "%s must be an integer from 0 to 2147483647.", property);
	*out = (int32_t)YAJL_GET_INTEGER(v);
	return true;
}

bool
hookparse_id_text(const char *property, const char *text, int32_t *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	char *end;
	long v;

	errno = 0;
	v = (*text >= '0' && *text <= '9') ? strtol(text, &end, 10) : -1;
	if (v < 0 || errno != 0 || *end != '\0' || v > INT32_MAX)
		return hookparse_fail(msg, "%s must be an integer from 0 to 2147483647.", property);
	*out = (int32_t)v;
	return true;
}

bool
hookparse_state_text(const char *property, const char *text, enum webhook_state *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	if (!webhook_state_parse(text, out))
		return hookparse_fail(msg, "%s must be Unknown, Active, Stopped or TooManyErrors (or 0 to 3).", property);
	return true;
}

/* A state member (State, StatusFilter): a name in any case or a number 0 to 3; null or absent
 * (and "" where empty_is_absent) is fallback. */
static bool
hookparse_state_member(yajl_val body, const char *property, enum webhook_state fallback, bool empty_is_absent,
    enum webhook_state *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	yajl_val v;

	*out = fallback;
	if (!hookparse_member(body, property, &v, msg))
		return false;
	if (v == NULL || YAJL_IS_NULL(v) || (empty_is_absent && YAJL_IS_STRING(v) && *v->u.string == '\0'))
		return true;
	if (YAJL_IS_STRING(v))
		return hookparse_state_text(property, v->u.string, out, msg);
	if (YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) >= 0 && YAJL_GET_INTEGER(v) <= 3) {
		*out = (enum webhook_state)YAJL_GET_INTEGER(v);
		return true;
	}
	return hookparse_fail(msg, "%s must be Unknown, Active, Stopped or TooManyErrors (or 0 to 3).", property);
}

/* The code point of the valid UTF-8 sequence at p (yajl has validated it), and its length. */
static uint32_t
hookparse_code_point(const unsigned char *p, size_t *len)
{
	if (p[0] < 0x80) {
		*len = 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0) {
		*len = 2;
		return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	}
	if ((p[0] & 0xf0) == 0xe0) {
		*len = 3;
		return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	}
	*len = 4;
	return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 | (uint32_t)(p[2] & 0x3f) << 6 |
	    (p[3] & 0x3f);
}

/* White space and control characters of Unicode, not only ASCII's: the schema's \s and
 * [:cntrl:] know them too, and a name with U+2028 in it is no identifier. */
static bool
hookparse_space_or_control(uint32_t c)
{
	return c <= 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0x1680 || (c >= 0x2000 && c <= 0x200b) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
}

static bool
hookparse_event_name_valid(const char *name)
{
	size_t len;

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p += len) {
		uint32_t c = hookparse_code_point(p, &len);

		/* And the comma that separates stored names. */
		if (hookparse_space_or_control(c) || c == ',')
			return false;
	}
	return *name != '\0' && strlen(name) <= HOOKPARSE_EVENT_MAX;
}

bool
hookparse_event_name(const char *property, const char *name, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	if (!hookparse_event_name_valid(name))
		return hookparse_fail(msg, "%s must be 1 to %d bytes without white space, control characters or commas.",
		    property, HOOKPARSE_EVENT_MAX);
	return true;
}

/* Events: 1 to 100 names, duplicates dropped (the first one stays). */
static bool
hookparse_events(yajl_val body, struct webhook *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	yajl_val v;

	if (!hookparse_member(body, "Events", &v, msg))
		return false;
	if (v == NULL || YAJL_IS_NULL(v))
		return hookparse_fail(msg, "Events is required: an array of 1 to %d event names.", HOOKPARSE_EVENTS_MAX);
	if (!YAJL_IS_ARRAY(v) || v->u.array.len == 0 || v->u.array.len > HOOKPARSE_EVENTS_MAX)
		return hookparse_fail(msg, "Events must be an array of 1 to %d event names.", HOOKPARSE_EVENTS_MAX);
	out->events = xcalloc(v->u.array.len, sizeof *out->events);
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val e = v->u.array.values[i];
		bool seen = false;

		if (!YAJL_IS_STRING(e))
			return hookparse_fail(msg, "Events[%zu] must be a string.", i);
		if (!hookparse_event_name_valid(e->u.string))
			return hookparse_fail(msg, "Events[%zu] must be 1 to %d bytes without white space, control "
			    "characters or commas.", i, HOOKPARSE_EVENT_MAX);
		for (size_t j = 0; j < out->nevents && !seen; j++)
			seen = strcmp(out->events[j], e->u.string) == 0;
		if (!seen)
			out->events[out->nevents++] = xstrdup(e->u.string);
	}
	return true;
}

static bool
hookparse_type(yajl_val body, struct webhook *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	yajl_val v;

	if (!hookparse_member(body, "Type", &v, msg))
		return false;
	if (v != NULL && !YAJL_IS_NULL(v) && !YAJL_IS_STRING(v))
		return hookparse_fail(msg, "Type must be a string or null.");
	if (v == NULL || YAJL_IS_NULL(v) || strcasecmp(v->u.string, "webhook") == 0) {
		out->type = xstrdup("webhook");
		return true;
	}
	if (strcasecmp(v->u.string, "crmscript") == 0)
		return hookparse_fail(msg, "Type \"crmscript\" is not supported: this server runs no CRMScript; "
		    "use \"webhook\".");
	return hookparse_fail(msg, "Type must be \"webhook\" (the only plugin this server has).");
}

/* Headers the delivery sets itself, or that would change how the request is framed or routed. */
static bool
hookparse_header_reserved(const char *name)
{
	static const char *const exact[] = { "Host", "User-Agent", "Connection", "Transfer-Encoding", "Expect", "TE",
		"Upgrade", "Keep-Alive", "X-Hook-Test" };
	/* Content-* describes the body the delivery writes (Content-Encoding would make the target
	 * decode JSON as gzip). */
	static const char *const prefixes[] = { "Content-", "X-SuperOffice-", "webhook-", "Proxy-" };

	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
		if (strcasecmp(name, exact[i]) == 0)
			return true;
	}
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		if (strncasecmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	}
	return false;
}

static bool
hookparse_header_value_valid(const char *value)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	}
	return strlen(value) <= HOOKPARSE_HEADER_VALUE_MAX;
}

static bool
hookparse_header_name_valid(const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < len; i++) {
		if (!http_is_tchar(name[i]))
			return false;
	}
	return len > 0 && len <= HOOKPARSE_HEADER_NAME_MAX;
}

/* Compact JSON text of an object, for storage. */
static char *
hookparse_json_text(yajl_val v)
{
	struct buf b;
	char *text;

	buf_init(&b);
	if (!json_value_text(v, &b)) {
		buf_free(&b);
		return NULL;
	}
	text = xstrdup(b.data);
	buf_free(&b);
	return text;
}

static bool
hookparse_headers(yajl_val body, struct webhook *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	yajl_val v;

	if (!hookparse_member(body, "Headers", &v, msg))
		return false;
	if (v == NULL || YAJL_IS_NULL(v))
		return true;
	if (!YAJL_IS_OBJECT(v))
		return hookparse_fail(msg, "Headers must be an object of header names and string values, or null.");
	if (v->u.object.len > HOOKPARSE_HEADERS_MAX)
		return hookparse_fail(msg, "Headers may hold at most %d headers.", HOOKPARSE_HEADERS_MAX);
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *name = v->u.object.keys[i];
		yajl_val value = v->u.object.values[i];

		if (!hookparse_header_name_valid(name))
			return hookparse_fail(msg, "Headers: header %zu has an invalid name: names are 1 to %d token "
			    "characters (RFC 9110).", i, HOOKPARSE_HEADER_NAME_MAX);
		if (hookparse_header_reserved(name))
			return hookparse_fail(msg, "Headers: \"%s\" is set by the delivery itself and cannot be "
			    "given (nor Content-*, Host, User-Agent, X-SuperOffice-*, webhook-* or hop-by-hop headers).",
			    name);
		for (size_t j = 0; j < i; j++) {
			if (strcasecmp(name, v->u.object.keys[j]) == 0)
				return hookparse_fail(msg, "Headers: \"%s\" is given more than once (header names match "
				    "in any case).", name);
		}
		if (!YAJL_IS_STRING(value))
			return hookparse_fail(msg, "Headers: the value of \"%s\" must be a string.", name);
		if (!hookparse_header_value_valid(value->u.string))
			return hookparse_fail(msg, "Headers: the value of \"%s\" must be at most %d bytes without "
			    "control characters (CR, LF, NUL, ...).", name, HOOKPARSE_HEADER_VALUE_MAX);
	}
	out->headers_json = hookparse_json_text(v);
	return out->headers_json != NULL || hookparse_fail(msg, "Headers cannot be stored.");
}

static bool
hookparse_properties(yajl_val body, struct webhook *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	yajl_val v;

	if (!hookparse_member(body, "Properties", &v, msg))
		return false;
	if (v == NULL || YAJL_IS_NULL(v))
		return true;
	if (!YAJL_IS_OBJECT(v))
		return hookparse_fail(msg, "Properties must be an object or null.");
	for (size_t i = 0; i < v->u.object.len; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(v->u.object.keys[i], v->u.object.keys[j]) == 0)
				return hookparse_fail(msg, "Properties: a name is given more than once.");
		}
	}
	out->properties_json = hookparse_json_text(v);
	if (out->properties_json == NULL)
		return hookparse_fail(msg, "Properties cannot be stored.");
	if (strlen(out->properties_json) > HOOKPARSE_PROPERTIES_MAX)
		return hookparse_fail(msg, "Properties must be at most %d bytes as compact JSON.", HOOKPARSE_PROPERTIES_MAX);
	return true;
}

static bool
hookparse_target_url(yajl_val body, struct webhook *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	yajl_val v;

	if (!hookparse_member(body, "TargetUrl", &v, msg))
		return false;
	if (v == NULL || YAJL_IS_NULL(v) || (YAJL_IS_STRING(v) && *v->u.string == '\0'))
		return hookparse_fail(msg, "TargetUrl is required: the https:// URL events are posted to.");
	if (!YAJL_IS_STRING(v))
		return hookparse_fail(msg, "TargetUrl must be a string.");
	out->target_url = xstrdup(v->u.string);
	return true;
}

bool
hookparse_webhook(yajl_val body, struct webhook *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	yajl_val id;
	bool ok;

	webhook_init(out);
	if (!YAJL_IS_OBJECT(body))
		return hookparse_fail(msg, "The body must be a Webhook: a JSON object.");
	ok = hookparse_member(body, "WebhookId", &id, msg) &&
	    (id == NULL || YAJL_IS_NULL(id) || hookparse_id_value("WebhookId", id, &out->id, msg)) &&
	    hookparse_string(body, "Name", HOOKPARSE_NAME_MAX, &out->name, msg) &&
	    hookparse_events(body, out, msg) &&
	    hookparse_target_url(body, out, msg) &&
	    hookparse_string(body, "Secret", HOOKPARSE_SECRET_MAX, &out->secret, msg) &&
	    /* Absent is Active, as for a new webhook. */
	    hookparse_state_member(body, "State", WEBHOOK_STATE_ACTIVE, false, &out->state, msg) &&
	    hookparse_type(body, out, msg) &&
	    hookparse_headers(body, out, msg) &&
	    hookparse_properties(body, out, msg);
	if (!ok)
		webhook_free(out);
	return ok;
}

/* A filter string: null, absent and "" are no filter. */
static bool
hookparse_filter_string(yajl_val body, const char *name, const char **out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	yajl_val v;

	*out = NULL;
	if (!hookparse_member(body, name, &v, msg))
		return false;
	if (v == NULL || YAJL_IS_NULL(v))
		return true;
	if (!YAJL_IS_STRING(v))
		return hookparse_fail(msg, "%s must be a string or null.", name);
	if (*v->u.string != '\0')
		*out = v->u.string;
	return true;
}

bool
hookparse_filter(yajl_val body, struct db_webhook_filter *out, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	enum webhook_state state = WEBHOOK_STATE_UNKNOWN;

	out->name = out->event = NULL;
	out->state = -1;
	if (body == NULL)
		return true;
	if (!YAJL_IS_OBJECT(body))
		return hookparse_fail(msg, "The body must be a JSON object: {NameFilter, EventFilter, StatusFilter}.");
	/* "" is no filter, as for the other two; so is Unknown. */
	if (!hookparse_filter_string(body, "NameFilter", &out->name, msg) ||
	    !hookparse_filter_string(body, "EventFilter", &out->event, msg) ||
	    !hookparse_state_member(body, "StatusFilter", WEBHOOK_STATE_UNKNOWN, true, &state, msg))
		return false;
	out->state = state == WEBHOOK_STATE_UNKNOWN ? -1 : (int)state;
	return true;
}

bool
hookparse_data(yajl_val v, char **data_json, char msg[HOOKPARSE_MESSAGE_SIZE])
{
	*data_json = NULL;
	if (v == NULL || YAJL_IS_NULL(v))
		return true;
	if (!YAJL_IS_OBJECT(v))
		return hookparse_fail(msg, "Data must be an object of field names and values, or null.");
	*data_json = hookparse_json_text(v);
	if (*data_json == NULL || strlen(*data_json) > HOOKPARSE_PROPERTIES_MAX) {
		free(*data_json);
		*data_json = NULL;
		return hookparse_fail(msg, "Data must be at most %d bytes as compact JSON.", HOOKPARSE_PROPERTIES_MAX);
	}
	return true;
}

bool
hookparse_signal(yajl_val body, const char **event, int32_t *primary_key, char **data_json,
    char msg[HOOKPARSE_MESSAGE_SIZE])
{
	yajl_val name, pk, data;

	*event = NULL;
	*primary_key = 0;
	*data_json = NULL;
	if (!YAJL_IS_OBJECT(body))
		return hookparse_fail(msg, "The body must be a JSON object: {EventName, PrimaryKey, Data}.");
	if (!hookparse_member(body, "EventName", &name, msg) || !hookparse_member(body, "PrimaryKey", &pk, msg) ||
	    !hookparse_member(body, "Data", &data, msg))
		return false;
	if (name == NULL || !YAJL_IS_STRING(name))
		return hookparse_fail(msg, "EventName is required: a string such as \"contact.created\".");
	if (!hookparse_event_name("EventName", name->u.string, msg))
		return false;
	if (pk != NULL && !YAJL_IS_NULL(pk)) {
		if (!YAJL_IS_INTEGER(pk) || YAJL_GET_INTEGER(pk) < INT32_MIN || YAJL_GET_INTEGER(pk) > INT32_MAX)
			return hookparse_fail(msg, "PrimaryKey must be a 32-bit integer.");
		*primary_key = (int32_t)YAJL_GET_INTEGER(pk);
	}
	if (!hookparse_data(data, data_json, msg))
		return false;
	*event = name->u.string;
	return true;
}
