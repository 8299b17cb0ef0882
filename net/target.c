#include "config.h"

#include "target.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "netaddr.h"
#include "url.h"
#include "xalloc.h"

/* CURLOPT_PROTOCOLS_STR and CURLOPT_REDIR_PROTOCOLS_STR came with 7.85.0. */
#define NET_CURL_MIN_VERSION 0x075500

/*
 * One transfer's state, shared by its callbacks. Nothing here outlives the call, which is what
 * lets worker threads post at once; a multi-interface sender can keep one per easy handle.
 */
struct net_transfer {
	const struct outbound_policy *policy;
	struct outbound_result *out;
	bool headers_full;             /* a header line did not fit: drop the rest, keep whole lines */
	char refused[NET_ERROR_SIZE];  /* the first address the guard refused, and why */
};

static void net_error(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
net_error(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* A longer text is cut; NET_ERROR_SIZE is ample for every message written here. */
	(void)vsnprintf(out, NET_ERROR_SIZE, fmt, ap);
	va_end(ap);
}

/* libcurl's error text made safe for a client and a log: printable ASCII, one line, bounded. */
static void
net_error_sanitised(char *out, const char *prefix, const char *text)
{
	size_t n = (size_t)snprintf(out, NET_ERROR_SIZE, "%s", prefix);

	for (; n < NET_ERROR_SIZE - 1 && *text != '\0'; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '\n' || c == '\r')
			break;
		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[n < NET_ERROR_SIZE ? n : NET_ERROR_SIZE - 1] = '\0';
}

bool
net_global_init(void)
{
	const curl_version_info_data *v;
	bool https = false;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("libcurl: curl_global_init failed");
		return false;
	}
	v = curl_version_info(CURLVERSION_NOW);
	for (size_t i = 0; v != NULL && v->protocols != NULL && v->protocols[i] != NULL; i++)
		https = https || strcmp(v->protocols[i], "https") == 0;
	if (v == NULL || v->version_num < NET_CURL_MIN_VERSION || !https) {
		log_error("libcurl %s is too old or lacks https: webhook targets need libcurl 7.85 or later with TLS",
		    v != NULL && v->version != NULL ? v->version : "(unknown)");
		curl_global_cleanup();
		return false;
	}
	/* Without a threaded resolver, CURLOPT_NOSIGNAL leaves name lookups outside the timeout. */
	if (!(v->features & CURL_VERSION_ASYNCHDNS))
		log_warning("libcurl %s resolves names synchronously: webhook timeouts do not cover DNS", v->version);
	return true;
}

void
net_global_cleanup(void)
{
	curl_global_cleanup();
}

static void
net_result_reset(struct outbound_result *r)
{
	r->status = 0;
	buf_reset(&r->headers);
	buf_reset(&r->body);
	r->truncated = false;
	r->error[0] = '\0';
}

/*
 * The SSRF guard. libcurl calls this instead of socket(2) for every address it tries (each
 * address of a name, IPv4 and IPv6 alike, including the happy-eyeballs second family), with the
 * address it will connect the socket to. Checking here, not the name in the URL, is what
 * defeats DNS rebinding: the address judged is the address used.
 */
static curl_socket_t
net_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	struct net_transfer *t = clientp;
	enum netaddr_class c;
	char text[NETADDR_TEXT_SIZE];

	c = purpose == CURLSOCKTYPE_IPCXN ? netaddr_classify(&address->addr, address->addrlen) : NETADDR_NOT_IP;
	if (netaddr_allowed(c, t->policy->allow_private)) {
		int type = address->socktype;

#ifdef SOCK_CLOEXEC
		/* Not leaked into a child process the daemon may start. */
		type |= SOCK_CLOEXEC;
#endif
		return socket(address->family, type, address->protocol);
	}
	/* Several addresses may be refused; the first one explains it best. */
	if (t->refused[0] == '\0') {
		if (!netaddr_format(&address->addr, address->addrlen, text))
			snprintf(text, sizeof text, "%s", "the address");
		if (netaddr_allowed(c, true))
			net_error(t->refused, "refused: %s is %s and this installation does not allow private targets",
			    text, netaddr_class_name(c));
		else
			net_error(t->refused, "refused: %s is %s, which is never allowed", text, netaddr_class_name(c));
	}
	return CURL_SOCKET_BAD;
}

