#include "config.h"

#include "router.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool
router_path_equal(const char *pattern, const char *path)
{
	size_t plen = strlen(pattern), len = strlen(path);

	if (len == plen + 1 && path[plen] == '/')
		len = plen;
	return len == plen && strncasecmp(pattern, path, plen) == 0;
}

enum route_status
router_match(const struct route *routes, size_t nroutes, const char *method, const char *path,
    const struct route **match, char allow[ROUTE_ALLOW_SIZE])
{
	bool path_known = false;

	allow[0] = '\0';
	*match = NULL;
	if (method == NULL || path == NULL)
		return ROUTE_NOT_FOUND;
	for (size_t i = 0; i < nroutes; i++) {
		if (!router_path_equal(routes[i].path, path))
			continue;
		/* HTTP methods are case-sensitive (RFC 9110, 9.1). */
		if (strcmp(routes[i].method, method) == 0) {
			*match = &routes[i];
			return ROUTE_FOUND;
		}
		if (strlen(allow) + strlen(routes[i].method) + 3 <= ROUTE_ALLOW_SIZE) {
			if (path_known)
				strcat(allow, ", ");
			strcat(allow, routes[i].method);
		}
		path_known = true;
	}
	return path_known ? ROUTE_METHOD_NOT_ALLOWED : ROUTE_NOT_FOUND;
}
