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
#include <unistd.h>

#include "app.h"
#include "auth.h"
#include "authcache.h"
#include "listener.h"
#include "log.h"
#include "pool.h"
#include "settings.h"

extern char **environ;

#define AUTHCACHE_SLOTS 1024

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

/* Blocks the signals in this thread and in every thread created after it; sigwait() takes them. */
static void
signals_block(sigset_t *set)
{
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

static int
serve(const struct settings *s)
{
	struct app app = {
		.max_body = s->max_body,
		.auth_schemes = s->auth_scheme_mask,
		.online = s->online,
		.session_cookie = s->session_cookie,
	};
	struct pool *pool;
	sigset_t signals;
	int listen_fd, sig = 0;
	bool clean;

	signals_block(&signals);
	listen_fd = listener_open(s);
	if (listen_fd < 0)
		return 1;
	if (FCGX_Init() != 0) {
		log_error("cannot initialise libfcgi");
		listener_close(listen_fd, s);
		return 1;
	}
	app.authcache = authcache_new(AUTHCACHE_SLOTS);
	pool = pool_start(&app, s, listen_fd);
	if (pool == NULL) {
		authcache_free(app.authcache);
		listener_close(listen_fd, s);
		return 1;
	}
	log_info("webhookd %s ready: %ld workers on %s", PACKAGE_VERSION, s->workers,
	    s->listen != NULL ? s->listen : "the inherited socket");

	for (;;) {
		if (sigwait(&signals, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_warning("SIGHUP: configuration reload is not implemented; restart to apply changes");
			continue;
		}
		break;
	}
	log_info("signal %d: stopping; requests in flight may take up to %lds", sig, s->shutdown_timeout_s);
	clean = pool_stop(pool, s->shutdown_timeout_s);
	if (!clean)
		return 1;
	authcache_free(app.authcache);
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
		fprintf(stderr, "webhookd: cannot initialise libsodium\n");
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
	status = serve(&s);
	settings_free(&s);
	return status;
}
