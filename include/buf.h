/* A growable byte buffer, always NUL-terminated, for response bodies. */
#ifndef WEBHOOKD_BUF_H
#define WEBHOOKD_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *s);

#endif
