#include "config.h"

#include "auth.h"

#include <crypt.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

struct auth_crypt {
	struct crypt_data data;
};

/* base64 of the longest acceptable "user:password". */
#define AUTH_B64_MAX (4 * ((AUTH_USER_MAX + 1 + AUTH_PASSWORD_MAX + 2) / 3))

enum auth_parse_result
auth_parse_basic(const char *header, struct basic_credentials *out)
{
	unsigned char decoded[AUTH_USER_MAX + 1 + AUTH_PASSWORD_MAX];
	const char *token, *end, *colon;
	size_t token_len, decoded_len;
	enum auth_parse_result result = AUTH_MALFORMED;

	memset(out, 0, sizeof *out);
	if (header == NULL)
		return AUTH_ABSENT;
	while (*header == ' ' || *header == '\t')
		header++;
	if (*header == '\0')
		return AUTH_ABSENT;
	token = header + strcspn(header, " \t");
	if ((size_t)(token - header) != 5 || strncasecmp(header, "Basic", 5) != 0) {
		/* A scheme name is a token of visible characters; anything else is noise. */
		for (const char *p = header; p < token; p++) {
			if (*p <= ' ' || *p >= 0x7f)
				return AUTH_MALFORMED;
		}
		return AUTH_UNSUPPORTED;
	}
	while (*token == ' ' || *token == '\t')
		token++;
	end = token + strcspn(token, " \t");
	token_len = (size_t)(end - token);
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0' || token_len == 0 || token_len > AUTH_B64_MAX)
		return AUTH_MALFORMED;
	if (sodium_base642bin(decoded, sizeof decoded, token, token_len, NULL, &decoded_len, &end,
	        sodium_base64_VARIANT_ORIGINAL) != 0 || end != token + token_len)
		goto out;
	if (memchr(decoded, '\0', decoded_len) != NULL)
		goto out;
	colon = memchr(decoded, ':', decoded_len);
	if (colon == NULL)
		goto out;
	{
		size_t user_len = (size_t)(colon - (const char *)decoded);
		size_t password_len = decoded_len - user_len - 1;

		if (user_len > AUTH_USER_MAX || password_len > AUTH_PASSWORD_MAX)
			goto out;
		memcpy(out->user, decoded, user_len);
		memcpy(out->password, colon + 1, password_len);
	}
	result = AUTH_PARSED;
out:
	sodium_memzero(decoded, sizeof decoded);
	return result;
}

void
auth_credentials_wipe(struct basic_credentials *c)
{
	sodium_memzero(c, sizeof *c);
}

struct auth_crypt *
auth_crypt_new(void)
{
	return xcalloc(1, sizeof(struct auth_crypt));
}

void
auth_crypt_free(struct auth_crypt *c)
{
	if (c != NULL) {
		sodium_memzero(c, sizeof *c);
		free(c);
	}
}

bool
auth_password_verify(struct auth_crypt *c, const char *password, const char *stored_hash)
{
	const char *computed;
	size_t len;

	computed = crypt_rn(password, stored_hash, &c->data, (int)sizeof c->data);
	/* libxcrypt reports failure as NULL or a string starting with '*', never a valid hash. */
	if (computed == NULL || computed[0] == '*')
		return false;
	len = strlen(stored_hash);
	return strlen(computed) == len && sodium_memcmp(computed, stored_hash, len) == 0;
}

static char auth_dummy_hash[CRYPT_OUTPUT_SIZE];
static pthread_once_t auth_dummy_once = PTHREAD_ONCE_INIT;

static void
auth_dummy_init(void)
{
	struct auth_crypt *c = auth_crypt_new();

	if (!auth_password_hash(c, "unknown user", auth_dummy_hash, sizeof auth_dummy_hash))
		auth_dummy_hash[0] = '\0';
	auth_crypt_free(c);
}

void
auth_password_verify_dummy(struct auth_crypt *c, const char *password)
{
	if (pthread_once(&auth_dummy_once, auth_dummy_init) == 0 && auth_dummy_hash[0] != '\0')
		(void)auth_password_verify(c, password, auth_dummy_hash);
}

bool
auth_password_hash(struct auth_crypt *c, const char *password, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *hash;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, (int)sizeof salt) == NULL)
		return false;
	hash = crypt_rn(password, salt, &c->data, (int)sizeof c->data);
	if (hash == NULL || hash[0] == '*' || strlen(hash) >= outlen)
		return false;
	memcpy(out, hash, strlen(hash) + 1);
	return true;
}
