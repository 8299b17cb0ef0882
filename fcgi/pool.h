/*
 * The worker pool: N threads, each with its own FCGX_Request and PostgreSQL connection, all
 * accepting on one listening socket. Workers block no signal-sensitive call: the main thread
 * takes every signal and stops the pool through a wake-up pipe, so requests are never cut short.
 */
#ifndef WEBHOOKD_POOL_H
#define WEBHOOKD_POOL_H

#include <stdbool.h>

#include "app.h"
#include "settings.h"

struct pool;

/* Connects every worker to the database first; NULL (after logging why) if any cannot. */
struct pool *pool_start(struct app *app, const struct settings *s, int listen_fd);
/* After app_reload: idle workers reconnect to the database now, busy ones after their request. */
void pool_reload(struct pool *p);
/* Stops accepting, lets requests in flight finish for up to timeout_s seconds, frees the pool.
 * Returns false when some request was still running at the deadline. */
bool pool_stop(struct pool *p, long timeout_s);

#endif
