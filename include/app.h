/*
 * The request pipeline of the service: route, check the body size, authenticate, run the
 * handler, and turn every failure into an HTTP status with a NetServer-shaped error body.
 */
#ifndef WEBHOOKD_APP_H
#define WEBHOOKD_APP_H

#include "auth.h"
#include "authcache.h"
#include "db.h"
#include "http.h"

#include <stdbool.h>

/* Shared by all workers, read-only once they run (the cache locks itself). */
struct app {
	long max_body;
	unsigned auth_schemes;       /* enum auth_scheme bits this installation accepts */
	bool online;                 /* SO-AppToken required */
	const char *session_cookie;  /* browser session cookie name */
	struct authcache *authcache;
};

/* Per worker thread: never shared. */
struct app_worker {
	struct app *app;
	struct db *db;
	struct auth_crypt *crypt;
};

void app_handle(struct app_worker *w, const struct request *req, struct response *resp);

#endif
