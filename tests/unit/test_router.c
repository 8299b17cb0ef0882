/* Router: exact and case-insensitive matches, trailing slash, 404 and 405 with Allow. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "router.h"

static void
handler_a(void *ctx, const struct request *req, struct response *resp)
{
	(void)ctx; (void)req; (void)resp;
}

static void
handler_b(void *ctx, const struct request *req, struct response *resp)
{
	(void)ctx; (void)req; (void)resp;
}

static const struct route routes[] = {
	{ "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook", handler_a, 0 },
	{ "GET", "/api/v1/Webhook/default", handler_b, 0 },
	{ "POST", "/api/v1/Webhook/default", handler_a, 0 },
};
#define NROUTES (sizeof routes / sizeof routes[0])

static void
test_exact_match(void **state)
{
	const struct route *r;
	char allow[ROUTE_ALLOW_SIZE];

	(void)state;
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook", &r, allow),
	    ROUTE_FOUND);
	assert_ptr_equal(r, &routes[0]);
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook/default", &r, allow), ROUTE_FOUND);
	assert_ptr_equal(r->handler, handler_b);
}

static void
test_case_and_trailing_slash(void **state)
{
	const struct route *r;
	char allow[ROUTE_ALLOW_SIZE];

	(void)state;
	assert_int_equal(router_match(routes, NROUTES, "POST", "/API/V1/agents/webhook/createdefaultwebhook", &r, allow),
	    ROUTE_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook/", &r, allow),
	    ROUTE_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook//", &r, allow),
	    ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhookX", &r, allow),
	    ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhoo", &r, allow),
	    ROUTE_NOT_FOUND);
}

static void
test_not_found(void **state)
{
	const struct route *r = routes;
	char allow[ROUTE_ALLOW_SIZE];

	(void)state;
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Nope", &r, allow), ROUTE_NOT_FOUND);
	assert_null(r);
	assert_int_equal(router_match(routes, NROUTES, "POST", "", &r, allow), ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, NULL, "/api/v1/Webhook/default", &r, allow), ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", NULL, &r, allow), ROUTE_NOT_FOUND);
}

static void
test_method_not_allowed(void **state)
{
	const struct route *r;
	char allow[ROUTE_ALLOW_SIZE];

	(void)state;
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Agents/Webhook/CreateDefaultWebhook", &r, allow),
	    ROUTE_METHOD_NOT_ALLOWED);
	assert_string_equal(allow, "POST");
	assert_int_equal(router_match(routes, NROUTES, "DELETE", "/api/v1/webhook/default", &r, allow),
	    ROUTE_METHOD_NOT_ALLOWED);
	assert_string_equal(allow, "GET, POST");
	/* Methods are case-sensitive. */
	assert_int_equal(router_match(routes, NROUTES, "post", "/api/v1/Agents/Webhook/CreateDefaultWebhook", &r, allow),
	    ROUTE_METHOD_NOT_ALLOWED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_match),
		cmocka_unit_test(test_case_and_trailing_slash),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_method_not_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
