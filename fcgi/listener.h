/* The listening socket: a unix socket we create, or the one systemd (or spawn-fcgi) left on fd 0. */
#ifndef WEBHOOKD_LISTENER_H
#define WEBHOOKD_LISTENER_H

#include "settings.h"

/* Returns a non-blocking listening socket, or -1 after logging why. */
int listener_open(const struct settings *s);
/* Closes the socket and removes the path we created (an inherited socket belongs to its owner). */
void listener_close(int fd, const struct settings *s);

#endif
