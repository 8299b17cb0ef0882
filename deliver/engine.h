/*
 * The delivery loop of webhook-deliverd: one thread, one PostgreSQL connection (which also
 * LISTENs for new events), one libcurl multi handle that keeps connections to targets alive.
 * It claims due deliveries under a lease, posts many at once, records each attempt as the rules
 * (src/delivery.c) judge it, and sleeps until a NOTIFY, a completion, a signal or the next due
 * time, whichever comes first.
 */
#ifndef WEBHOOKD_DELIVER_ENGINE_H
#define WEBHOOKD_DELIVER_ENGINE_H

#include <stdbool.h>

#include "settings.h"

struct engine;

/* sigfd is a signalfd for SIGTERM, SIGINT and SIGHUP; NULL when libcurl cannot start. */
struct engine *engine_new(const struct settings *s, int sigfd, const char *config_path);
/* Runs until SIGTERM or SIGINT, then finishes what is in flight (up to shutdown_timeout_s) and
 * hands back what is not. Returns the exit status. */
int engine_run(struct engine *e);
void engine_free(struct engine *e);

#endif
