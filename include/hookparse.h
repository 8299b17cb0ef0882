/*
 * Webhook input as clients send it: a JSON object whose property names match case-insensitively
 * (the TypeScript client posts camelCase, the .NET client PascalCase), unknown properties ignored,
 * server-maintained ones (Registered, Updated and their associates) ignored. Every rule that
 * needs no network is checked here; each failure is a sentence naming the property and the rule.
 * TargetUrl's syntax is checked by the service, with libcurl's URL parser.
 */
#ifndef WEBHOOKD_HOOKPARSE_H
#define WEBHOOKD_HOOKPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "db.h"
#include "webhook.h"

#define HOOKPARSE_MESSAGE_SIZE 320
#define HOOKPARSE_NAME_MAX 400          /* characters, NetServer's column */
#define HOOKPARSE_EVENTS_MAX 100
#define HOOKPARSE_EVENT_MAX 200         /* bytes */
#define HOOKPARSE_SECRET_MAX 400        /* characters */
#define HOOKPARSE_HEADERS_MAX 50
#define HOOKPARSE_HEADER_NAME_MAX 100
#define HOOKPARSE_HEADER_VALUE_MAX 4000
#define HOOKPARSE_PROPERTIES_MAX 16384  /* bytes of compact JSON */
#define HOOKPARSE_DEPTH_MAX 32          /* nesting of a request body */

/* Fills *out (initialised here) from body; false with the reason in msg. */
bool hookparse_webhook(yajl_val body, struct webhook *out, char msg[HOOKPARSE_MESSAGE_SIZE])
	__attribute__((warn_unused_result));

/* GetAllWebhooks' {NameFilter, EventFilter, StatusFilter}: null or "" is no filter, and so is the
 * state Unknown. Strings point into body. */
bool hookparse_filter(yajl_val body, struct db_webhook_filter *out, char msg[HOOKPARSE_MESSAGE_SIZE])
	__attribute__((warn_unused_result));

/* A StatusFilter or State given as text (a query parameter): a name in any case or a number. */
bool hookparse_state_text(const char *property, const char *text, enum webhook_state *out,
    char msg[HOOKPARSE_MESSAGE_SIZE]) __attribute__((warn_unused_result));

/* A webhook id given as text (a query parameter) or as a JSON value; 0 to 2^31-1. */
bool hookparse_id_text(const char *property, const char *text, int32_t *out, char msg[HOOKPARSE_MESSAGE_SIZE])
	__attribute__((warn_unused_result));
bool hookparse_id_value(const char *property, yajl_val v, int32_t *out, char msg[HOOKPARSE_MESSAGE_SIZE])
	__attribute__((warn_unused_result));

/* SignalEvent's {EventName, PrimaryKey, Data}. *event points into body; *data_json (an object's
 * compact text, or NULL) is the caller's to free. */
bool hookparse_signal(yajl_val body, const char **event, int32_t *primary_key, char **data_json,
    char msg[HOOKPARSE_MESSAGE_SIZE]) __attribute__((warn_unused_result));
/* An event name (SignalEvent's, in a path): the rule of Events' names. */
bool hookparse_event_name(const char *property, const char *name, char msg[HOOKPARSE_MESSAGE_SIZE])
	__attribute__((warn_unused_result));
/* Data of an event: an object (its compact text, for the caller to free, at most 16 KiB) or
 * null/absent (NULL). */
bool hookparse_data(yajl_val v, char **data_json, char msg[HOOKPARSE_MESSAGE_SIZE]) __attribute__((warn_unused_result));

/* The member of an object named name in any case; false (with msg) when two members match. */
bool hookparse_member(yajl_val object, const char *name, yajl_val *out, char msg[HOOKPARSE_MESSAGE_SIZE])
	__attribute__((warn_unused_result));

#endif
