#include "config.h"

#include "router.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A decimal id in int32 range: digits only, at most 10 of them. */
static bool
router_is_id(const char *s, size_t len)
{
	long long v = 0;

	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v <= INT32_MAX;
}

/* Matches path against pattern segment by segment, capturing the template segments. */
static bool
router_path_match(const char *pattern, const char *path, struct route_params *params)
{
	size_t len = strlen(path);

	/* One trailing slash is tolerated ("/api/v1/Webhook/"), but not on the root. */
	if (len > 1 && path[len - 1] == '/')
		len--;
	params->n = 0;
	while (*pattern != '\0') {
		const char *pend = strchr(pattern + 1, '/');
		size_t plen = pend != NULL ? (size_t)(pend - pattern) : strlen(pattern);
		const char *send;
		size_t slen;

		if (len == 0 || *path != '/')
			return false;
		send = memchr(path + 1, '/', len - 1);
		slen = send != NULL ? (size_t)(send - path) : len;
		if (pattern[1] == '{') {
			const char *seg = path + 1;
			size_t seglen = slen - 1;

			if (seglen == 0 || seglen > ROUTE_PARAM_MAX || params->n == ROUTE_MAX_PARAMS)
				return false;
			if (strncmp(pattern, "/{id}", plen) == 0 && plen == 5 && !router_is_id(seg, seglen))
				return false;
			memcpy(params->values[params->n], seg, seglen);
			params->values[params->n][seglen] = '\0';
			params->n++;
		} else if (plen != slen || strncasecmp(pattern, path, plen) != 0) {
			return false;
		}
		pattern += plen;
		path += slen;
		len -= slen;
	}
	return len == 0;
}

enum route_status
router_match(const struct route *routes, size_t nroutes, const char *method, const char *path,
    const struct route **match, struct route_params *params, char allow[ROUTE_ALLOW_SIZE])
{
	struct route_params scratch;
	bool path_known = false;

	allow[0] = '\0';
	*match = NULL;
	params->n = 0;
	if (method == NULL || path == NULL)
		return ROUTE_NOT_FOUND;
	for (size_t i = 0; i < nroutes; i++) {
		if (!router_path_match(routes[i].path, path, &scratch))
			continue;
		/* HTTP methods are case-sensitive (RFC 9110, 9.1). */
		if (strcmp(routes[i].method, method) == 0) {
			*match = &routes[i];
			*params = scratch;
			return ROUTE_FOUND;
		}
		/* Two templates may match one path for the same method: list each method once. */
		if (strstr(allow, routes[i].method) == NULL &&
		    strlen(allow) + strlen(routes[i].method) + 3 <= ROUTE_ALLOW_SIZE) {
			if (path_known)
				strcat(allow, ", ");
			strcat(allow, routes[i].method);
		}
		path_known = true;
	}
	return path_known ? ROUTE_METHOD_NOT_ALLOWED : ROUTE_NOT_FOUND;
}

int32_t
route_param_id(const struct route_params *params, size_t i)
{
	return i < params->n ? (int32_t)strtol(params->values[i], NULL, 10) : 0;
}
