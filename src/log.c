#include "config.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level log_max_level = LOG_LEVEL_INFO;

void
log_set_level(enum log_level max_level)
{
	log_max_level = max_level;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int head, body;
	size_t len;

	if (level > log_max_level)
		return;
	head = snprintf(line, sizeof line, "<%d>", (int)level);
	va_start(ap, fmt);
	body = vsnprintf(line + head, sizeof line - (size_t)head - 1, fmt, ap);
	va_end(ap);
	if (body < 0)
		return;
	len = strlen(line);
	/* Control characters (a newline from a client value, say) would forge log lines. */
	for (size_t i = (size_t)head; i < len; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	}
	line[len++] = '\n';
	/* One write(2) per line keeps lines from different threads whole. */
	if (write(STDERR_FILENO, line, len) < 0) {
		/* stderr is gone: nowhere left to report it */
	}
}

void
log_pq_notice(void *arg, const char *message)
{
	(void)arg;
	log_msg(strncmp(message, "WARNING", 7) == 0 ? LOG_LEVEL_WARNING : LOG_LEVEL_DEBUG, "database: %.*s",
	    (int)strcspn(message, "\n"), message);
}
