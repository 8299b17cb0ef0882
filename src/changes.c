#include "config.h"

#include "changes.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "xalloc.h"

#define CHANGES_CHANNEL "webhookd_cache"
/* How often an idle feed proves its connection alive, and how long it waits to reconnect. */
#define CHANGES_PING_MS 1000
#define CHANGES_RETRY_MS 1000

struct changes {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t ready;
	char *conninfo;         /* guarded by lock */
	bool reconfigure;       /* guarded by lock */
	bool stop;              /* guarded by lock */
	int wake[2];
	atomic_uint_fast64_t generation[CHANGES_TOPIC_COUNT];
	/* Where every published generation comes from, the feed's and changes_bump's alike: no value
	 * is ever published twice, so a value once replaced can never become current again. */
	atomic_uint_fast64_t counter;
};

#define CHANGES_ALL_TOPICS ((1u << CHANGES_TOPIC_COUNT) - 1)

unsigned
changes_topics_of(const char *table)
{
	static const struct {
		const char *table;
		unsigned topics;
	} map[] = {
		{ "webhook_default", 1u << CHANGES_REFERENCE_DATA },
		{ "language", 1u << CHANGES_REFERENCE_DATA },
		{ "resource", 1u << CHANGES_REFERENCE_DATA },
		{ "culture", 1u << CHANGES_REFERENCE_DATA },
		{ "timezone", 1u << CHANGES_REFERENCE_DATA },
		{ "associate", 1u << CHANGES_CREDENTIALS | 1u << CHANGES_WEBHOOKS },
		{ "credential", 1u << CHANGES_CREDENTIALS },
		{ "browser_session", 1u << CHANGES_CREDENTIALS },
		{ "application", 1u << CHANGES_CREDENTIALS },
		{ "webhook", 1u << CHANGES_WEBHOOKS },
	};

	for (size_t i = 0; table != NULL && i < sizeof map / sizeof map[0]; i++) {
		if (strcmp(map[i].table, table) == 0)
			return map[i].topics;
	}
	return CHANGES_ALL_TOPICS;
}

static uint64_t
changes_next(struct changes *c)
{
	return atomic_fetch_add(&c->counter, 1) + 1;
}

/* Healthy: the topics move on to new generations. Not: every topic is 0 (topics ignored). */
static void
changes_publish(struct changes *c, bool healthy, unsigned topics)
{
	for (int t = 0; t < CHANGES_TOPIC_COUNT; t++) {
		if (!healthy)
			atomic_store(&c->generation[t], 0);
		else if (topics & 1u << t)
			atomic_store(&c->generation[t], changes_next(c));
	}
	if (healthy) {
		pthread_mutex_lock(&c->lock);
		pthread_cond_broadcast(&c->ready);
		pthread_mutex_unlock(&c->lock);
	}
}

uint64_t
changes_generation(const struct changes *c, enum changes_topic topic)
{
	return atomic_load(&((struct changes *)(uintptr_t)c)->generation[topic]);
}

void
changes_bump(struct changes *c, enum changes_topic topic)
{
	uint64_t g = atomic_load(&c->generation[topic]);

	/* A compare-and-swap, not a store: a feed that just lost its connection has set 0, and a
	 * bump must not turn caching back on behind its back. */
	while (g != 0 && !atomic_compare_exchange_weak(&c->generation[topic], &g, changes_next(c)))
		;
}

