/* SO-TimeZone: codes, numeric ids, the includeTZOffset flag. */
#include "config.h"

#include "fuzz_common.h"
#include "tzheader.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = fuzz_string(data, size);
	struct tz_request tz;

	if (tz_parse_header(value, &tz) && strlen(tz.key) > TZ_CODE_MAX)
		abort();
	free(value);
	return 0;
}
