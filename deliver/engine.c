#include "config.h"

#include "engine.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "clock.h"
#include "db.h"
#include "delivery.h"
#include "excerpt.h"
#include "hookparse.h"
#include "log.h"
#include "outbound.h"
#include "payload.h"
#include "prune.h"
#include "probe.h"
#include "stats.h"
#include "target.h"
#include "webhook.h"
#include "xalloc.h"

extern char **environ;

#define ENGINE_CHANNEL "webhookd_delivery"
/* Without any NOTIFY, the loop still looks at the queue this often (leases that ran out). */
#define ENGINE_IDLE_MS 5000
/* While deliveries keep coming, the loop looks again this soon by itself: a signal wakes only a
 * daemon that waits (migrations/0012), which spares SignalEvent a NOTIFY per event. */
#define ENGINE_BUSY_MS 3
/* Signals fanned out per look, at most: each may queue a delivery per subscriber, so a look that
 * failed (a statement timeout behind thousands of subscribers) halves it, down to one signal,
 * and each that succeeds doubles it again. */
#define ENGINE_FAN_OUT 64
#define ENGINE_STATS_MS 5000
#define ENGINE_MAX_HEADERS (12 + 50)

/* One attempt in flight: the claimed delivery and everything its transfer points into. */
struct flight {
	struct db_delivery d;
	struct net_request *req;
	struct outbound_result res;
	struct buf body;
	yajl_val custom;                      /* the webhook's Headers, parsed */
	struct outbound_header headers[ENGINE_MAX_HEADERS];
	char retry[16], timestamp[24];
	char signature[PAYLOAD_SIGNATURE_SIZE], standard[PAYLOAD_STANDARD_SIGNATURES_SIZE];
	int64_t started_us;
	bool probe;                           /* a probe's test event (probe.c), not a queued delivery */
};

struct engine {
	struct settings s;
	const char *config_path;
	struct outbound_policy policy;
	struct db *db;
	struct db *recorder;                  /* records batches of attempts while the loop goes on */
	bool recording;                       /* sent awaits the recorder's answer */
	int resends;                          /* of sent, after transient failures */
	CURLM *multi;
	int sigfd;
	char owner[96];                       /* leased_by: host/pid/random */
	struct flight **flights;              /* delivery_concurrency slots, NULL when free */
	long nflights;
	bool stopping;
	int64_t stop_deadline_us;
	bool db_ok;                           /* logged once per change, not per query */
	int waiting;                          /* the session (db_session) said to wait for a NOTIFY, or 0 */
	int fan_out;                          /* signals per fan-out now (ENGINE_FAN_OUT) */
	struct stats stats;
	int64_t next_stats_us;
	struct db_record_batch batches[2];    /* attempts finished since the last batch was sent, and that one */
	struct db_record_batch *batch, *sent;
	struct prune prune;                   /* the delivery log's retention */
	struct probe_round probes;
};

static void
engine_db_state(struct engine *e, enum db_result r)
{
	bool ok = r == DB_OK || r == DB_NOT_FOUND;

	if (ok != e->db_ok)
		log_msg(ok ? LOG_LEVEL_INFO : LOG_LEVEL_ERROR, "database %s", ok ? "reachable again" :
		    "unreachable: deliveries wait in the queue until it is back");
	e->db_ok = ok;
}

static void
engine_policy(struct engine *e)
{
	e->policy = (struct outbound_policy){
		.allow_http = e->s.allow_http_targets,
		.allow_private = e->s.allow_private_targets,
		.timeout_ms = e->s.delivery_timeout_ms,
		.max_response_bytes = EXCERPT_MAX,
		.user_agent = "webhookd/" PACKAGE_VERSION,
	};
}

