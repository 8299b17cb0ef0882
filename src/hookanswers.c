#include "config.h"

#include "hookanswers.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* A key lives in one of this many slots from the one its hash names: a few keys that hash alike
 * all stay, and a lookup looks at no more than these. */
#define HOOKANSWERS_WINDOW 8

struct hookanswers_entry {
	size_t key_len, body_len;
	char bytes[];               /* the key, then the body */
};

struct hookanswers {
	pthread_mutex_t lock;
	size_t nslots, max_bytes;
	struct hookanswers_entry **slots;  /* guarded by lock */
	size_t entries, bytes;             /* guarded by lock */
};

struct hookanswers *
hookanswers_new(size_t slots, size_t max_bytes)
{
	struct hookanswers *a = xcalloc(1, sizeof *a);

	if (pthread_mutex_init(&a->lock, NULL) != 0)
		abort();
	a->nslots = slots > 0 ? slots : 1;
	a->max_bytes = max_bytes;
	a->slots = xcalloc(a->nslots, sizeof *a->slots);
	return a;
}

void
hookanswers_free(struct hookanswers *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nslots; i++)
		free(a->slots[i]);
	free(a->slots);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* A string as "length:bytes", NULL as "-": no field can run into the next. */
static void
hookanswers_key_text(struct buf *key, const char *s)
{
	char len[24];

	if (s == NULL) {
		buf_append(key, "-", 1);
		return;
	}
	snprintf(len, sizeof len, "%zu:", strlen(s));
	buf_append_str(key, len);
	buf_append_str(key, s);
}

static void
hookanswers_key_number(struct buf *key, int64_t n)
{
	char text[24];

	snprintf(text, sizeof text, "%" PRId64 ";", n);
	buf_append_str(key, text);
}

bool
hookanswers_key(const struct hookanswers_request *req, struct buf *key)
{
	const struct db_webhook_filter *f = req->filter;

	buf_reset(key);
	/* Translated text comes from resources and cultures of one reference data snapshot only. */
	if (req->language != NULL && req->refdata_generation == 0)
		return false;
	hookanswers_key_text(key, req->operation);
	hookanswers_key_number(key, req->id);
	hookanswers_key_text(key, f != NULL ? f->name : NULL);
	hookanswers_key_text(key, f != NULL ? f->event : NULL);
	hookanswers_key_number(key, f != NULL ? f->state : -2);
	hookanswers_key_number(key, req->application_id);
	hookanswers_key_number(key, req->media);
	hookanswers_key_number(key, req->tag_utc);
	hookanswers_key_text(key, req->language);
	if (req->language != NULL) {
		hookanswers_key_text(key, req->ml_language);
		hookanswers_key_text(key, req->default_language);
		hookanswers_key_text(key, req->default_ml_language);
		hookanswers_key_text(key, req->culture);
		hookanswers_key_number(key, (int64_t)req->refdata_generation);
	}
	return true;
}

/* FNV-1a: keys are short, and a collision costs no more than a replaced answer. */
static size_t
hookanswers_home(const struct hookanswers *a, const struct buf *key)
{
	uint64_t h = 14695981039346656037u;

	for (size_t i = 0; i < key->len; i++)
		h = (h ^ (unsigned char)key->data[i]) * 1099511628211u;
	return (size_t)(h % a->nslots);
}

static bool
hookanswers_holds(const struct hookanswers_entry *e, const struct buf *key)
{
	return e != NULL && e->key_len == key->len && memcmp(e->bytes, key->data, key->len) == 0;
}

/* Under the lock: the slot of key's window that holds it, else the first empty one, else the
 * last (whose answer a new one replaces). */
static size_t
hookanswers_slot(const struct hookanswers *a, const struct buf *key)
{
	size_t home = hookanswers_home(a, key), window = a->nslots < HOOKANSWERS_WINDOW ? a->nslots : HOOKANSWERS_WINDOW;
	size_t slot = home;

	for (size_t i = 0; i < window; i++) {
		slot = (home + i) % a->nslots;
		if (a->slots[slot] == NULL || hookanswers_holds(a->slots[slot], key))
			break;
	}
	return slot;
}

bool
hookanswers_find(struct hookanswers *a, const struct buf *key, struct buf *out)
{
	const struct hookanswers_entry *e;
	bool found;

	pthread_mutex_lock(&a->lock);
	e = a->slots[hookanswers_slot(a, key)];
	found = hookanswers_holds(e, key);
	if (found)
		buf_append(out, e->bytes + e->key_len, e->body_len);
	pthread_mutex_unlock(&a->lock);
	return found;
}

void
hookanswers_keep(struct hookanswers *a, const struct buf *key, const void *body, size_t len)
{
	size_t size = key->len + len, slot, old_size;
	struct hookanswers_entry *e, *old;

	if (size > a->max_bytes)
		return;
	e = xmalloc(sizeof *e + size);
	e->key_len = key->len;
	e->body_len = len;
	memcpy(e->bytes, key->data, key->len);
	memcpy(e->bytes + key->len, body, len);
	pthread_mutex_lock(&a->lock);
	slot = hookanswers_slot(a, key);
	old = a->slots[slot];
	old_size = old != NULL ? old->key_len + old->body_len : 0;
	if (a->bytes - old_size + size <= a->max_bytes) {
		a->slots[slot] = e;
		a->bytes = a->bytes - old_size + size;
		a->entries += old == NULL;
		e = old;
	}
	pthread_mutex_unlock(&a->lock);
	free(e);  /* the replaced answer, or the one the bound refused */
}

void
hookanswers_usage(struct hookanswers *a, size_t *entries, size_t *bytes)
{
	pthread_mutex_lock(&a->lock);
	*entries = a->entries;
	*bytes = a->bytes;
	pthread_mutex_unlock(&a->lock);
}
