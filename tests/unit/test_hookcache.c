/* The webhook snapshot: its filters decide as the SQL of webhook_get and webhook_list does, the
 * cache serves only its own generation, one rebuild at a time; and which tables move which topic
 * of the change feed. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "changes.h"
#include "hookcache.h"
#include "xalloc.h"

/* id, name, lower(name) as the database gave it, events (comma-joined), state, application */
static const struct {
	int32_t id;
	const char *name, *lowered, *events;
	enum webhook_state state;
	int32_t application_id;
} rows[] = {
	{ 2, "Orders", "orders", "contact.created,sale.created", WEBHOOK_STATE_ACTIVE, 0 },
	{ 5, "ORDERS", "orders", "contact.created", WEBHOOK_STATE_STOPPED, 7 },
	{ 9, NULL, NULL, "sale.created", WEBHOOK_STATE_ACTIVE, 7 },
	{ 11, "Ärende", "ärende", "contact.created", WEBHOOK_STATE_ACTIVE, 8 },
};

static struct hooksnap *
snapshot(bool folds_ascii, uint64_t generation)
{
	size_t n = sizeof rows / sizeof rows[0];
	struct webhook_list list = { xcalloc(n, sizeof *list.items), 0 };
	char **lowered = xcalloc(n, sizeof *lowered);

	for (size_t i = 0; i < n; i++) {
		struct webhook *w = &list.items[list.n++];
		char *events = xstrdup(rows[i].events), *save = NULL;

		webhook_init(w);
		w->id = rows[i].id;
		w->name = rows[i].name != NULL ? xstrdup(rows[i].name) : NULL;
		w->events = xcalloc(4, sizeof *w->events);
		for (char *e = strtok_r(events, ",", &save); e != NULL; e = strtok_r(NULL, ",", &save))
			w->events[w->nevents++] = xstrdup(e);
		free(events);
		w->state = rows[i].state;
		w->application_id = rows[i].application_id;
		if (w->id == 5)
			w->previous_secret = xstrdup("old-secret");  /* during a rotation */
		lowered[i] = rows[i].lowered != NULL ? xstrdup(rows[i].lowered) : NULL;
	}
	return hooksnap_new(&list, &lowered, folds_ascii, generation);
}

/* The ids a filter lists, as "2,5" ("" for none, "db" when the snapshot leaves it to the database). */
static void
listed(const struct hooksnap *s, int32_t app, const char *name, const char *event, int state, char *out, size_t cap)
{
	struct db_webhook_filter f = { .name = name, .event = event, .state = state };
	struct webhook_list l;
	size_t len = 0;

	out[0] = '\0';
	if (!hooksnap_list(s, app, &f, &l)) {
		strcpy(out, "db");
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%d", i > 0 ? "," : "", (int)l.items[i].id);
	webhook_list_free(&l);
}

static void
test_filters_as_the_sql_does(void **state)
{
	struct hooksnap *s = snapshot(true, 3);
	static const struct {
		int32_t app;
		const char *name, *event;
		int state;
		const char *ids;
	} cases[] = {
		{ 0, NULL, NULL, -1, "2,5,9,11" },             /* no SO-AppToken: every webhook, by id */
		{ 7, NULL, NULL, -1, "5,9" },                  /* an application: its own */
		{ 99, NULL, NULL, -1, "" },
		{ 0, "orders", NULL, -1, "2,5" },              /* lower(name) = lower($2) */
		{ 0, "oRdErS", NULL, -1, "2,5" },
		{ 0, "order", NULL, -1, "" },                  /* equality, not a prefix */
		{ 0, "", NULL, -1, "" },                       /* a null name matches nothing */
		{ 0, "ärende", NULL, -1, "db" },               /* beyond ASCII: the database folds it */
		{ 0, NULL, "sale.created", -1, "2,9" },        /* events @> ARRAY[$3] */
		{ 0, NULL, "SALE.CREATED", -1, "" },           /* events match exactly */
		{ 0, NULL, "sale", -1, "" },
		{ 0, NULL, NULL, WEBHOOK_STATE_ACTIVE, "2,9,11" },
		{ 7, "Orders", "contact.created", WEBHOOK_STATE_STOPPED, "5" },
		{ 7, "Orders", "contact.created", WEBHOOK_STATE_ACTIVE, "" },
	};
	char got[64];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		listed(s, cases[i].app, cases[i].name, cases[i].event, cases[i].state, got, sizeof got);
		if (strcmp(got, cases[i].ids) != 0)
			fail_msg("case %zu: listed \"%s\", expected \"%s\"", i, got, cases[i].ids);
	}
	hooksnap_unref(s);
}

