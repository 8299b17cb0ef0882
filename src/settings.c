#include "config.h"

#include "settings.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "xalloc.h"

enum setting_kind { SETTING_STRING, SETTING_NUMBER, SETTING_MODE, SETTING_LOG_LEVEL, SETTING_BOOL };

struct setting_def {
	const char *key;
	enum setting_kind kind;
	size_t offset;
	long min;
	long max;
};

#define STRING_SETTING(k) { #k, SETTING_STRING, offsetof(struct settings, k), 0, 0 }
#define NUMBER_SETTING(k, lo, hi) { #k, SETTING_NUMBER, offsetof(struct settings, k), lo, hi }
#define BOOL_SETTING(k) { #k, SETTING_BOOL, offsetof(struct settings, k), 0, 0 }

static const struct setting_def setting_defs[] = {
	STRING_SETTING(listen),
	{ "listen_mode", SETTING_MODE, offsetof(struct settings, listen_mode), 0, 0777 },
	STRING_SETTING(listen_group),
	NUMBER_SETTING(listen_backlog, 1, 65535),
	NUMBER_SETTING(workers, 1, 256),
	STRING_SETTING(database),
	NUMBER_SETTING(statement_timeout_ms, 1, 600000),
	NUMBER_SETTING(max_body, 0, 16 * 1024 * 1024),
	NUMBER_SETTING(shutdown_timeout_s, 1, 3600),
	NUMBER_SETTING(password_hash_concurrency, 1, 64),
	NUMBER_SETTING(max_failed_logins, 0, 1000000),
	NUMBER_SETTING(password_hash_queue, 0, 256),
	NUMBER_SETTING(password_hash_wait_ms, 1, 60000),
	NUMBER_SETTING(max_failed_logins_per_account, 0, 1000000),
	{ "log_level", SETTING_LOG_LEVEL, offsetof(struct settings, log_level), 0, 0 },
	STRING_SETTING(installation),
	STRING_SETTING(auth_schemes),
	STRING_SETTING(session_cookie),
	BOOL_SETTING(target_check),
	NUMBER_SETTING(target_check_timeout_ms, 100, 60000),
	NUMBER_SETTING(target_check_concurrency, 1, 256),
	BOOL_SETTING(allow_http_targets),
	BOOL_SETTING(allow_private_targets),
	NUMBER_SETTING(secret_rotation_grace_s, 0, 30 * 86400),
	/* The delivery daemon's (webhook-deliverd). */
	NUMBER_SETTING(delivery_timeout_ms, 100, 300000),
	NUMBER_SETTING(delivery_concurrency, 1, 10000),
	NUMBER_SETTING(delivery_per_webhook, 1, 1000),
	NUMBER_SETTING(delivery_lease_s, 1, 3600),
	STRING_SETTING(delivery_retry_delays_ms),
	NUMBER_SETTING(delivery_cycle_delay_s, 0, 86400),
	NUMBER_SETTING(delivery_max_cycles, 1, 100),
	NUMBER_SETTING(delivery_max_consecutive_errors, 1, 100000),
	NUMBER_SETTING(delivery_retry_after_max_s, 0, 86400),
	STRING_SETTING(delivery_metrics_file),
	NUMBER_SETTING(delivery_log_keep_days, 1, 36500),
	NUMBER_SETTING(delivery_log_max_rows, 1, 100000000),
	NUMBER_SETTING(delivery_log_prune_interval_s, 1, 86400),
	NUMBER_SETTING(delivery_recover_max, 1, 100000),
	NUMBER_SETTING(delivery_probe_interval_s, 1, 86400),
};

static void
settings_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
settings_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const struct setting_def *
settings_find(const char *key, size_t keylen)
{
	for (size_t i = 0; i < sizeof setting_defs / sizeof setting_defs[0]; i++) {
		if (strlen(setting_defs[i].key) == keylen && strncasecmp(setting_defs[i].key, key, keylen) == 0)
			return &setting_defs[i];
	}
	return NULL;
}

