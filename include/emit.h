/*
 * A representation-neutral writer: the carriers are walked once (carrier.c) and written as JSON
 * (json.c, through yajl) or XML (xml.c). Every operation writes one named member of the current
 * object; names are the carrier's PascalCase property names.
 */
#ifndef WEBHOOKD_EMIT_H
#define WEBHOOKD_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "buf.h"

struct emitter_ops {
	bool (*begin)(void *ctx, const char *root);
	bool (*end)(void *ctx, const char *root);
	bool (*null)(void *ctx, const char *name);
	bool (*string)(void *ctx, const char *name, const char *value);
	bool (*integer)(void *ctx, const char *name, long long value);
	bool (*boolean)(void *ctx, const char *name, bool value);
	bool (*string_list)(void *ctx, const char *name, char *const *items, size_t n);
	/* A stored JSON object (Headers: string values; Properties: any values). */
	bool (*dictionary)(void *ctx, const char *name, yajl_val object, bool strings_only);
	/* A member that is itself an object (RegisteredAssociate); ended by object_end. */
	bool (*object_begin)(void *ctx, const char *name);
	bool (*object_end)(void *ctx, const char *name);
	/* A member that is a list of carriers (Items): each item is written with begin/end of the
	 * item's carrier name between array_begin and array_end. */
	bool (*array_begin)(void *ctx, const char *name);
	bool (*array_end)(void *ctx, const char *name);
	/* A document that is a list of carriers (ArrayOfWebhook): each item is written with
	 * begin/end of the item's carrier name between list_begin and list_end. */
	bool (*list_begin)(void *ctx, const char *root);
	bool (*list_end)(void *ctx, const char *root);
	/* A document that is null (a carrier that does not exist), or a bare string. */
	bool (*document_null)(void *ctx, const char *root);
	bool (*document_string)(void *ctx, const char *value);
};

enum emit_format { EMIT_JSON, EMIT_XML };

struct emitter {
	const struct emitter_ops *ops;
	void *ctx;
	enum emit_format format;  /* where the order of members differs (the Carrier base in XML) */
};

/* An emitter appending to out; emitter_close frees it. NULL only if the back end cannot start. */
struct emitter *emitter_open(enum emit_format format, struct buf *out);
void emitter_close(struct emitter *e);

/* Back ends (json.c, xml.c). */
void *json_emitter_new(struct buf *out);
void json_emitter_free(void *ctx);
extern const struct emitter_ops json_emitter_ops;
/* Writes a parsed value into a generator (a payload that embeds stored JSON). */
bool json_gen_value(yajl_gen g, yajl_val v) __attribute__((warn_unused_result));
/* Appends the compact JSON text of a parsed value (the XML back end uses it for nested values). */
bool json_value_text(yajl_val v, struct buf *out) __attribute__((warn_unused_result));
void *xml_emitter_new(struct buf *out);
void xml_emitter_free(void *ctx);
extern const struct emitter_ops xml_emitter_ops;

#endif