struct engine *
engine_new(const struct settings *s, int sigfd, const char *config_path)
{
	struct engine *e = xcalloc(1, sizeof *e);
	char host[64] = "host";
	unsigned char rnd[4];

	e->s = *s;  /* the engine owns the settings from here on */
	e->config_path = config_path;
	e->sigfd = sigfd;
	e->db_ok = true;
	e->fan_out = ENGINE_FAN_OUT;
	engine_policy(e);
	(void)gethostname(host, sizeof host - 1);
	randombytes_buf(rnd, sizeof rnd);
	snprintf(e->owner, sizeof e->owner, "%s/%ld/%02x%02x%02x%02x", host, (long)getpid(), rnd[0], rnd[1], rnd[2],
	    rnd[3]);
	e->flights = xcalloc((size_t)s->delivery_concurrency, sizeof *e->flights);
	e->db = db_new(s->database, s->statement_timeout_ms, "webhook-deliverd");
	e->recorder = db_new(s->database, s->statement_timeout_ms, "webhook-deliverd");
	e->multi = curl_multi_init();
	stats_init(&e->stats);
	db_record_batch_init(&e->batches[0]);
	db_record_batch_init(&e->batches[1]);
	e->batch = &e->batches[0];
	e->sent = &e->batches[1];
	prune_init(&e->prune);
	if (e->multi == NULL || !db_listen(e->db, ENGINE_CHANNEL)) {
		engine_free(e);
		return NULL;
	}
	return e;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	if (e->multi != NULL)
		curl_multi_cleanup(e->multi);
	db_free(e->db);
	db_free(e->recorder);
	db_record_batch_free(&e->batches[0]);
	db_record_batch_free(&e->batches[1]);
	free(e->flights);
	settings_free(&e->s);
	free(e);
}

static void
engine_flight_free(struct flight *f)
{
	net_request_free(f->req);
	outbound_result_free(&f->res);
	buf_free(&f->body);
	yajl_tree_free(f->custom);
	db_delivery_clear(&f->d);
	free(f);
}

/* The webhook's Headers after the delivery's own, which they may not override (hookparse.c). */
static size_t
engine_custom_headers(struct flight *f, size_t n)
{
	char err[64];

	if (f->d.hook->headers_json == NULL)
		return n;
	f->custom = yajl_tree_parse(f->d.hook->headers_json, err, sizeof err);
	for (size_t i = 0; f->custom != NULL && YAJL_IS_OBJECT(f->custom) && i < f->custom->u.object.len &&
	    n < ENGINE_MAX_HEADERS; i++) {
		if (YAJL_IS_STRING(f->custom->u.object.values[i]))
			f->headers[n++] = (struct outbound_header){ f->custom->u.object.keys[i],
				f->custom->u.object.values[i]->u.string };
	}
	return n;
}

/* Builds the request of a claimed delivery (spec 6.1-6.2 and Standard Webhooks) and starts it;
 * false when it cannot start (the error is in f->res and is recorded as the attempt's). */
