/* SO-TimeZone: a SuperOffice zone code ("NO", "US-NY") or its numeric id ("261"), optionally
 * followed by ",includeTZOffset" (spaces allowed around the comma, the flag in any case). */
#ifndef WEBHOOKD_TZHEADER_H
#define WEBHOOKD_TZHEADER_H

#include <stdbool.h>

#define TZ_CODE_MAX 31

struct tz_request {
	char key[TZ_CODE_MAX + 1];  /* the code, upper-cased, or the id's digits */
	bool by_id;
	bool include_offset;
};

bool tz_parse_header(const char *value, struct tz_request *out);

#endif
