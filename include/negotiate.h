/*
 * Accept header negotiation over the six media types NetServer serves (RFC 9110, 12.5.1):
 * q-values, wildcard ranges (a whole type, or everything), parameters. No Accept header means JSON.
 */
#ifndef WEBHOOKD_NEGOTIATE_H
#define WEBHOOKD_NEGOTIATE_H

#include <stdbool.h>

#include "emit.h"

/* In the server's order of preference, which breaks ties between equal q-values. */
enum media_type {
	MEDIA_APPLICATION_JSON,
	MEDIA_TEXT_JSON,
	MEDIA_APPLICATION_XML,
	MEDIA_TEXT_XML,
	MEDIA_JSON_PATCH,
	MEDIA_MERGE_PATCH,
	MEDIA_TYPE_COUNT,
};

enum negotiate_result {
	NEGOTIATE_OK,
	NEGOTIATE_NOT_ACCEPTABLE,  /* well-formed, but nothing we serve is acceptable */
	NEGOTIATE_MALFORMED,
};

/* The list NetServer documents, for 406 messages: "application/json, text/json, ...". */
extern const char negotiate_supported_list[];

enum negotiate_result negotiate_accept(const char *accept, enum media_type *out);
/* "application/json; charset=utf-8": what the response's Content-Type says. */
const char *media_type_content_type(enum media_type t);
/* JSON for the JSON types, including the two patch types; XML for the XML ones. */
enum emit_format media_type_format(enum media_type t);

#endif
