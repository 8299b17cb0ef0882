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

/* The realm NetServer itself announces, so clients that match on it keep working. */
#define AUTH_REALM "realm=\"SuperOffice Username or Ticket\""

static const struct {
	const char *name;
	enum auth_scheme scheme;
	const char *challenge;
} auth_schemes[] = {
	{ "Basic", AUTH_SCHEME_BASIC, "Basic " AUTH_REALM ", charset=\"UTF-8\"" },
	{ "SOTicket", AUTH_SCHEME_SOTICKET, "SOTicket " AUTH_REALM },
	{ "Bearer", AUTH_SCHEME_BEARER, "Bearer " AUTH_REALM },
};
#define AUTH_NSCHEMES (sizeof auth_schemes / sizeof auth_schemes[0])

static enum auth_parse_result
auth_parse_basic(const char *token, size_t token_len, struct auth_credentials *out)
{
	unsigned char decoded[AUTH_USER_MAX + 1 + AUTH_PASSWORD_MAX];
	const char *end, *colon;
	size_t decoded_len, user_len, password_len;
	enum auth_parse_result result = AUTH_MALFORMED;

	if (token_len > AUTH_B64_MAX)
		return AUTH_MALFORMED;
	if (sodium_base642bin(decoded, sizeof decoded, token, token_len, NULL, &decoded_len, &end,
	        sodium_base64_VARIANT_ORIGINAL) != 0 || end != token + token_len)
		goto out;
	if (memchr(decoded, '\0', decoded_len) != NULL)
		goto out;
	colon = memchr(decoded, ':', decoded_len);
	if (colon == NULL)
		goto out;
	user_len = (size_t)(colon - (const char *)decoded);
	password_len = decoded_len - user_len - 1;
	if (user_len > AUTH_USER_MAX || password_len > AUTH_PASSWORD_MAX)
		goto out;
	memcpy(out->user, decoded, user_len);
	memcpy(out->password, colon + 1, password_len);
	result = AUTH_PARSED;
out:
	sodium_memzero(decoded, sizeof decoded);
	return result;
}

enum auth_parse_result
auth_parse(const char *header, unsigned accepted, struct auth_credentials *out)
{
	const char *scheme_end, *token, *end;
	size_t scheme_len, token_len;

	memset(out, 0, sizeof *out);
	if (header == NULL)
		return AUTH_ABSENT;
	while (*header == ' ' || *header == '\t')
		header++;
	if (*header == '\0')
		return AUTH_ABSENT;
	scheme_end = header + strcspn(header, " \t");
	scheme_len = (size_t)(scheme_end - header);
	/* A scheme name is a token of visible characters; anything else is noise. */
	for (const char *p = header; p < scheme_end; p++) {
		if (*p <= ' ' || *p >= 0x7f)
			return AUTH_MALFORMED;
	}
	token = scheme_end;
	while (*token == ' ' || *token == '\t')
		token++;
	end = token + strcspn(token, " \t");
	token_len = (size_t)(end - token);
	while (*end == ' ' || *end == '\t')
		end++;
	for (size_t i = 0; i < AUTH_NSCHEMES; i++) {
		if (strlen(auth_schemes[i].name) != scheme_len || strncasecmp(header, auth_schemes[i].name, scheme_len) != 0)
			continue;
		if (!(accepted & auth_schemes[i].scheme))
			return AUTH_UNSUPPORTED;
		out->scheme = auth_schemes[i].scheme;
		if (*end != '\0' || token_len == 0)
			return AUTH_MALFORMED;
		if (out->scheme == AUTH_SCHEME_BASIC)
			return auth_parse_basic(token, token_len, out);
		/* Tickets ("7T:abc==") and tokens are opaque visible ASCII, used as sent. */
		if (token_len > AUTH_TOKEN_MAX)
			return AUTH_MALFORMED;
		for (size_t k = 0; k < token_len; k++) {
			if (token[k] <= ' ' || token[k] >= 0x7f)
				return AUTH_MALFORMED;
		}
		memcpy(out->token, token, token_len);
		return AUTH_PARSED;
	}
	return AUTH_UNSUPPORTED;
}

void
auth_credentials_wipe(struct auth_credentials *c)
{
	sodium_memzero(c, sizeof *c);
}

bool
auth_parse_scheme_list(const char *list, unsigned *mask)
{
	const char *p = list;

	*mask = 0;
	while (*p != '\0') {
		size_t len;
		bool known = false;

		p += strspn(p, " ,\t");
		len = strcspn(p, " ,\t");
		if (len == 0)
			break;
		for (size_t i = 0; i < AUTH_NSCHEMES; i++) {
			if (strlen(auth_schemes[i].name) == len && strncasecmp(p, auth_schemes[i].name, len) == 0) {
				*mask |= (unsigned)auth_schemes[i].scheme;
				known = true;
			}
		}
		if (!known)
			return false;
		p += len;
	}
	return *mask != 0;
}

const char *
auth_challenge(enum auth_scheme scheme)
{
	for (size_t i = 0; i < AUTH_NSCHEMES; i++) {
		if (auth_schemes[i].scheme == scheme)
			return auth_schemes[i].challenge;
	}
	return NULL;
}

void
auth_token_digest_hex(const char *token, char hex[AUTH_DIGEST_HEX_SIZE])
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(hex, AUTH_DIGEST_HEX_SIZE, digest, sizeof digest);
}

bool
auth_token_digest_matches(const char *value, const char *stored_hex)
{
	char hex[AUTH_DIGEST_HEX_SIZE];

	auth_token_digest_hex(value, hex);
	return strlen(stored_hex) == AUTH_DIGEST_HEX_SIZE - 1 &&
	    sodium_memcmp(hex, stored_hex, AUTH_DIGEST_HEX_SIZE - 1) == 0;
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
