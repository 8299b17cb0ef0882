#include "config.h"

#include "api.h"

#include <stdio.h>

#include "body.h"
#include "controls.h"

/*
 * A webhook's delivery controls and the end of a secret rotation (README, "Delivery controls"),
 * REST only, scoped like GET /api/v1/Webhook/{id}: an invisible webhook is a 404.
 */

static void
api_controls_not_found(struct call *call, int32_t id)
{
	char message[96];

	snprintf(message, sizeof message, "Webhook %d does not exist.", (int)id);
	reply_not_found(call, message);
}

static bool
api_controls_write(struct emitter *e, const void *controls, const struct carrier_options *opt)
{
	return controls_write(e, controls, opt);
}

/* The answer of GET and PUT: 200 with the whole document, or why not. */
static void
api_controls_reply(struct call *call, enum hooksvc_result r, int32_t id, const struct webhook_controls *controls)
{
	if (r == HOOKSVC_OK)
		reply_carrier(call, 200, api_controls_write, controls);
	else if (r == HOOKSVC_NOT_FOUND)
		api_controls_not_found(call, id);
	else
		api_service_error(call, r, "");
}

void
api_controls_get(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	struct webhook_controls controls;
	struct hooksvc_caller caller;
	struct hooksvc svc;

	(void)req;
	(void)resp;
	api_service(call, &svc, &caller);
	api_controls_reply(call, hooksvc_controls_get(&svc, &caller, id, &controls), id, &controls);
}

void
api_controls_put(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	char message[CONTROLS_MESSAGE_SIZE];
	struct webhook_controls_change change;
	struct webhook_controls controls;
	struct hooksvc_caller caller;
	enum body_media media;
	struct hooksvc svc;
	yajl_val body;
	bool ok;

	(void)req;
	(void)resp;
	if (!body_json(call, &body, &media))
		return;
	ok = controls_parse_change(body, &change, message);
	yajl_tree_free(body);
	if (!ok) {
		reply_bad_request(call, message);
		return;
	}
	api_service(call, &svc, &caller);
	api_controls_reply(call, hooksvc_controls_set(&svc, &caller, id, &change, &controls), id, &controls);
}

void
api_controls_end_rotation(void *ctx, const struct request *req, struct response *resp)
{
	struct call *call = ctx;
	int32_t id = route_param_id(&call->params, 0);
	struct hooksvc_caller caller;
	enum hooksvc_result r;
	struct hooksvc svc;

	(void)req;
	(void)resp;
	api_service(call, &svc, &caller);
	r = hooksvc_end_rotation(&svc, &caller, id);
	if (r == HOOKSVC_OK)
		reply_no_content(call);
	else if (r == HOOKSVC_NOT_FOUND)
		api_controls_not_found(call, id);
	else
		api_service_error(call, r, "");
}
