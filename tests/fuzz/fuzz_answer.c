/* What else arrives from outside: a TargetUrl (net/url.c, libcurl's parser), a Content-Type and
 * an HTTP date of a request, SignalEvent's and PUT Controls' bodies, the delivery log's since,
 * until and cursor, and a target's answer (its Retry-After and the excerpt GetLastError shows,
 * which must come out printable, capped and without either secret of a rotation). */
#include "config.h"

#include <string.h>

#include "body.h"
#include "controls.h"
#include "delivery.h"
#include "excerpt.h"
#include "fuzz_common.h"
#include "hookparse.h"
#include "http.h"
#include "isotime.h"
#include "jsontree.h"
#include "logsvc.h"
#include "url.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), msg[HOOKPARSE_MESSAGE_SIZE], err[JSONTREE_ERR_SIZE];
	char controls_msg[CONTROLS_MESSAGE_SIZE];
	struct webhook_controls_change change;
	struct outbound_result res;
	enum body_media media;
	const char *event;
	char *data_json;
	long long date;
	int64_t moment, cursor;
	int32_t pk;
	yajl_val tree;
	struct buf out;

	(void)net_url_check(text, true, msg, sizeof msg);
	(void)body_content_type(text, &media);
	(void)http_date_parse(text, &date);
	(void)delivery_retry_after_ms(text, 0);
	(void)isotime_parse(text, &moment);
	(void)logsvc_cursor_decode(text, &cursor);
	tree = jsontree_parse((const char *)data, size, HOOKPARSE_DEPTH_MAX, err, sizeof err);
	if (tree != NULL && hookparse_signal(tree, &event, &pk, &data_json, msg))
		free(data_json);
	if (tree != NULL)
		(void)controls_parse_change(tree, &change, controls_msg);
	yajl_tree_free(tree);
	/* The same bytes as an answer's body, with the two secrets of a rotation. */
	outbound_result_init(&res);
	res.status = 500;
	buf_append(&res.headers, "HTTP/1.1 500 Oops\r\n\r\n", 21);
	buf_append(&res.body, data, size);
	buf_init(&out);
	excerpt_of_result(&res, size >= 4 ? "s3cr" : NULL, size >= 8 ? "0ld5" : NULL, 200, &out);
	if (out.len > 200 || (size >= 4 && memmem(out.data, out.len, "s3cr", 4) != NULL) ||
	    (size >= 8 && memmem(out.data, out.len, "0ld5", 4) != NULL))
		abort();
	buf_free(&out);
	outbound_result_free(&res);
	free(text);
	return 0;
}
