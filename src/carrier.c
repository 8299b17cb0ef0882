#include "config.h"

#include "carrier.h"

#include "log.h"

bool
carrier_string(struct emitter *e, const char *name, const char *value)
{
	return value == NULL ? e->ops->null(e->ctx, name) : e->ops->string(e->ctx, name, value);
}

bool
carrier_time(struct emitter *e, const char *name, int64_t us, const struct carrier_options *opt)
{
	char text[WEBHOOK_TIME_TEXT_SIZE];

	return webhook_format_time(us, opt->tag_utc, text) && e->ops->string(e->ctx, name, text);
}

/* A stored JSON object (Headers, Properties), or null. */
bool
carrier_dictionary(struct emitter *e, const char *name, const char *stored, bool strings_only)
{
	char err[128];
	yajl_val v;
	bool ok;

	if (stored == NULL)
		return e->ops->null(e->ctx, name);
	/* Stored text is NUL-terminated and comes from jsonb, so yajl's comment leniency is moot. */
	v = yajl_tree_parse(stored, err, sizeof err);
	ok = v != NULL && YAJL_IS_OBJECT(v) && e->ops->dictionary(e->ctx, name, v, strings_only);
	if (!ok)
		log_error("stored %s is not a JSON object%s that can be represented", name,
		    strings_only ? " of strings" : "");
	yajl_tree_free(v);
	return ok;
}

/* The Carrier base of Associate: no rights are computed here, so both are null. */
static bool
carrier_base(struct emitter *e)
{
	return e->ops->null(e->ctx, "TableRight") && e->ops->null(e->ctx, "FieldProperties");
}

/* The Associate carrier (spec section 4). This installation keeps no persons, groups or ranks:
 * those members are 0, and every associate is an internal one. DataContract XML writes the
 * Carrier base first, JSON last. */
static bool
carrier_associate(struct emitter *e, const char *name, const struct webhook_associate *a)
{
	const char *full = a->full_name != NULL ? a->full_name : a->name;

	if (a->id == 0)
		return e->ops->null(e->ctx, name);
	return e->ops->object_begin(e->ctx, name) &&
	    (e->format != EMIT_XML || carrier_base(e)) &&
	    e->ops->integer(e->ctx, "AssociateId", a->id) &&
	    carrier_string(e, "Name", a->name) &&
	    e->ops->integer(e->ctx, "PersonId", 0) &&
	    e->ops->integer(e->ctx, "Rank", 0) &&
	    carrier_string(e, "Tooltip", full) &&
	    e->ops->string(e->ctx, "Type", "InternalAssociate") &&
	    e->ops->integer(e->ctx, "GroupIdx", 0) &&
	    carrier_string(e, "FullName", full) &&
	    carrier_string(e, "FormalName", full) &&
	    e->ops->boolean(e->ctx, "Deleted", a->deleted) &&
	    e->ops->integer(e->ctx, "EjUserId", 0) &&
	    carrier_string(e, "UserName", a->name) &&
	    (e->format == EMIT_XML || carrier_base(e)) &&
	    e->ops->object_end(e->ctx, name);
}

bool
carrier_write_webhook(struct emitter *e, const struct webhook *w, const struct carrier_options *opt)
{
	const char *state = webhook_state_name(w->state);

	if (state == NULL) {
		log_error("webhook state %d is outside the enumeration", (int)w->state);
		return false;
	}
	return e->ops->begin(e->ctx, "Webhook") &&
	    e->ops->integer(e->ctx, "WebhookId", w->id) &&
	    carrier_string(e, "Name", w->name) &&
	    (w->events == NULL ? e->ops->null(e->ctx, "Events") :
	        e->ops->string_list(e->ctx, "Events", w->events, w->nevents)) &&
	    carrier_string(e, "TargetUrl", w->target_url) &&
	    carrier_string(e, "Secret", w->secret) &&
	    e->ops->string(e->ctx, "State", state) &&
	    carrier_string(e, "Type", w->type) &&
	    carrier_dictionary(e, "Headers", w->headers_json, true) &&
	    carrier_dictionary(e, "Properties", w->properties_json, false) &&
	    carrier_time(e, "Registered", w->registered, opt) &&
	    carrier_associate(e, "RegisteredAssociate", &w->registered_by) &&
	    carrier_time(e, "Updated", w->updated, opt) &&
	    carrier_associate(e, "UpdatedAssociate", &w->updated_by) &&
	    e->ops->end(e->ctx, "Webhook");
}

bool
carrier_write_webhook_list(struct emitter *e, const struct webhook *hooks, size_t n, const struct carrier_options *opt)
{
	if (!e->ops->list_begin(e->ctx, "ArrayOfWebhook"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!carrier_write_webhook(e, &hooks[i], opt))
			return false;
	}
	return e->ops->list_end(e->ctx, "ArrayOfWebhook");
}

bool
carrier_write_usage(struct emitter *e, const struct webhook_usage *u, const struct carrier_options *opt)
{
	return e->ops->begin(e->ctx, "WebhookUsage") &&
	    e->ops->integer(e->ctx, "WebhookId", u->webhook_id) &&
	    e->ops->integer(e->ctx, "TotalCalls", u->total_calls) &&
	    e->ops->integer(e->ctx, "TotalErrors", u->total_errors) &&
	    e->ops->integer(e->ctx, "ConsecutiveErrors", u->consecutive_errors) &&
	    (u->last_error_at == WEBHOOK_TIME_UNSET ? e->ops->null(e->ctx, "LastErrorAt") :
	        carrier_time(e, "LastErrorAt", u->last_error_at, opt)) &&
	    carrier_string(e, "LastError", u->last_error) &&
	    e->ops->end(e->ctx, "WebhookUsage");
}

bool
carrier_write_usage_list(struct emitter *e, const struct webhook_usage_list *l, const struct carrier_options *opt)
{
	if (!e->ops->list_begin(e->ctx, "ArrayOfWebhookUsage"))
		return false;
	for (size_t i = 0; i < l->n; i++) {
		if (!carrier_write_usage(e, &l->items[i], opt))
			return false;
	}
	return e->ops->list_end(e->ctx, "ArrayOfWebhookUsage");
}

bool
carrier_write_webhook_result(struct emitter *e, bool success, const char *message)
{
	return e->ops->begin(e->ctx, "WebhookResult") &&
	    (e->format != EMIT_XML || carrier_base(e)) &&
	    e->ops->boolean(e->ctx, "Success", success) &&
	    carrier_string(e, "Message", message) &&
	    (e->format == EMIT_XML || carrier_base(e)) &&
	    e->ops->end(e->ctx, "WebhookResult");
}

bool
carrier_write_error(struct emitter *e, const char *type, const char *message, const char *source)
{
	return e->ops->begin(e->ctx, "ErrorResponse") &&
	    e->ops->boolean(e->ctx, "Error", true) &&
	    carrier_string(e, "ErrorType", type) &&
	    carrier_string(e, "ErrorMessage", message) &&
	    carrier_string(e, "ErrorSource", source) &&
	    e->ops->end(e->ctx, "ErrorResponse");
}
