#include "config.h"

#include "tzheader.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "http.h"

bool
tz_parse_header(const char *value, struct tz_request *out)
{
	const char *p = value;
	size_t n = 0;
	bool digits = true;

	memset(out, 0, sizeof *out);
	p = http_skip_ows(p);
	while (isalnum((unsigned char)*p) || *p == '-') {
		if (n == TZ_CODE_MAX)
			return false;
		digits = digits && isdigit((unsigned char)*p);
		out->key[n++] = (char)toupper((unsigned char)*p++);
	}
	if (n == 0 || out->key[0] == '-' || out->key[n - 1] == '-' || (digits && n > 9))
		return false;
	out->by_id = digits;
	p = http_skip_ows(p);
	if (*p == ',') {
		static const char flag[] = "includeTZOffset";

		p = http_skip_ows(p + 1);
		if (strncasecmp(p, flag, sizeof flag - 1) != 0)
			return false;
		out->include_offset = true;
		p = http_skip_ows(p + sizeof flag - 1);
	}
	return *p == '\0';
}
