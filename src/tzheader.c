#include "config.h"

#include "tzheader.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

bool
tz_parse_header(const char *value, struct tz_request *out)
{
	const char *p = value;
	size_t n = 0;
	bool digits = true;

	memset(out, 0, sizeof *out);
	while (*p == ' ' || *p == '\t')
		p++;
	while (isalnum((unsigned char)*p) || *p == '-') {
		if (n == TZ_CODE_MAX)
			return false;
		digits = digits && isdigit((unsigned char)*p);
		out->key[n++] = (char)toupper((unsigned char)*p++);
	}
	if (n == 0 || out->key[0] == '-' || out->key[n - 1] == '-' || (digits && n > 9))
		return false;
	out->by_id = digits;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == ',') {
		static const char flag[] = "includeTZOffset";

		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, flag, sizeof flag - 1) != 0)
			return false;
		out->include_offset = true;
		p += sizeof flag - 1;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	return *p == '\0';
}