static bool
engine_start(struct engine *e, struct flight *f)
{
	const struct delivery_schedule *sch = &e->s.delivery_schedule;
	const char *dot = strchr(f->d.event, '.');
	char entity[HOOKPARSE_EVENT_MAX + 1];
	struct payload_event ev = { .event = f->d.event, .primary_key = f->d.primary_key,
		.context_identifier = "Default", .changed_by = f->d.changed_by, .field_values_json = f->d.data_json,
		.timestamp_us = f->d.signalled_us };
	int64_t now_s = clock_realtime_us() / 1000000;
	const char *secret = f->d.hook->secret;
	size_t n = 0;

	snprintf(entity, sizeof entity, "%.*s", dot != NULL ? (int)(dot - f->d.event) : (int)strlen(f->d.event),
	    f->d.event);
	ev.entity = entity;
	snprintf(ev.event_id, sizeof ev.event_id, "%s", f->d.event_id);
	buf_init(&f->body);
	outbound_result_init(&f->res);
	if (!payload_body(&ev, f->d.hook, &f->body)) {
		snprintf(f->res.error, sizeof f->res.error, "the payload cannot be written");
		return false;
	}
	snprintf(f->retry, sizeof f->retry, "%d", (f->d.cycle - 1) * (sch->nretries + 1) + f->d.attempt - 1);
	snprintf(f->timestamp, sizeof f->timestamp, "%lld", (long long)now_s);
	f->headers[n++] = (struct outbound_header){ "Content-Type", "application/json; charset=utf-8" };
	f->headers[n++] = (struct outbound_header){ "X-SuperOffice-Event", f->d.event };
	f->headers[n++] = (struct outbound_header){ "X-SuperOffice-EventId", f->d.event_id };
	f->headers[n++] = (struct outbound_header){ "X-SuperOffice-Retry", f->retry };
	f->headers[n++] = (struct outbound_header){ "webhook-id", f->d.event_id };
	f->headers[n++] = (struct outbound_header){ "webhook-timestamp", f->timestamp };
	if (f->probe)
		f->headers[n++] = (struct outbound_header){ "X-Hook-Test", "true" };
	if (secret != NULL && *secret != '\0') {
		payload_signature(secret, f->body.data, f->body.len, f->signature);
		payload_standard_signatures(secret, f->d.hook->previous_secret, f->d.event_id, now_s, f->body.data,
		    f->body.len, f->standard);
		f->headers[n++] = (struct outbound_header){ "X-SuperOffice-Signature", f->signature };
		f->headers[n++] = (struct outbound_header){ "webhook-signature", f->standard };
	}
	n = engine_custom_headers(f, n);
	f->req = net_request_new(&e->policy, f->d.hook->target_url, f->headers, n, f->body.data, f->body.len, &f->res);
	if (f->req == NULL)
		return false;
	if (curl_easy_setopt(net_request_handle(f->req), CURLOPT_PRIVATE, f) != CURLE_OK ||
	    curl_multi_add_handle(e->multi, net_request_handle(f->req)) != CURLM_OK) {
		snprintf(f->res.error, sizeof f->res.error, "internal error: the transfer cannot start");
		return false;
	}
	f->started_us = clock_monotonic_us();
	if (!f->probe)
		stats_sent(&e->stats, f->d.attempt > 1 || f->d.cycle > 1);
	return true;
}

/* The value of a response header (the last one of that name), or NULL. */
static const char *
engine_header(const struct outbound_result *res, const char *name, char *out, size_t cap)
{
	const char *found = NULL;
	size_t nlen = strlen(name);

	for (const char *p = res->headers.data; p != NULL && *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (len > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t vlen = len - nlen - 1;

			while (vlen > 0 && (*v == ' ' || *v == '\t'))
				v++, vlen--;
			while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
				vlen--;
			snprintf(out, cap, "%.*s", (int)vlen, v);
			found = out;
		}
		p = eol != NULL ? eol + 1 : p + len;
	}
	return found;
}

/* Frees the slot of a finished flight. */
static void
engine_release_slot(struct engine *e, long slot)
{
	struct flight *f = e->flights[slot];

	if (f->req != NULL)
		(void)curl_multi_remove_handle(e->multi, net_request_handle(f->req));
	engine_flight_free(f);
	e->flights[slot] = NULL;
	e->nflights--;
}

/* Judges a finished attempt (answered or not), adds it to the turn's batch of attempts to record,
 * and frees its slot. */
