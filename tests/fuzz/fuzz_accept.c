/* Accept: media ranges, parameters, quoted strings, q-values. */
#include "config.h"

#include "fuzz_common.h"
#include "negotiate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *accept = fuzz_string(data, size);
	enum media_type t;

	if (negotiate_accept(accept, &t) == NEGOTIATE_OK && (t < 0 || t >= MEDIA_TYPE_COUNT))
		abort();
	free(accept);
	return 0;
}
