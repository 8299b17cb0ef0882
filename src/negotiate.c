#include "config.h"

#include "negotiate.h"

#include <string.h>
#include <strings.h>

#include "http.h"

static const struct {
	const char *type;
	const char *subtype;
	const char *content_type;
	enum emit_format format;
} media_types[MEDIA_TYPE_COUNT] = {
	[MEDIA_APPLICATION_JSON] = { "application", "json", "application/json; charset=utf-8", EMIT_JSON },
	[MEDIA_TEXT_JSON] = { "text", "json", "text/json; charset=utf-8", EMIT_JSON },
	[MEDIA_APPLICATION_XML] = { "application", "xml", "application/xml; charset=utf-8", EMIT_XML },
	[MEDIA_TEXT_XML] = { "text", "xml", "text/xml; charset=utf-8", EMIT_XML },
	[MEDIA_JSON_PATCH] = { "application", "json-patch+json", "application/json-patch+json; charset=utf-8", EMIT_JSON },
	[MEDIA_MERGE_PATCH] = { "application", "merge-patch+json", "application/merge-patch+json; charset=utf-8", EMIT_JSON },
};

const char negotiate_supported_list[] = "application/json, text/json, application/xml, text/xml, "
    "application/json-patch+json, application/merge-patch+json";

/* Bounds that no real client comes near. */
#define ACCEPT_MAX_RANGES 32
#define ACCEPT_TOKEN_MAX 64

struct media_range {
	char type[ACCEPT_TOKEN_MAX + 1];
	char subtype[ACCEPT_TOKEN_MAX + 1];
	int q;             /* thousandths */
	bool charset_ok;   /* no charset parameter, or one that UTF-8 output satisfies */
	int specificity;   /* 0: any type; 1: any subtype of one type; 2: one exact type */
};

static const char *
parse_token(const char *p, char *out, size_t cap)
{
	size_t n = 0;

	while (http_is_tchar(*p)) {
		if (n == cap)
			return NULL;
		out[n++] = *p++;
	}
	out[n] = '\0';
	return n > 0 ? p : NULL;
}

/* One parameter value: a token or a quoted string (unquoted into out). */
static const char *
parse_param_value(const char *p, char *out, size_t cap)
{
	size_t n = 0;

	if (*p != '"')
		return parse_token(p, out, cap);
	for (p++; *p != '"'; p++) {
		if (*p == '\0')
			return NULL;
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (n == cap)
			return NULL;
		out[n++] = *p;
	}
	out[n] = '\0';
	return p + 1;
}

/* Parses "type/subtype *( OWS ; OWS name=value )" up to the next comma. */
static const char *
parse_range(const char *p, struct media_range *r)
{
	char name[ACCEPT_TOKEN_MAX + 1], value[ACCEPT_TOKEN_MAX + 1];

	r->q = 1000;
	r->charset_ok = true;
	p = parse_token(p, r->type, ACCEPT_TOKEN_MAX);
	if (p == NULL || *p != '/')
		return NULL;
	p = parse_token(p + 1, r->subtype, ACCEPT_TOKEN_MAX);
	if (p == NULL)
		return NULL;
	if (strcmp(r->type, "*") == 0)
		r->specificity = strcmp(r->subtype, "*") == 0 ? 0 : -1;
	else
		r->specificity = strcmp(r->subtype, "*") == 0 ? 1 : 2;
	if (r->specificity < 0)
		return NULL; /* a wildcard type needs a wildcard subtype */
	for (;;) {
		p = http_skip_ows(p);
		if (*p != ';')
			return p;
		p = http_skip_ows(p + 1);
		if (*p == ',' || *p == '\0')
			return p; /* a stray ";" before the next range is tolerated */
		p = parse_token(p, name, ACCEPT_TOKEN_MAX);
		if (p == NULL || *p != '=')
			return NULL;
		if (strcasecmp(name, "q") == 0) {
			/* weight = OWS ";" OWS "q=" qvalue: never quoted, and nothing may follow the digits. */
			p = http_parse_qvalue(p + 1, &r->q);
			if (p == NULL || (*p != ' ' && *p != '\t' && *p != ';' && *p != ',' && *p != '\0'))
				return NULL;
			continue;
		}
		p = parse_param_value(p + 1, value, ACCEPT_TOKEN_MAX);
		if (p == NULL)
			return NULL;
		if (strcasecmp(name, "charset") == 0) {
			r->charset_ok = strcasecmp(value, "utf-8") == 0 || strcasecmp(value, "utf8") == 0 ||
			    strcmp(value, "*") == 0;
		}
		/* Other parameters (odata=..., version=...) do not change what we can send. */
	}
}

static bool
range_matches(const struct media_range *r, enum media_type t)
{
	return r->specificity == 0 ||
	    (strcasecmp(r->type, media_types[t].type) == 0 &&
	        (r->specificity == 1 || strcasecmp(r->subtype, media_types[t].subtype) == 0));
}

enum negotiate_result
negotiate_accept(const char *accept, enum media_type *out)
{
	struct media_range ranges[ACCEPT_MAX_RANGES];
	size_t n = 0;
	const char *p;
	int best_q = 0;

	*out = MEDIA_APPLICATION_JSON;
	if (accept == NULL || *http_skip_ows(accept) == '\0')
		return NEGOTIATE_OK;
	for (p = accept;;) {
		p = http_skip_ows(p);
		if (*p == ',') { /* empty list elements are allowed (RFC 9110, 5.6.1) */
			p++;
			continue;
		}
		if (*p == '\0')
			break;
		if (n == ACCEPT_MAX_RANGES)
			return NEGOTIATE_MALFORMED;
		p = parse_range(p, &ranges[n]);
		if (p == NULL || (*p != ',' && *p != '\0'))
			return NEGOTIATE_MALFORMED;
		n++;
	}
	if (n == 0)
		return NEGOTIATE_OK;
	/* For each type we serve, the most specific matching range sets its q; the best q wins. */
	for (int t = 0; t < MEDIA_TYPE_COUNT; t++) {
		const struct media_range *match = NULL;

		for (size_t i = 0; i < n; i++) {
			if (range_matches(&ranges[i], (enum media_type)t) &&
			    (match == NULL || ranges[i].specificity > match->specificity))
				match = &ranges[i];
		}
		if (match != NULL && match->charset_ok && match->q > best_q) {
			best_q = match->q;
			*out = (enum media_type)t;
		}
	}
	return best_q > 0 ? NEGOTIATE_OK : NEGOTIATE_NOT_ACCEPTABLE;
}

const char *
media_type_content_type(enum media_type t)
{
	return media_types[t].content_type;
}

enum emit_format
media_type_format(enum media_type t)
{
	return media_types[t].format;
}
