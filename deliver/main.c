/*
 * webhook-deliverd: delivers queued webhook events (migrations/0006) to their targets. Any number
 * of them may run against one database: they share the queue through leases, and one that dies
 * loses nothing (its leases run out and another daemon takes the deliveries).
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "settings.h"
#include "target.h"

extern char **environ;

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: webhook-deliverd [-c FILE] [--check-config]\n"
	    "\n"
	    "  -c, --config FILE   read settings from FILE (WEBHOOKD_* environment variables override it)\n"
	    "      --check-config  validate the settings and exit\n"
	    "  -V, --version       print the version\n"
	    "  -h, --help          print this help\n");
}

/* SIGTERM, SIGINT, SIGQUIT (stop, as in webhookd) and SIGHUP (reload) arrive on a descriptor
 * the loop waits on. SIGPIPE is ignored (a target that closes while libcurl writes must not kill
 * the daemon), and so are SIGUSR1 and SIGUSR2, which mean nothing here: a stray one (a log
 * rotator's, say) must not end the daemon as their default action would. The rest keep their
 * default action (the README lists them). */
static int
signals_fd(void)
{
	sigset_t set;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || signal(SIGUSR1, SIG_IGN) == SIG_ERR ||
	    signal(SIGUSR2, SIG_IGN) == SIG_ERR)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	bool check_only = false;
	struct settings s;
	struct engine *e;
	char err[512];
	int opt, sigfd, status;

	while ((opt = getopt_long(argc, argv, "c:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'C': check_only = true; break;
		case 'V': printf("webhook-deliverd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!settings_load(&s, config_path, environ, err, sizeof err)) {
		log_error("configuration: %s", err);
		return 1;
	}
	if (check_only) {
		settings_free(&s);
		printf("configuration OK\n");
		return 0;
	}
	log_set_level((enum log_level)s.log_level);
	sigfd = signals_fd();
	if (sodium_init() < 0 || sigfd < 0 || !net_global_init()) {
		log_error("cannot start: %s", sigfd < 0 ? "signals cannot be set up" : "a library does not initialise");
		settings_free(&s);
		return 1;
	}
	e = engine_new(&s, sigfd, config_path);  /* takes the settings */
	if (e == NULL) {
		log_error("cannot start the delivery engine");
		net_global_cleanup();
		return 1;
	}
	status = engine_run(e);
	engine_free(e);
	net_global_cleanup();
	close(sigfd);
	return status;
}