static void
engine_finish(struct engine *e, long slot)
{
	struct flight *f = e->flights[slot];
	int64_t now_us = clock_realtime_us();
	long latency_ms = f->started_us != 0 ? (long)((clock_monotonic_us() - f->started_us) / 1000) : 0;
	char retry_after[64];
	struct delivery_verdict v;
	struct db_delivery_outcome o;
	struct buf excerpt;

	if (f->probe) {
		engine_db_state(e, probe_record(e->db, f->d.hook->id, f->res.status, f->res.error));
		engine_release_slot(e, slot);
		return;
	}
	v = delivery_judge(&e->s.delivery_schedule, f->res.status,
	    engine_header(&f->res, "Retry-After", retry_after, sizeof retry_after), f->d.cycle, f->d.attempt,
	    now_us / 1000000);
	o = (struct db_delivery_outcome){ .status = f->res.status, .error = f->res.status == 0 ? f->res.error : NULL,
		.latency_ms = latency_ms, .failed = v.failed, .gone = v.gone, .action = (int)v.action,
		.delay_ms = v.delay_ms };
	buf_init(&excerpt);
	excerpt_of_result(&f->res, f->d.hook->secret, f->d.hook->previous_secret, EXCERPT_MAX, &excerpt);
	o.response = excerpt.data;
	db_record_batch_add(e->batch, f->d.hook->id, f->d.delivery_id, &o);
	log_debug("delivery %lld to webhook %d, %s attempt %d.%d: %ld%s%s (%ld ms)", (long long)f->d.delivery_id,
	    (int)f->d.hook->id, f->d.event, f->d.cycle, f->d.attempt, f->res.status, f->res.status == 0 ? " " : "",
	    f->res.status == 0 ? f->res.error : "", latency_ms);
	stats_outcome(&e->stats, f->res.status, v.failed, latency_ms);
	buf_free(&excerpt);
	engine_release_slot(e, slot);
}

/* Batches sent again after a failure the database rolled back (a statement timeout, a deadlock):
 * the attempts happened, and recording them beats sending them again when their leases run out. */
#define ENGINE_RECORD_RESENDS 3

static void
engine_record_send(struct engine *e)
{
	e->recording = db_record_batch_send(e->recorder, e->sent, e->owner,
	    e->s.delivery_schedule.max_consecutive_errors);
	if (!e->recording) {
		engine_db_state(e, DB_UNAVAILABLE);
		log_warning("%d finished attempts could not be recorded; their leases run out and they are sent again",
		    e->sent->n);
		db_record_batch_clear(e->sent);
	}
}

/* Takes the recorder's answer to the batch on its way, if it has come; true when the batch
 * committed. A failure with the session still up was rolled back, so the same batch goes again;
 * after a lost session nobody knows whether it committed, and the leases decide. */
static bool
engine_record_done(struct engine *e)
{
	enum db_result r;

	if (!e->recording || !db_record_batch_receive(e->recorder, &r))
		return false;
	e->recording = false;
	/* Not "the database is away": it answered. */
	if (r == DB_UNAVAILABLE && db_socket(e->recorder) >= 0 && e->resends < ENGINE_RECORD_RESENDS) {
		e->resends++;
		log_info("%d finished attempts are recorded again after a transient failure", e->sent->n);
		engine_record_send(e);
		return false;
	}
	engine_db_state(e, r);
	if (r != DB_OK)
		log_warning("%d finished attempts could not be recorded; their leases run out and they are sent again",
		    e->sent->n);
	db_record_batch_clear(e->sent);
	return r == DB_OK;
}

/*
 * Sends the attempts finished since the last batch to be recorded in one transaction, on a
 * connection of their own, without waiting: what makes an attempt durable is its commit, and one
 * commit per attempt, waited for by the loop, held the daemon at the rate of the database's WAL
 * flushes (migrations/0011). While a batch is on its way, newly finished attempts wait for the
 * next one, so batches grow with the load. True when a batch committed: the deliveries it
 * finished have left the queue, which may let an Ordered webhook's next one, or one waiting for
 * MaxInFlight room, be claimed now (the claim counts what is in the queue, not in this daemon).
 */
static bool
engine_record(struct engine *e)
{
	struct db_record_batch *next = e->batch;
	bool committed = engine_record_done(e);

	if (e->recording || e->batch->n == 0)
		return committed;
	e->batch = e->sent;
	e->sent = next;
	e->resends = 0;
	engine_record_send(e);
	return committed;
}

