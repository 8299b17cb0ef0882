/* Router: exact and case-insensitive matches, trailing slash, 404 and 405 with Allow. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

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
	{ "GET", "/api/v1/Webhook/{id}", handler_b, 0 },
	{ "PUT", "/api/v1/Webhook/{id}", handler_a, 0 },
	{ "GET", "/api/v1/Webhook/{id}/LastError", handler_a, 0 },
	{ "POST", "/api/v1/Webhook/{eventName}/{primaryKey}", handler_b, 0 },
};
#define NROUTES (sizeof routes / sizeof routes[0])

static void
test_exact_match(void **state)
{
	const struct route *r;
	char allow[ROUTE_ALLOW_SIZE];
	struct route_params params;

	(void)state;
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook", &r, &params, allow),
	    ROUTE_FOUND);
	assert_ptr_equal(r, &routes[0]);
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook/default", &r, &params, allow), ROUTE_FOUND);
	assert_ptr_equal(r->handler, handler_b);
}

static void
test_case_and_trailing_slash(void **state)
{
	const struct route *r;
	char allow[ROUTE_ALLOW_SIZE];
	struct route_params params;

	(void)state;
	assert_int_equal(router_match(routes, NROUTES, "POST", "/API/V1/agents/webhook/createdefaultwebhook", &r, &params, allow),
	    ROUTE_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook/", &r, &params, allow),
	    ROUTE_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook//", &r, &params, allow),
	    ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhookX", &r, &params, allow),
	    ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Agents/Webhook/CreateDefaultWebhoo", &r, &params, allow),
	    ROUTE_NOT_FOUND);
}

static void
test_not_found(void **state)
{
	const struct route *r = routes;
	char allow[ROUTE_ALLOW_SIZE];
	struct route_params params;

	(void)state;
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Nope", &r, &params, allow), ROUTE_NOT_FOUND);
	assert_null(r);
	assert_int_equal(router_match(routes, NROUTES, "POST", "", &r, &params, allow), ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, NULL, "/api/v1/Webhook/default", &r, &params, allow), ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", NULL, &r, &params, allow), ROUTE_NOT_FOUND);
}

static void
test_method_not_allowed(void **state)
{
	const struct route *r;
	char allow[ROUTE_ALLOW_SIZE];
	struct route_params params;

	(void)state;
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Agents/Webhook/CreateDefaultWebhook", &r, &params, allow),
	    ROUTE_METHOD_NOT_ALLOWED);
	assert_string_equal(allow, "POST");
	assert_int_equal(router_match(routes, NROUTES, "DELETE", "/api/v1/webhook/default", &r, &params, allow),
	    ROUTE_METHOD_NOT_ALLOWED);
	assert_string_equal(allow, "GET, POST");
	/* Methods are case-sensitive. */
	assert_int_equal(router_match(routes, NROUTES, "post", "/api/v1/Agents/Webhook/CreateDefaultWebhook", &r, &params, allow),
	    ROUTE_METHOD_NOT_ALLOWED);
}

/* {id} takes a decimal int32 only; other templates any one segment; captures come in order. */
static void
test_templates(void **state)
{
	const struct route *r;
	char allow[ROUTE_ALLOW_SIZE];
	struct route_params params;

	(void)state;
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/webhook/42", &r, &params, allow), ROUTE_FOUND);
	assert_ptr_equal(r, &routes[3]);
	assert_int_equal(params.n, 1);
	assert_int_equal(route_param_id(&params, 0), 42);
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook/2147483647/lasterror/", &r, &params,
	    allow), ROUTE_FOUND);
	assert_ptr_equal(r, &routes[5]);
	assert_int_equal(route_param_id(&params, 0), INT32_MAX);
	/* Literal routes win over templates: "default" is not an id anyway. */
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook/default", &r, &params, allow), ROUTE_FOUND);
	assert_ptr_equal(r, &routes[1]);
	assert_int_equal(params.n, 0);
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook/2147483648", &r, &params, allow),
	    ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook/-1", &r, &params, allow), ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook/1x", &r, &params, allow), ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook//", &r, &params, allow), ROUTE_NOT_FOUND);
	assert_int_equal(router_match(routes, NROUTES, "POST", "/api/v1/Webhook/contact.created/7", &r, &params, allow),
	    ROUTE_FOUND);
	assert_int_equal(params.n, 2);
	assert_string_equal(params.values[0], "contact.created");
	assert_string_equal(params.values[1], "7");
	/* A known path with another method: each method once in Allow. */
	assert_int_equal(router_match(routes, NROUTES, "DELETE", "/api/v1/Webhook/5", &r, &params, allow),
	    ROUTE_METHOD_NOT_ALLOWED);
	assert_string_equal(allow, "GET, PUT");
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook/5/6/7", &r, &params, allow),
	    ROUTE_NOT_FOUND);
	/* At most 10 digits, leading zeros included: "00000000042" is no id. */
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook/0000000042", &r, &params, allow),
	    ROUTE_FOUND);
	assert_int_equal(route_param_id(&params, 0), 42);
	assert_int_equal(router_match(routes, NROUTES, "GET", "/api/v1/Webhook/00000000042", &r, &params, allow),
	    ROUTE_NOT_FOUND);
}

/* A template segment longer than a capture holds matches nothing (and is never copied). */
static void
test_long_segments(void **state)
{
	char path[64 + 2 * ROUTE_PARAM_MAX], seg[ROUTE_PARAM_MAX + 2];
	const struct route *r;
	char allow[ROUTE_ALLOW_SIZE];
	struct route_params params;

	(void)state;
	memset(seg, 'e', ROUTE_PARAM_MAX);
	seg[ROUTE_PARAM_MAX] = '\0';
	snprintf(path, sizeof path, "/api/v1/Webhook/%s/7", seg);
	assert_int_equal(router_match(routes, NROUTES, "POST", path, &r, &params, allow), ROUTE_FOUND);
	assert_int_equal(strlen(params.values[0]), ROUTE_PARAM_MAX);
	seg[ROUTE_PARAM_MAX] = 'e';
	seg[ROUTE_PARAM_MAX + 1] = '\0';
	snprintf(path, sizeof path, "/api/v1/Webhook/%s/7", seg);
	assert_int_equal(router_match(routes, NROUTES, "POST", path, &r, &params, allow), ROUTE_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_match),
		cmocka_unit_test(test_case_and_trailing_slash),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_long_segments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
