/*
 * webhookd: the SuperOffice NetServer Webhook agent as a pool of FastCGI workers.
 * The main thread owns every signal; the workers only serve requests.
 */
#include "config.h"

#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "app.h"
#include "changes.h"
#include "auth.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "settings.h"
#include "target.h"
#include "url.h"

extern char **environ;

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: webhookd [-c FILE] [--check-config]\n"
	    "       webhookd --hash-password < password\n"
	    "\n"
	    "  -c, --config FILE   read settings from FILE (WEBHOOKD_* environment variables override it)\n"
	    "      --check-config  validate the settings and exit\n"
	    "      --hash-password read a password on standard input, print its yescrypt hash\n"
	    "  -V, --version       print the version\n"
	    "  -h, --help          print this help\n");
}

/* Prints the crypt(3) hash to store in associate.password_hash; the password is never echoed. */
static int
hash_password(void)
{
	char password[AUTH_PASSWORD_MAX + 2];
	char hash[256];
	struct auth_crypt *c;
	size_t len;
	int status = 1;

	if (fgets(password, sizeof password, stdin) == NULL) {
		fprintf(stderr, "webhookd: no password on standard input\n");
		return 1;
	}
	len = strcspn(password, "\r\n");
	if (len > AUTH_PASSWORD_MAX) {
		fprintf(stderr, "webhookd: passwords are limited to %d bytes\n", AUTH_PASSWORD_MAX);
		goto out;
	}
	password[len] = '\0';
	c = auth_crypt_new();
	if (auth_password_hash(c, password, hash, sizeof hash)) {
		printf("%s\n", hash);
		status = 0;
	} else {
		fprintf(stderr, "webhookd: cannot hash the password\n");
	}
	auth_crypt_free(c);
out:
	sodium_memzero(password, sizeof password);
	return status;
}

/* Blocks the signals in this thread and in every thread created after it; sigwait() takes them.
 * SIGUSR2 means nothing here and is ignored: its default action would end the daemon, requests
 * in flight and all. Every other signal keeps its default action (webhookd(8), SIGNALS). */
static void
signals_block(sigset_t *set)
{
	(void)signal(SIGUSR2, SIG_IGN);
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGUSR1);
	/* A write to a connection nginx closed must fail with EPIPE, not kill the daemon. */
	sigaddset(set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	sigdelset(set, SIGPIPE);
}

/* Settings a running daemon cannot change: its socket, its pool, its buffers. */
static void
warn_fixed_settings(const struct settings *old, const struct settings *new)
{
	bool listen_changed = (old->listen == NULL) != (new->listen == NULL) ||
	    (old->listen != NULL && strcmp(old->listen, new->listen) != 0) ||
	    old->listen_mode != new->listen_mode || old->listen_backlog != new->listen_backlog ||
	    (old->listen_group == NULL) != (new->listen_group == NULL) ||
	    (old->listen_group != NULL && strcmp(old->listen_group, new->listen_group) != 0);

	if (listen_changed)
		log_warning("reload: the listen settings changed; they take effect on restart");
	if (old->workers != new->workers)
		log_warning("reload: workers changed; it takes effect on restart");
	if (old->max_body != new->max_body)
		log_warning("reload: max_body changed; it takes effect on restart");
	if (old->shutdown_timeout_s != new->shutdown_timeout_s)
		log_warning("reload: shutdown_timeout_s changed; it takes effect on restart");
	if (old->password_hash_concurrency != new->password_hash_concurrency)
		log_warning("reload: password_hash_concurrency changed; it takes effect on restart");
	if (old->max_failed_logins != new->max_failed_logins)
		log_warning("reload: max_failed_logins changed; it takes effect on restart");
	if (old->target_check_concurrency != new->target_check_concurrency)
		log_warning("reload: target_check_concurrency changed; it takes effect on restart");
}

/*
 * SIGHUP: re-reads the file (and environment); invalid settings keep the running ones. The
 * workers pick up the new settings between requests and reconnect to the database then, so no
 * request is dropped or sees half of a change.
 */
