#include "config.h"

#include "hooksvc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "carrier.h"
#include "changes.h"
#include "clock.h"
#include "emit.h"
#include "hookcache.h"
#include "hookparse.h"
#include "jsonpatch.h"
#include "jsontree.h"
#include "log.h"
#include "metrics.h"
#include "payload.h"
#include "xalloc.h"

/* A patch retried this often, each time over a fresh read, gives up: the webhook keeps changing.
 * Each lost race means another patch won, so with a jittered pause between tries every one of
 * a burst of concurrent patches gets through. */
#define HOOKSVC_PATCH_ATTEMPTS 64

static enum hooksvc_result
hooksvc_fail(char msg[HOOKSVC_MESSAGE_SIZE], enum hooksvc_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum hooksvc_result
hooksvc_fail(char msg[HOOKSVC_MESSAGE_SIZE], enum hooksvc_result r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, HOOKSVC_MESSAGE_SIZE, fmt, ap);
	va_end(ap);
	return r;
}

static enum hooksvc_result
hooksvc_from_db(enum db_result r)
{
	switch (r) {
	case DB_OK: return HOOKSVC_OK;
	case DB_NOT_FOUND: return HOOKSVC_NOT_FOUND;
	case DB_UNAVAILABLE: return HOOKSVC_DB_UNAVAILABLE;
	case DB_FAILED:
	case DB_CONSTRAINT: break;
	}
	return HOOKSVC_DB_FAILED;
}

static struct db_webhook_scope
hooksvc_scope(const struct hooksvc_caller *caller)
{
	return (struct db_webhook_scope){ .application_id = caller->application_id };
}

/* The stored row itself: what a write decides on is never taken from a snapshot. */
static enum hooksvc_result
hooksvc_read(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id, struct webhook *out)
{
	struct db_webhook_scope scope = hooksvc_scope(caller);

	webhook_init(out);
	return hooksvc_from_db(db_webhook_get(svc->db, &scope, id, out));
}

/* After a write statement, committed or not (a broken connection leaves it unknown): this
 * process's next read must not come from a snapshot older than it. Before the answer, so a
 * client that saves and then reads always sees its save. */
static void
hooksvc_written(struct hooksvc *svc)
{
	if (svc->changes != NULL)
		changes_bump(svc->changes, CHANGES_WEBHOOKS);
}

/* Its generation is read before the query, and a snapshot is kept only when read from a primary
 * (a standby may not have replayed a change the feed already announced). */
struct hooksnap *
hooksvc_snapshot(struct hooksvc *svc)
{
	uint64_t generation;
	struct hooksnap *snap;
	struct webhook_list all;
	char **lowered;
	bool build, folds_ascii;

	if (svc->cache == NULL)
		return NULL;
	generation = changes_generation(svc->changes, CHANGES_WEBHOOKS);
	snap = hookcache_acquire(svc->cache, generation, &build);
	metrics_count_cache(METRICS_CACHE_WEBHOOKS, snap != NULL);
	if (!build)
		return snap;
	if (db_webhook_all(svc->db, &all, &lowered, &folds_ascii) == DB_OK && db_is_primary(svc->db))
		snap = hooksnap_new(&all, &lowered, folds_ascii, generation);
	for (size_t i = 0; lowered != NULL && i < all.n; i++)
		free(lowered[i]);
	free(lowered);
	webhook_list_free(&all);
	hookcache_publish(svc->cache, snap);
	return snap;
}

enum hooksvc_result
hooksvc_get(struct hooksvc *svc, const struct hooksnap *snap, const struct hooksvc_caller *caller, int32_t id,
    struct webhook *out)
{
	if (snap == NULL)
		return hooksvc_read(svc, caller, id, out);
	return hooksnap_get(snap, caller->application_id, id, out) ? HOOKSVC_OK : HOOKSVC_NOT_FOUND;
}

enum hooksvc_result
hooksvc_list(struct hooksvc *svc, const struct hooksnap *snap, const struct hooksvc_caller *caller,
    const struct db_webhook_filter *filter, struct webhook_list *out)
{
	struct db_webhook_scope scope = hooksvc_scope(caller);

	if (snap != NULL && hooksnap_list(snap, caller->application_id, filter, out))
		return HOOKSVC_OK;
	return hooksvc_from_db(db_webhook_list(svc->db, &scope, filter, out));
}

