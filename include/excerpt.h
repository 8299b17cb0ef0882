/*
 * What a target answered, as text fit to show and store: the status line, the header lines and
 * the body, as valid UTF-8 without control characters other than tab and line breaks (invalid
 * bytes and controls become '?'), at most cap bytes. TestWebhook's Message and the last error
 * that GetLastError returns are this text. The secrets, when given (the webhook's Secret and the
 * previous one while its grace lasts), never appear in it.
 */
#ifndef WEBHOOKD_EXCERPT_H
#define WEBHOOKD_EXCERPT_H

#include <stddef.h>

#include "buf.h"
#include "outbound.h"

#define EXCERPT_MAX 4000

/* out is reset first. An answer-less result gives its error text. */
void excerpt_of_result(const struct outbound_result *res, const char *secret, const char *previous, size_t cap,
    struct buf *out);

#endif
