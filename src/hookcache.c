#include "config.h"

#include "hookcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Name filters are at most this long (api_query_filter's storage, a body's string is refused
 * by nothing shorter): a longer one is left to the database rather than folded in a big buffer. */
#define HOOKSNAP_NAME_MAX 1024

/* One subscription: an event of hooks.items[hook]. */
struct hooksnap_event {
	const char *event;          /* points into the webhook */
	size_t hook;
};

struct hooksnap {
	atomic_int refs;
	uint64_t generation;
	bool folds_ascii;
	struct webhook_list hooks;  /* by id */
	char **lowered_names;       /* lower(name) from the database, one per hook, NULL for null */
	/* Every subscription, by event and then by hook (so by id): an EventFilter looks at its
	 * own webhooks only, not at all of them (GetAllWebhooks filtered to 3 of 1,000). */
	struct hooksnap_event *by_event;
	size_t nby_event;
	struct hookanswers *answers;  /* the answers made from this snapshot */
};

static int
hooksnap_event_order(const void *a, const void *b)
{
	const struct hooksnap_event *x = a, *y = b;
	int c = strcmp(x->event, y->event);

	return c != 0 ? c : (x->hook > y->hook) - (x->hook < y->hook);
}

struct hooksnap *
hooksnap_new(struct webhook_list *list, char ***lowered_names, bool folds_ascii, uint64_t generation)
{
	struct hooksnap *s = xcalloc(1, sizeof *s);

	atomic_init(&s->refs, 1);
	s->generation = generation;
	s->folds_ascii = folds_ascii;
	s->hooks = *list;
	s->lowered_names = *lowered_names;
	list->items = NULL;
	list->n = 0;
	*lowered_names = NULL;
	for (size_t i = 0; i < s->hooks.n; i++)
		s->nby_event += s->hooks.items[i].nevents;
	s->by_event = xcalloc(s->nby_event ? s->nby_event : 1, sizeof *s->by_event);
	s->nby_event = 0;
	for (size_t i = 0; i < s->hooks.n; i++) {
		for (size_t e = 0; e < s->hooks.items[i].nevents; e++)
			s->by_event[s->nby_event++] = (struct hooksnap_event){ s->hooks.items[i].events[e], i };
	}
	qsort(s->by_event, s->nby_event, sizeof *s->by_event, hooksnap_event_order);
	s->answers = hookanswers_new(HOOKANSWERS_SLOTS, HOOKANSWERS_BYTES);
	return s;
}

void
hooksnap_ref(struct hooksnap *s)
{
	atomic_fetch_add(&s->refs, 1);
}

void
hooksnap_unref(struct hooksnap *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (size_t i = 0; i < s->hooks.n; i++)
		free(s->lowered_names[i]);
	free(s->lowered_names);
	free(s->by_event);
	hookanswers_free(s->answers);
	webhook_list_free(&s->hooks);
	free(s);
}

uint64_t
hooksnap_generation(const struct hooksnap *s)
{
	return s->generation;
}

struct hookanswers *
hooksnap_answers(const struct hooksnap *s)
{
	return s->answers;
}

/* WEBHOOK_VISIBLE in db.c: a caller without an application sees every webhook. */
static bool
hooksnap_visible(const struct webhook *w, int32_t application_id)
{
	return application_id == 0 || w->application_id == application_id;
}

static int
hooksnap_by_id(const void *key, const void *item)
{
	int32_t id = *(const int32_t *)key, other = ((const struct webhook *)item)->id;

	return (id > other) - (id < other);
}

bool
hooksnap_get(const struct hooksnap *s, int32_t application_id, int32_t id, struct webhook *out)
{
	/* No webhooks, no array: bsearch must not be handed a null one. */
	const struct webhook *w = s->hooks.n == 0 ? NULL :
	    bsearch(&id, s->hooks.items, s->hooks.n, sizeof *s->hooks.items, hooksnap_by_id);

	webhook_init(out);
	if (w == NULL || !hooksnap_visible(w, application_id))
		return false;
	webhook_copy(out, w);
	return true;
}

/* lower(name) as the database would fold it, when that is certain here: ASCII, and a database
 * that folds ASCII as C does (not so under a Turkish locale, where I becomes a dotless ı). */
