/* The delivery log's documents (logsvc.h), written through any emitter (JSON or XML). */
#ifndef WEBHOOKD_LOGCARRIER_H
#define WEBHOOKD_LOGCARRIER_H

#include <stdbool.h>

#include "carrier.h"
#include "logsvc.h"

/* One event with its Data and AttemptLog. */
struct logcarrier_event_detail {
	const struct log_event *event;
	const struct log_attempt_list *attempts;
};

struct logcarrier_recovered {
	long recovered;
	long long remaining;
};

/* DeliveryEventPage: {"Items": [DeliveryEvent...], "NextCursor": ...}. */
bool logcarrier_write_event_page(struct emitter *e, const void *page, const struct carrier_options *opt)
	__attribute__((warn_unused_result));
/* DeliveryEvent without Data and AttemptLog, as an item of the page (the answer of Resend). */
bool logcarrier_write_event(struct emitter *e, const void *event, const struct carrier_options *opt)
	__attribute__((warn_unused_result));
bool logcarrier_write_event_detail(struct emitter *e, const void *detail, const struct carrier_options *opt)
	__attribute__((warn_unused_result));
/* DeliveryAttemptPage: {"Items": [DeliveryAttempt...], "NextCursor": ...}. */
bool logcarrier_write_attempt_page(struct emitter *e, const void *page, const struct carrier_options *opt)
	__attribute__((warn_unused_result));
/* DeliveryActivity: {"Items": [ActivityHour {Hour, Succeeded, Failed} x 24]}. */
bool logcarrier_write_activity(struct emitter *e, const void *activity, const struct carrier_options *opt)
	__attribute__((warn_unused_result));
/* RecoverResult: {"Recovered": n, "Remaining": n}. */
bool logcarrier_write_recovered(struct emitter *e, const void *result, const struct carrier_options *opt)
	__attribute__((warn_unused_result));

#endif
