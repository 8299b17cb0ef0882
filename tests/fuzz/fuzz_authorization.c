/* Authorization: Basic (base64, user:password), SOTicket and Bearer tokens, scheme names. */
#include "config.h"

#include "auth.h"
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = fuzz_string(data, size);
	struct auth_credentials c;

	(void)auth_parse(header, AUTH_SCHEME_ALL, &c);
	(void)auth_parse(header, AUTH_SCHEME_BASIC, &c);
	auth_credentials_wipe(&c);
	free(header);
	return 0;
}
