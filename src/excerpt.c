#include "config.h"

#include "excerpt.h"

#include <string.h>

#include "jsontree.h"

/* A character the answer may keep: valid UTF-8 (jsontree's strict reading) that XML can carry
 * too: no C0 control but tab and line breaks, no DEL, no U+FFFE or U+FFFF. Its length, or 0. */
static size_t
excerpt_char_len(const unsigned char *s, size_t n)
{
	size_t len = jsontree_utf8_char((const char *)s, n);

	if (len == 1 && ((s[0] < 0x20 && s[0] != '\t' && s[0] != '\n' && s[0] != '\r') || s[0] == 0x7f))
		return 0;
	if (len == 3 && s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
		return 0;
	return len;
}

/* Appends data cleaned, while out stays within cap bytes. */
static void
excerpt_append(struct buf *out, const char *data, size_t n, size_t cap)
{
	const unsigned char *s = (const unsigned char *)data;

	for (size_t i = 0; i < n;) {
		size_t len = excerpt_char_len(s + i, n - i);

		if (out->len + (len > 0 ? len : 1) > cap)
			return;
		if (len > 0)
			buf_append(out, s + i, len);
		else
			buf_append(out, "?", 1);
		i += len > 0 ? len : 1;
	}
}

/* Every occurrence of secret in b becomes "***" (shorter secrets: as many stars). The search
 * goes on after each replacement, so a secret made of stars cannot match its own replacement. */
static void
excerpt_redact(struct buf *b, const char *secret)
{
	size_t slen = secret != NULL ? strlen(secret) : 0;
	size_t stars = slen < 3 ? slen : 3, at = 0;
	char *hit;

	while (slen > 0 && b->data != NULL && at < b->len &&
	    (hit = memmem(b->data + at, b->len - at, secret, slen)) != NULL) {
		size_t pos = (size_t)(hit - b->data);

		memset(hit, '*', stars);
		memmove(hit + stars, hit + slen, b->len - pos - slen + 1);
		b->len -= slen - stars;
		at = pos + stars;
	}
}

/* A text cut at the cap may end in the first characters of the secret: those go too (from
 * four of them on, or the whole of a shorter secret: a single shared letter is no leak). */
static void
excerpt_redact_tail(struct buf *b, const char *secret)
{
	size_t slen = secret != NULL ? strlen(secret) : 0;
	size_t least = slen < 4 ? slen : 4;

	for (size_t n = slen > b->len ? b->len : slen; n >= least && n > 0; n--) {
		if (memcmp(b->data + b->len - n, secret, n) == 0) {
			b->len -= n;
			b->data[b->len] = '\0';
			buf_append_str(b, n < 3 ? "*" : "***");
			return;
		}
	}
}

void
excerpt_of_result(const struct outbound_result *res, const char *secret, const char *previous, size_t cap,
    struct buf *out)
{
	struct buf raw;

	buf_reset(out);
	buf_append(out, "", 0);
	buf_init(&raw);
	if (res->status == 0) {
		buf_append_str(&raw, res->error);
	} else {
		buf_append(&raw, res->headers.data != NULL ? res->headers.data : "", res->headers.len);
		buf_append(&raw, res->body.data != NULL ? res->body.data : "", res->body.len);
	}
	/* Redacted whole before it is cut, so no cut can leave a part of the secret unmatched. */
	excerpt_redact(&raw, secret);
	excerpt_redact(&raw, previous);
	excerpt_append(out, raw.data != NULL ? raw.data : "", raw.len, cap);
	/* The body was cut at the response cap too: its end may be the secret's beginning. */
	if (res->status != 0 && (res->truncated || out->len + 8 >= cap)) {
		excerpt_redact_tail(out, secret);
		excerpt_redact_tail(out, previous);
	}
	buf_free(&raw);
}
