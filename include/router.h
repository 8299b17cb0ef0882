/*
 * Maps (method, path) to a handler. Paths match case-insensitively, as ASP.NET routes do, and
 * tolerate one trailing slash. A known path with another method reports the allowed methods.
 */
#ifndef WEBHOOKD_ROUTER_H
#define WEBHOOKD_ROUTER_H

#include <stddef.h>

#include "http.h"

typedef void (*route_handler)(void *ctx, const struct request *req, struct response *resp);

#define ROUTE_AUTHENTICATED 1u  /* the caller must be authenticated (and its headers resolved) */

struct route {
	const char *method;
	const char *path;
	route_handler handler;
	unsigned flags;
};

enum route_status {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_METHOD_NOT_ALLOWED,
};

#define ROUTE_ALLOW_SIZE 64

/* On ROUTE_FOUND *match is the route; on ROUTE_METHOD_NOT_ALLOWED allow holds "POST" or "GET, POST". */
enum route_status router_match(const struct route *routes, size_t nroutes, const char *method,
    const char *path, const struct route **match, char allow[ROUTE_ALLOW_SIZE]);

#endif
