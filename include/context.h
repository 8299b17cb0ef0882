/*
 * The request context: the syntax of the language, culture and time-zone headers (checked before
 * anything else is spent), their resolution against the reference data once the caller is known,
 * and the translation of display strings into the chosen language and culture.
 */
#ifndef WEBHOOKD_CONTEXT_H
#define WEBHOOKD_CONTEXT_H

#include <stdbool.h>

#include "call.h"

/* False after replying 400 with the header at fault. */
bool context_parse_headers(struct call *call) __attribute__((warn_unused_result));
/* Holds the reference data in call->rd and resolves language, culture and zone; false after replying. */
bool context_resolve(struct call *call) __attribute__((warn_unused_result));
/* Display strings (Name, Type, Events) in the chosen language; no-op when none was asked for. */
void context_translate_webhook(struct call *call, struct webhook *hook);

#endif
