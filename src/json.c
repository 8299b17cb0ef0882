#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "emit.h"
#include "xalloc.h"

/* The JSON back end of the emitter: compact output through yajl, UTF-8 validated. */

struct json_emitter {
	yajl_gen gen;
};

/* yajl's print callback: the generator writes straight into our buffer, no intermediate copy. */
static void
json_print_to_buf(void *ctx, const char *s, size_t len)
{
	buf_append(ctx, s, len);
}

void *
json_emitter_new(struct buf *out)
{
	struct json_emitter *j;
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g == NULL)
		return NULL;
	if (!yajl_gen_config(g, yajl_gen_print_callback, json_print_to_buf, out) ||
	    !yajl_gen_config(g, yajl_gen_validate_utf8, 1)) {
		yajl_gen_free(g);
		return NULL;
	}
	j = xmalloc(sizeof *j);
	j->gen = g;
	return j;
}

void
json_emitter_free(void *ctx)
{
	struct json_emitter *j = ctx;

	if (j != NULL) {
		yajl_gen_free(j->gen);
		free(j);
	}
}

static bool
json_str(yajl_gen g, const char *s)
{
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) == yajl_gen_status_ok;
}

static bool
json_key(struct json_emitter *j, const char *name)
{
	return json_str(j->gen, name);
}

/* Re-emits a parsed JSON value; strings_only restricts an object's members to strings. */
static bool
json_value(yajl_gen g, yajl_val v, bool strings_only, int depth)
{
	if (depth > 64 || (strings_only && depth > 0 && !YAJL_IS_STRING(v)))
		return false;
	switch (v->type) {
	case yajl_t_string:
		return json_str(g, v->u.string);
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
			if (!json_value(g, v->u.array.values[i], strings_only, depth + 1))
				return false;
		}
		return yajl_gen_array_close(g) == yajl_gen_status_ok;
	case yajl_t_object:
		if (yajl_gen_map_open(g) != yajl_gen_status_ok)
			return false;
		for (size_t i = 0; i < v->u.object.len; i++) {
			if (!json_str(g, v->u.object.keys[i]) ||
			    !json_value(g, v->u.object.values[i], strings_only, depth + 1))
				return false;
		}
		return yajl_gen_map_close(g) == yajl_gen_status_ok;
	case yajl_t_any:
		break;
	}
	return false;
}

bool
json_gen_value(yajl_gen g, yajl_val v)
{
	return json_value(g, v, false, 0);
}

bool
json_value_text(yajl_val v, struct buf *out)
{
	struct json_emitter *j = json_emitter_new(out);
	bool ok = j != NULL && json_value(j->gen, v, false, 0);

	json_emitter_free(j);
	return ok;
}

static bool
json_begin(void *ctx, const char *root)
{
	struct json_emitter *j = ctx;

	(void)root; /* JSON objects are anonymous */
	return yajl_gen_map_open(j->gen) == yajl_gen_status_ok;
}

static bool
json_end(void *ctx, const char *root)
{
	struct json_emitter *j = ctx;

	(void)root;
	return yajl_gen_map_close(j->gen) == yajl_gen_status_ok;
}

static bool
json_null(void *ctx, const char *name)
{
	struct json_emitter *j = ctx;

	return json_key(j, name) && yajl_gen_null(j->gen) == yajl_gen_status_ok;
}

static bool
json_string(void *ctx, const char *name, const char *value)
{
	struct json_emitter *j = ctx;

	return json_key(j, name) && json_str(j->gen, value);
}

static bool
json_integer(void *ctx, const char *name, long long value)
{
	struct json_emitter *j = ctx;

	return json_key(j, name) && yajl_gen_integer(j->gen, value) == yajl_gen_status_ok;
}

static bool
json_boolean(void *ctx, const char *name, bool value)
{
	struct json_emitter *j = ctx;

	return json_key(j, name) && yajl_gen_bool(j->gen, value) == yajl_gen_status_ok;
}

static bool
json_string_list(void *ctx, const char *name, char *const *items, size_t n)
{
	struct json_emitter *j = ctx;

	if (!json_key(j, name) || yajl_gen_array_open(j->gen) != yajl_gen_status_ok)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!json_str(j->gen, items[i]))
			return false;
	}
	return yajl_gen_array_close(j->gen) == yajl_gen_status_ok;
}

static bool
json_dictionary(void *ctx, const char *name, yajl_val object, bool strings_only)
{
	struct json_emitter *j = ctx;

	return json_key(j, name) && json_value(j->gen, object, strings_only, 0);
}

static bool
json_object_begin(void *ctx, const char *name)
{
	struct json_emitter *j = ctx;

	return json_key(j, name) && yajl_gen_map_open(j->gen) == yajl_gen_status_ok;
}

static bool
json_object_end(void *ctx, const char *name)
{
	struct json_emitter *j = ctx;

	(void)name;
	return yajl_gen_map_close(j->gen) == yajl_gen_status_ok;
}

static bool
json_array_begin(void *ctx, const char *name)
{
	struct json_emitter *j = ctx;

	return json_key(j, name) && yajl_gen_array_open(j->gen) == yajl_gen_status_ok;
}

static bool
json_array_end(void *ctx, const char *name)
{
	struct json_emitter *j = ctx;

	(void)name;
	return yajl_gen_array_close(j->gen) == yajl_gen_status_ok;
}

static bool
json_list_begin(void *ctx, const char *root)
{
	struct json_emitter *j = ctx;

	(void)root;
	return yajl_gen_array_open(j->gen) == yajl_gen_status_ok;
}

static bool
json_list_end(void *ctx, const char *root)
{
	struct json_emitter *j = ctx;

	(void)root;
	return yajl_gen_array_close(j->gen) == yajl_gen_status_ok;
}

static bool
json_document_null(void *ctx, const char *root)
{
	struct json_emitter *j = ctx;

	(void)root;
	return yajl_gen_null(j->gen) == yajl_gen_status_ok;
}

static bool
json_document_string(void *ctx, const char *value)
{
	struct json_emitter *j = ctx;

	return json_str(j->gen, value);
}

const struct emitter_ops json_emitter_ops = {
	.begin = json_begin,
	.end = json_end,
	.null = json_null,
	.string = json_string,
	.integer = json_integer,
	.boolean = json_boolean,
	.string_list = json_string_list,
	.dictionary = json_dictionary,
	.object_begin = json_object_begin,
	.object_end = json_object_end,
	.array_begin = json_array_begin,
	.array_end = json_array_end,
	.list_begin = json_list_begin,
	.list_end = json_list_end,
	.document_null = json_document_null,
	.document_string = json_document_string,
};
