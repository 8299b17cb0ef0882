/*
 * One blocking HTTP POST to a webhook target: the check before a webhook is saved (NetServer
 * stores a webhook only when its target answers a "test" event with 2xx) and TestWebhook. Plain
 * C: no curl.h here, so src/ can include it. Each call has its own libcurl handle and nothing is
 * shared between calls, so any number of FastCGI worker threads may post at once.
 *
 * The policy is enforced on every connection: only https (and http when allowed); redirects
 * are never followed (a 3xx is an answer like any other); proxies from the environment are
 * ignored; TLS peers are verified; and the address actually connected to (after DNS, so a
 * name that re-resolves to an internal address is caught) must pass netaddr_allowed().
 */
#ifndef WEBHOOKD_NET_TARGET_H
#define WEBHOOKD_NET_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "outbound.h"

/* Used when a policy's timeout_ms is 0 or less: libcurl's "no timeout" would pin a worker. */
#define NET_TIMEOUT_DEFAULT_MS 5000L
/* Response status and header lines kept in outbound_result.headers; later lines are dropped. */
#define NET_HEADERS_MAX 16384
#define NET_ERROR_SIZE sizeof ((struct outbound_result *)0)->error

/* The policy, headers and result are the service's (include/outbound.h): net_post is what the
 * fronts plug into struct outbound. The error text fits outbound_result.error. */
/*
 * Initialises libcurl and checks that it can do what net_post() needs (https, libcurl 7.85 or
 * later for CURLOPT_PROTOCOLS_STR). Call once from main before any thread starts; logs why on
 * failure. The process should block or ignore SIGPIPE: with CURLOPT_NOSIGNAL (required with
 * threads) libcurl no longer does that around its own writes.
 */
bool net_global_init(void) __attribute__((warn_unused_result));
/* After the last net_post(), once no thread uses libcurl any more. */
void net_global_cleanup(void);


/*
 * POSTs body (body_len bytes; body may be NULL when body_len is 0) to url with headers, under
 * policy p; the caller sends its own Content-Type (libcurl's default would be
 * application/x-www-form-urlencoded). out must have been initialised; it is reset first, so one
 * result may serve several calls.
 *
 * True when the target answered: out->status is its final status, whatever it is (2xx, 3xx,
 * 5xx...), with its headers and body. A body longer than max_response_bytes is cut there and
 * sets truncated; the transfer stops at that point (the status and headers are complete by
 * then, libcurl hands over body bytes only after the header section). False when there is no
 * complete answer (refused by the policy, DNS, connect, TLS, timeout, connection lost while
 * reading): out->status is 0 and out->error says why in words fit for the client, e.g.
 * "connection refused", "timed out after 5000 ms", "refused: 127.0.0.1 is a loopback address
 * and this installation does not allow private targets", or a TLS certificate problem. An
 * invalid url fails with net_url_check()'s "TargetUrl ..." message.
 */
bool net_post(const struct outbound_policy *p, const char *url, const struct outbound_header *headers, size_t nheaders,
    const char *body, size_t body_len, struct outbound_result *out) __attribute__((warn_unused_result));

/*
 * The same request for a multi-interface sender (deliver/): net_request_new applies the policy
 * to a fresh easy handle (NULL, with out->error, when the URL or libcurl refuses); the caller
 * runs net_request_handle() (a CURL *) in its multi handle, then passes the transfer's CURLcode
 * to net_request_finish, which fills out as net_post would and returns what net_post returns.
 * body must outlive the transfer; out must be initialised.
 */
struct net_request;
struct net_request *net_request_new(const struct outbound_policy *p, const char *url,
    const struct outbound_header *headers, size_t nheaders, const char *body, size_t body_len,
    struct outbound_result *out);
void *net_request_handle(struct net_request *r);
bool net_request_finish(struct net_request *r, int code);
void net_request_free(struct net_request *r);

#endif