static bool
settings_parse_long(const char *value, int base, long *out)
{
	char *end;
	long v;

	if (*value == '\0' || *value == '-' || *value == '+')
		return false;
	errno = 0;
	v = strtol(value, &end, base);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static bool
settings_parse_log_level(const char *value, long *out)
{
	static const struct { const char *name; long level; } levels[] = {
		{ "error", LOG_LEVEL_ERROR }, { "warning", LOG_LEVEL_WARNING },
		{ "info", LOG_LEVEL_INFO }, { "debug", LOG_LEVEL_DEBUG },
	};

	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		if (strcasecmp(value, levels[i].name) == 0) {
			*out = levels[i].level;
			return true;
		}
	}
	return false;
}

/* Stores one value; origin says where it came from ("FILE:LINE" or "WEBHOOKD_KEY") for the error. */
static bool
settings_set(struct settings *s, const struct setting_def *def, const char *value, const char *origin,
    char *err, size_t errlen)
{
	void *field = (char *)s + def->offset;
	long number;

	switch (def->kind) {
	case SETTING_STRING: {
		char **str = field;

		free(*str);
		*str = *value != '\0' ? xstrdup(value) : NULL;
		return true;
	}
	case SETTING_NUMBER:
	case SETTING_MODE:
		if (!settings_parse_long(value, def->kind == SETTING_MODE ? 8 : 10, &number) ||
		    number < def->min || number > def->max) {
			if (def->kind == SETTING_MODE)
				settings_error(err, errlen, "%s: invalid %s \"%s\": expected an octal mode such as 0660",
				    origin, def->key, value);
			else
				settings_error(err, errlen, "%s: invalid %s \"%s\": expected an integer from %ld to %ld",
				    origin, def->key, value, def->min, def->max);
			return false;
		}
		*(long *)field = number;
		return true;
	case SETTING_BOOL:
		if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0) {
			*(bool *)field = true;
		} else if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0) {
			*(bool *)field = false;
		} else {
			settings_error(err, errlen, "%s: invalid %s \"%s\": expected yes or no", origin, def->key, value);
			return false;
		}
		return true;
	case SETTING_LOG_LEVEL:
		if (!settings_parse_log_level(value, &number)) {
			settings_error(err, errlen, "%s: invalid %s \"%s\": expected error, warning, info or debug",
			    origin, def->key, value);
			return false;
		}
		*(long *)field = number;
		return true;
	}
	return false;
}

static char *
settings_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

static bool
settings_load_file(struct settings *s, const char *path, char *err, size_t errlen)
{
	char line[4096];
	char origin[512];
	unsigned lineno = 0;
	bool ok = true;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		settings_error(err, errlen, "cannot read configuration file %s: %s", path, strerror(errno));
		return false;
	}
	while (ok && fgets(line, sizeof line, f) != NULL) {
		char *key, *eq, *value;
		const struct setting_def *def;

		lineno++;
		snprintf(origin, sizeof origin, "%s:%u", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			settings_error(err, errlen, "%s: line too long", origin);
			ok = false;
			break;
		}
		key = settings_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			settings_error(err, errlen, "%s: expected \"key = value\"", origin);
			ok = false;
			break;
		}
		*eq = '\0';
		key = settings_trim(key);
		value = settings_trim(eq + 1);
		def = settings_find(key, strlen(key));
		if (def == NULL) {
			settings_error(err, errlen, "%s: unknown setting \"%s\"", origin, key);
			ok = false;
			break;
		}
		ok = settings_set(s, def, value, origin, err, errlen);
	}
	if (ok && ferror(f)) {
		settings_error(err, errlen, "cannot read configuration file %s", path);
		ok = false;
	}
	fclose(f);
	return ok;
}

static bool
settings_load_env(struct settings *s, char *const *envp, char *err, size_t errlen)
{
	static const char prefix[] = "WEBHOOKD_";

	for (; envp != NULL && *envp != NULL; envp++) {
		const char *var = *envp, *eq, *key;
		const struct setting_def *def;
		char origin[128];

		if (strncmp(var, prefix, sizeof prefix - 1) != 0 || (eq = strchr(var, '=')) == NULL)
			continue;
		key = var + sizeof prefix - 1;
		def = settings_find(key, (size_t)(eq - key));
		snprintf(origin, sizeof origin, "%.*s", (int)(eq - var), var);
		if (def == NULL) {
			settings_error(err, errlen, "%s: unknown setting", origin);
			return false;
		}
		if (!settings_set(s, def, eq + 1, origin, err, errlen))
			return false;
	}
	return true;
}

