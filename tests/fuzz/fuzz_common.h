/* Shared by the harnesses: the fuzzer's bytes as a NUL-terminated string, as the parsers get
 * header values from libfcgi (which cannot carry NUL bytes: a NUL ends the value early). */
#ifndef WEBHOOKD_FUZZ_COMMON_H
#define WEBHOOKD_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
