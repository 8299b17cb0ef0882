/*
 * Validates a webhook TargetUrl before it is stored or used, with libcurl's own URL parser, so
 * what is accepted here is exactly what net_post() will request. Plain C: no curl.h here.
 *
 * The rules: an absolute URL ("scheme://host..."), at most NET_URL_MAX bytes, no whitespace
 * or control characters; scheme https (http too when allow_http); a host; a port, if
 * given, from 1 to 65535; no user name or password (they would be stored, shown and logged with
 * the URL); no fragment (it is never sent to the target, so a "#..." can only mislead whoever
 * reads the stored URL). A query string is allowed: targets often carry a token there.
 */
#ifndef WEBHOOKD_NET_URL_H
#define WEBHOOKD_NET_URL_H

#include <stdbool.h>
#include <stddef.h>

#define NET_URL_MAX 4000

/* Ample for every message net_url_check() writes. */
#define NET_URL_MSG_SIZE 256

/*
 * True when url is acceptable. Otherwise false, and msg (when msglen > 0) holds a sentence for
 * the client that starts with "TargetUrl" and says what is wrong; it quotes at most a short,
 * sanitised part of the input (never the user-info part). Thread-safe.
 */
bool net_url_check(const char *url, bool allow_http, char *msg, size_t msglen)
	__attribute__((warn_unused_result));

#endif
