#include "config.h"

#include "auth.h"

#include <crypt.h>
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <wctype.h>

#include "clock.h"
#include "jsontree.h"
#include "xalloc.h"

struct auth_crypt {
	struct crypt_data data;
};

/* base64 of the longest acceptable "user:password". */
#define AUTH_B64_MAX (4 * ((AUTH_USER_MAX + 1 + AUTH_PASSWORD_MAX + 2) / 3))

/* The scheme of new hashes: yescrypt, at libxcrypt's default cost (count 0). */
#define AUTH_CURRENT_SCHEME "$y$"

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

bool
auth_user_valid(const char *user, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > AUTH_USER_MAX)
		return false;
	while (i < len) {
		const unsigned char *u = (const unsigned char *)user + i;
		size_t n = jsontree_utf8_char(user + i, len - i);

		/* Not UTF-8; a C0 control (NUL included) or DEL; a C1 control (U+0080 to U+009F). */
		if (n == 0 || u[0] < 0x20 || u[0] == 0x7f || (n == 2 && u[0] == 0xc2 && u[1] < 0xa0))
			return false;
		i += n;
	}
	return true;
}

static bool
auth_token_valid_n(const char *token, size_t len)
{
	if (len == 0 || len > AUTH_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)token[i];

		if (ch <= ' ' || ch >= 0x7f)
			return false;
	}
	return true;
}

bool
auth_token_valid(const char *token)
{
	return token != NULL && auth_token_valid_n(token, strnlen(token, AUTH_TOKEN_MAX + 1));
}

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
	if (!auth_user_valid((const char *)decoded, user_len) || password_len > AUTH_PASSWORD_MAX)
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
		if (!auth_token_valid_n(token, token_len))
			return AUTH_MALFORMED;
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

bool
auth_password_hash(struct auth_crypt *c, const char *password, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *hash;

	if (crypt_gensalt_rn(AUTH_CURRENT_SCHEME, 0, NULL, 0, salt, (int)sizeof salt) == NULL)
		return false;
	hash = crypt_rn(password, salt, &c->data, (int)sizeof c->data);
	if (hash == NULL || hash[0] == '*' || strlen(hash) >= outlen)
		return false;
	memcpy(out, hash, strlen(hash) + 1);
	return true;
}

/* Folding needs the Unicode case tables of a UTF-8 locale, whatever the process locale is;
 * without one (not installed), only ASCII folds. */
static locale_t auth_utf8_locale;
static pthread_once_t auth_locale_once = PTHREAD_ONCE_INIT;

static void
auth_locale_init(void)
{
	auth_utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static uint32_t
auth_utf8_decode(const unsigned char *u, size_t n)
{
	switch (n) {
	case 1:
		return u[0];
	case 2:
		return (uint32_t)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
	case 3:
		return (uint32_t)(u[0] & 0x0f) << 12 | (uint32_t)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
	default:
		return (uint32_t)(u[0] & 0x07) << 18 | (uint32_t)(u[1] & 0x3f) << 12 | (uint32_t)(u[2] & 0x3f) << 6 |
		    (u[3] & 0x3f);
	}
}

static size_t
auth_utf8_encode(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

void
auth_user_fold(const char *user, char out[AUTH_USER_FOLD_SIZE])
{
	size_t len = strnlen(user, AUTH_USER_MAX), i = 0, o = 0;

	(void)pthread_once(&auth_locale_once, auth_locale_init);
	while (i < len) {
		unsigned char enc[4];
		size_t n = jsontree_utf8_char(user + i, len - i), m;
		uint32_t cp;

		if (n == 0)
			break;  /* not a valid name: callers check first */
		cp = auth_utf8_decode((const unsigned char *)user + i, n);
		if (cp < 0x80)
			cp = cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp;
		else if (auth_utf8_locale != (locale_t)0) {
			wint_t lower = towlower_l((wint_t)cp, auth_utf8_locale);

			/* A lowercase form is a character too; anything else keeps the original. */
			if (lower > 0 && lower <= 0x10ffff && !(lower >= 0xd800 && lower <= 0xdfff))
				cp = (uint32_t)lower;
		}
		m = auth_utf8_encode(cp, enc);
		if (o + m >= AUTH_USER_FOLD_SIZE)
			break;
		memcpy(out + o, enc, m);
		o += m;
		i += n;
	}
	out[o] = '\0';
}

/* The current scheme as this libxcrypt writes it, found once: its prefix with the parameters
 * ("$y$j9T$"), a hash of it that is no one's password (for unknown users and retired associates),
 * and what checking a password against it takes on this machine. */
static struct {
	char prefix[CRYPT_GENSALT_OUTPUT_SIZE];
	char dummy[AUTH_HASH_MAX + 1];
	atomic_llong cost_us;
} auth_current;
static pthread_once_t auth_current_once = PTHREAD_ONCE_INIT;

static void
auth_current_init(void)
{
	struct auth_crypt *c = auth_crypt_new();
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	int64_t start;

	if (crypt_gensalt_rn(AUTH_CURRENT_SCHEME, 0, NULL, 0, salt, (int)sizeof salt) != NULL &&
	    strrchr(salt, '$') != NULL) {
		size_t n = (size_t)(strrchr(salt, '$') - salt) + 1;

		memcpy(auth_current.prefix, salt, n);
		auth_current.prefix[n] = '\0';
	}
	start = clock_monotonic_us();
	if (!auth_password_hash(c, "no one's password", auth_current.dummy, sizeof auth_current.dummy))
		auth_current.dummy[0] = '\0';
	atomic_store(&auth_current.cost_us, clock_monotonic_us() - start);
	auth_crypt_free(c);
}

bool
auth_password_current(const char *stored_hash)
{
	size_t n;

	(void)pthread_once(&auth_current_once, auth_current_init);
	n = strlen(auth_current.prefix);
	return n > 0 && strncmp(stored_hash, auth_current.prefix, n) == 0 && stored_hash[n] != '\0';
}

/* A running average (1/8 weight to the newest): it follows the machine's load. Concurrent
 * updates may lose one another's, which only delays the average a little. */
static void
auth_cost_observe(int64_t took_us)
{
	long long avg = atomic_load_explicit(&auth_current.cost_us, memory_order_relaxed);

	atomic_store_explicit(&auth_current.cost_us, avg + (took_us - avg) / 8, memory_order_relaxed);
}

static void
auth_sleep_us(int64_t us)
{
	struct timespec left;

	if (us <= 0)
		return;
	left.tv_sec = (time_t)(us / 1000000);
	left.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

bool
auth_password_check(struct auth_crypt *c, const char *password, const char *stored_hash, char *upgraded,
    size_t upgraded_size)
{
	int64_t start = clock_monotonic_us(), took;
	bool ok;

	(void)pthread_once(&auth_current_once, auth_current_init);
	upgraded[0] = '\0';
	if (stored_hash == NULL) {
		if (auth_current.dummy[0] != '\0')
			(void)auth_password_verify(c, password, auth_current.dummy);
		auth_cost_observe(clock_monotonic_us() - start);
		return false;
	}
	ok = auth_password_verify(c, password, stored_hash);
	took = clock_monotonic_us() - start;
	if (auth_password_current(stored_hash)) {
		auth_cost_observe(took);
		return ok;
	}
	if (!ok) {
		/* A wrong password against an older, cheaper hash: answer when a current one would. */
		auth_sleep_us(atomic_load_explicit(&auth_current.cost_us, memory_order_relaxed) - took);
		return false;
	}
	if (!auth_password_hash(c, password, upgraded, upgraded_size))
		upgraded[0] = '\0';
	return true;
}