static void
test_a_database_that_folds_ascii_otherwise_decides_names(void **state)
{
	struct hooksnap *s = snapshot(false, 3);
	char got[64];

	(void)state;
	listed(s, 0, "orders", NULL, -1, got, sizeof got);
	assert_string_equal(got, "db");
	listed(s, 0, NULL, "sale.created", -1, got, sizeof got);
	assert_string_equal(got, "2,9");
	hooksnap_unref(s);
}

static void
test_get_is_scoped_and_copies(void **state)
{
	struct hooksnap *s = snapshot(true, 3);
	struct webhook w, again;

	(void)state;
	assert_true(hooksnap_get(s, 0, 5, &w));
	assert_string_equal(w.name, "ORDERS");
	assert_int_equal(w.nevents, 1);
	/* Every string is the copy's own, the previous secret of a rotation too. */
	assert_true(hooksnap_get(s, 0, 5, &again));
	assert_ptr_not_equal(w.previous_secret, again.previous_secret);
	webhook_free(&w);
	assert_string_equal(again.previous_secret, "old-secret");
	webhook_free(&again);
	assert_true(hooksnap_get(s, 7, 9, &w));
	assert_null(w.name);
	webhook_free(&w);
	assert_false(hooksnap_get(s, 8, 9, &w));  /* another application's */
	assert_false(hooksnap_get(s, 0, 3, &w));  /* no such id */
	assert_false(hooksnap_get(s, 0, 12, &w));
	hooksnap_unref(s);
}

static void
test_an_empty_snapshot_answers_nothing(void **state)
{
	struct webhook_list none = { NULL, 0 };
	char **lowered = NULL;
	struct hooksnap *s = hooksnap_new(&none, &lowered, true, 2);
	struct db_webhook_filter f = { .name = NULL, .event = "contact.created", .state = -1 };
	struct webhook_list l;
	struct webhook w;

	(void)state;
	assert_false(hooksnap_get(s, 0, 1, &w));
	assert_true(hooksnap_list(s, 0, &f, &l));
	assert_int_equal(l.n, 0);
	f.event = NULL;
	assert_true(hooksnap_list(s, 0, &f, &l));
	assert_int_equal(l.n, 0);
	hooksnap_unref(s);
}

static void
test_cache_serves_its_generation_and_builds_once(void **state)
{
	struct hookcache *c = hookcache_new();
	struct hooksnap *s;
	bool build;

	(void)state;
	assert_null(hookcache_acquire(c, 0, &build));  /* the feed cannot vouch: never, not even a build */
	assert_false(build);
	assert_null(hookcache_acquire(c, 4, &build));
	assert_true(build);
	assert_null(hookcache_acquire(c, 4, &build));  /* one rebuild at a time: the others read the database */
	assert_false(build);
	s = snapshot(true, 4);
	hookcache_publish(c, s);
	hooksnap_unref(s);
	s = hookcache_acquire(c, 4, &build);
	assert_non_null(s);
	assert_int_equal(hooksnap_generation(s), 4);
	hooksnap_unref(s);
	assert_null(hookcache_acquire(c, 5, &build));  /* a change: the snapshot is not served again */
	assert_true(build);
	hookcache_publish(c, NULL);                    /* a failed rebuild ends the turn */
	assert_null(hookcache_acquire(c, 5, &build));
	assert_true(build);
	hookcache_publish(c, NULL);
	hookcache_free(c);
}

static void
test_tables_move_their_topics(void **state)
{
	(void)state;
	assert_int_equal(changes_topics_of("webhook"), 1u << CHANGES_WEBHOOKS);
	assert_int_equal(changes_topics_of("associate"), 1u << CHANGES_CREDENTIALS | 1u << CHANGES_WEBHOOKS);
	assert_int_equal(changes_topics_of("credential"), 1u << CHANGES_CREDENTIALS);
	assert_int_equal(changes_topics_of("application"), 1u << CHANGES_CREDENTIALS);
	assert_int_equal(changes_topics_of("timezone"), 1u << CHANGES_REFERENCE_DATA);
	assert_int_equal(changes_topics_of("webhook_default"), 1u << CHANGES_REFERENCE_DATA);
	/* Unknown or missing: everything, never too little. */
	assert_int_equal(changes_topics_of("e2e"), (1u << CHANGES_TOPIC_COUNT) - 1);
	assert_int_equal(changes_topics_of(""), (1u << CHANGES_TOPIC_COUNT) - 1);
	assert_int_equal(changes_topics_of(NULL), (1u << CHANGES_TOPIC_COUNT) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filters_as_the_sql_does),
		cmocka_unit_test(test_a_database_that_folds_ascii_otherwise_decides_names),
		cmocka_unit_test(test_get_is_scoped_and_copies),
		cmocka_unit_test(test_an_empty_snapshot_answers_nothing),
		cmocka_unit_test(test_cache_serves_its_generation_and_builds_once),
		cmocka_unit_test(test_tables_move_their_topics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