static bool
hooksnap_fold_name(const struct hooksnap *s, const char *name, char out[HOOKSNAP_NAME_MAX + 1])
{
	size_t i;

	if (!s->folds_ascii)
		return false;
	for (i = 0; name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x80 || i == HOOKSNAP_NAME_MAX)
			return false;
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : (char)c;
	}
	out[i] = '\0';
	return true;
}

bool
hooksnap_decides(const struct hooksnap *s, const struct db_webhook_filter *f)
{
	char folded[HOOKSNAP_NAME_MAX + 1];

	return f->name == NULL || hooksnap_fold_name(s, f->name, folded);
}

/* The first subscription to event (nby_event when there is none). */
static size_t
hooksnap_first_of(const struct hooksnap *s, const char *event)
{
	size_t lo = 0, hi = s->nby_event;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->by_event[mid].event, event) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
hooksnap_selects(const struct hooksnap *s, size_t i, int32_t application_id, const struct db_webhook_filter *f,
    const char *folded)
{
	const struct webhook *w = &s->hooks.items[i];

	return hooksnap_visible(w, application_id) &&
	    (f->name == NULL || (s->lowered_names[i] != NULL && strcmp(s->lowered_names[i], folded) == 0)) &&
	    (f->state < 0 || (int)w->state == f->state);
}

bool
hooksnap_list(const struct hooksnap *s, int32_t application_id, const struct db_webhook_filter *f,
    struct webhook_list *out)
{
	char folded[HOOKSNAP_NAME_MAX + 1];
	size_t *picked, n = 0;

	folded[0] = '\0';
	out->items = NULL;
	out->n = 0;
	if (f->name != NULL && !hooksnap_fold_name(s, f->name, folded))
		return false;
	picked = xcalloc(s->hooks.n ? s->hooks.n : 1, sizeof *picked);
	if (f->event != NULL) {
		/* events @> ARRAY[event]: the subscriptions to it, in id order (an event is listed once
		 * per webhook: the schema refuses duplicates). */
		for (size_t k = hooksnap_first_of(s, f->event); k < s->nby_event &&
		    strcmp(s->by_event[k].event, f->event) == 0; k++) {
			if (hooksnap_selects(s, s->by_event[k].hook, application_id, f, folded))
				picked[n++] = s->by_event[k].hook;
		}
	} else {
		for (size_t i = 0; i < s->hooks.n; i++) {
			if (hooksnap_selects(s, i, application_id, f, folded))
				picked[n++] = i;
		}
	}
	if (n > 0)
		out->items = xcalloc(n, sizeof *out->items);
	for (size_t k = 0; k < n; k++)
		webhook_copy(&out->items[out->n++], &s->hooks.items[picked[k]]);
	free(picked);
	return true;
}

struct hookcache {
	pthread_mutex_t lock;
	struct hooksnap *current;  /* guarded by lock */
	bool building;             /* guarded by lock: a reader is reading a new snapshot */
};

struct hookcache *
hookcache_new(void)
{
	struct hookcache *c = xcalloc(1, sizeof *c);

	if (pthread_mutex_init(&c->lock, NULL) != 0)
		abort();
	return c;
}

void
hookcache_free(struct hookcache *c)
{
	if (c == NULL)
		return;
	hooksnap_unref(c->current);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct hooksnap *
hookcache_acquire(struct hookcache *c, uint64_t generation, bool *build)
{
	struct hooksnap *s = NULL;

	*build = false;
	if (generation == 0)
		return NULL;
	pthread_mutex_lock(&c->lock);
	if (c->current != NULL && c->current->generation == generation) {
		s = c->current;
		hooksnap_ref(s);
	} else if (!c->building) {
		c->building = *build = true;
	}
	pthread_mutex_unlock(&c->lock);
	return s;
}

void
hookcache_publish(struct hookcache *c, struct hooksnap *snap)
{
	struct hooksnap *old = NULL;

	if (snap != NULL)
		hooksnap_ref(snap);
	pthread_mutex_lock(&c->lock);
	c->building = false;
	if (snap != NULL) {
		old = c->current;
		c->current = snap;
	}
	pthread_mutex_unlock(&c->lock);
	hooksnap_unref(old);
}
