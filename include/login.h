/*
 * Who is calling: the login flows (Basic against crypt(3) hashes, SOTicket and Bearer tokens,
 * the browser session cookie with X-XSRF-TOKEN) and the SO-AppToken grant, with the credential
 * cache in front of the database. Each answers the refusal itself (401, 403, 429, 503).
 */
#ifndef WEBHOOKD_LOGIN_H
#define WEBHOOKD_LOGIN_H

#include <stdbool.h>

#include "call.h"

/* Sets call->associate_id; false after replying with the refusal. */
bool login_authenticate(struct call *call) __attribute__((warn_unused_result));
/* Sets call->application_id (0 without SO-AppToken); false after replying with the refusal. */
bool login_check_application(struct call *call) __attribute__((warn_unused_result));

#endif
