/*
 * What the service needs of outbound HTTP: TargetUrl syntax and one POST. The fronts supply the
 * real thing (net/, libcurl: the only code that includes curl.h); the unit tests a fake. Keeping
 * it behind these pointers lets src/ stay plain C that links without libcurl.
 */
#ifndef WEBHOOKD_OUTBOUND_H
#define WEBHOOKD_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct outbound_policy {
	bool allow_http;             /* http:// targets, besides https:// */
	bool allow_private;          /* loopback, private and link-local addresses */
	long timeout_ms;             /* the whole exchange */
	size_t max_response_bytes;   /* of the answer's body (the header block has a fixed cap) */
	const char *user_agent;
};

struct outbound_header {
	const char *name;
	const char *value;
};

struct outbound_result {
	long status;                 /* the HTTP status; 0 when there was no answer */
	struct buf headers;          /* the status line and header lines as received, capped */
	struct buf body;             /* at most max_response_bytes */
	bool truncated;              /* the body was longer */
	char error[256];             /* when status is 0: why, in words a client may read */
};

struct outbound {
	/* False, with a sentence starting "TargetUrl", when url is not one delivery may POST to. */
	bool (*url_check)(const char *url, bool allow_http, char *msg, size_t msglen);
	/* POSTs body; true when the target answered (any status), false with out->error when there
	 * was no complete answer (refused address, DNS, connect, TLS, timeout). */
	bool (*post)(const struct outbound_policy *policy, const char *url, const struct outbound_header *headers,
	    size_t nheaders, const char *body, size_t body_len, struct outbound_result *out);
};

void outbound_result_init(struct outbound_result *r);
void outbound_result_free(struct outbound_result *r);

#endif
