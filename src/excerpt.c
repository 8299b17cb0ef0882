#include "config.h"

#include "excerpt.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes available), or 0. */
static size_t
excerpt_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff || cp > 0x10ffff)
		return 0;
	return len;
}

/* Appends data cleaned, while out stays within cap bytes. */
static void
excerpt_append(struct buf *out, const char *data, size_t n, size_t cap)
{
	const unsigned char *s = (const unsigned char *)data;

	for (size_t i = 0; i < n;) {
		size_t len = excerpt_utf8_len(s + i, n - i);
		bool plain = len > 1 || (len == 1 && (s[i] >= 0x20 || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') &&
		    s[i] != 0x7f);

		if (out->len + (plain ? len : 1) > cap)
			return;
		if (plain)
			buf_append(out, s + i, len);
		else
			buf_append(out, "?", 1);
		i += len > 0 ? len : 1;
	}
}

/* Every occurrence of secret becomes "***". */
static void
excerpt_redact(struct buf *out, const char *secret)
{
	size_t slen = secret != NULL ? strlen(secret) : 0;
	size_t stars = slen < 3 ? slen : 3;
	char *from = out->data, *hit;

	if (slen == 0 || from == NULL)
		return;
	/* The text only shrinks; the search goes on after each replacement, so a secret made of
	 * stars cannot match its own replacement. */
	while ((hit = strstr(from, secret)) != NULL) {
		size_t tail = out->len - (size_t)(hit - out->data) - slen;

		memset(hit, '*', stars);
		memmove(hit + stars, hit + slen, tail + 1);
		out->len -= slen - stars;
		from = hit + stars;
	}
}

void
excerpt_of_result(const struct outbound_result *res, const char *secret, size_t cap, struct buf *out)
{
	buf_reset(out);
	buf_append(out, "", 0);
	if (res->status == 0) {
		excerpt_append(out, res->error, strlen(res->error), cap);
	} else {
		excerpt_append(out, res->headers.data != NULL ? res->headers.data : "", res->headers.len, cap);
		excerpt_append(out, res->body.data != NULL ? res->body.data : "", res->body.len, cap);
	}
	excerpt_redact(out, secret);
}
