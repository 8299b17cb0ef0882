/* The Webhook carrier, as the reference page defines it. */
#ifndef WEBHOOKD_WEBHOOK_H
#define WEBHOOKD_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum webhook_state {
	WEBHOOK_STATE_UNKNOWN = 0,
	WEBHOOK_STATE_ACTIVE = 1,
	WEBHOOK_STATE_STOPPED = 2,
	WEBHOOK_STATE_TOO_MANY_ERRORS = 3,
};

/* Date-times are microseconds since the Unix epoch, UTC; this value means "unset" (0001-01-01T00:00:00). */
#define WEBHOOK_TIME_UNSET INT64_MIN

/* The Associate carrier of RegisteredAssociate and UpdatedAssociate; id 0 is null. */
struct webhook_associate {
	int32_t id;
	char *name;        /* the login name */
	char *full_name;   /* NULL: the login name serves */
	bool deleted;
};

/* NULL pointers are JSON nulls. */
struct webhook {
	int32_t id;
	char *name;
	char **events;          /* NULL: null; otherwise nevents strings */
	size_t nevents;
	char *target_url;
	char *secret;
	enum webhook_state state;
	char *type;
	char *headers_json;     /* a JSON object of strings, as stored */
	char *properties_json;  /* a JSON object of any values, as stored */
	int64_t registered;
	struct webhook_associate registered_by;
	int64_t updated;
	struct webhook_associate updated_by;
	/* Not part of the carrier. */
	int32_t application_id;  /* the SO-AppToken application that owns it; 0: none */
	int64_t version;         /* bumped by every save: a read-modify-write writes only over what it read */
	char *previous_secret;   /* the Secret before the last change, while its grace lasts; never returned */
};

struct webhook_list {
	struct webhook *items;
	size_t n;
};

/* A webhook's delivery counters (webhook_usage): what the operator page shows beside its state. */
struct webhook_usage {
	int32_t webhook_id;
	long long total_calls;
	long long total_errors;
	long long consecutive_errors;
	int64_t last_error_at;  /* WEBHOOK_TIME_UNSET: never failed */
	char *last_error;       /* "" when none */
};

struct webhook_usage_list {
	struct webhook_usage *items;
	size_t n;
};

void webhook_usage_list_free(struct webhook_usage_list *l);

void webhook_init(struct webhook *w);
void webhook_list_free(struct webhook_list *l);
void webhook_free(struct webhook *w);
/* A deep copy of *from into *to (whose old value is not freed). */
void webhook_copy(struct webhook *to, const struct webhook *from);
/* Moves the value of *from into *to (freeing what *to held); *from is left empty. */
void webhook_move(struct webhook *to, struct webhook *from);
/* A state by name (any case) or number ("1"); false for anything else. */
bool webhook_state_parse(const char *text, enum webhook_state *out);
/* The serialized name of a state ("Active"), or NULL for a value outside the enumeration. */
const char *webhook_state_name(enum webhook_state state);

#define WEBHOOK_TIME_TEXT_SIZE 32
/* Formats a UTC date-time as NetServer does: "2024-05-01T12:30:00", with ".ffffff" when there are
 * fractional seconds and "Z" when tag_utc is set; "0001-01-01T00:00:00" (never tagged) when unset.
 * Returns false when out of range. */
bool webhook_format_time(int64_t us, bool tag_utc, char out[WEBHOOK_TIME_TEXT_SIZE]);

#endif
