/*
 * Authorization header parsing and password checks. Passwords are verified with crypt(3)
 * (yescrypt or bcrypt hashes, from libxcrypt) and compared in constant time.
 */
#ifndef WEBHOOKD_AUTH_H
#define WEBHOOKD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_USER_MAX 128
#define AUTH_PASSWORD_MAX 256
#define AUTH_TOKEN_MAX 512

/* Bit flags: an installation accepts a set of them. */
enum auth_scheme {
	AUTH_SCHEME_BASIC = 1,
	AUTH_SCHEME_SOTICKET = 2,
	AUTH_SCHEME_BEARER = 4,
};
#define AUTH_SCHEME_ALL (AUTH_SCHEME_BASIC | AUTH_SCHEME_SOTICKET | AUTH_SCHEME_BEARER)

enum auth_parse_result {
	AUTH_PARSED,
	AUTH_ABSENT,       /* no Authorization header */
	AUTH_MALFORMED,    /* not "<scheme> <credentials>" of an accepted scheme within the size limits */
	AUTH_UNSUPPORTED,  /* a well-formed header with a scheme this installation does not accept */
};

struct auth_credentials {
	enum auth_scheme scheme;
	char user[AUTH_USER_MAX + 1];          /* Basic */
	char password[AUTH_PASSWORD_MAX + 1];  /* Basic */
	char token[AUTH_TOKEN_MAX + 1];        /* SOTicket ticket or Bearer token, sent as is */
};

/* Scheme names match case-insensitively (RFC 9110, 11.1): "SOTICKET", "SoTicket", "basic". */
enum auth_parse_result auth_parse(const char *header, unsigned accepted, struct auth_credentials *out);
/* Overwrites the secrets so they do not linger in memory. */
void auth_credentials_wipe(struct auth_credentials *c);
/* "basic,soticket,bearer" (any case, any order) into a mask; false on an unknown name. */
bool auth_parse_scheme_list(const char *list, unsigned *mask);
/* The WWW-Authenticate challenge of one scheme. */
const char *auth_challenge(enum auth_scheme scheme);

#define AUTH_DIGEST_HEX_SIZE 65
/* The SHA-256 of a ticket, token, session or XSRF value, as the 64 hex digits that the
 * database stores (bytea). Such values are long random strings: a fast hash is enough. */
void auth_token_digest_hex(const char *token, char hex[AUTH_DIGEST_HEX_SIZE]);
/* Constant-time comparison of the digest of value with a stored hex digest. */
bool auth_token_digest_matches(const char *value, const char *stored_hex);

/* Opaque scratch space for crypt(3): about 32 KiB, so one per worker, never on the stack. */
struct auth_crypt;
struct auth_crypt *auth_crypt_new(void);
void auth_crypt_free(struct auth_crypt *c);

/* True when password hashes to stored_hash. */
bool auth_password_verify(struct auth_crypt *c, const char *password, const char *stored_hash);
/* Spends the time of one verification, so an unknown user answers as slowly as a known one. */
void auth_password_verify_dummy(struct auth_crypt *c, const char *password);
/* Hashes a new password with yescrypt at libxcrypt's default cost. */
bool auth_password_hash(struct auth_crypt *c, const char *password, char *out, size_t outlen)
	__attribute__((warn_unused_result));

#endif
