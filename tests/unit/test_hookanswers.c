/* The answers kept with a webhook snapshot: two reads that differ in anything that shapes the
 * bytes never share a key, a kept answer comes back as kept, and the bounds hold. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hookanswers.h"
#include "negotiate.h"

static const struct db_webhook_filter orders = { .name = "orders", .event = NULL, .state = -1 };

/* A translated JSON list of "orders" for application 7, with the zone's offset. */
static struct hookanswers_request
base(void)
{
	return (struct hookanswers_request){
		.operation = "list", .filter = &orders, .application_id = 7, .media = MEDIA_APPLICATION_JSON,
		.tag_utc = true, .language = "sv", .ml_language = "SE", .default_language = "en",
		.default_ml_language = "US", .culture = "sv", .refdata_generation = 3,
	};
}

static void
key_of(const struct hookanswers_request *req, struct buf *key)
{
	buf_init(key);
	assert_true(hookanswers_key(req, key));
	assert_true(key->len > 0);
}

static void
test_every_field_shapes_the_key(void **state)
{
	const struct db_webhook_filter other_name = { .name = "order", .state = -1 },
	    with_event = { .name = "orders", .event = "sale.created", .state = -1 },
	    with_state = { .name = "orders", .state = 1 },
	    /* a name and an event that, run together, spell another filter's name: still two keys */
	    joined_a = { .name = "a", .event = "b", .state = -1 }, joined_b = { .name = "ab", .event = "", .state = -1 };
	struct hookanswers_request variants[20];
	struct buf keys[20];
	size_t n = 0;

	(void)state;
	variants[n++] = base();
	variants[n] = base(), variants[n++].operation = "get";
	variants[n] = base(), variants[n].operation = "get", variants[n].filter = NULL, variants[n++].id = 7;
	variants[n] = base(), variants[n].operation = "get", variants[n].filter = NULL, variants[n++].id = 8;
	variants[n] = base(), variants[n++].filter = &other_name;
	variants[n] = base(), variants[n++].filter = &with_event;
	variants[n] = base(), variants[n++].filter = &with_state;
	variants[n] = base(), variants[n++].filter = &joined_a;
	variants[n] = base(), variants[n++].filter = &joined_b;
	variants[n] = base(), variants[n++].application_id = 0;   /* no SO-AppToken: every webhook */
	variants[n] = base(), variants[n++].media = MEDIA_APPLICATION_XML;
	variants[n] = base(), variants[n++].media = MEDIA_TEXT_XML;
	variants[n] = base(), variants[n++].tag_utc = false;
	variants[n] = base(), variants[n++].language = "nb";
	variants[n] = base(), variants[n++].ml_language = "NO";
	variants[n] = base(), variants[n++].default_language = "de";
	variants[n] = base(), variants[n++].culture = "sv-FI";
	variants[n] = base(), variants[n++].refdata_generation = 4;  /* resources changed */
	variants[n] = base(), variants[n++].language = NULL;         /* not translated */
	for (size_t i = 0; i < n; i++) {
		key_of(&variants[i], &keys[i]);
		for (size_t j = 0; j < i; j++) {
			if (keys[i].len == keys[j].len && memcmp(keys[i].data, keys[j].data, keys[i].len) == 0)
				fail_msg("variants %zu and %zu share a key", j, i);
		}
	}
	for (size_t i = 0; i < n; i++)
		buf_free(&keys[i]);
}

static void
test_the_same_read_has_the_same_key_and_untranslated_reads_ignore_languages(void **state)
{
	struct hookanswers_request a = base(), b = base();
	struct buf ka, kb;

	(void)state;
	key_of(&a, &ka);
	key_of(&b, &kb);
	assert_int_equal(ka.len, kb.len);
	assert_memory_equal(ka.data, kb.data, ka.len);
	buf_free(&ka);
	buf_free(&kb);
	/* Without translation the reference data plays no part. */
	a.language = b.language = NULL;
	a.refdata_generation = 0;
	key_of(&a, &ka);
	key_of(&b, &kb);
	assert_int_equal(ka.len, kb.len);
	assert_memory_equal(ka.data, kb.data, ka.len);
	buf_free(&ka);
	buf_free(&kb);
}

