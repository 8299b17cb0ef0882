/*
 * Query string parameters (application/x-www-form-urlencoded): names match case-insensitively
 * (the docs write both webhookId and WebhookId), values are percent-decoded, "+" is a space.
 */
#ifndef WEBHOOKD_QUERY_H
#define WEBHOOKD_QUERY_H

#include <stdbool.h>
#include <stddef.h>

enum query_result {
	QUERY_ABSENT,
	QUERY_FOUND,
	QUERY_MALFORMED,   /* bad percent-encoding, a NUL, or longer than the buffer */
	QUERY_REPEATED,    /* given twice: which one the caller meant is not ours to guess */
};

enum query_result query_param(const char *query, const char *name, char *out, size_t cap);

#endif
