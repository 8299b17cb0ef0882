#include "config.h"

#include "emit.h"

#include <stdlib.h>

#include "xalloc.h"

struct emitter *
emitter_open(enum emit_format format, struct buf *out)
{
	struct emitter *e = xmalloc(sizeof *e);

	e->format = format;
	if (format == EMIT_XML) {
		e->ops = &xml_emitter_ops;
		e->ctx = xml_emitter_new(out);
	} else {
		e->ops = &json_emitter_ops;
		e->ctx = json_emitter_new(out);
	}
	if (e->ctx == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

void
emitter_close(struct emitter *e)
{
	if (e == NULL)
		return;
	if (e->ops == &xml_emitter_ops)
		xml_emitter_free(e->ctx);
	else
		json_emitter_free(e->ctx);
	free(e);
}
