/* The Webhook body parser (SaveWebhook, POST, PUT, the result of a PATCH) and GetAllWebhooks'
 * filter, on strict JSON trees; an accepted webhook must serialize as the carrier (JSON and XML)
 * and read back to the same webhook. The same bytes also go through the query-string parser. */
#include "config.h"

#include <string.h>

#include "carrier.h"
#include "emit.h"
#include "fuzz_common.h"
#include "hookparse.h"
#include "jsontree.h"
#include "query.h"

static void
fuzz_same(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		abort();
}

/* The carrier of hook, parsed again, gives the same webhook. */
static void
fuzz_round_trip(const struct webhook *hook)
{
	char msg[HOOKPARSE_MESSAGE_SIZE], err[JSONTREE_ERR_SIZE];
	struct carrier_options opt = { .tag_utc = false };
	enum emit_format formats[] = { EMIT_JSON, EMIT_XML };
	struct webhook again;
	yajl_val tree;

	for (size_t f = 0; f < 2; f++) {
		struct buf out;
		struct emitter *e;
		bool ok;

		buf_init(&out);
		e = emitter_open(formats[f], &out);
		ok = e != NULL && carrier_write_webhook(e, hook, &opt);
		emitter_close(e);
		/* XML cannot carry some characters JSON can (C0 controls): a clean refusal is fine. */
		if (!ok && formats[f] == EMIT_JSON)
			abort();
		if (ok && formats[f] == EMIT_JSON) {
			tree = jsontree_parse(out.data, out.len, HOOKPARSE_DEPTH_MAX + 4, err, sizeof err);
			if (tree == NULL || !hookparse_webhook(tree, &again, msg))
				abort();
			if (again.id != hook->id || again.state != hook->state || again.nevents != hook->nevents)
				abort();
			fuzz_same(again.name, hook->name);
			fuzz_same(again.target_url, hook->target_url);
			fuzz_same(again.secret, hook->secret);
			fuzz_same(again.headers_json, hook->headers_json);
			fuzz_same(again.properties_json, hook->properties_json);
			for (size_t i = 0; i < hook->nevents; i++)
				fuzz_same(again.events[i], hook->events[i]);
			webhook_free(&again);
			yajl_tree_free(tree);
		}
		buf_free(&out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[HOOKPARSE_MESSAGE_SIZE], err[JSONTREE_ERR_SIZE], value[256];
	struct db_webhook_filter filter;
	struct webhook hook;
	char *text = fuzz_string(data, size);
	yajl_val tree = jsontree_parse((const char *)data, size, HOOKPARSE_DEPTH_MAX, err, sizeof err);

	if (tree != NULL) {
		if (hookparse_webhook(tree, &hook, msg)) {
			fuzz_round_trip(&hook);
			webhook_free(&hook);
		}
		(void)hookparse_filter(tree, &filter, msg);
		yajl_tree_free(tree);
	}
	(void)query_param(text, "WebhookId", value, sizeof value);
	free(text);
	return 0;
}
