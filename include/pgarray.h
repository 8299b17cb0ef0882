/*
 * PostgreSQL array literals ("{1,NULL,\"a \\\"b\\\"\"}") built up element by element, for statement
 * parameters that carry many values in one round trip (the delivery daemon's batches). Every
 * text element is quoted, so no value, whatever it holds, can end an element or the array.
 */
#ifndef WEBHOOKD_PGARRAY_H
#define WEBHOOKD_PGARRAY_H

#include <stdbool.h>

#include "buf.h"

/* Empties b and opens an array in it. */
void pgarray_begin(struct buf *b);
/* Appends an element: value quoted (a backslash before each " and \), or NULL when value is NULL. */
void pgarray_text(struct buf *b, const char *value);
void pgarray_int(struct buf *b, long long value);
void pgarray_bool(struct buf *b, bool value);
/* Closes the array; b->data is the literal. */
void pgarray_end(struct buf *b);

#endif
