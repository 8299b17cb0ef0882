#include "config.h"

#include "refdata.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "log.h"
#include "xalloc.h"

struct language_row {
	char code[REFDATA_CODE_MAX + 1];
	char ml_code[REFDATA_CODE_MAX + 1];
	bool is_default;
};

struct resource_row {
	char *name;
	char *language;
	char *value;
};

struct timezone_row {
	struct timezone_info info;
	long long id;
	bool has_id;  /* only the documented SuperOffice ids exist */
};

struct refdata {
	atomic_int refs;
	uint64_t generation;
	struct webhook defaults;
	struct language_row *languages;
	size_t nlanguages;
	struct resource_row *resources;  /* sorted by name, then language */
	size_t nresources;
	struct culture_format *cultures;
	size_t ncultures;
	struct timezone_row *timezones;
	size_t ntimezones;
};

/* -- parsing ----------------------------------------------------------------------------------- */

static yajl_val
member(yajl_val object, const char *name)
{
	const char *path[] = { name, NULL };

	return object != NULL ? yajl_tree_get(object, path, yajl_t_any) : NULL;
}

static const char *
member_string(yajl_val object, const char *name)
{
	yajl_val v = member(object, name);

	return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

static bool
copy_code(yajl_val object, const char *name, char *out, size_t cap)
{
	const char *s = member_string(object, name);

	if (s == NULL || strlen(s) >= cap)
		return false;
	strcpy(out, s);
	return true;
}

static char *
dup_or_null(yajl_val object, const char *name)
{
	const char *s = member_string(object, name);

	return s != NULL ? xstrdup(s) : NULL;
}

static bool
parse_defaults(struct refdata *rd, yajl_val rows)
{
	yajl_val row, events, state;

	if (!YAJL_IS_ARRAY(rows) || rows->u.array.len != 1) {
		log_error("webhook_default must hold exactly one row, it holds %zu",
		    YAJL_IS_ARRAY(rows) ? rows->u.array.len : (size_t)0);
		return false;
	}
	row = rows->u.array.values[0];
	webhook_init(&rd->defaults);
	rd->defaults.name = dup_or_null(row, "name");
	events = member(row, "events");
	if (YAJL_IS_ARRAY(events)) {
		rd->defaults.nevents = events->u.array.len;
		rd->defaults.events = xcalloc(rd->defaults.nevents, sizeof(char *));
		for (size_t i = 0; i < rd->defaults.nevents; i++) {
			if (!YAJL_IS_STRING(events->u.array.values[i]))
				return false;
			rd->defaults.events[i] = xstrdup(events->u.array.values[i]->u.string);
		}
	}
	rd->defaults.target_url = dup_or_null(row, "target_url");
	rd->defaults.secret = dup_or_null(row, "secret");
	state = member(row, "state");
	if (!YAJL_IS_INTEGER(state))
		return false;
	rd->defaults.state = (enum webhook_state)YAJL_GET_INTEGER(state);
	rd->defaults.type = dup_or_null(row, "type");
	/* Kept as the stored text: the serializer checks it when it writes it, as for any carrier. */
	rd->defaults.headers_json = dup_or_null(row, "headers");
	rd->defaults.properties_json = dup_or_null(row, "properties");
	return true;
}

static int
resource_order(const void *a, const void *b)
{
	const struct resource_row *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->language, y->language);
}

static bool
parse_tables(struct refdata *rd, yajl_val doc)
{
	yajl_val langs = member(doc, "languages"), res = member(doc, "resources");
	yajl_val cults = member(doc, "cultures"), zones = member(doc, "timezones");

	if (!YAJL_IS_ARRAY(langs) || !YAJL_IS_ARRAY(res) || !YAJL_IS_ARRAY(cults) || !YAJL_IS_ARRAY(zones))
		return false;
	rd->languages = xcalloc(langs->u.array.len, sizeof *rd->languages);
	for (size_t i = 0; i < langs->u.array.len; i++, rd->nlanguages++) {
		yajl_val row = langs->u.array.values[i];
		struct language_row *l = &rd->languages[i];

		if (!copy_code(row, "code", l->code, sizeof l->code) ||
		    !copy_code(row, "ml_code", l->ml_code, sizeof l->ml_code))
			return false;
		l->is_default = YAJL_IS_TRUE(member(row, "is_default"));
	}
	rd->resources = xcalloc(res->u.array.len, sizeof *rd->resources);
	for (size_t i = 0; i < res->u.array.len; i++, rd->nresources++) {
		yajl_val row = res->u.array.values[i];
		struct resource_row *r = &rd->resources[i];

		r->name = dup_or_null(row, "name");
		r->language = dup_or_null(row, "language");
		r->value = dup_or_null(row, "value");
		if (r->name == NULL || r->language == NULL || r->value == NULL)
			return false;
	}
	qsort(rd->resources, rd->nresources, sizeof *rd->resources, resource_order);
	rd->cultures = xcalloc(cults->u.array.len, sizeof *rd->cultures);
	for (size_t i = 0; i < cults->u.array.len; i++, rd->ncultures++) {
		yajl_val row = cults->u.array.values[i];
		struct culture_format *c = &rd->cultures[i];

		if (!copy_code(row, "code", c->code, sizeof c->code) ||
		    !copy_code(row, "decimal", c->decimal_separator, sizeof c->decimal_separator) ||
		    !copy_code(row, "group", c->group_separator, sizeof c->group_separator) ||
		    !copy_code(row, "date", c->date_pattern, sizeof c->date_pattern))
			return false;
	}
	rd->timezones = xcalloc(zones->u.array.len, sizeof *rd->timezones);
	for (size_t i = 0; i < zones->u.array.len; i++, rd->ntimezones++) {
		yajl_val row = zones->u.array.values[i], id = member(row, "id");
		struct timezone_row *z = &rd->timezones[i];

		if (!copy_code(row, "code", z->info.code, sizeof z->info.code) ||
		    !copy_code(row, "iana", z->info.iana, sizeof z->info.iana))
			return false;
		z->has_id = YAJL_IS_INTEGER(id);
		z->id = z->has_id ? YAJL_GET_INTEGER(id) : 0;
	}
	return true;
}