/* Waits until every finished attempt is recorded (or could not be): at a stop, at a reload. */
static void
engine_record_all(struct engine *e)
{
	while (e->recording || e->batch->n > 0) {
		struct pollfd p = { db_socket(e->recorder), POLLIN, 0 };

		if (e->recording && p.fd >= 0 && poll(&p, 1, 1000) < 0 && errno != EINTR)
			log_warning("poll: %s", strerror(errno));
		(void)engine_record(e);
	}
}

/* Deliveries in flight to webhook id. */
static long
engine_in_flight(const struct engine *e, int32_t id)
{
	long count = 0;

	for (long i = 0; i < e->s.delivery_concurrency; i++)
		count += e->flights[i] != NULL && e->flights[i]->d.hook->id == id;
	return count;
}

/* The webhooks at their cap of deliveries in flight, as a PostgreSQL array literal ("{1,2}"). */
static void
engine_capped(struct engine *e, struct buf *out)
{
	char text[16];

	buf_reset(out);
	buf_append_str(out, "{");
	for (long i = 0; i < e->s.delivery_concurrency; i++) {
		bool listed = false;
		int32_t id;

		if (e->flights[i] == NULL)
			continue;
		id = e->flights[i]->d.hook->id;
		for (long j = 0; j < i && !listed; j++)
			listed = e->flights[j] != NULL && e->flights[j]->d.hook->id == id;
		if (!listed && engine_in_flight(e, id) >= e->flights[i]->d.cap) {
			snprintf(text, sizeof text, "%s%d", out->len > 1 ? "," : "", (int)id);
			buf_append_str(out, text);
		}
	}
	buf_append_str(out, "}");
}

/* Gives d (taken over) a free slot and starts it; one that cannot start is recorded as a failed
 * attempt, with the reason. */
static void
engine_launch(struct engine *e, struct db_delivery *d, bool probe)
{
	struct flight *f = xcalloc(1, sizeof *f);
	long slot = 0;

	f->d = *d;
	f->probe = probe;
	while (e->flights[slot] != NULL)
		slot++;
	e->flights[slot] = f;
	e->nflights++;
	if (!engine_start(e, f))
		engine_finish(e, slot);
}

/* Claims as many due deliveries as there are free slots and starts them (*got of them); true
 * when the queue may hold more right now (every slot asked for was filled). A webhook already at
 * its cap is left out of the claim; one partly in flight may come back with more than its room,
 * and the surplus is handed back at once. */
static bool
engine_claim(struct engine *e, int *got)
{
	long want = e->s.delivery_concurrency - e->nflights;
	struct db_delivery *batch = NULL;
	struct buf capped, surplus;
	enum db_result r;
	char text[32];
	int n = 0;

	if (want <= 0 || e->stopping)
		return false;
	if (want > 256)
		want = 256;
	buf_init(&capped);
	buf_init(&surplus);
	engine_capped(e, &capped);
	r = db_delivery_claim(e->db, (int)want, e->s.delivery_lease_s, capped.data, e->owner,
	    (int)e->s.delivery_per_webhook, &batch, &n);
	engine_db_state(e, r);
	buf_append_str(&surplus, "{");
	for (int i = 0; i < n; i++) {
		if (engine_in_flight(e, batch[i].hook->id) >= batch[i].cap) {
			snprintf(text, sizeof text, "%s%lld", surplus.len > 1 ? "," : "", (long long)batch[i].delivery_id);
			buf_append_str(&surplus, text);
			db_delivery_clear(&batch[i]);
			continue;
		}
		engine_launch(e, &batch[i], false);
		(*got)++;
	}
	buf_append_str(&surplus, "}");
	if (surplus.len > 2)
		engine_db_state(e, db_delivery_release(e->db, e->owner, surplus.data));
	free(batch);  /* the deliveries now belong to their flights */
	buf_free(&capped);
	buf_free(&surplus);
	return r == DB_OK && n == want && surplus.len <= 2;
}

