#include "config.h"

#include "context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "metrics.h"
#include "xalloc.h"

/* Syntax of the SO-* and language headers: cheap, and checked before anything else is spent. */
bool
context_parse_headers(struct call *call)
{
	const struct request *req = call->req;
	char message[160];

	switch (lang_parse(req->accept_language, req->so_language, &call->langs)) {
	case LANG_OK:
		break;
	case LANG_MALFORMED_ACCEPT_LANGUAGE:
		reply_bad_request(call, "The Accept-Language header is malformed: expected language tags with "
		    "optional q-values, such as \"sv, en;q=0.8\".");
		return false;
	case LANG_MALFORMED_SO_LANGUAGE:
		reply_bad_request(call, "The SO-Language header is malformed: expected a language code such as "
		    "\"sv\", or * or x to turn translation off.");
		return false;
	}
	if (req->so_culture != NULL && *req->so_culture != '\0' && !lang_parse_culture(req->so_culture, call->culture_tag)) {
		reply_bad_request(call, "The SO-Culture header is malformed: expected a culture code such as "
		    "\"nb\" or \"en-US\".");
		return false;
	}
	if (req->so_timezone != NULL) {
		if (!tz_parse_header(req->so_timezone, &call->tz)) {
			snprintf(message, sizeof message, "The SO-TimeZone header is malformed: expected a time zone "
			    "code or id, optionally followed by \",includeTZOffset\".");
			reply_bad_request(call, message);
			return false;
		}
		call->has_tz = true;
	}
	return true;
}

/*
 * The reference data for this request: the application's snapshot while the change feed vouches
 * for it, else one read of the database (kept as the new snapshot when it may be: see
 * app_worker_cacheable_generation).
 */
static bool
context_acquire_refdata(struct call *call)
{
	struct app *app = call->w->app;
	uint64_t generation = changes_generation(app->changes, CHANGES_REFERENCE_DATA);
	struct refdata *rd = NULL, *old;
	enum db_result r;
	char *json;

	pthread_mutex_lock(&app->lock);
	if (app->refdata != NULL && generation != 0 && refdata_generation(app->refdata) == generation) {
		rd = app->refdata;
		refdata_ref(rd);
	}
	pthread_mutex_unlock(&app->lock);
	metrics_count_cache(METRICS_CACHE_REFERENCE_DATA, rd != NULL);
	if (rd == NULL) {
		r = db_reference_data(call->w->db, &json);
		if (r != DB_OK) {
			reply_db_error(call, r);
			return false;
		}
		rd = refdata_parse(json, app_worker_cacheable_generation(call->w, generation));
		free(json);
		if (rd == NULL) {
			reply_db_error(call, DB_FAILED);
			return false;
		}
		if (refdata_generation(rd) != 0) {
			refdata_ref(rd);
			pthread_mutex_lock(&app->lock);
			old = app->refdata;
			app->refdata = rd;
			pthread_mutex_unlock(&app->lock);
			refdata_unref(old);
		}
	}
	call->rd = rd;
	return true;
}

/* Turns the parsed language, culture and time zone headers into facts of the reference data. */
bool
context_resolve(struct call *call)
{
	char message[160];

	if (!context_acquire_refdata(call))
		return false;
	if (!call->langs.off && call->langs.n > 0) {
		const char *candidates[LANG_MAX_CANDIDATES];

		for (size_t i = 0; i < call->langs.n; i++)
			candidates[i] = call->langs.tags[i];
		call->translate = refdata_language_choice(call->rd, candidates, call->langs.n, &call->language);
		if (!call->translate && call->language.default_code[0] != '\0') {
			/* None of the asked-for languages is installed: the installation's default serves. */
			strcpy(call->language.code, call->language.default_code);
			strcpy(call->language.ml_code, call->language.default_ml_code);
			call->translate = true;
		}
	}
	/* SO-Culture applies only where a language is set; it defaults to that language. */
	if (call->translate) {
		bool explicit_culture = call->culture_tag[0] != '\0';

		if (!refdata_culture(call->rd, explicit_culture ? call->culture_tag : call->language.code, &call->culture) &&
		    explicit_culture) {
			snprintf(message, sizeof message, "Unknown culture \"%s\" in SO-Culture.", call->culture_tag);
			reply_bad_request(call, message);
			return false;
		}
	}
	if (call->has_tz && !refdata_timezone(call->rd, call->tz.key, call->tz.by_id, &call->zone)) {
		snprintf(message, sizeof message, "Unknown time zone \"%s\" in SO-TimeZone.", call->tz.key);
		reply_bad_request(call, message);
		return false;
	}
	return true;
}

static const char *
context_lookup_resource(void *ctx, const char *name)
{
	struct call *call = ctx;

	return refdata_resource_text(call->rd, name, call->language.code, call->language.default_code);
}

/* Translates one string in place: its multi-language variant, then its resource references,
 * then the culture's numbers and dates. */
static void
context_translate(struct call *call, char **s)
{
	struct buf picked, replaced;
	const char *text;

	if (*s == NULL)
		return;
	buf_init(&picked);
	buf_init(&replaced);
	text = lang_pick_variant(*s, call->language.ml_code, call->language.default_ml_code, &picked) ?
	    picked.data : *s;
	lang_replace_references(text, context_lookup_resource, call, &replaced);
	buf_reset(&picked);
	lang_format_culture(replaced.data, call->culture.code[0] != '\0' ? &(struct lang_culture){
	    call->culture.decimal_separator, call->culture.group_separator, call->culture.date_pattern } : NULL,
	    &picked);
	free(*s);
	*s = xstrdup(picked.data);
	buf_free(&picked);
	buf_free(&replaced);
}

/* Display strings are translated; Secret and TargetUrl are opaque values and never touched,
 * nor are Headers and Properties, which are sent to the target as stored. */
void
context_translate_webhook(struct call *call, struct webhook *hook)
{
	if (!call->translate)
		return;
	context_translate(call, &hook->name);
	context_translate(call, &hook->type);
	for (size_t i = 0; i < hook->nevents; i++)
		context_translate(call, &hook->events[i]);
}

