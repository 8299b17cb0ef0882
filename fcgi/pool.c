#include "config.h"

#include "pool.h"

#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fcgi_io.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

struct worker {
	struct pool *pool;
	int index;
	unsigned reloads_seen;  /* pool.reloads when this worker last synced its database connection */
	pthread_t thread;
	bool started;
	FCGX_Request request;
	struct app_worker app_worker;
	char *body;
	struct response response;
};

struct pool {
	int listen_fd;
	atomic_bool stopping;
	atomic_bool draining;   /* stopping, but the connections already queued are served first */
	atomic_uint reloads;
	long max_body;
	int nworkers;
	struct worker *workers;
	pthread_mutex_t lock;
	pthread_cond_t done;
	int running;
};

/*
 * Each worker blocks in accept() (through FCGX_Accept_r): the kernel wakes exactly one waiter per
 * connection, as for the thinnest responder. The listening socket's receive timeout makes accept
 * return every LISTENER_IDLE_WAKE_S, so an idle worker notices a stop or a reload in time; no
 * signal ever interrupts a worker's reads or writes. On a stop that drains, a worker goes on
 * accepting until accept() fails: the socket is shut down for new connections by then
 * (listener_stop_intake), so that failure means the queue is empty.
 */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;

	while (!atomic_load(&p->stopping) || atomic_load(&p->draining)) {
		unsigned reloads = atomic_load(&p->reloads);
		int rc;

		if (reloads != w->reloads_seen) {
			w->reloads_seen = reloads;
			if (!app_worker_connect(&w->app_worker))
				log_warning("worker %d: no database after the reload; retrying at its next request", w->index);
		}
		rc = FCGX_Accept_r(&w->request);
		if (rc < 0) {
			if (atomic_load(&p->stopping))
				break; /* drained (EINVAL once the shut-down socket's queue is empty), or idle */
			/* The idle timeout (EAGAIN), or nginx gave up on the connection: accept again. */
			if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR && rc != -ECONNABORTED) {
				log_warning("worker %d: accept failed (%d)", w->index, rc);
				usleep(10000); /* EMFILE and the like: do not spin */
			}
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

		free(w->body);
		response_free(&w->response);
	}
	free(p->workers);
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
	atomic_init(&p->stopping, false);
	atomic_init(&p->draining, false);
	atomic_init(&p->reloads, 0);
	if (pthread_mutex_init(&p->lock, NULL) != 0 || pthread_cond_init(&p->done, NULL) != 0)
		abort();
	p->workers = xcalloc((size_t)p->nworkers, sizeof *p->workers);
	for (int i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];

		w->pool = p;
		w->index = i;
		w->app_worker.app = app;
		w->app_worker.crypt = auth_crypt_new();
		w->body = xmalloc((size_t)s->max_body + 1);
		response_init(&w->response);
		if (!app_worker_connect(&w->app_worker)) {
			log_error("worker %d: no database connection at start-up; not starting", i);
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
	atomic_fetch_add(&p->reloads, 1);
}

void
pool_quit(struct pool *p, bool drain)
{
	atomic_store(&p->draining, drain);
	atomic_store(&p->stopping, true);
}

bool
pool_stop(struct pool *p, long timeout_s)
{
	struct timespec deadline;
	bool finished = true;

	atomic_store(&p->stopping, true);
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
