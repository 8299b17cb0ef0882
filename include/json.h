/* JSON representations of the carriers and of errors, written through yajl into a buffer. */
#ifndef WEBHOOKD_JSON_H
#define WEBHOOKD_JSON_H

#include <stdbool.h>

#include "buf.h"
#include "webhook.h"

/* Appends the Webhook carrier: its 13 properties in schema order, PascalCase, nulls emitted.
 * Returns false (and leaves out in an unspecified state) when a stored value cannot be represented. */
bool json_write_webhook(struct buf *out, const struct webhook *w) __attribute__((warn_unused_result));

/* Appends {"Error":true,"ErrorType":...,"ErrorMessage":...,"ErrorSource":...}. */
bool json_write_error(struct buf *out, const char *type, const char *message, const char *source)
	__attribute__((warn_unused_result));

#endif