static void
reload(struct app *app, struct pool *pool, struct settings *current, const char *config_path)
{
	struct settings next;
	char err[512];

	sd_notify(0, "RELOADING=1\nSTATUS=Reloading the configuration");
	if (!settings_load(&next, config_path, environ, err, sizeof err)) {
		log_error("reload: configuration: %s; keeping the running configuration", err);
	} else {
		warn_fixed_settings(current, &next);
		log_set_level((enum log_level)next.log_level);
		app_reload(app, &next);
		pool_reload(pool);
		metrics_count_reload();
		/* Keep the fixed settings of the running daemon; adopt the rest. */
		free(next.listen);
		free(next.listen_group);
		next.listen = current->listen;
		next.listen_group = current->listen_group;
		next.listen_mode = current->listen_mode;
		next.listen_backlog = current->listen_backlog;
		next.workers = current->workers;
		next.max_body = current->max_body;
		next.shutdown_timeout_s = current->shutdown_timeout_s;
		next.password_hash_concurrency = current->password_hash_concurrency;
		next.max_failed_logins = current->max_failed_logins;
		current->listen = NULL;
		current->listen_group = NULL;
		settings_free(current);
		*current = next;
		log_info("reload: configuration applied; workers reconnect to the database");
	}
	sd_notify(0, "READY=1\nSTATUS=Serving");
}

/* Outbound HTTP for the service: libcurl, through net/. */
static const struct outbound net_outbound = { net_url_check, net_post };

static int
serve(struct settings *s, const char *config_path)
{
	struct app app;
	struct pool *pool;
	sigset_t signals;
	int listen_fd, sig = 0;

	signals_block(&signals);
	listen_fd = listener_open(s);
	if (listen_fd < 0)
		return 1;
	/* Before any thread starts: curl_global_init is not thread-safe. */
	if (!net_global_init()) {
		listener_close(listen_fd, s);
		return 1;
	}
	if (FCGX_Init() != 0) {
		log_error("cannot initialise libfcgi");
		listener_close(listen_fd, s);
		return 1;
	}
	if (!app_init(&app, s, &net_outbound)) {
		log_error("cannot initialise the service");
		listener_close(listen_fd, s);
		return 1;
	}
	pool = pool_start(&app, s, listen_fd);
	if (pool == NULL) {
		app_destroy(&app);
		listener_close(listen_fd, s);
		return 1;
	}
	/* Caches need the change feed; without it the daemon still serves, reading the database. */
	if (!changes_wait_ready(app.changes, 5000))
		log_warning("change feed not listening yet: serving from the database until it is");
	/* Ready only now: every worker has its database connection. */
	sd_notify(0, "READY=1\nSTATUS=Serving");
	log_info("webhookd %s ready: %ld workers on %s", PACKAGE_VERSION, s->workers,
	    s->listen != NULL ? s->listen : "the inherited socket");

	for (;;) {
		if (sigwait(&signals, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(&app, pool, s, config_path);
			continue;
		}
		break; /* SIGTERM, SIGINT, SIGQUIT, and SIGUSR1 (libfcgi's "stop after this request") */
	}
	sd_notify(0, "STOPPING=1\nSTATUS=Finishing requests in flight");
	log_info("signal %d: stopping; requests in flight may take up to %lds", sig, s->shutdown_timeout_s);
	/* Lose no connection that is already queued. On a socket we created, nothing else would
	 * serve them: refuse new ones (nginx answers those with its JSON 503) and serve the queue
	 * before the workers leave. An inherited socket stays open in systemd's hands, with its
	 * queue, for the next instance: there the workers just stop taking more. */
	if (s->listen != NULL) {
		pool_quit(pool, true);
		if (!listener_stop_intake(listen_fd, s))
			pool_quit(pool, false);
	}
	if (!pool_stop(pool, s->shutdown_timeout_s)) {
		/* Workers are still running requests: nothing they use may be freed, so leave at once
		 * (exit handlers included), with only the socket's path removed. */
		listener_close(listen_fd, s);
		_exit(1);
	}
	app_destroy(&app);
	net_global_cleanup();
	listener_close(listen_fd, s);
	log_info("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "hash-password", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	bool check_only = false, hash_only = false;
	struct settings s;
	char err[512];
	int opt, status;

	while ((opt = getopt_long(argc, argv, "c:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'C': check_only = true; break;
		case 'H': hash_only = true; break;
		case 'V': printf("webhookd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		log_error("cannot initialise libsodium");
		return 1;
	}
	if (hash_only)
		return hash_password();
	if (!settings_load(&s, config_path, environ, err, sizeof err)) {
		log_error("configuration: %s", err);
		return 1;
	}
	log_set_level((enum log_level)s.log_level);
	if (check_only) {
		printf("configuration OK\n");
		settings_free(&s);
		return 0;
	}
	status = serve(&s, config_path);
	settings_free(&s);
	return status;
}
