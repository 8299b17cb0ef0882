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

enum auth_parse_result {
	AUTH_PARSED,
	AUTH_ABSENT,       /* no Authorization header */
	AUTH_MALFORMED,    /* not "Basic <base64 of user:password>" within the size limits */
	AUTH_UNSUPPORTED,  /* a well-formed header with a scheme this installation does not accept */
};

struct basic_credentials {
	char user[AUTH_USER_MAX + 1];
	char password[AUTH_PASSWORD_MAX + 1];
};

/* The auth-scheme name is matched case-insensitively (RFC 9110, 11.1). */
enum auth_parse_result auth_parse_basic(const char *header, struct basic_credentials *out);
/* Overwrites the password so it does not linger in memory. */
void auth_credentials_wipe(struct basic_credentials *c);

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
