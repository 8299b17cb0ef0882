#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "xalloc.h"

/*
 * The XML back end of the emitter, in the shape of .NET's DataContractSerializer: the root element
 * is named after the carrier, children follow in schema order, nulls are i:nil="true", string
 * arrays are repeated <string> elements and dictionaries are key/value pair elements.
 */

#define XML_NS_INSTANCE "http://www.w3.org/2001/XMLSchema-instance"

struct xml_emitter {
	struct buf *out;
	int depth;  /* open carriers: only the document's root carries the prologue and namespace */
};

void *
xml_emitter_new(struct buf *out)
{
	struct xml_emitter *x = xmalloc(sizeof *x);

	x->out = out;
	x->depth = 0;
	return x;
}

void
xml_emitter_free(void *ctx)
{
	free(ctx);
}

/* Length of the valid UTF-8 sequence at s that XML 1.0 allows as a character, or 0. */
static size_t
xml_char_len(const unsigned char *s)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80) {
		/* C0 controls other than tab, newline and carriage return cannot appear in XML 1.0. */
		return (s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') ? 1 : 0;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, U+FFFE/U+FFFF and beyond U+10FFFF are not characters. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff || cp > 0x10ffff)
		return 0;
	return len;
}

/* Appends text with &, < and > escaped (and \r, which parsers would otherwise fold into \n). */
static bool
xml_text(struct xml_emitter *x, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s != '\0') {
		size_t n = xml_char_len(s);

		if (n == 0)
			return false;
		switch (*s) {
		case '&': buf_append_str(x->out, "&amp;"); break;
		case '<': buf_append_str(x->out, "&lt;"); break;
		case '>': buf_append_str(x->out, "&gt;"); break;
		case '\r': buf_append_str(x->out, "&#xD;"); break;
		default: buf_append(x->out, s, n); break;
		}
		s += n;
	}
	return true;
}

static void
xml_open(struct xml_emitter *x, const char *name)
{
	buf_append_str(x->out, "<");
	buf_append_str(x->out, name);
	buf_append_str(x->out, ">");
}

static void
xml_close(struct xml_emitter *x, const char *name)
{
	buf_append_str(x->out, "</");
	buf_append_str(x->out, name);
	buf_append_str(x->out, ">");
}

static void
xml_nil(struct xml_emitter *x, const char *name)
{
	buf_append_str(x->out, "<");
	buf_append_str(x->out, name);
	buf_append_str(x->out, " i:nil=\"true\"/>");
}

static bool
xml_element(struct xml_emitter *x, const char *name, const char *text)
{
	xml_open(x, name);
	if (!xml_text(x, text))
		return false;
	xml_close(x, name);
	return true;
}

/* The document's root element: the prologue, the name, the namespaces, and what closes the tag. */
static void
xml_root(struct xml_emitter *x, const char *root, const char *attributes, const char *close)
{
	buf_append_str(x->out, "<?xml version=\"1.0\" encoding=\"utf-8\"?><");
	buf_append_str(x->out, root);
	buf_append_str(x->out, attributes);
	buf_append_str(x->out, close);
}

static bool
xml_begin(void *ctx, const char *root)
{
	struct xml_emitter *x = ctx;

	if (x->depth++ == 0)
		xml_root(x, root, " xmlns:i=\"" XML_NS_INSTANCE "\"", ">");
	else
		xml_open(x, root);
	return true;
}

static bool
xml_end(void *ctx, const char *root)
{
	struct xml_emitter *x = ctx;

	x->depth--;
	xml_close(x, root);
	return true;
}

static bool
xml_null(void *ctx, const char *name)
{
	xml_nil(ctx, name);
	return true;
}

static bool
xml_string(void *ctx, const char *name, const char *value)
{
	return xml_element(ctx, name, value);
}

static bool
xml_integer(void *ctx, const char *name, long long value)
{
	char text[32];

	snprintf(text, sizeof text, "%lld", value);
	return xml_element(ctx, name, text);
}

