/* The request view's other client input: the Cookie header (session cookie), the method and path
 * the router matches against the daemon's own route table ({id} templates included). Split at
 * newlines: cookie, method, path. */
#include "config.h"

#include "api.h"
#include "cookie.h"
#include "fuzz_common.h"
#include "router.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *method, *path, value[64], allow[ROUTE_ALLOW_SIZE];
	const struct route *r;
	struct route_params params;

	method = strchr(s, '\n');
	if (method != NULL)
		*method++ = '\0';
	path = method != NULL ? strchr(method, '\n') : NULL;
	if (path != NULL)
		*path++ = '\0';
	(void)cookie_find(s, "SO_SESSION", value, sizeof value);
	if (router_match(api_routes, api_nroutes, method, path, &r, &params, allow) == ROUTE_FOUND) {
		for (size_t i = 0; i < params.n; i++) {
			if (params.values[i][0] == '\0' || strlen(params.values[i]) > ROUTE_PARAM_MAX)
				abort();
		}
	}
	free(s);
	return 0;
}
