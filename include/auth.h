/*
 * Authorization header parsing, the rules every credential must follow, and password checks.
 * Passwords are verified with crypt(3) (yescrypt or bcrypt hashes, from libxcrypt) and compared
 * in constant time; every failing check costs what a check of the current scheme costs.
 */
#ifndef WEBHOOKD_AUTH_H
#define WEBHOOKD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_USER_MAX 128
#define AUTH_PASSWORD_MAX 256
#define AUTH_TOKEN_MAX 512
/* The longest stored hash the daemon handles (associate.password_hash). */
#define AUTH_HASH_MAX 255

/*
 * What can be valid, decided here once for every login path. A value that breaks a rule cannot
 * belong to anyone, so it is refused at the door: never looked up in the database (which would
 * refuse bytes that are not UTF-8 with an error of its own), never logged.
 *   user names  1 to AUTH_USER_MAX bytes of UTF-8 (RFC 3629: no overlong forms, no surrogates),
 *               without control characters (C0, DEL, C1); migration 0007 holds the table to it
 *   passwords   0 to AUTH_PASSWORD_MAX bytes without NUL (crypt(3) takes a C string); any other
 *               byte is allowed, as a password only ever reaches crypt(3)
 *   tokens      tickets, bearer tokens, session cookies and application tokens: 1 to
 *               AUTH_TOKEN_MAX bytes of visible ASCII (what issuers generate)
 */
bool auth_user_valid(const char *user, size_t len);
bool auth_token_valid(const char *token);

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

/* A valid user name folded as PostgreSQL's lower() folds it under a UTF-8 locale (towlower, per
 * character), so that every spelling that finds the same associate row ("ALICE", "alice") counts
 * against one throttle budget. Lowercase forms take at most 3/2 of the bytes. */
#define AUTH_USER_FOLD_SIZE (AUTH_USER_MAX * 3 / 2 + 1)
void auth_user_fold(const char *user, char out[AUTH_USER_FOLD_SIZE]);

/* Opaque scratch space for crypt(3): about 32 KiB, so one per worker, never on the stack. */
struct auth_crypt;
struct auth_crypt *auth_crypt_new(void);
void auth_crypt_free(struct auth_crypt *c);

/* True when password hashes to stored_hash. */
bool auth_password_verify(struct auth_crypt *c, const char *password, const char *stored_hash);
/* Hashes a new password with the current scheme: yescrypt at libxcrypt's default cost. */
bool auth_password_hash(struct auth_crypt *c, const char *password, char *out, size_t outlen)
	__attribute__((warn_unused_result));
/* Whether stored_hash is of the current scheme and cost (what auth_password_hash writes now);
 * an older one (bcrypt, or yescrypt with other parameters) is replaced at the next good login. */
bool auth_password_current(const char *stored_hash);

/*
 * The one password check of a Basic login, at the cost of a check of the current scheme whoever
 * the user is, so that neither the answer nor its timing tells unknown users, retired associates,
 * wrong passwords and the kind of stored hash apart:
 *   - stored_hash NULL (unknown user, retired associate): against a dummy hash of the current scheme;
 *   - a hash of the current scheme: against it;
 *   - an older hash: against it, then, when it does not match, sleeping out the difference to what
 *     a check of the current scheme takes on this machine (a running average), so that a cheap
 *     bcrypt hash answers no sooner. An older hash costlier than the current scheme cannot be made
 *     cheaper; it is replaced at the next good login (README, "Security and robustness").
 * True when the password matches. Then, if the stored hash is an older one, upgraded (of
 * upgraded_size, AUTH_HASH_MAX + 1 or more) receives the password hashed with the current scheme,
 * else it is "".
 */
bool auth_password_check(struct auth_crypt *c, const char *password, const char *stored_hash, char *upgraded,
    size_t upgraded_size) __attribute__((warn_unused_result));

#endif