/* Sends a test event to each TooManyErrors webhook with Probe that is this daemon's to probe now,
 * as slots allow; one that finds no slot is probed again in the next round. */
static void
engine_probe(struct engine *e)
{
	struct db_delivery *batch = NULL;
	enum db_result r;
	int n = 0;

	if (e->stopping || e->nflights >= e->s.delivery_concurrency)
		return;
	r = db_probe_claim(e->db, e->s.delivery_probe_interval_s, &batch, &n);
	engine_db_state(e, r);
	for (int i = 0; i < n; i++) {
		if (e->nflights < e->s.delivery_concurrency)
			engine_launch(e, &batch[i], true);
		else
			db_delivery_clear(&batch[i]);
	}
	free(batch);
}

/* Hands the leases of everything still in flight back, for another daemon to take at once. */
static void
engine_hand_back(struct engine *e)
{
	struct buf ids;
	char text[32];

	buf_init(&ids);
	buf_append_str(&ids, "{");
	for (long i = 0; i < e->s.delivery_concurrency; i++) {
		if (e->flights[i] == NULL)
			continue;
		if (!e->flights[i]->probe) {
			snprintf(text, sizeof text, "%s%lld", ids.len > 1 ? "," : "",
			    (long long)e->flights[i]->d.delivery_id);
			buf_append_str(&ids, text);
		}
		(void)curl_multi_remove_handle(e->multi, net_request_handle(e->flights[i]->req));
		engine_flight_free(e->flights[i]);
		e->flights[i] = NULL;
	}
	buf_append_str(&ids, "}");
	if (e->nflights > 0) {
		log_info("handing back %ld deliveries still in flight", e->nflights);
		if (db_delivery_release(e->db, e->owner, ids.data) != DB_OK)
			log_warning("the leases could not be handed back: they run out in %ld s", e->s.delivery_lease_s);
	}
	e->nflights = 0;
	buf_free(&ids);
}

/* Records every finished transfer; how many there were. */
static int
engine_reap(struct engine *e)
{
	CURLMsg *msg;
	int left, reaped = 0;

	while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
		struct flight *f;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE || curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv) != CURLE_OK ||
		    priv == NULL)
			continue;
		f = (struct flight *)(void *)priv;
		reaped++;
		(void)net_request_finish(f->req, (int)msg->data.result);
		for (long i = 0; i < e->s.delivery_concurrency; i++) {
			if (e->flights[i] == f) {
				engine_finish(e, i);
				break;
			}
		}
	}
	return reaped;
}

static void
engine_reload(struct engine *e)
{
	struct settings next;
	char err[512];

	if (!settings_load(&next, e->config_path, environ, err, sizeof err)) {
		log_error("reload: %s; keeping the current settings", err);
		return;
	}
	if (next.delivery_concurrency != e->s.delivery_concurrency)
		log_warning("reload: delivery_concurrency takes effect on restart");
	next.delivery_concurrency = e->s.delivery_concurrency;
	if (strcmp(next.database, e->s.database) != 0) {
		engine_record_all(e);
		db_free(e->recorder);
		e->recorder = db_new(next.database, next.statement_timeout_ms, "webhook-deliverd");
		db_free(e->db);
		e->db = db_new(next.database, next.statement_timeout_ms, "webhook-deliverd");
		if (!db_listen(e->db, ENGINE_CHANNEL))
			log_warning("reload: cannot LISTEN yet; retrying with the next query");
	}
	settings_free(&e->s);
	e->s = next;
	engine_policy(e);
	log_set_level((enum log_level)e->s.log_level);
	log_info("reload: configuration applied");
}

