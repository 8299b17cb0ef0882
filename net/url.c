#include "config.h"

#include "url.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Messages quote only the scheme of the input, never the whole URL: that could carry a password
 * or a token into a log. Real schemes are short; a long one is cut.
 */
#define NET_URL_SCHEME_QUOTE_MAX 32

static void net_url_msg(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
net_url_msg(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL || msglen == 0)
		return;
	va_start(ap, fmt);
	/* A message cut short by a small msg is still NUL-terminated; that is all callers need. */
	(void)vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

/*
 * Copies at most max of the len bytes at s into out as printable ASCII: anything else (control
 * bytes, UTF-8 that a cut could split, quotes) becomes '?', and a cut is marked with "...".
 * out needs max + 4 bytes.
 */
static void
net_url_quote(char *out, const char *s, size_t len, size_t max)
{
	size_t i;

	for (i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
	}
	if (len > max) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/* "https://" or "http:// or https://", for the messages that say what a URL must look like. */
static const char *
net_url_schemes(bool allow_http)
{
	return allow_http ? "http:// or https://" : "https://";
}

/* The length of the scheme url starts with (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or 0. */
static size_t
net_url_scheme_len(const char *url)
{
	size_t i = 0;

	if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
		return 0;
	while ((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z') ||
	    (url[i] >= '0' && url[i] <= '9') || url[i] == '+' || url[i] == '-' || url[i] == '.')
		i++;
	return i;
}

/* Says what is wrong with a scheme other than https (and http when allowed); true when it is fine. */
static bool
net_url_scheme_ok(const char *scheme, size_t len, bool allow_http, char *msg, size_t msglen)
{
	char quoted[NET_URL_SCHEME_QUOTE_MAX + 4];

	if (len == 5 && strncasecmp(scheme, "https", 5) == 0)
		return true;
	if (len == 4 && strncasecmp(scheme, "http", 4) == 0) {
		if (allow_http)
			return true;
		net_url_msg(msg, msglen, "TargetUrl must use https:// (this installation does not allow http://).");
		return false;
	}
	net_url_quote(quoted, scheme, len, NET_URL_SCHEME_QUOTE_MAX);
	net_url_msg(msg, msglen, "TargetUrl must use %s, not %s://.", net_url_schemes(allow_http), quoted);
	return false;
}

/* Part of url (which libcurl parsed) or NULL when it is absent; free with curl_free(). */
static char *
net_url_part(CURLU *h, CURLUPart what)
{
	char *part = NULL;

	if (curl_url_get(h, what, &part, 0) != CURLUE_OK)
		return NULL;
	return part;
}

static bool
net_url_has_part(CURLU *h, CURLUPart what)
{
	char *part = net_url_part(h, what);
	bool present = part != NULL;

	curl_free(part);
	return present;
}

/* The message for a URL libcurl refused. */
static void
net_url_parse_error(CURLUcode rc, bool allow_http, char *msg, size_t msglen)
{
	switch (rc) {
	case CURLUE_USER_NOT_ALLOWED:
	case CURLUE_BAD_LOGIN:
	case CURLUE_BAD_USER:
	case CURLUE_BAD_PASSWORD:
		net_url_msg(msg, msglen, "TargetUrl must not contain a user name or password.");
		break;
	case CURLUE_NO_HOST:
		net_url_msg(msg, msglen, "TargetUrl must name a host (%shost/...).", net_url_schemes(allow_http));
		break;
	case CURLUE_BAD_HOSTNAME:
	case CURLUE_BAD_IPV6:
	case CURLUE_LACKS_IDN:
		net_url_msg(msg, msglen, "TargetUrl has an invalid host name.");
		break;
	case CURLUE_BAD_PORT_NUMBER:
		net_url_msg(msg, msglen, "TargetUrl has an invalid port: it must be a number from 1 to 65535.");
		break;
	case CURLUE_BAD_SCHEME:
	case CURLUE_NO_SCHEME:
	case CURLUE_BAD_SLASHES:
	case CURLUE_UNSUPPORTED_SCHEME:
		net_url_msg(msg, msglen, "TargetUrl must be an absolute %s URL.", net_url_schemes(allow_http));
		break;
	case CURLUE_OUT_OF_MEMORY:
		net_url_msg(msg, msglen, "TargetUrl could not be checked (out of memory).");
		break;
	default:
		/* curl's own texts are static and name only the part at fault ("Bad path"). */
		net_url_msg(msg, msglen, "TargetUrl is not a valid URL (%s).", curl_url_strerror(rc));
		break;
	}
}

/* Checks the parts of a URL libcurl accepted; true when they pass. */
static bool
net_url_check_parts(CURLU *h, bool allow_http, char *msg, size_t msglen)
{
	char *scheme = net_url_part(h, CURLUPART_SCHEME);
	char *part;
	bool ok = false;

	if (scheme == NULL) {
		net_url_msg(msg, msglen, "TargetUrl must be an absolute %s URL.", net_url_schemes(allow_http));
		return false;
	}
	/* Checked on the text already; this is libcurl's reading of it, which is the one used. */
	if (!net_url_scheme_ok(scheme, strlen(scheme), allow_http, msg, msglen))
		goto out;
	/* CURLU_DISALLOW_USER refuses these already; an empty "https://@host" is checked here too. */
	if (net_url_has_part(h, CURLUPART_USER) || net_url_has_part(h, CURLUPART_PASSWORD) ||
	    net_url_has_part(h, CURLUPART_OPTIONS)) {
		net_url_msg(msg, msglen, "TargetUrl must not contain a user name or password.");
		goto out;
	}
	part = net_url_part(h, CURLUPART_HOST);
	if (part == NULL || part[0] == '\0') {
		curl_free(part);
		net_url_msg(msg, msglen, "TargetUrl must name a host (%shost/...).", net_url_schemes(allow_http));
		goto out;
	}
	curl_free(part);
	/* libcurl takes 0 to 65535; port 0 cannot be connected to. */
	if ((part = net_url_part(h, CURLUPART_PORT)) != NULL) {
		char *end;
		long port = strtol(part, &end, 10);
		bool bad = *end != '\0' || port < 1 || port > 65535;

		curl_free(part);
		if (bad) {
			net_url_msg(msg, msglen, "TargetUrl has an invalid port: it must be a number from 1 to 65535.");
			goto out;
		}
	}
	ok = true;
out:
	curl_free(scheme);
	return ok;
}

bool
net_url_check(const char *url, bool allow_http, char *msg, size_t msglen)
{
	CURLU *h;
	CURLUcode rc;
	size_t len, n;
	bool ok;

	net_url_msg(msg, msglen, "%s", "");
	if (url == NULL || url[0] == '\0') {
		net_url_msg(msg, msglen, "TargetUrl must be an absolute %s URL.", net_url_schemes(allow_http));
		return false;
	}
	len = strnlen(url, NET_URL_MAX + 1);
	if (len > NET_URL_MAX) {
		net_url_msg(msg, msglen, "TargetUrl must be at most %d characters long.", NET_URL_MAX);
		return false;
	}
	/* libcurl refuses most of these, but not in every part and every version: refuse them all. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c == 0x7f) {
			net_url_msg(msg, msglen, "TargetUrl must not contain spaces or control characters.");
			return false;
		}
	}
	/* '#' is never part of a valid URL except as the fragment's start. */
	if (memchr(url, '#', len) != NULL) {
		net_url_msg(msg, msglen,
		    "TargetUrl must not contain a fragment (#...): it is never sent to the target.");
		return false;
	}
	/*
	 * "scheme://" then the host. libcurl also takes "https:/host" and "https:///host" as
	 * "https://host": forms nobody writes on purpose, which other parsers read differently.
	 */
	n = net_url_scheme_len(url);
	if (n == 0 || strncmp(url + n, "://", 3) != 0) {
		net_url_msg(msg, msglen, "TargetUrl must be an absolute %s URL.", net_url_schemes(allow_http));
		return false;
	}
	if (!net_url_scheme_ok(url, n, allow_http, msg, msglen))
		return false;
	if (url[n + 3] == '/' || url[n + 3] == '\0') {
		net_url_msg(msg, msglen, "TargetUrl must name a host (%shost/...).", net_url_schemes(allow_http));
		return false;
	}

	h = curl_url();
	if (h == NULL) {
		net_url_msg(msg, msglen, "TargetUrl could not be checked (out of memory).");
		return false;
	}
	/*
	 * No CURLU_GUESS_SCHEME or CURLU_DEFAULT_SCHEME: a URL must say its scheme. No
	 * CURLU_NON_SUPPORT_SCHEME: unknown schemes fail here. No CURLU_ALLOW_SPACE or
	 * CURLU_URLENCODE: the URL is used as given, not repaired.
	 */
	rc = curl_url_set(h, CURLUPART_URL, url, CURLU_DISALLOW_USER);
	if (rc != CURLUE_OK) {
		net_url_parse_error(rc, allow_http, msg, msglen);
		curl_url_cleanup(h);
		return false;
	}
	ok = net_url_check_parts(h, allow_http, msg, msglen);
	curl_url_cleanup(h);
	return ok;
}
