#include "config.h"

#include "json.h"

#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "log.h"

/* yajl's print callback: the generator writes straight into our buffer, no intermediate copy. */
static void
json_print_to_buf(void *ctx, const char *s, size_t len)
{
	buf_append(ctx, s, len);
}

static yajl_gen
json_gen_new(struct buf *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g == NULL)
		return NULL;
	if (!yajl_gen_config(g, yajl_gen_print_callback, json_print_to_buf, out) ||
	    !yajl_gen_config(g, yajl_gen_validate_utf8, 1)) {
		yajl_gen_free(g);
		return NULL;
	}
	return g;
}

static bool
json_key(yajl_gen g, const char *key)
{
	return yajl_gen_string(g, (const unsigned char *)key, strlen(key)) == yajl_gen_status_ok;
}

static bool
json_string_or_null(yajl_gen g, const char *s)
{
	if (s == NULL)
		return yajl_gen_null(g) == yajl_gen_status_ok;
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) == yajl_gen_status_ok;
}

static bool
json_member_string(yajl_gen g, const char *key, const char *value)
{
	return json_key(g, key) && json_string_or_null(g, value);
}

static bool
json_member_time(yajl_gen g, const char *key, int64_t us)
{
	char text[WEBHOOK_TIME_TEXT_SIZE];

	return webhook_format_time(us, text) && json_member_string(g, key, text);
}

/* Re-emits a parsed JSON value; strings_only restricts an object's members to strings. */
static bool
json_emit_value(yajl_gen g, yajl_val v, bool strings_only, int depth)
{
	if (depth > 64)
		return false;
	if (strings_only && depth > 0 && !YAJL_IS_STRING(v))
		return false;
	switch (v->type) {
	case yajl_t_string:
		return json_string_or_null(g, v->u.string);
	case yajl_t_number:
		/* The original text, so numbers pass through unchanged (no %.20g rounding artefacts). */
		return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)) == yajl_gen_status_ok;
	case yajl_t_true:
	case yajl_t_false:
		return yajl_gen_bool(g, v->type == yajl_t_true) == yajl_gen_status_ok;
	case yajl_t_null:
		return yajl_gen_null(g) == yajl_gen_status_ok;
	case yajl_t_array:
		if (yajl_gen_array_open(g) != yajl_gen_status_ok)
			return false;
		for (size_t i = 0; i < v->u.array.len; i++) {
			if (!json_emit_value(g, v->u.array.values[i], strings_only, depth + 1))
				return false;
		}
		return yajl_gen_array_close(g) == yajl_gen_status_ok;
	case yajl_t_object:
		if (yajl_gen_map_open(g) != yajl_gen_status_ok)
			return false;
		for (size_t i = 0; i < v->u.object.len; i++) {
			if (!json_key(g, v->u.object.keys[i]) ||
			    !json_emit_value(g, v->u.object.values[i], strings_only, depth + 1))
				return false;
		}
		return yajl_gen_map_close(g) == yajl_gen_status_ok;
	case yajl_t_any:
		break;
	}
	return false;
}

/* A stored JSON object (Headers, Properties), or null. */
static bool
json_member_object(yajl_gen g, const char *key, const char *stored, bool strings_only)
{
	char err[128];
	yajl_val v;
	bool ok;

	if (!json_key(g, key))
		return false;
	if (stored == NULL)
		return yajl_gen_null(g) == yajl_gen_status_ok;
	v = yajl_tree_parse(stored, err, sizeof err);
	if (v == NULL) {
		log_error("stored %s is not valid JSON", key);
		return false;
	}
	ok = YAJL_IS_OBJECT(v) && json_emit_value(g, v, strings_only, 0);
	if (!ok)
		log_error("stored %s is not a JSON object%s", key, strings_only ? " of strings" : "");
	yajl_tree_free(v);
	return ok;
}

static bool
json_webhook_members(yajl_gen g, const struct webhook *w)
{
	const char *state = webhook_state_name(w->state);

	if (state == NULL) {
		log_error("webhook state %d is outside the enumeration", (int)w->state);
		return false;
	}
	if (!json_key(g, "WebhookId") || yajl_gen_integer(g, w->id) != yajl_gen_status_ok)
		return false;
	if (!json_member_string(g, "Name", w->name) || !json_key(g, "Events"))
		return false;
	if (w->events == NULL) {
		if (yajl_gen_null(g) != yajl_gen_status_ok)
			return false;
	} else {
		if (yajl_gen_array_open(g) != yajl_gen_status_ok)
			return false;
		for (size_t i = 0; i < w->nevents; i++) {
			if (!json_string_or_null(g, w->events[i]))
				return false;
		}
		if (yajl_gen_array_close(g) != yajl_gen_status_ok)
			return false;
	}
	return json_member_string(g, "TargetUrl", w->target_url) &&
	    json_member_string(g, "Secret", w->secret) &&
	    json_member_string(g, "State", state) &&
	    json_member_string(g, "Type", w->type) &&
	    json_member_object(g, "Headers", w->headers_json, true) &&
	    json_member_object(g, "Properties", w->properties_json, false) &&
	    json_member_time(g, "Registered", w->registered) &&
	    json_member_string(g, "RegisteredAssociate", NULL) &&
	    json_member_time(g, "Updated", w->updated) &&
	    json_member_string(g, "UpdatedAssociate", NULL);
}

bool
json_write_webhook(struct buf *out, const struct webhook *w)
{
	yajl_gen g = json_gen_new(out);
	bool ok;

	if (g == NULL)
		return false;
	ok = yajl_gen_map_open(g) == yajl_gen_status_ok && json_webhook_members(g, w) &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok;
	yajl_gen_free(g);
	return ok;
}

bool
json_write_error(struct buf *out, const char *type, const char *message, const char *source)
{
	yajl_gen g = json_gen_new(out);
	bool ok;

	if (g == NULL)
		return false;
	ok = yajl_gen_map_open(g) == yajl_gen_status_ok &&
	    json_key(g, "Error") && yajl_gen_bool(g, 1) == yajl_gen_status_ok &&
	    json_member_string(g, "ErrorType", type) &&
	    json_member_string(g, "ErrorMessage", message) &&
	    json_member_string(g, "ErrorSource", source) &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok;
	yajl_gen_free(g);
	return ok;
}
