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

struct hooksnap {
	atomic_int refs;
	uint64_t generation;
	bool folds_ascii;
	struct webhook_list hooks;  /* by id */
	char **lowered_names;       /* lower(name) from the database, one per hook, NULL for null */
};

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
	webhook_list_free(&s->hooks);
	free(s);
}

uint64_t
hooksnap_generation(const struct hooksnap *s)
{
	return s->generation;
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
	const struct webhook *w = bsearch(&id, s->hooks.items, s->hooks.n, sizeof *s->hooks.items, hooksnap_by_id);

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

static bool
hooksnap_has_event(const struct webhook *w, const char *event)
{
	for (size_t i = 0; i < w->nevents; i++) {
		if (strcmp(w->events[i], event) == 0)
			return true;
	}
	return false;
}

bool
hooksnap_list(const struct hooksnap *s, int32_t application_id, const struct db_webhook_filter *f,
    struct webhook_list *out)
{
	char folded[HOOKSNAP_NAME_MAX + 1];
	size_t n = 0;

	out->items = NULL;
	out->n = 0;
	if (f->name != NULL && !hooksnap_fold_name(s, f->name, folded))
		return false;
	/* Two passes: count, then copy into an array of the right size. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->hooks.n; i++) {
			const struct webhook *w = &s->hooks.items[i];

			if (!hooksnap_visible(w, application_id) ||
			    (f->name != NULL && (s->lowered_names[i] == NULL || strcmp(s->lowered_names[i], folded) != 0)) ||
			    (f->event != NULL && !hooksnap_has_event(w, f->event)) ||
			    (f->state >= 0 && (int)w->state != f->state))
				continue;
			if (pass == 0)
				n++;
			else
				webhook_copy(&out->items[out->n++], w);
		}
		if (pass == 0 && n == 0)
			break;
		if (pass == 0)
			out->items = xcalloc(n, sizeof *out->items);
	}
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