/* The first line of what the target answered, made printable. */
static void
hooksvc_status_line(const struct outbound_result *res, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = res->headers.data != NULL ? res->headers.data : ""; *p != '\0' && *p != '\r' &&
	    *p != '\n' && n + 1 < cap; p++)
		out[n++] = (*p < 0x20 || *p == 0x7f) ? '?' : *p;
	out[n] = '\0';
	if (n == 0)
		snprintf(out, cap, "HTTP status %ld", res->status);
}

/* The hook's own headers, pointing into the parsed object, after the delivery's own. */
static size_t
hooksvc_custom_headers(yajl_val headers, struct outbound_header *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; headers != NULL && YAJL_IS_OBJECT(headers) && i < headers->u.object.len && n < cap; i++) {
		if (YAJL_IS_STRING(headers->u.object.values[i]))
			out[n++] = (struct outbound_header){ headers->u.object.keys[i], headers->u.object.values[i]->u.string };
	}
	return n;
}

enum hooksvc_result
hooksvc_send_test(struct hooksvc *svc, const struct hooksvc_caller *caller, const struct webhook *hook,
    struct outbound_result *res, char msg[HOOKSVC_MESSAGE_SIZE])
{
	struct outbound_header headers[8 + HOOKPARSE_HEADERS_MAX];
	struct payload_event ev = { .event = "test", .primary_key = 0, .entity = "test",
		.context_identifier = "Default", .changed_by = caller->associate_id };
	char signature[PAYLOAD_SIGNATURE_SIZE], standard[PAYLOAD_STANDARD_SIGNATURES_SIZE], timestamp[24], err[64];
	enum hooksvc_result r = HOOKSVC_OK;
	yajl_val custom = NULL;
	struct buf body;
	size_t n = 0;

	if (!svc->outbound->url_check(hook->target_url, svc->config->policy.allow_http, msg, HOOKSVC_MESSAGE_SIZE))
		return HOOKSVC_INVALID;
	/* The slots bound how many workers may wait on targets at once; the rest answer 503 at
	 * once rather than queue behind a slow target. */
	if (sem_trywait(svc->check_slots) != 0)
		return hooksvc_fail(msg, HOOKSVC_BUSY, "Every target check slot is busy; try again shortly.");
	payload_new_event_id(ev.event_id);
	ev.timestamp_us = clock_realtime_us();
	buf_init(&body);
	if (!payload_body(&ev, hook, &body)) {
		r = hooksvc_fail(msg, HOOKSVC_DB_FAILED, "The test event cannot be written.");
		goto out;
	}
	headers[n++] = (struct outbound_header){ "Content-Type", "application/json; charset=utf-8" };
	headers[n++] = (struct outbound_header){ "X-SuperOffice-Event", ev.event };
	headers[n++] = (struct outbound_header){ "X-SuperOffice-EventId", ev.event_id };
	headers[n++] = (struct outbound_header){ "X-Hook-Test", "true" };
	headers[n++] = (struct outbound_header){ "webhook-id", ev.event_id };
	snprintf(timestamp, sizeof timestamp, "%lld", (long long)(ev.timestamp_us / 1000000));
	headers[n++] = (struct outbound_header){ "webhook-timestamp", timestamp };
	if (hook->secret != NULL && *hook->secret != '\0') {
		payload_signature(hook->secret, body.data, body.len, signature);
		payload_standard_signatures(hook->secret, hook->previous_secret, ev.event_id, ev.timestamp_us / 1000000,
		    body.data, body.len, standard);
		headers[n++] = (struct outbound_header){ "X-SuperOffice-Signature", signature };
		headers[n++] = (struct outbound_header){ "webhook-signature", standard };
	}
	if (hook->headers_json != NULL)
		custom = yajl_tree_parse(hook->headers_json, err, sizeof err);
	n += hooksvc_custom_headers(custom, headers + n, sizeof headers / sizeof headers[0] - n);
	if (!svc->outbound->post(&svc->config->policy, hook->target_url, headers, n, body.data, body.len, res))
		res->status = 0;
out:
	yajl_tree_free(custom);
	buf_free(&body);
	sem_post(svc->check_slots);
	return r;
}

