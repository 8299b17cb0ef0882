/*
 * Logging to stderr, one line per call, prefixed with the journald/syslog priority ("<3>")
 * so systemd files each line at the right level. Never pass a secret to these functions.
 */
#ifndef WEBHOOKD_LOG_H
#define WEBHOOKD_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

void log_set_level(enum log_level max_level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A libpq notice processor (PQsetNoticeProcessor): a server's WARNING becomes a warning, a
 * NOTICE or less a debug line, first line only (a DETAIL may quote data). */
void log_pq_notice(void *arg, const char *message);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
