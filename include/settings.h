/*
 * Daemon settings: defaults, then a "key = value" file, then WEBHOOKD_<KEY> environment
 * variables (the environment wins). A missing or invalid setting is an error that names it.
 */
#ifndef WEBHOOKD_SETTINGS_H
#define WEBHOOKD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "delivery.h"
#include "log.h"

struct settings {
	char *listen;            /* unix socket path; NULL: use the listening socket inherited on fd 0 */
	long listen_mode;        /* permission bits of the socket we create */
	char *listen_group;      /* group of the socket we create; NULL: the daemon's own */
	long listen_backlog;
	long workers;            /* worker threads, each with one FastCGI request and one PGconn */
	char *database;          /* libpq connection string; required */
	long statement_timeout_ms;
	long max_body;           /* bytes of request body read before answering 413 */
	long shutdown_timeout_s; /* how long requests in flight may take to finish on SIGTERM */
	long password_hash_concurrency; /* crypt(3) computations at once: yescrypt touches ~16 MiB each */
	long max_failed_logins;  /* failed Basic logins per client address per minute before 429; 0: off */
	long password_hash_queue;       /* password checks waiting for their turn; more answer 503 */
	long password_hash_wait_ms;     /* how long a worker waits for a password check before 503 */
	long max_failed_logins_per_account; /* per user name per minute from unfamiliar networks; 0: off */
	long log_level;          /* 3 error, 4 warning, 6 info, 7 debug */
	char *installation;      /* "onsite" or "online": online requires SO-AppToken */
	char *auth_schemes;      /* accepted Authorization schemes, e.g. "basic,soticket,bearer" */
	unsigned auth_scheme_mask;  /* auth_schemes parsed (enum auth_scheme bits) */
	bool online;             /* installation = online */
	char *session_cookie;    /* name of the browser session cookie (X-XSRF-TOKEN requests) */
	bool target_check;       /* post a test event to a new or changed TargetUrl before storing it */
	long target_check_timeout_ms;
	long target_check_concurrency;  /* target checks at once; the rest answer 503 */
	bool allow_http_targets;        /* http:// targets (https:// always) */
	bool allow_private_targets;     /* loopback, private and link-local target addresses */
	long secret_rotation_grace_s;   /* a changed Secret's predecessor still signs this long; 0: off */
	/* The delivery daemon's. */
	long delivery_timeout_ms;       /* one attempt, connecting included */
	long delivery_concurrency;      /* attempts in flight at once */
	long delivery_per_webhook;      /* of them, to one webhook: a slow target cannot take them all */
	long delivery_lease_s;          /* how long a claimed delivery is this daemon's alone */
	char *delivery_retry_delays_ms; /* "1000,4000": the delays between the attempts of a cycle */
	long delivery_cycle_delay_s;
	long delivery_max_cycles;
	long delivery_max_consecutive_errors;
	long delivery_retry_after_max_s;
	char *delivery_metrics_file;    /* Prometheus text file, rewritten every few seconds; NULL: none */
	/* The delivery log (migrations/0008): what webhook-deliverd prunes, and how often; how many
	 * failed events one Recover call puts back (webhookd). */
	long delivery_log_keep_days;
	long delivery_log_max_rows;     /* per webhook, of finished events and of attempts each */
	long delivery_log_prune_interval_s;
	long delivery_recover_max;
	long delivery_probe_interval_s; /* a TooManyErrors webhook with Probe gets a test event this often */
	struct delivery_schedule delivery_schedule;  /* the above, as the rules take it */
};

/* Fills *s; on failure writes a one-line reason naming the setting into err and returns false. */
bool settings_load(struct settings *s, const char *path, char *const *envp, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void settings_free(struct settings *s);

#endif
