/*
 * A representation-neutral writer: the carriers are walked once (carrier.c) and written as JSON
 * (json.c, through yajl) or XML (xml.c). Every operation writes one named member of the current
 * object; names are the carrier's PascalCase property names.
 */
#ifndef WEBHOOKD_EMIT_H
#define WEBHOOKD_EMIT_H

#include <stdbool.h>
#include <stddef.h>
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
};

struct emitter {
	const struct emitter_ops *ops;
	void *ctx;
};

enum emit_format { EMIT_JSON, EMIT_XML };

/* An emitter appending to out; emitter_close frees it. NULL only if the back end cannot start. */
struct emitter *emitter_open(enum emit_format format, struct buf *out);
void emitter_close(struct emitter *e);

/* Back ends (json.c, xml.c). */
void *json_emitter_new(struct buf *out);
void json_emitter_free(void *ctx);
extern const struct emitter_ops json_emitter_ops;
/* Appends the compact JSON text of a parsed value (the XML back end uses it for nested values). */
bool json_value_text(yajl_val v, struct buf *out) __attribute__((warn_unused_result));
void *xml_emitter_new(struct buf *out);
void xml_emitter_free(void *ctx);
extern const struct emitter_ops xml_emitter_ops;

#endif
