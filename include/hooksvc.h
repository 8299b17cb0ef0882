/*
 * The webhook service: the one place that reads, saves, patches and deletes webhooks, for the
 * agent methods and the REST resource alike. It checks TargetUrl (syntax, and the test event
 * NetServer posts before it stores a new or changed target), keeps concurrent saves from losing
 * an update, and scopes every call to what the caller may see.
 */
#ifndef WEBHOOKD_HOOKSVC_H
#define WEBHOOKD_HOOKSVC_H

#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "controls.h"
#include "db.h"
#include "outbound.h"
#include "webhook.h"

#define HOOKSVC_MESSAGE_SIZE 640

enum hooksvc_result {
	HOOKSVC_OK,
	HOOKSVC_NOT_FOUND,           /* no such webhook, or not the caller's */
	HOOKSVC_INVALID,             /* 400: the message names the property and the rule */
	HOOKSVC_TARGET_REFUSED,      /* 400: the target did not take the test event; the message says what it got */
	HOOKSVC_CONFLICT,            /* 409: a JSON Patch test failed, or the webhook kept changing */
	HOOKSVC_PRECONDITION_FAILED, /* 412: modified since If-Unmodified-Since */
	HOOKSVC_BUSY,                /* 503: every target-check slot is taken */
	HOOKSVC_DB_UNAVAILABLE,      /* 503 */
	HOOKSVC_DB_FAILED,           /* 500 */
};

struct hooksvc_config {
	bool check_targets;          /* post a test event before storing a new or changed TargetUrl */
	long secret_rotation_grace_s;  /* how long a replaced Secret still signs; 0: not at all */
	struct outbound_policy policy;
};

struct changes;
struct hookcache;

struct hooksvc {
	struct db *db;
	struct hookcache *cache;     /* the webhooks in memory, or NULL: every read asks the database */
	struct changes *changes;     /* vouches for the cache; told of every write (CHANGES_WEBHOOKS) */
	const struct hooksvc_config *config;
	const struct outbound *outbound;
	sem_t *check_slots;          /* bounds concurrent target checks, so they never take every worker */
};

struct hooksvc_caller {
	int32_t associate_id;
	int32_t application_id;      /* 0: no SO-AppToken */
};

struct hooksnap;

/* The snapshot reads are answered from while the change feed vouches for it (hookcache.h), with a
 * reference for the caller (hooksnap_unref); NULL: read the database. */
struct hooksnap *hooksvc_snapshot(struct hooksvc *svc);
/* GetWebhook, GetAllWebhooks and the REST reads: from snap (hooksvc_snapshot), else, or when it
 * cannot decide the filter, from the database. The writes below read the stored row itself. */
enum hooksvc_result hooksvc_get(struct hooksvc *svc, const struct hooksnap *snap, const struct hooksvc_caller *caller,
    int32_t id, struct webhook *out);
enum hooksvc_result hooksvc_list(struct hooksvc *svc, const struct hooksnap *snap, const struct hooksvc_caller *caller,
    const struct db_webhook_filter *filter, struct webhook_list *out);
/* Creates (in->id 0) or replaces webhook in->id; *out is what was stored. unmodified_since_s is
 * If-Unmodified-Since (INT64_MIN: none). */
enum hooksvc_result hooksvc_save(struct hooksvc *svc, const struct hooksvc_caller *caller, const struct webhook *in,
    int64_t unmodified_since_s, struct webhook *out, char msg[HOOKSVC_MESSAGE_SIZE]);
/* Applies a JSON Patch (an array) or a merge patch (merge) to webhook id and saves the result,
 * again from a fresh read when another save came in between. */
enum hooksvc_result hooksvc_patch(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id,
    yajl_val patch, bool merge, int64_t unmodified_since_s, struct webhook *out, char msg[HOOKSVC_MESSAGE_SIZE]);
enum hooksvc_result hooksvc_delete(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id,
    int64_t unmodified_since_s);
/* Posts a `test` event (X-Hook-Test: true) to hook's TargetUrl, saved or not, signed with its
 * Secret (and its previous_secret, when set, in webhook-signature): res holds
 * the answer, or status 0 and the error. HOOKSVC_INVALID for a TargetUrl that is not one, BUSY
 * when every slot is taken. */
enum hooksvc_result hooksvc_send_test(struct hooksvc *svc, const struct hooksvc_caller *caller,
    const struct webhook *hook, struct outbound_result *res, char msg[HOOKSVC_MESSAGE_SIZE]);
/* Queues event for every Active webhook subscribed to it (webhook_signal in the database);
 * data_json is a JSON object or NULL. Returns before anything is delivered. */
enum hooksvc_result hooksvc_signal(struct hooksvc *svc, const struct hooksvc_caller *caller, const char *event,
    int32_t primary_key, const char *data_json);
/* The last error delivery recorded, "" when none; for the caller to free. */
enum hooksvc_result hooksvc_last_error(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id,
    char **out);
/* Delivery counters of webhook id, or of every webhook the caller sees when id is 0. */
enum hooksvc_result hooksvc_usage(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id,
    struct webhook_usage_list *out);

/* The delivery controls of webhook id (GET and PUT .../Controls): change applies what it names. */
enum hooksvc_result hooksvc_controls_get(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id,
    struct webhook_controls *out);
enum hooksvc_result hooksvc_controls_set(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id,
    const struct webhook_controls_change *change, struct webhook_controls *out);
/* Ends the grace of webhook id's previous secret at once (DELETE .../PreviousSecret). */
enum hooksvc_result hooksvc_end_rotation(struct hooksvc *svc, const struct hooksvc_caller *caller, int32_t id);

#endif
