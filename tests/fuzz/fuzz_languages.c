/* Accept-Language and SO-Language (split at the first newline), SO-Culture, and the translation
 * of stored strings: multi-language values, [SR_...] references, culture placeholders. */
#include "config.h"

#include "fuzz_common.h"
#include "lang.h"

static const char *
lookup(void *ctx, const char *name)
{
	(void)ctx;
	return name[3] == 'A' ? "text" : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *so = strchr(s, '\n'), tag[LANG_TAG_MAX + 1];
	const struct lang_culture nb = { ",", " ", "dd.MM.yyyy" };
	struct lang_request r;
	struct buf out;

	if (so != NULL)
		*so++ = '\0';
	(void)lang_parse(s, so, &r);
	if (r.n > LANG_MAX_CANDIDATES)
		abort();
	(void)lang_parse_culture(s, tag);
	buf_init(&out);
	(void)lang_pick_variant(s, "NO", "US", &out);
	buf_reset(&out);
	lang_replace_references(s, lookup, NULL, &out);
	buf_reset(&out);
	lang_format_culture(s, &nb, &out);
	buf_reset(&out);
	lang_format_culture(s, NULL, &out);
	buf_free(&out);
	free(s);
	return 0;
}