/* SIGTERM, SIGINT and SIGQUIT stop; SIGHUP reloads. */
static void
engine_signals(struct engine *e)
{
	struct signalfd_siginfo si;

	while (read(e->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			sd_notify(0, "RELOADING=1");
			engine_reload(e);
			sd_notify(0, "READY=1");
		} else if (!e->stopping) {
			e->stopping = true;
			e->stop_deadline_us = clock_monotonic_us() + e->s.shutdown_timeout_s * 1000000;
			sd_notify(0, "STOPPING=1\nSTATUS=Finishing deliveries in flight");
			log_info("signal %u: stopping; %ld deliveries in flight may take up to %ld s", si.ssi_signo,
			    e->nflights, e->s.shutdown_timeout_s);
		}
	}
}

/* How long to sleep when nothing asks for a claim: until the next due delivery, at most a while. */
static long
engine_idle_ms(struct engine *e)
{
	long long ms;
	bool any;
	enum db_result r = db_delivery_next_due(e->db, &ms, &any);

	engine_db_state(e, r);
	if (r != DB_OK)
		return 1000;  /* the database is away: look again soon */
	if (!any || ms > ENGINE_IDLE_MS)
		return ENGINE_IDLE_MS;
	/* Overdue but not claimed: its webhook is at its cap; a completion wakes the loop. */
	return ms < 20 ? 20 : (long)ms;
}

/* Whether this daemon's current session said it waits (a reconnect makes a new session). */
static bool
engine_waiting(const struct engine *e)
{
	return e->waiting != 0 && e->waiting == db_session(e->db);
}

/* Says whether this daemon's session waits for a NOTIFY; one that could not leaves it as it was. */
static void
engine_set_waiting(struct engine *e, bool waiting)
{
	enum db_result r;
	bool done;

	if (engine_waiting(e) == waiting)
		return;
	r = db_delivery_wait(e->db, waiting, &done);
	engine_db_state(e, r);
	if (r == DB_OK && done)
		e->waiting = waiting ? db_session(e->db) : 0;
}

/*
 * Fans waiting signals out into the queue, claims what is due, and says when to look again: at
 * once when there may be more; within ENGINE_BUSY_MS while deliveries keep coming, without being
 * told; otherwise (nothing came) the daemon waits for a NOTIFY or the next due delivery, after
 * saying so and looking once more, so that a signal committed meanwhile is not missed
 * (migrations/0012 has the argument). A daemon without a free slot looks again when one frees.
 */
static bool
engine_look(struct engine *e, int64_t *wake_us)
{
	int moved = 0, got = 0, limit = e->fan_out;
	bool full;
	enum db_result r;

	if (e->nflights >= e->s.delivery_concurrency) {
		*wake_us = clock_monotonic_us() + ENGINE_IDLE_MS * 1000;
		return false;
	}
	r = db_signal_fan_out(e->db, limit, &moved);
	engine_db_state(e, r);
	e->fan_out = r == DB_OK ? (e->fan_out < ENGINE_FAN_OUT / 2 ? e->fan_out * 2 : ENGINE_FAN_OUT) :
	    (e->fan_out > 1 ? e->fan_out / 2 : 1);
	full = engine_claim(e, &got);
	if (full || moved == limit)
		return true;
	if (got > 0 || moved > 0) {
		engine_set_waiting(e, false);
		*wake_us = clock_monotonic_us() + ENGINE_BUSY_MS * 1000;
		return false;
	}
	if (!engine_waiting(e)) {
		engine_set_waiting(e, true);
		if (engine_waiting(e))
			return true;  /* the last look */
		/* A signal was being made (or the database is away): as if busy, without a NOTIFY. */
		*wake_us = clock_monotonic_us() + (e->db_ok ? ENGINE_BUSY_MS : 1000) * 1000;
		return false;
	}
	*wake_us = clock_monotonic_us() + engine_idle_ms(e) * 1000;
	return false;
}

