/*
 * Maps (method, path) to a handler. Paths match case-insensitively, as ASP.NET routes do, and
 * tolerate one trailing slash. A pattern segment "{id}" matches a decimal id (0 to 2^31-1, as
 * ASP.NET's {id:int}); any other "{name}" matches one non-empty segment. Both are captured, in
 * order. The first route whose path matches wins, so literal routes go before templated ones.
 * A known path with another method reports the allowed methods.
 */
#ifndef WEBHOOKD_ROUTER_H
#define WEBHOOKD_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

typedef void (*route_handler)(void *ctx, const struct request *req, struct response *resp);

#define ROUTE_AUTHENTICATED 1u  /* the caller must be authenticated (and its headers resolved) */

struct route {
	const char *method;
	const char *path;
	route_handler handler;
	unsigned flags;
};

#define ROUTE_MAX_PARAMS 2
#define ROUTE_PARAM_MAX 255

struct route_params {
	size_t n;
	char values[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX + 1];
};

enum route_status {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_METHOD_NOT_ALLOWED,
};

#define ROUTE_ALLOW_SIZE 64

/* On ROUTE_FOUND *match is the route and params holds its captures; on ROUTE_METHOD_NOT_ALLOWED
 * allow holds "POST" or "GET, POST". */
enum route_status router_match(const struct route *routes, size_t nroutes, const char *method,
    const char *path, const struct route **match, struct route_params *params, char allow[ROUTE_ALLOW_SIZE]);

/* Capture i of a route whose segment was "{id}" (checked by the router). */
int32_t route_param_id(const struct route_params *params, size_t i);

#endif
