/* The request view's other client input: the Cookie header (session cookie), the method and path
 * the router matches. Split at newlines: cookie, method, path. */
#include "config.h"

#include "cookie.h"
#include "fuzz_common.h"
#include "router.h"

static void
handler(void *ctx, const struct request *req, struct response *resp)
{
	(void)ctx;
	(void)req;
	(void)resp;
}

static const struct route routes[] = {
	{ "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook", handler, ROUTE_AUTHENTICATED },
	{ "GET", "/_webhookd/health", handler, 0 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *method, *path, value[64], allow[ROUTE_ALLOW_SIZE];
	const struct route *r;

	method = strchr(s, '\n');
	if (method != NULL)
		*method++ = '\0';
	path = method != NULL ? strchr(method, '\n') : NULL;
	if (path != NULL)
		*path++ = '\0';
	(void)cookie_find(s, "SO_SESSION", value, sizeof value);
	(void)router_match(routes, 2, method, path, &r, allow);
	free(s);
	return 0;
}