bool
settings_load(struct settings *s, const char *path, char *const *envp, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->listen_mode = 0660;
	s->listen_backlog = 1024;
	s->workers = 8;
	s->statement_timeout_ms = 2000;
	s->max_body = 64 * 1024;
	s->shutdown_timeout_s = 10;
	s->password_hash_concurrency = 1;
	s->max_failed_logins = 10;
	s->password_hash_queue = 2;
	s->password_hash_wait_ms = 500;
	s->max_failed_logins_per_account = 20;
	s->log_level = LOG_LEVEL_INFO;
	s->target_check = true;
	s->target_check_timeout_ms = 5000;
	s->target_check_concurrency = 2;
	s->delivery_timeout_ms = 10000;
	s->delivery_concurrency = 256;
	s->delivery_per_webhook = 8;
	s->delivery_lease_s = 60;
	s->delivery_cycle_delay_s = 60;
	s->delivery_max_cycles = 3;
	s->delivery_max_consecutive_errors = 9;
	s->delivery_retry_after_max_s = 300;
	s->delivery_log_keep_days = 14;
	s->delivery_log_max_rows = 10000;
	s->delivery_log_prune_interval_s = 60;
	s->delivery_recover_max = 1000;
	s->secret_rotation_grace_s = 86400;
	s->delivery_probe_interval_s = 60;

	if (path != NULL && !settings_load_file(s, path, err, errlen))
		goto fail;
	if (!settings_load_env(s, envp, err, errlen))
		goto fail;
	if (s->installation == NULL || strcmp(s->installation, "onsite") == 0) {
		s->online = false;
	} else if (strcmp(s->installation, "online") == 0) {
		s->online = true;
	} else {
		settings_error(err, errlen, "invalid installation \"%s\": expected onsite or online", s->installation);
		goto fail;
	}
	/* Online refuses Basic, as SuperOffice Online does; an explicit list overrides either default. */
	if (s->auth_schemes == NULL) {
		s->auth_scheme_mask = s->online ? (AUTH_SCHEME_SOTICKET | AUTH_SCHEME_BEARER) : AUTH_SCHEME_ALL;
	} else if (!auth_parse_scheme_list(s->auth_schemes, &s->auth_scheme_mask)) {
		settings_error(err, errlen, "invalid auth_schemes \"%s\": expected a comma-separated list of "
		    "basic, soticket and bearer", s->auth_schemes);
		goto fail;
	}
	if (s->session_cookie == NULL)
		s->session_cookie = xstrdup("SO_SESSION");
	for (const char *c = s->session_cookie; *c != '\0'; c++) {
		if (*c <= ' ' || *c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *c) != NULL) {
			settings_error(err, errlen, "invalid session_cookie \"%s\": expected a cookie name", s->session_cookie);
			goto fail;
		}
	}
	delivery_schedule_default(&s->delivery_schedule);
	if (s->delivery_retry_delays_ms != NULL &&
	    !delivery_parse_delays(s->delivery_retry_delays_ms, &s->delivery_schedule)) {
		settings_error(err, errlen, "invalid delivery_retry_delays_ms \"%s\": expected up to %d comma-separated "
		    "delays in milliseconds, such as 1000,4000", s->delivery_retry_delays_ms, DELIVERY_MAX_RETRIES);
		goto fail;
	}
	s->delivery_schedule.cycle_delay_ms = s->delivery_cycle_delay_s * 1000;
	s->delivery_schedule.max_cycles = (int)s->delivery_max_cycles;
	s->delivery_schedule.max_consecutive_errors = (int)s->delivery_max_consecutive_errors;
	s->delivery_schedule.retry_after_max_ms = s->delivery_retry_after_max_s * 1000;
	if (s->database == NULL) {
		settings_error(err, errlen, "database is not set: give a libpq connection string as "
		    "\"database = ...\" in the configuration file or in WEBHOOKD_DATABASE");
		goto fail;
	}
	return true;
fail:
	settings_free(s);
	return false;
}

void
settings_free(struct settings *s)
{
	free(s->listen);
	free(s->listen_group);
	free(s->database);
	free(s->installation);
	free(s->auth_schemes);
	free(s->session_cookie);
	free(s->delivery_retry_delays_ms);
	free(s->delivery_metrics_file);
	memset(s, 0, sizeof *s);
}
