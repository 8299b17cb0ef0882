/* Finds one cookie in a Cookie request header (RFC 6265, 5.4: "a=b; c=d"). */
#ifndef WEBHOOKD_COOKIE_H
#define WEBHOOKD_COOKIE_H

#include <stdbool.h>
#include <stddef.h>

/* Copies the value of the first cookie called name (unquoted) into out; false when absent or
 * longer than cap - 1 bytes. */
bool cookie_find(const char *header, const char *name, char *out, size_t cap);

#endif
