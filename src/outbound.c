#include "config.h"

#include "outbound.h"

#include <string.h>

void
outbound_result_init(struct outbound_result *r)
{
	r->status = 0;
	buf_init(&r->headers);
	buf_init(&r->body);
	r->truncated = false;
	r->error[0] = '\0';
}

void
outbound_result_free(struct outbound_result *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
	outbound_result_init(r);
}
