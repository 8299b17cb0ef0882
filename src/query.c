#include "config.h"

#include "query.h"

#include <string.h>
#include <strings.h>

static int
query_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes [s, end) into out; false when malformed or too long. */
static bool
query_decode(const char *s, const char *end, char *out, size_t cap)
{
	size_t n = 0;

	for (; s < end; s++) {
		int c = (unsigned char)*s;

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = s + 2 < end ? query_hex(s[1]) : -1;
			int lo = hi >= 0 ? query_hex(s[2]) : -1;

			if (lo < 0)
				return false;
			c = hi * 16 + lo;
			s += 2;
		}
		if (c == 0 || n + 1 >= cap)
			return false;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return true;
}

enum query_result
query_param(const char *query, const char *name, char *out, size_t cap)
{
	char key[128];
	enum query_result r = QUERY_ABSENT;

	for (const char *p = query; p != NULL && *p != '\0';) {
		const char *amp = strchr(p, '&');
		const char *end = amp != NULL ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *kend = eq != NULL ? eq : end;

		if (kend > p && query_decode(p, kend, key, sizeof key) && strcasecmp(key, name) == 0) {
			if (r == QUERY_FOUND)
				return QUERY_REPEATED;
			if (!query_decode(eq != NULL ? eq + 1 : end, end, out, cap))
				return QUERY_MALFORMED;
			r = QUERY_FOUND;
		}
		p = amp != NULL ? amp + 1 : end;
	}
	return r;
}
