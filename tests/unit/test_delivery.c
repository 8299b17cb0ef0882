/* The delivery rules as a table, and both signatures against published and recomputed vectors. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "delivery.h"
#include "payload.h"

static const struct {
	long status;
	const char *retry_after;
	int cycle, attempt;
	enum delivery_action action;
	long delay_ms;
	bool failed, gone;
} cases[] = {
	/* Any 2xx is delivered, whatever the attempt. */
	{ 200, NULL, 1, 1, DELIVERY_DONE, 0, false, false },
	{ 204, NULL, 3, 3, DELIVERY_DONE, 0, false, false },
	{ 299, NULL, 1, 2, DELIVERY_DONE, 0, false, false },
	/* A failed attempt in a cycle: the next one after 1 s, then 4 s (NetServer's 0, +1, +4). */
	{ 500, NULL, 1, 1, DELIVERY_RETRY, 1000, true, false },
	{ 0, NULL, 1, 2, DELIVERY_RETRY, 4000, true, false },
	{ 302, NULL, 1, 1, DELIVERY_RETRY, 1000, true, false },  /* redirects are failures */
	{ 199, NULL, 1, 1, DELIVERY_RETRY, 1000, true, false },
	{ 300, NULL, 1, 1, DELIVERY_RETRY, 1000, true, false },
	/* The cycle's last attempt: a new cycle after the pause, then the delivery is given up. */
	{ 500, NULL, 1, 3, DELIVERY_NEXT_CYCLE, 60000, true, false },
	{ 500, NULL, 2, 3, DELIVERY_NEXT_CYCLE, 60000, true, false },
	{ 500, NULL, 3, 3, DELIVERY_GIVE_UP, 0, true, false },
	/* 410 Gone: given up, and the webhook turns TooManyErrors at once. */
	{ 410, NULL, 1, 1, DELIVERY_GIVE_UP, 0, true, true },
	/* Retry-After on 429 and 503 lengthens the delay, up to the cap, never shortens it. */
	{ 429, "30", 1, 1, DELIVERY_RETRY, 30000, true, false },
	{ 503, "0", 1, 2, DELIVERY_RETRY, 4000, true, false },
	{ 503, "999999", 1, 1, DELIVERY_RETRY, 300000, true, false },
	{ 429, "Thu, 01 Jan 1970 00:01:40 GMT", 1, 1, DELIVERY_RETRY, 40000, true, false },  /* now is 60 s */
	{ 429, "soon", 1, 1, DELIVERY_RETRY, 1000, true, false },
	{ 500, "30", 1, 1, DELIVERY_RETRY, 1000, true, false },  /* only 429 and 503 */
	{ 429, "30", 1, 3, DELIVERY_NEXT_CYCLE, 60000, true, false },
	{ 429, "30", 3, 3, DELIVERY_GIVE_UP, 0, true, false },
};

static void
test_rules(void **state)
{
	struct delivery_schedule s;

	(void)state;
	delivery_schedule_default(&s);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct delivery_verdict v = delivery_judge(&s, cases[i].status, cases[i].retry_after, cases[i].cycle,
		    cases[i].attempt, 60);

		if (v.action != cases[i].action || v.delay_ms != cases[i].delay_ms || v.failed != cases[i].failed ||
		    v.gone != cases[i].gone)
			fail_msg("case %zu (status %ld, cycle %d, attempt %d): action %d delay %ld failed %d gone %d", i,
			    cases[i].status, cases[i].cycle, cases[i].attempt, v.action, v.delay_ms, v.failed, v.gone);
	}
}

static void
test_schedule_as_data(void **state)
{
	struct delivery_schedule s;
	struct delivery_verdict v;

	(void)state;
	delivery_schedule_default(&s);
	assert_true(delivery_parse_delays("10,20,30", &s));
	assert_int_equal(s.nretries, 3);
	v = delivery_judge(&s, 500, NULL, 1, 3, 0);
	assert_int_equal(v.action, DELIVERY_RETRY);
	assert_int_equal(v.delay_ms, 30);
	v = delivery_judge(&s, 500, NULL, 1, 4, 0);
	assert_int_equal(v.action, DELIVERY_NEXT_CYCLE);
	assert_true(delivery_parse_delays("", &s));
	assert_int_equal(delivery_judge(&s, 500, NULL, 1, 1, 0).action, DELIVERY_NEXT_CYCLE);
	assert_false(delivery_parse_delays("1,,2", &s));
	assert_false(delivery_parse_delays("-1", &s));
	assert_false(delivery_parse_delays("1,x", &s));
	assert_false(delivery_parse_delays("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", &s));
}

/* X-SuperOffice-Signature: a vector computed independently with Python's hmac (the README shows how). */
static void
test_superoffice_signature(void **state)
{
	char sig[PAYLOAD_SIGNATURE_SIZE];
	const char body[] = "{\"EventId\":\"1\",\"Event\":\"test\"}";

	(void)state;
	payload_signature("s3cr3t", body, strlen(body), sig);
	assert_string_equal(sig, "0D/5KQ/KmRZE1YdBK3SpzCOUZZuv+R0FRqU5+UhY/Zo=");
}

/* webhook-signature: the Standard Webhooks libraries' own test vector (whsec_ key), a raw secret,
 * and during a rotation both, current first, space-separated (the second vector computed apart
 * from this code, with Python's hmac). */
static void
test_standard_signature(void **state)
{
	char sig[PAYLOAD_STANDARD_SIGNATURES_SIZE];
	const char body[] = "{\"test\": 2432232314}";

	(void)state;
	payload_standard_signatures("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL, "msg_p5jXN8AQM9LWM0D4loKWxJek",
	    1614265330, body, strlen(body), sig);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	payload_standard_signatures("s3cr3t", "", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig);
	assert_string_equal(sig, "v1,IpABhnRM6Ge2OLQ/OfXgXICt0Th1n9JjzagO0K5Wcwk=");
	payload_standard_signatures("n3w-s3cr3t", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
	    1614265330, body, strlen(body), sig);
	assert_string_equal(sig, "v1,B3ADm+ezopgKjF9INJgSuCH/NEj7TNXlKS6dR7VpVpk= "
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

/* Two secrets of the longest kind fill the header's buffer exactly. */
static void
test_standard_signatures_fit(void **state)
{
	char sig[PAYLOAD_STANDARD_SIGNATURES_SIZE + 1];
	char secret[401];

	(void)state;
	memset(secret, 'k', 400);
	secret[400] = '\0';
	sig[PAYLOAD_STANDARD_SIGNATURES_SIZE] = 'X';
	payload_standard_signatures(secret, secret, "id", 1, "", 0, sig);
	assert_int_equal(strlen(sig), PAYLOAD_STANDARD_SIGNATURES_SIZE - 1);
	assert_int_equal(sig[PAYLOAD_STANDARD_SIGNATURES_SIZE], 'X');
	assert_memory_equal(sig, sig + PAYLOAD_STANDARD_SIGNATURE_SIZE, PAYLOAD_STANDARD_SIGNATURE_SIZE - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_schedule_as_data),
		cmocka_unit_test(test_superoffice_signature),
		cmocka_unit_test(test_standard_signature),
		cmocka_unit_test(test_standard_signatures_fit),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
