/*
 * The worker pool: N threads, each with its own FCGX_Request and PostgreSQL connection, all
 * accepting on one listening socket. The main thread takes every signal; workers see a stop or a
 * reload between requests (idle ones within LISTENER_IDLE_WAKE_S), so no request is cut short.
 */
#ifndef WEBHOOKD_POOL_H
#define WEBHOOKD_POOL_H

#include <stdbool.h>

#include "app.h"
#include "settings.h"

struct pool;

/* Connects every worker to the database first; NULL (after logging why) if any cannot. */
struct pool *pool_start(struct app *app, const struct settings *s, int listen_fd);
/* After app_reload: every worker reconnects to the database before it accepts again. */
void pool_reload(struct pool *p);
/* Tells the workers to stop after the request in hand; with drain, only once accept() fails,
 * which it does at once on an empty queue after listener_stop_intake. Call it before that, so
 * that no worker takes the failure for an error. */
void pool_quit(struct pool *p, bool drain);
/* Stops accepting (pool_quit without drain, unless called before), lets requests in flight (and
 * a draining queue) finish for up to timeout_s seconds, frees the pool. Returns false when some
 * request was still running at the deadline. */
bool pool_stop(struct pool *p, long timeout_s);

#endif