static bool
xml_boolean(void *ctx, const char *name, bool value)
{
	return xml_element(ctx, name, value ? "true" : "false");
}

static bool
xml_string_list(void *ctx, const char *name, char *const *items, size_t n)
{
	struct xml_emitter *x = ctx;

	xml_open(x, name);
	for (size_t i = 0; i < n; i++) {
		if (!xml_element(x, "string", items[i]))
			return false;
	}
	xml_close(x, name);
	return true;
}

/* A dictionary value: scalars as text, null as nil, nested objects and arrays as their JSON text. */
static bool
xml_value(struct xml_emitter *x, yajl_val v)
{
	struct buf json;
	bool ok;

	switch (v->type) {
	case yajl_t_null:
		xml_nil(x, "Value");
		return true;
	case yajl_t_string:
		return xml_element(x, "Value", v->u.string);
	case yajl_t_number:
		return xml_element(x, "Value", v->u.number.r);
	case yajl_t_true:
	case yajl_t_false:
		return xml_element(x, "Value", v->type == yajl_t_true ? "true" : "false");
	default:
		buf_init(&json);
		ok = json_value_text(v, &json) && xml_element(x, "Value", json.data);
		buf_free(&json);
		return ok;
	}
}

static bool
xml_dictionary(void *ctx, const char *name, yajl_val object, bool strings_only)
{
	struct xml_emitter *x = ctx;
	const char *pair = strings_only ? "StringKeyValuePair" : "StringObjectKeyValuePair";

	if (!YAJL_IS_OBJECT(object))
		return false;
	xml_open(x, name);
	for (size_t i = 0; i < object->u.object.len; i++) {
		yajl_val v = object->u.object.values[i];

		if (strings_only && !YAJL_IS_STRING(v))
			return false;
		xml_open(x, pair);
		if (!xml_element(x, "Key", object->u.object.keys[i]) || !xml_value(x, v))
			return false;
		xml_close(x, pair);
	}
	xml_close(x, name);
	return true;
}

static bool
xml_object_begin(void *ctx, const char *name)
{
	xml_open(ctx, name);
	return true;
}

static bool
xml_object_end(void *ctx, const char *name)
{
	xml_close(ctx, name);
	return true;
}

static bool
xml_list_begin(void *ctx, const char *root)
{
	return xml_begin(ctx, root);
}

static bool
xml_list_end(void *ctx, const char *root)
{
	return xml_end(ctx, root);
}

/* A bare string, as DataContractSerializer writes one, lives in its serialization namespace. */
#define XML_NS_SERIALIZATION "http://schemas.microsoft.com/2003/10/Serialization/"

static bool
xml_document_null(void *ctx, const char *root)
{
	if (strcmp(root, "string") == 0)
		xml_root(ctx, root, " i:nil=\"true\" xmlns=\"" XML_NS_SERIALIZATION "\" xmlns:i=\"" XML_NS_INSTANCE "\"",
		    "/>");
	else
		xml_root(ctx, root, " i:nil=\"true\" xmlns:i=\"" XML_NS_INSTANCE "\"", "/>");
	return true;
}

static bool
xml_document_string(void *ctx, const char *value)
{
	struct xml_emitter *x = ctx;

	xml_root(x, "string", " xmlns=\"" XML_NS_SERIALIZATION "\"", ">");
	if (!xml_text(x, value))
		return false;
	xml_close(x, "string");
	return true;
}

const struct emitter_ops xml_emitter_ops = {
	.begin = xml_begin,
	.end = xml_end,
	.null = xml_null,
	.string = xml_string,
	.integer = xml_integer,
	.boolean = xml_boolean,
	.string_list = xml_string_list,
	.dictionary = xml_dictionary,
	.object_begin = xml_object_begin,
	.object_end = xml_object_end,
	.array_begin = xml_object_begin,  /* <Items>, its items inside */
	.array_end = xml_object_end,
	.list_begin = xml_list_begin,
	.list_end = xml_list_end,
	.document_null = xml_document_null,
	.document_string = xml_document_string,
};