static void
engine_write_stats(struct engine *e)
{
	long long depth = 0, oldest = 0;
	int64_t now = clock_monotonic_us();

	if (e->s.delivery_metrics_file == NULL || now < e->next_stats_us)
		return;
	e->next_stats_us = now + ENGINE_STATS_MS * 1000;
	if (db_delivery_queue(e->db, &depth, &oldest) != DB_OK)
		depth = oldest = -1;
	stats_write(&e->stats, e->s.delivery_metrics_file, e->nflights, depth, oldest);
}

int
engine_run(struct engine *e)
{
	int64_t wake_us = 0;  /* when to look at the queue again without being told */
	bool more = true;

	/* Connects (and LISTENs) before telling systemd it is ready. */
	(void)engine_idle_ms(e);
	sd_notify(0, "READY=1\nSTATUS=Delivering");
	log_info("webhook-deliverd %s ready: up to %ld deliveries at once, %ld per webhook, as %s", PACKAGE_VERSION,
	    e->s.delivery_concurrency, e->s.delivery_per_webhook, e->owner);
	while (!e->stopping || e->nflights > 0) {
		struct curl_waitfd extra[3] = { { e->sigfd, CURL_WAIT_POLLIN, 0 } };
		unsigned nextra = 1;
		int64_t now, prune_us = INT64_MAX;
		int running, timeout, dbfd, recfd;

		if (more && !e->stopping)
			more = engine_look(e, &wake_us);
		if (probe_round_due(&e->probes, clock_monotonic_us(), e->s.delivery_probe_interval_s))
			engine_probe(e);
		if (curl_multi_perform(e->multi, &running) != CURLM_OK)
			log_error("libcurl: curl_multi_perform failed");
		if (engine_reap(e) > 0)
			more = true;  /* a freed slot, and perhaps a retry due at once */
		if (engine_record(e))  /* the attempts just reaped, and any that could not start */
			more = true;
		engine_write_stats(e);
		if (!e->stopping)
			prune_us = prune_run(&e->prune, e->db, &e->s);
		/* A NOTIFY that arrived during one of those queries is already in libpq's buffer, and the
		 * socket will not say so: drain it here, or it would wait for the idle timer. */
		if (db_notifications(e->db) > 0)
			more = true;
		now = clock_monotonic_us();
		timeout = more && e->nflights < e->s.delivery_concurrency ? 0 : e->stopping ? 100 :
		    probe_round_wait_ms(&e->probes, wake_us > now ? (int)((wake_us - now + 999) / 1000) : 0, now);
		if (prune_us - now < (int64_t)timeout * 1000)
			timeout = prune_us > now ? (int)((prune_us - now + 999) / 1000) : 0;
		/* Signals, NOTIFY, and the recorder's answer while a batch is on its way. */
		dbfd = db_socket(e->db);
		recfd = e->recording ? db_socket(e->recorder) : -1;
		if (dbfd >= 0)
			extra[nextra++] = (struct curl_waitfd){ dbfd, CURL_WAIT_POLLIN, 0 };
		if (recfd >= 0)
			extra[nextra++] = (struct curl_waitfd){ recfd, CURL_WAIT_POLLIN, 0 };
		if (curl_multi_poll(e->multi, extra, nextra, timeout, NULL) != CURLM_OK)
			log_error("libcurl: curl_multi_poll failed");
		if (extra[0].revents != 0)
			engine_signals(e);
		/* NOTIFY of new events (or of a webhook started again). */
		if (dbfd >= 0 && extra[1].revents != 0 && db_notifications(e->db) != 0)
			more = true;
		if (clock_monotonic_us() >= wake_us)
			more = true;
		if (e->stopping && clock_monotonic_us() >= e->stop_deadline_us)
			engine_hand_back(e);
	}
	engine_record_all(e);
	engine_set_waiting(e, false);
	log_info("stopped");
	return 0;
}