static void
refdata_free(struct refdata *rd)
{
	webhook_free(&rd->defaults);
	for (size_t i = 0; i < rd->nresources; i++) {
		free(rd->resources[i].name);
		free(rd->resources[i].language);
		free(rd->resources[i].value);
	}
	free(rd->resources);
	free(rd->languages);
	free(rd->cultures);
	free(rd->timezones);
	free(rd);
}

struct refdata *
refdata_parse(const char *json, uint64_t generation)
{
	struct refdata *rd = xcalloc(1, sizeof *rd);
	char err[128];
	yajl_val doc = yajl_tree_parse(json, err, sizeof err);
	bool ok = doc != NULL && YAJL_IS_OBJECT(doc) && parse_defaults(rd, member(doc, "defaults")) &&
	    parse_tables(rd, doc);

	yajl_tree_free(doc);
	if (!ok) {
		log_error("reference data: the stored defaults, languages, resources, cultures or time zones "
		    "cannot be read");
		refdata_free(rd);
		return NULL;
	}
	atomic_init(&rd->refs, 1);
	rd->generation = generation;
	return rd;
}

void
refdata_ref(struct refdata *rd)
{
	atomic_fetch_add(&rd->refs, 1);
}

void
refdata_unref(struct refdata *rd)
{
	if (rd != NULL && atomic_fetch_sub(&rd->refs, 1) == 1)
		refdata_free(rd);
}

uint64_t
refdata_generation(const struct refdata *rd)
{
	return rd->generation;
}

/* -- lookups ----------------------------------------------------------------------------------- */

void
refdata_defaults(const struct refdata *rd, struct webhook *out)
{
	webhook_copy(out, &rd->defaults);
}

bool
refdata_language_choice(const struct refdata *rd, const char *const *candidates, size_t n,
    struct language_choice *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < rd->nlanguages; i++) {
		if (rd->languages[i].is_default) {
			strcpy(out->default_code, rd->languages[i].code);
			strcpy(out->default_ml_code, rd->languages[i].ml_code);
		}
	}
	for (size_t c = 0; c < n; c++) {
		for (size_t i = 0; i < rd->nlanguages; i++) {
			if (strcmp(rd->languages[i].code, candidates[c]) == 0) {
				strcpy(out->code, rd->languages[i].code);
				strcpy(out->ml_code, rd->languages[i].ml_code);
				return true;
			}
		}
	}
	return false;
}

static const char *
resource_find(const struct refdata *rd, const char *name, const char *language)
{
	struct resource_row key = { (char *)(uintptr_t)name, (char *)(uintptr_t)language, NULL };
	const struct resource_row *r;

	if (language == NULL || *language == '\0')
		return NULL;
	r = bsearch(&key, rd->resources, rd->nresources, sizeof *rd->resources, resource_order);
	return r != NULL ? r->value : NULL;
}

const char *
refdata_resource_text(const struct refdata *rd, const char *name, const char *language, const char *fallback)
{
	const char *text = resource_find(rd, name, language);

	return text != NULL ? text : resource_find(rd, name, fallback);
}

bool
refdata_culture(const struct refdata *rd, const char *code, struct culture_format *out)
{
	size_t primary = strcspn(code, "-");

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < rd->ncultures; i++) {
			const char *c = rd->cultures[i].code;

			if (pass == 0 ? strcmp(c, code) == 0 : (strlen(c) == primary && strncmp(c, code, primary) == 0)) {
				*out = rd->cultures[i];
				return true;
			}
		}
	}
	return false;
}

bool
refdata_timezone(const struct refdata *rd, const char *key, bool by_id, struct timezone_info *out)
{
	long long id = by_id ? strtoll(key, NULL, 10) : 0;

	for (size_t i = 0; i < rd->ntimezones; i++) {
		const struct timezone_row *z = &rd->timezones[i];

		if (by_id ? (z->has_id && z->id == id) : strcmp(z->info.code, key) == 0) {
			*out = z->info;
			return true;
		}
	}
	return false;
}