/* NetServer's check before it stores a target: the test event, and only a 2xx lets it in. */
static enum hooksvc_result
hooksvc_check_target(struct hooksvc *svc, const struct hooksvc_caller *caller, const struct webhook *hook,
    char msg[HOOKSVC_MESSAGE_SIZE])
{
	struct outbound_result res;
	enum hooksvc_result r;
	char status[128];

	if (!svc->config->check_targets)
		return HOOKSVC_OK;
	outbound_result_init(&res);
	r = hooksvc_send_test(svc, caller, hook, &res, msg);
	if (r == HOOKSVC_OK && res.status == 0) {
		r = hooksvc_fail(msg, HOOKSVC_TARGET_REFUSED, "TargetUrl did not take the test event: %s.", res.error);
	} else if (r == HOOKSVC_OK && (res.status < 200 || res.status > 299)) {
		hooksvc_status_line(&res, status, sizeof status);
		r = hooksvc_fail(msg, HOOKSVC_TARGET_REFUSED, "TargetUrl did not take the test event: it answered "
		    "\"%s\" (a webhook target must answer 2xx).", status);
	}
	outbound_result_free(&res);
	return r;
}

/* The previous secret a save of in over current leaves, by webhook_update's rule (db.c): the
 * replaced Secret when it changes from one value to another while rotation is on, the stored one
 * when it stays, else none. The target check of that save signs with it too. */
static char *
hooksvc_previous_after_save(const struct hooksvc *svc, const struct webhook *current, const struct webhook *in)
{
	const char *was = current != NULL ? current->secret : NULL;

	if (current == NULL)
		return NULL;
	if ((was == NULL && in->secret == NULL) || (was != NULL && in->secret != NULL && strcmp(was, in->secret) == 0))
		return current->previous_secret;
	if (svc->config->secret_rotation_grace_s > 0 && was != NULL && *was != '\0' && in->secret != NULL &&
	    *in->secret != '\0')
		return current->secret;
	return NULL;
}

/* After a write that matched no row: gone (404), or there but failing the guard (412). */
static enum hooksvc_result
hooksvc_explain_miss(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id, char msg[HOOKSVC_MESSAGE_SIZE])
{
	struct webhook current;
	enum hooksvc_result r = hooksvc_read(svc, caller, id, &current);

	webhook_free(&current);
	if (r == HOOKSVC_OK)
		return hooksvc_fail(msg, HOOKSVC_PRECONDITION_FAILED, "Webhook %d has changed since the time "
		    "If-Unmodified-Since names.", (int)id);
	return r;
}

/* Saves over version (-1: any) of the row; HOOKSVC_CONFLICT when another save got there first. */
static enum hooksvc_result
hooksvc_store(struct hooksvc *svc, const struct hooksvc_caller *caller, const struct webhook *in,
    const struct webhook *current, int64_t unmodified_since_s, int64_t version, struct webhook *out,
    char msg[HOOKSVC_MESSAGE_SIZE])
{
	struct db_webhook_scope scope = hooksvc_scope(caller);
	struct db_webhook_guard guard = { .version = version, .unmodified_since_s = unmodified_since_s };
	enum hooksvc_result r;
	enum db_result d;

	if (!svc->outbound->url_check(in->target_url, svc->config->policy.allow_http, msg, HOOKSVC_MESSAGE_SIZE))
		return HOOKSVC_INVALID;
	/* A write the guard will refuse posts nothing: the guarded UPDATE still decides, this only
	 * spares the target a test event for a save that cannot happen. */
	if (current != NULL && unmodified_since_s != INT64_MIN && current->updated / 1000000 > unmodified_since_s)
		return hooksvc_explain_miss(svc, caller, in->id, msg);
	if (current == NULL || strcmp(current->target_url, in->target_url) != 0) {
		struct webhook signed_as_saved = *in;  /* a shallow copy: nothing of it is freed */

		signed_as_saved.previous_secret = hooksvc_previous_after_save(svc, current, in);
		r = hooksvc_check_target(svc, caller, &signed_as_saved, msg);
		if (r != HOOKSVC_OK)
			return r;
	}
	webhook_init(out);
	d = in->id == 0 ? db_webhook_insert(svc->db, &scope, in, caller->associate_id, out) :
	    db_webhook_update(svc->db, &scope, in, caller->associate_id, &guard, svc->config->secret_rotation_grace_s,
	        out);
	hooksvc_written(svc);
	if (d == DB_CONSTRAINT)
		return hooksvc_fail(msg, HOOKSVC_INVALID, "The webhook breaks a rule of the database schema.");
	if (d != DB_NOT_FOUND)
		return hooksvc_from_db(d);
	if (version >= 0) {
		struct webhook now;

		/* The version moved on: tell the patch loop to start over, unless the row is gone. */
		r = hooksvc_read(svc, caller, in->id, &now);
		if (r == HOOKSVC_OK && now.version != version)
			r = HOOKSVC_CONFLICT;
		webhook_free(&now);
		if (r != HOOKSVC_OK)
			return r;
	}
	return hooksvc_explain_miss(svc, caller, in->id, msg);
}

