/*
 * The request pipeline of the service: route, check the body size, authenticate, run the
 * handler, and turn every failure into an HTTP status with a NetServer-shaped error body.
 */
#ifndef WEBHOOKD_APP_H
#define WEBHOOKD_APP_H

#include "auth.h"
#include "changes.h"
#include "credcache.h"
#include "db.h"
#include "hashpool.h"
#include "refdata.h"
#include "throttle.h"
#include "hookcache.h"
#include "hooksvc.h"
#include "http.h"
#include "outbound.h"
#include "settings.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The settings a reload (SIGHUP) may change. A worker holds a reference for the length of one
 * request, so a reload never changes them under a request in flight; the last reference frees.
 */
struct app_config {
	unsigned generation;
	unsigned auth_schemes;       /* enum auth_scheme bits this installation accepts */
	bool online;                 /* SO-AppToken required */
	char *session_cookie;        /* browser session cookie name */
	char *database;              /* libpq connection string */
	long statement_timeout_ms;
	struct hooksvc_config hooks; /* the target check */
	long recover_max;            /* failed events one Recover call puts back */
	int refs;                    /* guarded by app.lock */
};

/* Shared by all workers. */
struct app {
	long max_body;               /* fixed at start: the workers' buffers are sized by it */
	struct credcache *credcache; /* locks itself */
	struct hashpool *hashpool;   /* runs crypt(3): bounded threads, seats and waits (hashpool.h) */
	sem_t check_slots;           /* bounds concurrent target checks (outbound POSTs) */
	const struct outbound *outbound;  /* TargetUrl checks and POSTs (net/, libcurl) */
	struct throttle *throttle;   /* failed Basic logins per client network and per account */
	struct changes *changes;     /* the change feed that vouches for what is cached */
	pthread_mutex_t lock;        /* guards config and refdata */
	struct app_config *config;
	struct refdata *refdata;     /* the current reference data, or NULL */
	struct hookcache *hookcache; /* the saved webhooks (locks itself) */
};

/* Per worker thread: never shared. */
struct app_worker {
	struct app *app;
	struct app_config *config;   /* held during a request */
	unsigned db_generation;      /* the config generation the connection was made for */
	struct db *db;
	struct auth_crypt *crypt;
};

bool app_init(struct app *app, const struct settings *s, const struct outbound *outbound)
	__attribute__((warn_unused_result));
void app_destroy(struct app *app);
/* Publishes new settings; workers reconnect to the database before their next request. */
void app_reload(struct app *app, const struct settings *s);
/* Connects a worker's database for the current settings, if it is not already connected for
 * them: at start (for readiness) and when told of a reload. */
bool app_worker_connect(struct app_worker *w) __attribute__((warn_unused_result));
void app_worker_release(struct app_worker *w);
void app_handle(struct app_worker *w, const struct request *req, struct response *resp);
/* What a database read may be cached under: the change-feed generation read before it, and only
 * when the connection is to a primary (a standby may not have replayed a change the feed announced). */
uint64_t app_worker_cacheable_generation(const struct app_worker *w, uint64_t before);

#endif
