#include "config.h"

#include "lang.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define LANG_RESOURCE_NAME_MAX 128

/* language-range = (1*8ALPHA *("-" 1*8alphanum)) / "*" (RFC 4647); keeps the primary subtag. */
static const char *
lang_parse_range(const char *p, char primary[LANG_TAG_MAX + 1], bool *star)
{
	size_t n = 0, sub = 0;
	bool first = true;

	*star = false;
	if (*p == '*') {
		*star = true;
		return p + 1;
	}
	for (;;) {
		sub = 0;
		while (isalnum((unsigned char)*p) && (first ? isalpha((unsigned char)*p) : true)) {
			if (++sub > 8)
				return NULL;
			if (first)
				primary[n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		if (sub == 0)
			return NULL;
		first = false;
		if (*p != '-')
			break;
		p++;
	}
	primary[n] = '\0';
	return p;
}

static bool
lang_add(struct lang_request *r, const char *tag)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->tags[i], tag) == 0)
			return true;
	}
	if (r->n == LANG_MAX_CANDIDATES)
		return false;
	strcpy(r->tags[r->n++], tag);
	return true;
}

struct lang_weighted {
	char tag[LANG_TAG_MAX + 1];
	int q;
	size_t order;
};

static int
lang_by_q(const void *a, const void *b)
{
	const struct lang_weighted *x = a, *y = b;

	if (x->q != y->q)
		return y->q - x->q;
	return x->order < y->order ? -1 : 1; /* stable: the header's order breaks ties */
}