/*
 * Keeps the body up to the cap. At the first byte past it the transfer stops (returning less
 * than given makes libcurl fail with CURLE_WRITE_ERROR, which net_post() recognises): reading
 * on would only spend time on bytes nobody keeps, and the status is already known.
 */
static size_t
net_write_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct net_transfer *t = userdata;
	struct outbound_result *out = t->out;
	size_t n = size * nmemb;
	size_t room = t->policy->max_response_bytes - out->body.len;

	if (n <= room) {
		buf_append(&out->body, data, n);
		return n;
	}
	buf_append(&out->body, data, room);
	out->truncated = true;
	return 0;
}

/* libcurl hands over one whole header line per call (status line, fields, the empty line). */
static size_t
net_write_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct net_transfer *t = userdata;
	struct outbound_result *out = t->out;
	size_t n = size * nmemb;

	if (!t->headers_full && n <= NET_HEADERS_MAX - out->headers.len)
		buf_append(&out->headers, data, n);
	else
		t->headers_full = true;
	return n;
}

/* The request headers: the caller's, and an empty Expect so libcurl never waits for 100-continue. */
static bool
net_header_list(const struct outbound_header *headers, size_t nheaders, struct curl_slist **list)
{
	struct curl_slist *l = curl_slist_append(NULL, "Expect:");

	for (size_t i = 0; l != NULL && i < nheaders; i++) {
		const char *value = headers[i].value != NULL ? headers[i].value : "";
		size_t len = strlen(headers[i].name) + strlen(value) + 3;
		char *line = xmalloc(len);
		struct curl_slist *next;

		/* "Name:" would remove a header libcurl adds; "Name;" is libcurl's way to send it empty. */
		if (value[0] == '\0')
			snprintf(line, len, "%s;", headers[i].name);
		else
			snprintf(line, len, "%s: %s", headers[i].name, value);
		next = curl_slist_append(l, line);
		free(line);
		if (next == NULL) {
			curl_slist_free_all(l);
			l = NULL;
		} else {
			l = next;
		}
	}
	*list = l;
	return l != NULL;
}

/* Applies the policy and the request to a fresh easy handle; false if libcurl refuses an option. */
static bool
net_transfer_setup(CURL *curl, struct net_transfer *t, const char *url, struct curl_slist *list,
    const char *body, size_t body_len, char *errbuf)
{
	const struct outbound_policy *p = t->policy;
	long timeout_ms = p->timeout_ms > 0 ? p->timeout_ms : NET_TIMEOUT_DEFAULT_MS;
	const char *protocols = p->allow_http ? "http,https" : "https";

	return curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
	    /* Worker threads: no SIGALRM for DNS timeouts (the threaded resolver needs none). */
	    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, protocols) == CURLE_OK &&
	    /* A redirect is the target's answer, not an instruction to post elsewhere. */
	    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	    /* "" disables proxies, the environment's (http_proxy, ...) included. */
	    curl_easy_setopt(curl, CURLOPT_PROXY, "") == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, net_opensocket) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, t) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, net_write_body) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_WRITEDATA, t) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, net_write_header) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_HEADERDATA, t) == CURLE_OK &&
	    (p->user_agent == NULL || curl_easy_setopt(curl, CURLOPT_USERAGENT, p->user_agent) == CURLE_OK) &&
	    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_POST, 1L) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len) == CURLE_OK &&
	    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body != NULL ? body : "") == CURLE_OK;
}

