/* The listening socket: a unix socket we create, or the one systemd (or spawn-fcgi) left on fd 0. */
#ifndef WEBHOOKD_LISTENER_H
#define WEBHOOKD_LISTENER_H

#include <stdbool.h>

#include "settings.h"

/* How often accept() returns when no connection comes, so idle workers see a stop or a reload. */
#define LISTENER_IDLE_WAKE_S 1

/* Returns the listening socket, blocking with a receive timeout of LISTENER_IDLE_WAKE_S (which
 * bounds accept), or -1 after logging why. */
int listener_open(const struct settings *s);
/* On SIGTERM, for a socket we created: no new connection is queued from now on, and once the
 * ones already queued are accepted, accept() fails at once (EINVAL) rather than waiting. True
 * when the workers may drain the queue that way. An inherited socket is left as it is (systemd
 * must not see it shut down): its queue stays for the next instance. */
bool listener_stop_intake(int fd, const struct settings *s) __attribute__((warn_unused_result));
/* Closes the socket and removes the path we created (an inherited socket belongs to its owner). */
void listener_close(int fd, const struct settings *s);

#endif
