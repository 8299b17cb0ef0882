#include "config.h"

#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fcgi_io.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

struct worker {
	struct pool *pool;
	int index;
	int reload_fd;       /* eventfd: the settings changed, reconnect now rather than at the next request */
	pthread_t thread;
	bool started;
	FCGX_Request request;
	struct app_worker app_worker;
	char *body;
	struct response response;
};

struct pool {
	int listen_fd;
	int wake[2];         /* written once at shutdown; level-triggered, so every poll() sees it */
	long max_body;
	int nworkers;
	struct worker *workers;
	pthread_mutex_t lock;
	pthread_cond_t done;
	int running;
};

/* Waits until a connection may be pending (true) or the pool is stopping (false). An idle
 * worker told of new settings reconnects to the database meanwhile. */
static bool
worker_wait(struct worker *w)
{
	struct pollfd fds[3] = {
		{ .fd = w->pool->listen_fd, .events = POLLIN },
		{ .fd = w->pool->wake[0], .events = POLLIN },
		{ .fd = w->reload_fd, .events = POLLIN },
	};

	for (;;) {
		uint64_t count;

		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("worker %d: poll failed: %s", w->index, strerror(errno));
			return false;
		}
		if (fds[1].revents != 0)
			return false;
		if (fds[2].revents != 0 && read(w->reload_fd, &count, sizeof count) == (ssize_t)sizeof count &&
		    !app_worker_connect(&w->app_worker))
			log_warning("worker %d: no database after the reload; retrying at its next request", w->index);
		if (fds[0].revents != 0)
			return true;
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;

	while (worker_wait(w)) {
		int rc = FCGX_Accept_r(&w->request);

		if (rc < 0) {
			/* Another worker took the connection (EAGAIN), or nginx gave up on it: wait again. */
			if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR && rc != -ECONNABORTED)
				log_warning("worker %d: accept failed (%d)", w->index, rc);
			continue;
		}
		metrics_worker_busy(true);
		fcgi_io_serve(&w->request, &w->app_worker, w->body, p->max_body, &w->response);
		FCGX_Finish_r(&w->request);
		metrics_worker_busy(false);
	}
	FCGX_Free(&w->request, 1);
	pthread_mutex_lock(&p->lock);
	p->running--;
	pthread_cond_signal(&p->done);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void
pool_free(struct pool *p)
{
	for (int i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];

		app_worker_release(&w->app_worker);
		auth_crypt_free(w->app_worker.crypt);
		if (w->reload_fd >= 0)
			close(w->reload_fd);
		free(w->body);
		response_free(&w->response);
	}
	free(p->workers);
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

struct pool *
pool_start(struct app *app, const struct settings *s, int listen_fd)
{
	struct pool *p = xcalloc(1, sizeof *p);

	p->listen_fd = listen_fd;
	p->max_body = s->max_body;
	p->nworkers = (int)s->workers;
	if (pipe2(p->wake, O_CLOEXEC) != 0) {
		log_error("cannot create the wake-up pipe: %s", strerror(errno));
		free(p);
		return NULL;
	}
	if (pthread_mutex_init(&p->lock, NULL) != 0 || pthread_cond_init(&p->done, NULL) != 0)
		abort();
	p->workers = xcalloc((size_t)p->nworkers, sizeof *p->workers);
	for (int i = 0; i < p->nworkers; i++)
		p->workers[i].reload_fd = -1; /* pool_free may see workers not yet set up */
	for (int i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];

		w->pool = p;
		w->index = i;
		w->reload_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (w->reload_fd < 0) {
			log_error("cannot create an eventfd: %s", strerror(errno));
			pool_free(p);
			return NULL;
		}
		w->app_worker.app = app;
		w->app_worker.crypt = auth_crypt_new();
		w->body = xmalloc((size_t)s->max_body + 1);
		response_init(&w->response);
		if (!app_worker_connect(&w->app_worker)) {
			pool_free(p);
			return NULL;
		}
		if (FCGX_InitRequest(&w->request, listen_fd, 0) != 0) {
			log_error("cannot initialise a FastCGI request");
			pool_free(p);
			return NULL;
		}
	}
	metrics_set_workers(p->nworkers);
	for (int i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];
		int rc;

		pthread_mutex_lock(&p->lock);
		p->running++;
		pthread_mutex_unlock(&p->lock);
		rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc != 0) {
			log_error("cannot start worker %d: %s", i, strerror(rc));
			pthread_mutex_lock(&p->lock);
			p->running--;
			pthread_mutex_unlock(&p->lock);
			(void)pool_stop(p, 1);
			return NULL;
		}
		w->started = true;
	}
	return p;
}

void
pool_reload(struct pool *p)
{
	const uint64_t one = 1;

	for (int i = 0; i < p->nworkers; i++) {
		if (write(p->workers[i].reload_fd, &one, sizeof one) != (ssize_t)sizeof one)
			log_warning("worker %d will reconnect at its next request: %s", i, strerror(errno));
	}
}

bool
pool_stop(struct pool *p, long timeout_s)
{
	struct timespec deadline;
	bool finished = true;

	if (write(p->wake[1], "x", 1) != 1)
		log_error("cannot wake the workers: %s", strerror(errno));
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_s;
	pthread_mutex_lock(&p->lock);
	while (p->running > 0) {
		if (pthread_cond_timedwait(&p->done, &p->lock, &deadline) == ETIMEDOUT) {
			finished = false;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	if (!finished) {
		/* Threads still in a request cannot be joined or freed under them; the process exits. */
		log_warning("%d request(s) still running after %lds; exiting without them", p->running, timeout_s);
		return false;
	}
	for (int i = 0; i < p->nworkers; i++) {
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
	}
	pool_free(p);
	return true;
}