static void
test_translation_under_unvouched_reference_data_is_not_kept(void **state)
{
	struct hookanswers_request req = base();
	struct buf key;

	(void)state;
	req.refdata_generation = 0;
	buf_init(&key);
	assert_false(hookanswers_key(&req, &key));
	assert_int_equal(key.len, 0);
	buf_free(&key);
}

static void
test_kept_answers_come_back_and_replace_in_their_slot(void **state)
{
	struct hookanswers *a = hookanswers_new(1, 1024);  /* one slot: every key takes it */
	struct hookanswers_request first = base(), second = base();
	struct buf k1, k2, out;
	size_t entries, bytes;

	(void)state;
	second.media = MEDIA_APPLICATION_XML;
	key_of(&first, &k1);
	key_of(&second, &k2);
	buf_init(&out);
	assert_false(hookanswers_find(a, &k1, &out));
	hookanswers_keep(a, &k1, "[1]", 3);
	assert_true(hookanswers_find(a, &k1, &out));
	assert_string_equal(out.data, "[1]");
	assert_false(hookanswers_find(a, &k2, &out));  /* same slot, another key */
	hookanswers_keep(a, &k2, "<A/>", 4);
	assert_false(hookanswers_find(a, &k1, &out));  /* replaced */
	buf_reset(&out);
	assert_true(hookanswers_find(a, &k2, &out));
	assert_string_equal(out.data, "<A/>");
	hookanswers_usage(a, &entries, &bytes);
	assert_int_equal(entries, 1);
	assert_int_equal(bytes, k2.len + 4);
	buf_free(&out);
	buf_free(&k1);
	buf_free(&k2);
	hookanswers_free(a);
}

static void
test_the_bounds_hold(void **state)
{
	enum { SLOTS = 16, MAX_BYTES = 600 };
	struct hookanswers *a = hookanswers_new(SLOTS, MAX_BYTES);
	char body[100];
	size_t entries, bytes;
	struct buf key, out;

	(void)state;
	memset(body, 'x', sizeof body);
	buf_init(&out);
	for (int32_t id = 1; id <= 200; id++) {
		struct hookanswers_request req = base();

		req.operation = "get";
		req.filter = NULL;
		req.id = id;
		key_of(&req, &key);
		hookanswers_keep(a, &key, body, sizeof body);
		hookanswers_usage(a, &entries, &bytes);
		assert_true(entries <= SLOTS);
		assert_true(bytes <= MAX_BYTES);
		buf_free(&key);
	}
	hookanswers_usage(a, &entries, &bytes);
	assert_true(entries >= 4);  /* 600 bytes hold four of these, keys included */
	/* An answer larger than the whole bound is never kept. */
	{
		struct hookanswers *small = hookanswers_new(SLOTS, 50);
		struct hookanswers_request req = base();

		key_of(&req, &key);
		hookanswers_keep(small, &key, body, sizeof body);
		assert_false(hookanswers_find(small, &key, &out));
		hookanswers_usage(small, &entries, &bytes);
		assert_int_equal(entries, 0);
		assert_int_equal(bytes, 0);
		buf_free(&key);
		hookanswers_free(small);
	}
	buf_free(&out);
	hookanswers_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_shapes_the_key),
		cmocka_unit_test(test_the_same_read_has_the_same_key_and_untranslated_reads_ignore_languages),
		cmocka_unit_test(test_translation_under_unvouched_reference_data_is_not_kept),
		cmocka_unit_test(test_kept_answers_come_back_and_replace_in_their_slot),
		cmocka_unit_test(test_the_bounds_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