enum hooksvc_result
hooksvc_save(struct hooksvc *svc, const struct hooksvc_caller *caller, const struct webhook *in,
    int64_t unmodified_since_s, struct webhook *out, char msg[HOOKSVC_MESSAGE_SIZE])
{
	struct webhook current;
	enum hooksvc_result r;

	webhook_init(out);
	/* The stored row matters before the write only to the target check (is TargetUrl new?) and
	 * to If-Unmodified-Since (a save it refuses posts no test event). Without either, the UPDATE
	 * alone decides, in one round trip; a row it does not find is explained afterwards. */
	if (in->id == 0 || (!svc->config->check_targets && unmodified_since_s == INT64_MIN))
		return hooksvc_store(svc, caller, in, NULL, unmodified_since_s, -1, out, msg);
	r = hooksvc_read(svc, caller, in->id, &current);
	if (r == HOOKSVC_OK)
		r = hooksvc_store(svc, caller, in, &current, unmodified_since_s, -1, out, msg);
	webhook_free(&current);
	return r;
}

/* The stored webhook as the client sees it (carrier JSON), as a tree to patch. */
static yajl_val
hooksvc_document(const struct webhook *hook)
{
	struct carrier_options opt = { .tag_utc = false };
	struct buf text;
	struct emitter *e;
	char err[128];
	yajl_val doc = NULL;

	buf_init(&text);
	e = emitter_open(EMIT_JSON, &text);
	if (e != NULL && carrier_write_webhook(e, hook, &opt))
		doc = jsontree_parse(text.data, text.len, HOOKPARSE_DEPTH_MAX + 4, err, sizeof err);
	emitter_close(e);
	buf_free(&text);
	return doc;
}

/* One read, patch and guarded write. */
static enum hooksvc_result
hooksvc_patch_once(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id, yajl_val patch,
    bool merge, int64_t unmodified_since_s, struct webhook *out, char msg[HOOKSVC_MESSAGE_SIZE])
{
	char reason[HOOKPARSE_MESSAGE_SIZE];
	struct webhook current, patched;
	enum hooksvc_result r;
	yajl_val doc;

	webhook_init(&patched);
	r = hooksvc_read(svc, caller, id, &current);
	if (r != HOOKSVC_OK)
		goto out;
	doc = hooksvc_document(&current);
	if (doc == NULL) {
		r = hooksvc_fail(msg, HOOKSVC_DB_FAILED, "The stored webhook cannot be patched.");
		goto out;
	}
	if (merge) {
		jsonpatch_merge(&doc, patch);
	} else {
		switch (jsonpatch_apply(&doc, patch, reason, sizeof reason)) {
		case JSONPATCH_OK:
			break;
		case JSONPATCH_TEST_FAILED:
			r = hooksvc_fail(msg, HOOKSVC_CONFLICT, "%s", reason);
			break;
		case JSONPATCH_INVALID:
			r = hooksvc_fail(msg, HOOKSVC_INVALID, "%s", reason);
			break;
		}
	}
	if (r == HOOKSVC_OK && !hookparse_webhook(doc, &patched, reason))
		r = hooksvc_fail(msg, HOOKSVC_INVALID, "%s", reason);
	else if (r == HOOKSVC_OK && patched.id != id)
		r = hooksvc_fail(msg, HOOKSVC_INVALID, "WebhookId cannot be changed (it is %d).", (int)id);
	yajl_tree_free(doc);
	if (r == HOOKSVC_OK)
		r = hooksvc_store(svc, caller, &patched, &current, unmodified_since_s, current.version, out, msg);
out:
	webhook_free(&patched);
	webhook_free(&current);
	return r;
}