/* Why a transfer failed, for the client: our own words where they are clearer than libcurl's. */
static void
net_transfer_error(CURL *curl, const struct net_transfer *t, CURLcode rc, const char *errbuf, char *out)
{
	const struct outbound_policy *p = t->policy;
	long os_errno = 0;

	if (curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno) != CURLE_OK)
		os_errno = 0;
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		if (t->refused[0] != '\0')
			net_error(out, "%s", t->refused);
		else if (os_errno == ECONNREFUSED)
			net_error(out, "connection refused");
		else if (os_errno == ENETUNREACH)
			net_error(out, "network unreachable");
		else if (os_errno == EHOSTUNREACH)
			net_error(out, "host unreachable");
		else
			net_error(out, "could not connect");
		return;
	case CURLE_OPERATION_TIMEDOUT:
		net_error(out, "timed out after %ld ms", p->timeout_ms > 0 ? p->timeout_ms : NET_TIMEOUT_DEFAULT_MS);
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
		net_error(out, "could not resolve the host name");
		return;
	case CURLE_GOT_NOTHING:
		net_error(out, "the server closed the connection without answering");
		return;
	case CURLE_SEND_ERROR:
		net_error(out, "%s while sending the request", os_errno == ECONNRESET ? "connection reset" : "connection lost");
		return;
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		net_error(out, "%s while reading the response", os_errno == ECONNRESET ? "connection reset" : "connection lost");
		return;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		net_error(out, "the server did not answer with valid HTTP");
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		/* libcurl's texts here are the useful part ("SSL certificate problem: self-signed certificate"). */
		net_error_sanitised(out, "TLS: ", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		return;
	case CURLE_OUT_OF_MEMORY:
		net_error(out, "out of memory");
		return;
	default:
		net_error_sanitised(out, "", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		return;
	}
}

/* One request: its easy handle, the state its callbacks share, and its header list. */
struct net_request {
	CURL *curl;
	struct net_transfer t;
	struct curl_slist *list;
	char errbuf[CURL_ERROR_SIZE];
};

struct net_request *
net_request_new(const struct outbound_policy *p, const char *url, const struct outbound_header *headers,
    size_t nheaders, const char *body, size_t body_len, struct outbound_result *out)
{
	struct net_request *r;
	char urlmsg[NET_URL_MSG_SIZE];

	net_result_reset(out);
	if (!net_url_check(url, p->allow_http, urlmsg, sizeof urlmsg)) {
		net_error(out->error, "%s", urlmsg);
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->t = (struct net_transfer){ .policy = p, .out = out, .headers_full = false, .refused = "" };
	r->curl = curl_easy_init();
	if (r->curl == NULL || !net_header_list(headers, nheaders, &r->list)) {
		net_error(out->error, "out of memory");
		net_request_free(r);
		return NULL;
	}
	if (!net_transfer_setup(r->curl, &r->t, url, r->list, body, body_len, r->errbuf)) {
		/* A libcurl built without a protocol or feature the policy needs. */
		net_error(out->error, "internal error: libcurl refused the request options");
		log_error("net_post: libcurl refused an option: %s", r->errbuf[0] != '\0' ? r->errbuf : "(no detail)");
		net_request_free(r);
		return NULL;
	}
	return r;
}

void *
net_request_handle(struct net_request *r)
{
	return r->curl;
}

bool
net_request_finish(struct net_request *r, int code)
{
	struct outbound_result *out = r->t.out;
	CURLcode rc = (CURLcode)code;
	long status = 0;

	if (rc == CURLE_WRITE_ERROR && out->truncated)
		rc = CURLE_OK;  /* net_write_body stopped it at the cap */
	if (rc != CURLE_OK) {
		net_transfer_error(r->curl, &r->t, rc, r->errbuf, out->error);
		return false;
	}
	if (curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status == 0) {
		net_error(out->error, "no HTTP response");
		return false;
	}
	out->status = status;
	return true;
}

void
net_request_free(struct net_request *r)
{
	if (r == NULL)
		return;
	curl_slist_free_all(r->list);
	curl_easy_cleanup(r->curl);
	free(r);
}

bool
net_post(const struct outbound_policy *p, const char *url, const struct outbound_header *headers, size_t nheaders,
    const char *body, size_t body_len, struct outbound_result *out)
{
	struct net_request *r = net_request_new(p, url, headers, nheaders, body, body_len, out);
	bool ok;

	if (r == NULL)
		return false;
	ok = net_request_finish(r, curl_easy_perform(r->curl));
	net_request_free(r);
	return ok;
}
