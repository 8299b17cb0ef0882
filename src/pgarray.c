#include "config.h"

#include "pgarray.h"

#include <stdio.h>
#include <string.h>

void
pgarray_begin(struct buf *b)
{
	buf_reset(b);
	buf_append_str(b, "{");
}

/* A comma before every element but the first. */
static void
pgarray_next(struct buf *b)
{
	if (b->len > 1)
		buf_append_str(b, ",");
}

void
pgarray_text(struct buf *b, const char *value)
{
	pgarray_next(b);
	if (value == NULL) {
		buf_append_str(b, "NULL");
		return;
	}
	buf_append_str(b, "\"");
	for (const char *p = value; *p != '\0';) {
		size_t plain = strcspn(p, "\"\\");

		buf_append(b, p, plain);
		p += plain;
		if (*p != '\0') {
			buf_append(b, "\\", 1);
			buf_append(b, p++, 1);
		}
	}
	buf_append_str(b, "\"");
}

void
pgarray_int(struct buf *b, long long value)
{
	char text[24];

	pgarray_next(b);
	snprintf(text, sizeof text, "%lld", value);
	buf_append_str(b, text);
}

void
pgarray_bool(struct buf *b, bool value)
{
	pgarray_next(b);
	buf_append_str(b, value ? "t" : "f");
}

void
pgarray_end(struct buf *b)
{
	buf_append_str(b, "}");
}