/* Accept-Language = #( language-range [ weight ] ) */
static bool
lang_parse_accept(const char *header, struct lang_request *r)
{
	struct lang_weighted items[LANG_MAX_CANDIDATES];
	size_t n = 0;
	const char *p = header;

	for (;;) {
		bool star;
		int q = 1000;

		p = http_skip_ows(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\0')
			break;
		if (n == LANG_MAX_CANDIDATES)
			return false;
		p = lang_parse_range(p, items[n].tag, &star);
		if (p == NULL)
			return false;
		p = http_skip_ows(p);
		if (*p == ';') {
			p = http_skip_ows(p + 1);
			if ((p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
				return false;
			/* The grammar's qvalue, not strtod's: "0x1", "1e-3" and ".5" are malformed. */
			p = http_parse_qvalue(p + 2, &q);
			if (p == NULL)
				return false;
			p = http_skip_ows(p);
		}
		if (*p != ',' && *p != '\0')
			return false;
		if (!star && q > 0) {
			items[n].q = q;
			items[n].order = n;
			n++;
		}
	}
	qsort(items, n, sizeof items[0], lang_by_q);
	for (size_t i = 0; i < n; i++)
		(void)lang_add(r, items[i].tag);
	return true;
}

enum lang_parse_result
lang_parse(const char *accept_language, const char *so_language, struct lang_request *out)
{
	memset(out, 0, sizeof *out);
	if (so_language != NULL && *http_skip_ows(so_language) != '\0') {
		char tag[LANG_TAG_MAX + 1];
		bool star;
		const char *p = http_skip_ows(so_language);

		if ((p[0] == 'x' || p[0] == 'X') && *http_skip_ows(p + 1) == '\0') {
			out->off = true;
			return LANG_OK;
		}
		p = lang_parse_range(p, tag, &star);
		if (p == NULL || *http_skip_ows(p) != '\0')
			return LANG_MALFORMED_SO_LANGUAGE;
		if (star) {
			out->off = true;
			return LANG_OK;
		}
		(void)lang_add(out, tag);
		/* Accept-Language still supplies fallbacks after the explicit choice. */
	}
	if (accept_language != NULL && !lang_parse_accept(accept_language, out))
		return LANG_MALFORMED_ACCEPT_LANGUAGE;
	return LANG_OK;
}

bool
lang_parse_culture(const char *value, char out[LANG_TAG_MAX + 1])
{
	size_t n = 0, i;

	for (i = 0; isalpha((unsigned char)value[i]) && i < 3; i++)
		out[n++] = (char)tolower((unsigned char)value[i]);
	if (i < 2 || isalpha((unsigned char)value[i]))
		return false;
	if (value[i] == '-' || value[i] == '_') {
		size_t start = ++i;

		out[n++] = '-';
		for (; isalpha((unsigned char)value[i]) && i - start < 2; i++)
			out[n++] = (char)toupper((unsigned char)value[i]);
		if (i - start != 2)
			return false;
	}
	out[n] = '\0';
	return value[i] == '\0';
}

/* One variant: CODE:"text" where CODE is two or three letters; the text may not contain a quote. */
struct lang_variant {
	const char *code;
	size_t code_len;
	const char *text;
	size_t text_len;
};

/* Splits value into variants; false when it is not entirely a multi-language value. */
static bool
lang_variants(const char *value, struct lang_variant *v, size_t cap, size_t *n)
{
	const char *p = value;

	*n = 0;
	for (;;) {
		const char *code = p, *close;

		while (isupper((unsigned char)*p))
			p++;
		if (p - code < 2 || p - code > 3 || p[0] != ':' || p[1] != '"')
			return false;
		close = strchr(p + 2, '"');
		if (close == NULL || *n == cap)
			return false;
		v[*n].code = code;
		v[*n].code_len = (size_t)(p - code);
		v[*n].text = p + 2;
		v[*n].text_len = (size_t)(close - (p + 2));
		(*n)++;
		p = close + 1;
		if (*p == '\0')
			return true;
		if (*p != ';')
			return false;
		p++;
		if (*p == '\0')
			return true; /* a trailing ";" */
	}
}

bool
lang_pick_variant(const char *value, const char *ml_code, const char *fallback_ml_code, struct buf *out)
{
	struct lang_variant v[32];
	const char *want[2] = { ml_code, fallback_ml_code };
	size_t n;

	if (!lang_variants(value, v, sizeof v / sizeof v[0], &n))
		return false;
	for (size_t w = 0; w < 2; w++) {
		if (want[w] == NULL)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (v[i].code_len == strlen(want[w]) && strncmp(v[i].code, want[w], v[i].code_len) == 0) {
				buf_append(out, v[i].text, v[i].text_len);
				return true;
			}
		}
	}
	buf_append(out, v[0].text, v[0].text_len);
	return true;
}

/* Finds the next [SR_NAME] at or after p; NAME is upper-case letters, digits and underscores. */
static const char *
lang_next_reference(const char *p, char name[LANG_RESOURCE_NAME_MAX + 1], const char **end)
{
	for (p = strstr(p, "[SR_"); p != NULL; p = strstr(p + 1, "[SR_")) {
		const char *q = p + 1;
		size_t n = 0;

		while ((isupper((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_') &&
		    n < LANG_RESOURCE_NAME_MAX)
			name[n++] = *q++;
		if (*q == ']' && n > 3) {
			name[n] = '\0';
			*end = q + 1;
			return p;
		}
	}
	return NULL;
}

bool
lang_each_reference(const char *value, lang_reference_cb found, void *ctx)
{
	char name[LANG_RESOURCE_NAME_MAX + 1];
	const char *end;

	for (const char *p = value; (p = lang_next_reference(p, name, &end)) != NULL; p = end) {
		if (!found(ctx, name))
			return false;
	}
	return true;
}

void
lang_replace_references(const char *value, lang_lookup_cb lookup, void *ctx, struct buf *out)
{
	char name[LANG_RESOURCE_NAME_MAX + 1];
	const char *p = value, *ref, *end;

	while ((ref = lang_next_reference(p, name, &end)) != NULL) {
		const char *text = lookup(ctx, name);

		buf_append(out, p, (size_t)(ref - p));
		if (text != NULL)
			buf_append_str(out, text);
		else
			buf_append(out, ref, (size_t)(end - ref));
		p = end;
	}
	buf_append_str(out, p);
}

/* {n:-1234.5}: sign, up to 18 integer digits, optional fraction. Returns the placeholder's end. */
static const char *
lang_number(const char *p, const struct lang_culture *c, struct buf *out)
{
	const char *start = p + 3, *q = start, *int_start, *int_end, *frac = NULL, *frac_end;
	size_t int_len;

	if (*q == '-')
		q++;
	int_start = q;
	while (isdigit((unsigned char)*q))
		q++;
	int_end = q;
	int_len = (size_t)(int_end - int_start);
	if (int_len == 0 || int_len > 18)
		return NULL;
	frac_end = q;
	if (*q == '.') {
		frac = ++q;
		while (isdigit((unsigned char)*q))
			q++;
		if (q == frac)
			return NULL;
		frac_end = q;
	}
	if (*q != '}')
		return NULL;
	if (c == NULL) {
		buf_append(out, start, (size_t)(q - start));
		return q + 1;
	}
	if (*start == '-')
		buf_append_str(out, "-");
	for (size_t i = 0; i < int_len; i++) {
		if (i > 0 && (int_len - i) % 3 == 0)
			buf_append_str(out, c->group_separator);
		buf_append(out, int_start + i, 1);
	}
	if (frac != NULL) {
		buf_append_str(out, c->decimal_separator);
		buf_append(out, frac, (size_t)(frac_end - frac));
	}
	return q + 1;
}

/* {d:2024-05-01} */
static const char *
lang_date(const char *p, const struct lang_culture *c, struct buf *out)
{
	const char *d = p + 3;
	int y, m, day;
	char text[16];

	for (int i = 0; i < 10; i++) {
		if ((i == 4 || i == 7) ? d[i] != '-' : !isdigit((unsigned char)d[i]))
			return NULL;
	}
	if (d[10] != '}')
		return NULL;
	y = atoi(d);
	m = atoi(d + 5);
	day = atoi(d + 8);
	if (m < 1 || m > 12 || day < 1 || day > 31)
		return NULL;
	if (c == NULL) {
		buf_append(out, d, 10);
		return d + 11;
	}
	for (const char *f = c->date_pattern; *f != '\0';) {
		if (strncmp(f, "yyyy", 4) == 0) {
			snprintf(text, sizeof text, "%04d", y);
			f += 4;
		} else if (strncmp(f, "MM", 2) == 0) {
			snprintf(text, sizeof text, "%02d", m);
			f += 2;
		} else if (strncmp(f, "dd", 2) == 0) {
			snprintf(text, sizeof text, "%02d", day);
			f += 2;
		} else if (*f == 'M' || *f == 'd') {
			snprintf(text, sizeof text, "%d", *f == 'M' ? m : day);
			f++;
		} else {
			text[0] = *f++;
			text[1] = '\0';
		}
		buf_append_str(out, text);
	}
	return d + 11;
}

void
lang_format_culture(const char *value, const struct lang_culture *culture, struct buf *out)
{
	const char *p = value;

	buf_append_str(out, "");
	while (*p != '\0') {
		const char *next = strchr(p, '{'), *end = NULL;

		if (next == NULL) {
			buf_append_str(out, p);
			return;
		}
		buf_append(out, p, (size_t)(next - p));
		if (strncmp(next, "{n:", 3) == 0)
			end = lang_number(next, culture, out);
		else if (strncmp(next, "{d:", 3) == 0)
			end = lang_date(next, culture, out);
		if (end == NULL) {
			buf_append(out, next, 1);
			p = next + 1;
		} else {
			p = end;
		}
	}
}
