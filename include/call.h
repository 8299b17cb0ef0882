/*
 * One request on its way through the pipeline (app.c): what has been established so far, handed
 * from step to step and to the handler, and the replies every step may give. The login flows
 * (login.c), the request context (context.c) and the API surfaces (api_*.c) all work on it.
 */
#ifndef WEBHOOKD_CALL_H
#define WEBHOOKD_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "carrier.h"
#include "db.h"
#include "http.h"
#include "lang.h"
#include "negotiate.h"
#include "refdata.h"
#include "router.h"
#include "tzheader.h"
#include "webhook.h"

struct call {
	struct app_worker *w;
	const struct request *req;
	struct response *resp;
	struct route_params params;   /* the {id} segments of the path */
	enum media_type media;        /* what the caller accepts; errors use it too */
	struct lang_request langs;
	char culture_tag[LANG_TAG_MAX + 1];
	struct tz_request tz;
	bool has_tz;
	/* Resolved once the caller is known. */
	int32_t associate_id;         /* the authenticated associate */
	int32_t application_id;       /* the SO-AppToken application, 0 when none */
	struct refdata *rd;           /* held for the rest of the request */
	bool translate;
	struct language_choice language;
	struct culture_format culture;
	struct timezone_info zone;
};

/* An error in the negotiated format, shaped like NetServer's REST errors. */
void reply_error(struct call *call, int status, const char *type, const char *message, const char *source);
void reply_bad_request(struct call *call, const char *message);
void reply_forbidden(struct call *call, const char *message);
void reply_not_found(struct call *call, const char *message);
/* 401 with one WWW-Authenticate challenge per scheme the installation accepts. */
void reply_unauthorized(struct call *call, const char *message);
/* 503 (with Retry-After) when the database is away, else 500. */
void reply_db_error(struct call *call, enum db_result r);
/* 503 with Retry-After: a bounded resource is busy. */
void reply_busy(struct call *call, const char *message, const char *source, int retry_after_s);

/* 200 with a carrier in the negotiated format, after translating it and stamping the language
 * and time-zone headers. The write functions below are what can be passed as `write`. */
typedef bool (*reply_writer)(struct emitter *e, const void *value, const struct carrier_options *opt);
void reply_carrier(struct call *call, int status, reply_writer write, const void *value);
bool reply_write_webhook(struct emitter *e, const void *hook, const struct carrier_options *opt);
/* A document that is null, value naming its root ("Webhook"): the agents' answer for nothing. */
bool reply_write_null(struct emitter *e, const void *root, const struct carrier_options *opt);
bool reply_write_webhook_list(struct emitter *e, const void *list, const struct carrier_options *opt);
bool reply_write_string(struct emitter *e, const void *text, const struct carrier_options *opt);
/* The rest of a carrier answer whose body is already in call->resp->body (a kept answer). */
void reply_body_written(struct call *call, int status);
/* SO-TimeZone's includeTZOffset: UTC stamps carry "Z". */
bool reply_tags_utc(const struct call *call);
/* 204, no body. */
void reply_no_content(struct call *call);

#endif
