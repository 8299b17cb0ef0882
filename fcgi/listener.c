#include "config.h"

#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"

/* Set once listener_stop_intake has removed the path: from then on it may name another
 * instance's socket, which listener_close must leave alone. */
static bool listener_path_released;

/* Blocking, so the kernel wakes one waiting worker per connection; with a receive timeout, which
 * on Linux bounds accept(), so idle workers still come up for air. A socket inherited from an
 * earlier instance may have been left non-blocking: clear that. */
static bool
listener_prepare(int fd)
{
	struct timeval idle = { .tv_sec = LISTENER_IDLE_WAKE_S, .tv_usec = 0 };
	int flags = fcntl(fd, F_GETFL);

	return flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle) == 0;
}

/*
 * A socket passed by systemd: on fd 0 (StandardInput=socket, the FastCGI convention) or as
 * LISTEN_FDS (Sockets= without StandardInput, systemd-socket-activate).
 */
static int
listener_inherited(void)
{
	int n = sd_listen_fds(1), fd = STDIN_FILENO;

	if (n > 1) {
		log_error("systemd passed %d sockets; webhookd listens on exactly one", n);
		return -1;
	}
	if (n == 1)
		fd = SD_LISTEN_FDS_START;
	if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
		log_error("no listen path is configured and no listening socket was inherited (fd %d): set listen "
		    "(or WEBHOOKD_LISTEN), or start the daemon through systemd socket activation", fd);
		return -1;
	}
	if (!listener_prepare(fd)) {
		log_error("cannot prepare the inherited socket: %s", strerror(errno));
		return -1;
	}
	return fd;
}

/* Removes a stale socket left by a crashed instance, but never steals a live one or a non-socket. */
static bool
listener_clear_path(const struct sockaddr_un *addr)
{
	struct stat st;
	int probe;
	bool live;

	if (lstat(addr->sun_path, &st) != 0)
		return errno == ENOENT;
	if (!S_ISSOCK(st.st_mode)) {
		log_error("listen path %s exists and is not a socket", addr->sun_path);
		return false;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return false;
	live = connect(probe, (const struct sockaddr *)addr, sizeof *addr) == 0;
	close(probe);
	if (live) {
		log_error("listen path %s is in use by another process", addr->sun_path);
		return false;
	}
	return unlink(addr->sun_path) == 0;
}

static int
listener_create(const struct settings *s)
{
	struct sockaddr_un addr;
	mode_t old_umask;
	int fd, rc;

	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	if (strlen(s->listen) >= sizeof addr.sun_path) {
		log_error("listen path %s is longer than %zu bytes", s->listen, sizeof addr.sun_path - 1);
		return -1;
	}
	strcpy(addr.sun_path, s->listen);
	if (!listener_clear_path(&addr))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("cannot create a unix socket: %s", strerror(errno));
		return -1;
	}
	/* The umask gives the node its final mode at bind(), so there is no moment when it is wider. */
	old_umask = umask((mode_t)(~s->listen_mode & 0777));
	rc = bind(fd, (const struct sockaddr *)&addr, sizeof addr);
	umask(old_umask);
	if (rc != 0) {
		log_error("cannot bind %s: %s", s->listen, strerror(errno));
		goto fail;
	}
	if (s->listen_group != NULL) {
		struct group *gr = getgrnam(s->listen_group);

		if (gr == NULL) {
			log_error("listen_group %s: no such group", s->listen_group);
			goto fail_unlink;
		}
		if (chown(s->listen, (uid_t)-1, gr->gr_gid) != 0) {
			log_error("cannot give %s to group %s: %s", s->listen, s->listen_group, strerror(errno));
			goto fail_unlink;
		}
	}
	if (listen(fd, (int)s->listen_backlog) != 0 || !listener_prepare(fd)) {
		log_error("cannot listen on %s: %s", s->listen, strerror(errno));
		goto fail_unlink;
	}
	return fd;
fail_unlink:
	unlink(s->listen);
fail:
	close(fd);
	return -1;
}

int
listener_open(const struct settings *s)
{
	return s->listen != NULL ? listener_create(s) : listener_inherited();
}

bool
listener_stop_intake(int fd, const struct settings *s)
{
	if (fd < 0 || s->listen == NULL)
		return false;
	/* Removing the path first means no new connection can find the socket (nginx gets ENOENT:
	 * a 502, which its error_page turns into a JSON 503 with Retry-After), and a new instance
	 * may bind it at once. shutdown(SHUT_RD) then refuses a connect that found the path just
	 * before (ECONNREFUSED), and makes accept() return EINVAL, not wait, once the connections
	 * already queued are taken: that is how the workers know the queue is empty. */
	if (unlink(s->listen) != 0 && errno != ENOENT)
		log_warning("cannot remove %s: %s", s->listen, strerror(errno));
	listener_path_released = true;
	if (shutdown(fd, SHUT_RD) != 0) {
		log_warning("cannot shut the listening socket down: %s; connections queued now are lost at exit",
		    strerror(errno));
		return false;
	}
	return true;
}

void
listener_close(int fd, const struct settings *s)
{
	if (fd < 0)
		return;
	if (s->listen != NULL) {
		close(fd);
		if (!listener_path_released)
			unlink(s->listen);
	}
}