enum hooksvc_result
hooksvc_patch(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id, yajl_val patch, bool merge,
    int64_t unmodified_since_s, struct webhook *out, char msg[HOOKSVC_MESSAGE_SIZE])
{
	enum hooksvc_result r = HOOKSVC_CONFLICT;

	webhook_init(out);
	for (int attempt = 0; attempt < HOOKSVC_PATCH_ATTEMPTS; attempt++) {
		if (attempt > 0) {
			/* Up to 1 ms per lost race so far, at random: the racers spread out. */
			struct timespec pause = { 0, (long)randombytes_uniform(1000000u * (unsigned)(attempt < 10 ? attempt : 10)) };

			while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
				;
		}
		msg[0] = '\0';
		r = hooksvc_patch_once(svc, caller, id, patch, merge, unmodified_since_s, out, msg);
		/* A conflict with a message is a failed JSON Patch test; without one, a lost race. */
		if (r != HOOKSVC_CONFLICT || msg[0] != '\0')
			return r;
	}
	return hooksvc_fail(msg, HOOKSVC_CONFLICT, "Webhook %d kept changing while it was being patched; "
	    "try again.", (int)id);
}

enum hooksvc_result
hooksvc_delete(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id, int64_t unmodified_since_s)
{
	struct db_webhook_scope scope = hooksvc_scope(caller);
	struct db_webhook_guard guard = { .version = -1, .unmodified_since_s = unmodified_since_s };
	char msg[HOOKSVC_MESSAGE_SIZE];
	enum db_result d = db_webhook_delete(svc->db, &scope, id, &guard);

	hooksvc_written(svc);
	if (d != DB_NOT_FOUND || unmodified_since_s == INT64_MIN)
		return hooksvc_from_db(d);
	return hooksvc_explain_miss(svc, caller, id, msg);
}

enum hooksvc_result
hooksvc_signal(struct hooksvc *svc, const struct hooksvc_caller *caller, const char *event, int32_t primary_key,
    const char *data_json)
{
	return hooksvc_from_db(db_webhook_signal(svc->db, event, primary_key, data_json, caller->associate_id));
}

enum hooksvc_result
hooksvc_last_error(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id, char **out)
{
	struct db_webhook_scope scope = hooksvc_scope(caller);

	return hooksvc_from_db(db_webhook_last_error(svc->db, &scope, id, out));
}

enum hooksvc_result
hooksvc_usage(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id, struct webhook_usage_list *out)
{
	struct db_webhook_scope scope = hooksvc_scope(caller);

	return hooksvc_from_db(db_webhook_usage(svc->db, &scope, id, out));
}

enum hooksvc_result
hooksvc_controls_get(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id,
    struct webhook_controls *out)
{
	struct db_webhook_scope scope = hooksvc_scope(caller);

	return hooksvc_from_db(db_webhook_controls_get(svc->db, &scope, id, out));
}

enum hooksvc_result
hooksvc_controls_set(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id,
    const struct webhook_controls_change *change, struct webhook_controls *out)
{
	struct db_webhook_scope scope = hooksvc_scope(caller);

	return hooksvc_from_db(db_webhook_controls_set(svc->db, &scope, id, change, out));
}

enum hooksvc_result
hooksvc_end_rotation(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id)
{
	struct db_webhook_scope scope = hooksvc_scope(caller);

	return hooksvc_from_db(db_webhook_previous_secret_drop(svc->db, &scope, id));
}
