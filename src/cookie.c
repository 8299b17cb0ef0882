#include "config.h"

#include "cookie.h"

#include <string.h>

bool
cookie_find(const char *header, const char *name, char *out, size_t cap)
{
	size_t name_len = strlen(name);
	const char *p = header;

	if (header == NULL || cap == 0)
		return false;
	while (*p != '\0') {
		const char *end, *value;
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		end = p + strcspn(p, ";");
		if ((size_t)(end - p) > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
			value = p + name_len + 1;
			len = (size_t)(end - value);
			while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
				len--;
			if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
				value++;
				len -= 2;
			}
			if (len >= cap)
				return false;
			memcpy(out, value, len);
			out[len] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}