/* Sleeps up to ms, or less when woken; true when the thread should stop or reconnect. */
static bool
changes_sleep(struct changes *c, int ms)
{
	struct pollfd p = { .fd = c->wake[0], .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

static void
changes_drain_wake(struct changes *c)
{
	char buf[64];

	while (read(c->wake[0], buf, sizeof buf) > 0)
		;
}

/* A connection that LISTENs, or NULL with libpq's reason in err (the caller logs it, once). */
static PGconn *
changes_connect(struct changes *c, char *err, size_t errlen)
{
	/* Keywords after "dbname" override the operator's: LISTEN needs a primary (a standby cannot
	 * listen), and a silent network partition must be noticed within seconds. */
	const char *keys[] = { "connect_timeout", "dbname", "application_name", "target_session_attrs",
		"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", NULL };
	const char *values[] = { "5", NULL, "webhookd-changes", "read-write", "1", "2", "1", "2", "3000", NULL };
	PGconn *conn;
	PGresult *res;
	bool ok;

	pthread_mutex_lock(&c->lock);
	values[1] = xstrdup(c->conninfo);
	c->reconfigure = false;
	pthread_mutex_unlock(&c->lock);
	conn = PQconnectdbParams(keys, values, 1);
	sodium_memzero((char *)(uintptr_t)values[1], strlen(values[1]));
	free((char *)(uintptr_t)values[1]);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		const char *why = conn != NULL ? PQerrorMessage(conn) : "out of memory";

		snprintf(err, errlen, "cannot connect to the primary: %.*s", (int)strcspn(why, "\n"), why);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, log_pq_notice, NULL);
	res = PQexec(conn, "LISTEN " CHANGES_CHANNEL);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		snprintf(err, errlen, "LISTEN failed: %.*s", (int)strcspn(PQerrorMessage(conn), "\n"),
		    PQerrorMessage(conn));
	PQclear(res);
	if (!ok || PQsetnonblocking(conn, 1) != 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* A round trip that proves the connection alive (a partition shows as an error here). */
static bool
changes_ping(PGconn *conn)
{
	PGresult *res;
	bool ok;

	if (PQsetnonblocking(conn, 0) != 0)
		return false;
	res = PQexec(conn, "SELECT 1");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok && PQsetnonblocking(conn, 1) == 0;
}

/* Follows the feed on one connection until it fails, or the thread must stop or reconnect. */
static void
changes_follow(struct changes *c, PGconn *conn)
{
	struct pollfd fds[2] = {
		{ .fd = PQsocket(conn), .events = POLLIN },
		{ .fd = c->wake[0], .events = POLLIN },
	};

	for (;;) {
		PGnotify *n;
		int rc = poll(fds, 2, CHANGES_PING_MS);

		if (rc < 0 && errno != EINTR)
			return;
		if (rc > 0 && fds[1].revents != 0)
			return;
		if (rc == 0) {
			if (!changes_ping(conn))
				return;
		} else if (rc > 0 && !PQconsumeInput(conn)) {
			return;
		}
		while ((n = PQnotifies(conn)) != NULL) {
			changes_publish(c, true, changes_topics_of(n->extra));
			metrics_count_cache_invalidation();
			PQfreemem(n);
		}
		if (PQstatus(conn) != CONNECTION_OK)
			return;
	}
}

/*
 * Connects, follows, and after a loss reconnects at once and then every CHANGES_RETRY_MS. The
 * loss and the return are logged, once each: the attempts in between are not (PostgreSQL away
 * for an hour must not write a line a second).
 */
static void *
changes_main(void *arg)
{
	struct changes *c = arg;
	bool away = false;  /* the loss is logged: quiet until the feed listens again */

	for (;;) {
		PGconn *conn;
		char err[256];
		bool stop;

		pthread_mutex_lock(&c->lock);
		stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		changes_drain_wake(c);
		conn = changes_connect(c, err, sizeof err);
		if (conn == NULL) {
			if (!away)
				log_warning("change feed: %s; caching is off until it can", err);
			away = true;
			changes_publish(c, false, 0);
			(void)changes_sleep(c, CHANGES_RETRY_MS);
			continue;
		}
		/* A new generation: whatever was cached before the feed (re)started is dropped. */
		changes_publish(c, true, CHANGES_ALL_TOPICS);
		log_info("change feed: listening; caches are on");
		away = false;
		changes_follow(c, conn);
		changes_publish(c, false, 0);
		PQfinish(conn);
		pthread_mutex_lock(&c->lock);
		stop = c->stop;
		if (!stop && !c->reconfigure) {
			log_warning("change feed: connection lost; caching is off until it is back");
			away = true;
		}
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

struct changes *
changes_start(const char *conninfo)
{
	struct changes *c = xcalloc(1, sizeof *c);

	c->conninfo = xstrdup(conninfo);
	for (int t = 0; t < CHANGES_TOPIC_COUNT; t++)
		atomic_init(&c->generation[t], 0);
	atomic_init(&c->counter, 0);
	if (pthread_mutex_init(&c->lock, NULL) != 0 || pthread_cond_init(&c->ready, NULL) != 0 ||
	    pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		abort();
	if (pthread_create(&c->thread, NULL, changes_main, c) != 0)
		abort();
	return c;
}

/* Every topic is vouched for (they come and go together). */
static bool
changes_listening(const struct changes *c)
{
	for (int t = 0; t < CHANGES_TOPIC_COUNT; t++) {
		if (changes_generation(c, (enum changes_topic)t) == 0)
			return false;
	}
	return true;
}

bool
changes_wait_ready(struct changes *c, int timeout_ms)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	while (!changes_listening(c)) {
		if (pthread_cond_timedwait(&c->ready, &c->lock, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	return changes_listening(c);
}

static void
changes_wake(struct changes *c)
{
	if (write(c->wake[1], "x", 1) != 1 && errno != EAGAIN)
		log_error("change feed: cannot wake the thread: %s", strerror(errno));
}

void
changes_set_conninfo(struct changes *c, const char *conninfo)
{
	pthread_mutex_lock(&c->lock);
	sodium_memzero(c->conninfo, strlen(c->conninfo));
	free(c->conninfo);
	c->conninfo = xstrdup(conninfo);
	c->reconfigure = true;
	pthread_mutex_unlock(&c->lock);
	changes_publish(c, false, 0);
	changes_wake(c);
}

void
changes_stop(struct changes *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_mutex_unlock(&c->lock);
	changes_wake(c);
	pthread_join(c->thread, NULL);
	close(c->wake[0]);
	close(c->wake[1]);
	sodium_memzero(c->conninfo, strlen(c->conninfo));
	free(c->conninfo);
	pthread_cond_destroy(&c->ready);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
