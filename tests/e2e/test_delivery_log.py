"""The delivery log, resend and recover (issue 12, contract sections 1 and 2), end to end: events
signalled through the API, delivered by webhook-deliverd to real receivers on loopback, read back
through nginx.

  1. Shapes: /Events, /Events/{deliveryId}, /Attempts, /Activity (one webhook and all), exact member
     order and values, in JSON and XML; filters (outcome, since, until); 400s and 404s.
  2. Keyset paging that holds while another thread signals new events: no duplicates, no gaps.
  3. Ownership: an application sees only its own webhooks' logs.
  4. Resend (a new cycle, the same EventId, X-SuperOffice-Retry), the 409 of an event in flight;
     Recover bounded by delivery_recover_max; both refused with 409 on Stopped and TooManyErrors
     webhooks, and working again after re-activation.
  5. Retention: rows older than delivery_log_keep_days and beyond delivery_log_max_rows pruned by
     the daemon (waited for by polling).

One private stack: attempts 100 ms apart, one cycle of three attempts, so a failing event is Failed
within a second; a webhook turns TooManyErrors only after 100 failures in a row, so failing events
never pause a test; pruning every second, at most MAX_ROWS per webhook; Recover takes RECOVER_MAX.
"""
import collections
import datetime
import json
import re
import threading
import time

import pytest

from e2e_support import JSON_CT, error_body, private_stack, token_digest
from test_delivery import (  # noqa: F401 - arrival_times, rx_server and rx are fixtures
    REST, arrival_times, deliverd_pid, deliveries, leaked_secrets, rx, rx_server, save_hook, send, signal, unique,
    until, wait_deliveries)

MAX_ROWS = 60
RECOVER_MAX = 3
SETTINGS = {
    "WEBHOOKD_DELIVERY_RETRY_DELAYS_MS": "100,100",
    "WEBHOOKD_DELIVERY_CYCLE_DELAY_S": "1",
    "WEBHOOKD_DELIVERY_MAX_CYCLES": "1",
    "WEBHOOKD_DELIVERY_LEASE_S": "5",
    "WEBHOOKD_DELIVERY_TIMEOUT_MS": "3000",
    "WEBHOOKD_DELIVERY_MAX_CONSECUTIVE_ERRORS": "100",
    "WEBHOOKD_DELIVERY_LOG_PRUNE_INTERVAL_S": "1",
    "WEBHOOKD_DELIVERY_LOG_MAX_ROWS": str(MAX_ROWS),
    "WEBHOOKD_DELIVERY_RECOVER_MAX": str(RECOVER_MAX),
}
EVENT_KEYS = ["DeliveryId", "EventId", "Event", "PrimaryKey", "SignalledAt", "Outcome", "Cycle", "Attempts",
              "LastStatus", "LastError", "LastAttemptAt", "NextAttemptAt"]
ATTEMPT_KEYS = ["AttemptId", "DeliveryId", "EventId", "Event", "PrimaryKey", "Cycle", "Attempt", "AttemptedAt",
                "Status", "Error", "LatencyMs", "Response"]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$")
SOURCE = "webhookd/request"


@pytest.fixture(scope="module")
def lstack():
    with private_stack("webhookd-log-", "lena", SETTINGS) as s:
        yield s
        assert not leaked_secrets(s)


@pytest.fixture
def hooks(lstack, rx):
    pid = deliverd_pid(lstack)
    yield lstack
    lstack.sql("DELETE FROM webhook")
    assert deliverd_pid(lstack) == pid


def get(stack, path, headers=None):
    return send(stack, "GET", path, headers=headers)


def ordered(r):
    """The JSON body with member order kept."""
    assert (r.status, r.headers.get("content-type")) == (200, JSON_CT), r
    return json.loads(r.body, object_pairs_hook=collections.OrderedDict)


def events(stack, hook_id, query=""):
    return ordered(get(stack, "%s/%d/Events%s" % (REST, hook_id, query)))


def attempts(stack, hook_id, query=""):
    return ordered(get(stack, "%s/%d/Attempts%s" % (REST, hook_id, query)))


def detail(stack, hook_id, delivery_id):
    return ordered(get(stack, "%s/%d/Events/%d" % (REST, hook_id, delivery_id)))


def delivery_ids(stack, hook_id):
    """Every event of the webhook in the database, newest first."""
    return [r[0] for r in stack.sql("SELECT delivery_id FROM webhook_event_log WHERE webhook_id = %s "
                                    "ORDER BY delivery_id DESC", (hook_id,))]


def outcomes(stack, hook_id):
    return [i["Outcome"] for i in events(stack, hook_id)["Items"]]


def settled(stack, hook_id, n):
    """Waits until the webhook's n events are all finished; returns the listing."""
    return until(lambda: (lambda page: page if len(page["Items"]) == n and all(
        i["Outcome"] != "Pending" for i in page["Items"]) else None)(events(stack, hook_id, "?limit=500")),
        what="%d finished events of webhook %d" % (n, hook_id))


def utc(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)


def bad(r, message, source=SOURCE, status=400, error_type="BadRequest"):
    assert (r.status, r.headers.get("content-type"), r.body) == (
        status, JSON_CT, error_body(error_type, message, source)), r


def set_state(stack, hook_id, state):
    r = send(stack, "PATCH", "%s/%d" % (REST, hook_id), {"State": state}, "application/merge-patch+json")
    assert r.status == 200 and r.json()["State"] == state, r


# == 1. Shapes and filters ==========================================================================

def test_events_and_attempts_have_the_contract_shapes(hooks, rx):
    stack = hooks
    path, event = unique("/log-shape-"), unique("contact.") + ".changed"
    hook = save_hook(stack, rx.url(path), [event])["WebhookId"]
    signal(stack, event, 41, {"name": "Acme", "n": [1, 2]})
    signal(stack, event, 42)
    got = wait_deliveries(rx, path, 2)
    page = settled(stack, hook, 2)
    assert list(page) == ["Items", "NextCursor"] and page["NextCursor"] is None
    newest, oldest = page["Items"]
    ids = delivery_ids(stack, hook)
    by_pk = {json.loads(r.body)["PrimaryKey"]: r.header("X-SuperOffice-EventId") for r in got}
    for item, pk, did in ((newest, 42, ids[0]), (oldest, 41, ids[1])):
        assert list(item) == EVENT_KEYS
        assert STAMP.match(item["SignalledAt"]) and STAMP.match(item["LastAttemptAt"]), item
        assert utc(item["SignalledAt"]) <= utc(item["LastAttemptAt"])
        assert {k: v for k, v in item.items() if k not in ("SignalledAt", "LastAttemptAt")} == {
            "DeliveryId": did, "EventId": by_pk[pk], "Event": event, "PrimaryKey": pk, "Outcome": "Delivered",
            "Cycle": 1, "Attempts": 1, "LastStatus": 200, "LastError": None, "NextAttemptAt": None}
    one = detail(stack, hook, oldest["DeliveryId"])
    assert list(one) == EVENT_KEYS + ["Data", "AttemptLog"]
    assert {k: one[k] for k in EVENT_KEYS} == oldest
    assert one["Data"] == {"name": "Acme", "n": [1, 2]}
    assert detail(stack, hook, newest["DeliveryId"])["Data"] is None
    [a] = one["AttemptLog"]
    assert list(a) == ATTEMPT_KEYS
    assert a["Response"].startswith("HTTP/1.1 200 OK\r\n") and isinstance(a["LatencyMs"], int)
    assert {k: a[k] for k in ("DeliveryId", "EventId", "Event", "PrimaryKey", "Cycle", "Attempt", "AttemptedAt",
                              "Status", "Error")} == {
        "DeliveryId": oldest["DeliveryId"], "EventId": by_pk[41], "Event": event, "PrimaryKey": 41, "Cycle": 1,
        "Attempt": 1, "AttemptedAt": oldest["LastAttemptAt"], "Status": 200, "Error": None}
    log = attempts(stack, hook)
    assert list(log) == ["Items", "NextCursor"] and log["NextCursor"] is None
    assert [i["DeliveryId"] for i in log["Items"]] == ids and log["Items"][1] == a
    assert log["Items"][0]["AttemptId"] > a["AttemptId"]
    # SO-TimeZone with includeTZOffset tags the UTC stamps, as it does the Webhook carrier's.
    r = get(stack, "%s/%d/Events" % (REST, hook), {"SO-TimeZone": "NO,includeTZOffset"})
    assert r.json()["Items"][1]["SignalledAt"] == oldest["SignalledAt"] + "Z"


def test_xml_forms(hooks, rx):
    stack = hooks
    path, event = unique("/log-xml-"), unique("sale.") + ".created"
    hook = save_hook(stack, rx.url(path), [event])["WebhookId"]
    signal(stack, event, 7, {"a": "b"})
    [item] = settled(stack, hook, 1)["Items"]
    xml = {"Accept": "application/xml"}
    r = get(stack, "%s/%d/Events" % (REST, hook), xml)
    assert r.status == 200 and r.headers["content-type"] == "application/xml; charset=utf-8", r
    assert r.body.decode() == (
        '<?xml version="1.0" encoding="utf-8"?><DeliveryEventPage xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        "<Items><DeliveryEvent><DeliveryId>%d</DeliveryId><EventId>%s</EventId><Event>%s</Event>"
        "<PrimaryKey>7</PrimaryKey><SignalledAt>%s</SignalledAt><Outcome>Delivered</Outcome><Cycle>1</Cycle>"
        "<Attempts>1</Attempts><LastStatus>200</LastStatus><LastError i:nil=\"true\"/>"
        "<LastAttemptAt>%s</LastAttemptAt><NextAttemptAt i:nil=\"true\"/></DeliveryEvent></Items>"
        '<NextCursor i:nil="true"/></DeliveryEventPage>' % (
            item["DeliveryId"], item["EventId"], event, item["SignalledAt"], item["LastAttemptAt"]))
    body = get(stack, "%s/%d/Events/%d" % (REST, hook, item["DeliveryId"]), xml).body.decode()
    assert ("<Data><StringObjectKeyValuePair><Key>a</Key><Value>b</Value></StringObjectKeyValuePair></Data>"
            "<AttemptLog><DeliveryAttempt><AttemptId>") in body
    body = get(stack, "%s/%d/Activity" % (REST, hook), xml).body.decode()
    assert body.count("<ActivityHour><Hour>") == 24 and body.startswith(
        '<?xml version="1.0" encoding="utf-8"?><DeliveryActivity xmlns:i=')


def test_outcome_and_time_filters(hooks, rx):
    stack = hooks
    ok_path, event = unique("/log-filter-"), unique("person.") + ".changed"
    hook = save_hook(stack, rx.url(ok_path), [event])["WebhookId"]
    for pk in (1, 2):
        signal(stack, event, pk)
    settled(stack, hook, 2)
    rx.respond(ok_path, 500, body=b"nope")
    signal(stack, event, 3)
    settled(stack, hook, 3)
    set_state(stack, hook, "Stopped")
    stack.sql("INSERT INTO webhook_delivery (webhook_id, event, primary_key) VALUES (%s, %s, 4)", (hook, event))
    everything = events(stack, hook)["Items"]
    assert [(i["PrimaryKey"], i["Outcome"]) for i in everything] == [
        (4, "Pending"), (3, "Failed"), (2, "Delivered"), (1, "Delivered")]
    pending, failed = everything[0], everything[1]
    assert (pending["Attempts"], pending["LastStatus"], pending["LastAttemptAt"]) == (0, None, None)
    assert STAMP.match(pending["NextAttemptAt"])
    assert (failed["Attempts"], failed["LastStatus"], failed["Cycle"]) == (3, 500, 1)
    for value, pks in (("pending", [4]), ("Delivered", [2, 1]), ("FAILED", [3])):
        assert [i["PrimaryKey"] for i in events(stack, hook, "?Outcome=" + value)["Items"]] == pks
    # since is inclusive, until exclusive, both on SignalledAt; an offset shifts them.
    second = everything[2]["SignalledAt"]
    assert [i["PrimaryKey"] for i in events(stack, hook, "?since=" + second)["Items"]] == [4, 3, 2]
    assert [i["PrimaryKey"] for i in events(stack, hook, "?until=" + second)["Items"]] == [1]
    shifted = (utc(second) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "%2B01:00"
    assert [i["PrimaryKey"] for i in events(stack, hook, "?SINCE=" + shifted + "&until=2999-01-01")["Items"]] == [
        4, 3, 2]
    # Attempts: success is a 2xx, failure anything else; 1 + 1 + 3.
    assert [i["Status"] for i in attempts(stack, hook)["Items"]] == [500, 500, 500, 200, 200]
    assert [i["PrimaryKey"] for i in attempts(stack, hook, "?outcome=success")["Items"]] == [2, 1]
    assert [i["Attempt"] for i in attempts(stack, hook, "?outcome=Failure")["Items"]] == [3, 2, 1]
    first_fail = attempts(stack, hook, "?outcome=failure")["Items"][-1]["AttemptedAt"]
    assert len(attempts(stack, hook, "?since=%s&ignored=1" % first_fail)["Items"]) == 3


def test_bad_parameters_and_unknown_things(hooks, rx):
    stack = hooks
    hook = save_hook(stack, rx.url(unique("/log-bad-")), ["x.y"])["WebhookId"]
    base = "%s/%d" % (REST, hook)
    for query, message in (
            ("?limit=0", "The query parameter limit must be a whole number from 1 to 500."),
            ("?limit=501", "The query parameter limit must be a whole number from 1 to 500."),
            ("?limit=ten", "The query parameter limit must be a whole number from 1 to 500."),
            ("?cursor=%21%21", "The query parameter cursor is not one this server gave: pass NextCursor of the "
                               "previous page as it is."),
            ("?cursor=YWJj", "The query parameter cursor is not one this server gave: pass NextCursor of the "
                             "previous page as it is."),
            ("?since=yesterday", "The query parameter since must be an ISO 8601 date-time such as "
                                 "2026-11-28T12:00:00 (UTC unless it carries an offset)."),
            ("?until=2026-02-30", "The query parameter until must be an ISO 8601 date-time such as "
                                  "2026-11-28T12:00:00 (UTC unless it carries an offset)."),
            ("?limit=1&limit=2", "The query parameter limit is given more than once.")):
        bad(get(stack, base + "/Events" + query), message)
        bad(get(stack, base + "/Attempts" + query), message)
    bad(get(stack, base + "/Events?outcome=success"), "The query parameter outcome must be pending, delivered "
        "or failed.")
    bad(get(stack, base + "/Attempts?outcome=failed"), "The query parameter outcome must be success or failure.")
    for segment in ("abc", "0", "-1", "99999999999999999999"):
        bad(get(stack, "%s/Events/%s" % (base, segment)), "The delivery id in the path must be a positive whole "
            "number (a DeliveryId).")
        bad(send(stack, "POST", "%s/Events/%s/Resend" % (base, segment)), "The delivery id in the path must be a "
            "positive whole number (a DeliveryId).")
    bad(get(stack, base + "/Events/987654321"), "Event 987654321 of webhook %d does not exist." % hook,
        "webhookd/webhook", 404, "NotFound")
    bad(send(stack, "POST", base + "/Events/987654321/Resend"), "Event 987654321 of webhook %d does not exist."
        % hook, "webhookd/webhook", 404, "NotFound")
    missing = "%s/%d" % (REST, hook + 1000)
    for method, suffix in (("GET", "/Events"), ("GET", "/Attempts"), ("GET", "/Activity"), ("GET", "/Events/1"),
                           ("POST", "/Events/1/Resend"), ("POST", "/Recover?since=2020-01-01")):
        bad(send(stack, method, missing + suffix), "Webhook %d does not exist." % (hook + 1000), "webhookd/webhook",
            404, "NotFound")
    bad(send(stack, "POST", base + "/Recover"), "Since is required: give it in the query "
        "(?since=2026-11-28T12:00:00) or in the body ({\"Since\": \"2026-11-28T12:00:00\"}).")
    bad(send(stack, "POST", base + "/Recover?since=2020-01-01", {"since": "2021-01-01"}),
        "Since is given in the query and in the body, with different values.")
    bad(send(stack, "POST", base + "/Recover", {"Since": 5}), "Since must be an ISO 8601 date-time string.")
    r = send(stack, "GET", base + "/Recover")
    assert (r.status, r.headers.get("allow")) == (405, "POST"), r


# == 2. Paging under concurrent inserts ==============================================================

def test_paging_holds_while_events_arrive(hooks, rx):
    stack = hooks
    path, event = unique("/log-page-"), unique("doc.") + ".created"
    hook = save_hook(stack, rx.url(path), [event])["WebhookId"]
    for pk in range(20):
        signal(stack, event, pk)
    # The daemon fans the signals out into the queue a moment after they were made.
    until(lambda: len(delivery_ids(stack, hook)) == 20, what="the 20 signals fanned out")
    existing = delivery_ids(stack, hook)
    stop = threading.Event()
    signalled = []

    def more():
        pk = 1000
        while not stop.is_set():
            signal(stack, event, pk)
            signalled.append(pk)
            pk += 1
            time.sleep(0.02)

    writer = threading.Thread(target=more)
    writer.start()
    try:
        seen, cursor, pages = [], None, 0
        while True:
            page = events(stack, hook, "?limit=6" + ("&cursor=" + cursor if cursor else ""))
            seen += [i["DeliveryId"] for i in page["Items"]]
            pages += 1
            cursor = page["NextCursor"]
            if cursor is None:
                break
            until(lambda: len(signalled) >= pages * 2, what="more events signalled meanwhile")
    finally:
        stop.set()
        writer.join()
    until(lambda: len(delivery_ids(stack, hook)) == 20 + len(signalled), what="every signal fanned out")
    assert len(seen) == len(set(seen)), "a row came twice: %s" % seen
    assert seen == sorted(seen, reverse=True)
    top = seen[0]
    assert [i for i in seen if i <= max(existing)] == existing, "a row that existed at the first page is missing"
    assert all(i in existing or i >= top for i in seen)
    assert len(delivery_ids(stack, hook)) > 20 + pages  # the writer really wrote meanwhile
    # The same for attempts, once everything has settled.
    settled(stack, hook, len(delivery_ids(stack, hook)))
    all_attempts = [i["AttemptId"] for i in attempts(stack, hook, "?limit=500")["Items"]]
    paged, cursor = [], None
    while True:
        page = attempts(stack, hook, "?limit=7" + ("&cursor=" + cursor if cursor else ""))
        paged += [i["AttemptId"] for i in page["Items"]]
        cursor = page["NextCursor"]
        if cursor is None:
            break
    assert paged == all_attempts


# == 3. Ownership ===================================================================================

@pytest.fixture
def apps(hooks):
    """Applications a and b, both granted the Webhook agent: their SO-AppToken headers."""
    stack = hooks
    tokens = {"a": "log-app-a-" + unique(""), "b": "log-app-b-" + unique("")}
    stack.secrets.update(tokens.values())
    ids = [stack.sql("INSERT INTO application (name, token_sha256, webhook_access) VALUES (%s, %s, true) "
                     "RETURNING application_id", (unique("log-app-"), token_digest(t)))[0][0] for t in tokens.values()]
    yield {k: {"SO-AppToken": t} for k, t in tokens.items()}
    stack.sql("DELETE FROM webhook")
    stack.sql("DELETE FROM application WHERE application_id = ANY(%s)", (ids,))


def activity_totals(stack, path, headers=None):
    items = ordered(get(stack, path, headers))["Items"]
    assert len(items) == 24
    return sum(i["Succeeded"] for i in items), sum(i["Failed"] for i in items)


def test_an_application_sees_only_its_own_log(hooks, apps, rx):
    stack, a, b = hooks, apps["a"], apps["b"]
    path, event = unique("/log-own-"), unique("own.") + ".created"
    r = send(stack, "POST", REST, {"Events": [event], "TargetUrl": rx.url(path)}, headers=a)
    assert r.status == 201, r
    hook = r.json()["WebhookId"]
    signal(stack, event, 5)
    [item] = settled(stack, hook, 1)["Items"]
    base = "%s/%d" % (REST, hook)
    assert ordered(get(stack, base + "/Events", a))["Items"] == [item]
    assert len(ordered(get(stack, base + "/Attempts", a))["Items"]) == 1
    for method, suffix in (("GET", "/Events"), ("GET", "/Attempts"), ("GET", "/Activity"),
                           ("GET", "/Events/%d" % item["DeliveryId"]),
                           ("POST", "/Events/%d/Resend" % item["DeliveryId"]),
                           ("POST", "/Recover?since=2020-01-01")):
        bad(send(stack, method, base + suffix, headers=b), "Webhook %d does not exist." % hook, "webhookd/webhook",
            404, "NotFound")
    assert activity_totals(stack, REST + "/Activity", a) == (1, 0)
    assert activity_totals(stack, REST + "/Activity", b) == (0, 0)
    assert activity_totals(stack, REST + "/Activity") == (1, 0)  # without a token: every webhook


# == 4. Resend and recover ==========================================================================

def failed_event(stack, rx, hook, path, event, pk):
    """Signals an event the receiver refuses and waits until it is Failed; returns its item."""
    rx.respond(path, 500)
    signal(stack, event, pk)
    return until(lambda: next((i for i in events(stack, hook, "?outcome=failed")["Items"] if i["PrimaryKey"] == pk),
                              None), what="event %d failed" % pk)


def test_resend_starts_a_new_cycle_with_the_same_event_id(hooks, rx):
    stack = hooks
    path, event = unique("/log-resend-"), unique("quote.") + ".changed"
    hook = save_hook(stack, rx.url(path), [event])["WebhookId"]
    failed = failed_event(stack, rx, hook, path, event, 9)
    assert (failed["Cycle"], failed["Attempts"]) == (1, 3)
    rx.respond(path, 200)
    r = send(stack, "POST", "%s/%d/Events/%d/Resend" % (REST, hook, failed["DeliveryId"]))
    assert (r.status, r.headers.get("content-type")) == (202, JSON_CT), r
    resent = json.loads(r.body, object_pairs_hook=collections.OrderedDict)
    assert list(resent) == EVENT_KEYS
    assert {k: resent[k] for k in ("DeliveryId", "EventId", "Outcome", "Cycle", "Attempts", "LastStatus")} == {
        "DeliveryId": failed["DeliveryId"], "EventId": failed["EventId"], "Outcome": "Pending", "Cycle": 2,
        "Attempts": 3, "LastStatus": 500}
    got = wait_deliveries(rx, path, 4)[-1]
    # Retry counts every attempt before this one: 3 of cycle 1 (3 attempts a cycle).
    assert (got.header("X-SuperOffice-EventId"), got.header("X-SuperOffice-Retry")) == (failed["EventId"], "3")
    done = until(lambda: (lambda d: d if d["Outcome"] == "Delivered" else None)(
        detail(stack, hook, failed["DeliveryId"])), what="the resent event delivered")
    assert (done["Cycle"], done["Attempts"], done["LastStatus"], done["EventId"]) == (2, 4, 200, failed["EventId"])
    assert [(x["Cycle"], x["Attempt"], x["Status"]) for x in done["AttemptLog"]] == [
        (1, 1, 500), (1, 2, 500), (1, 3, 500), (2, 1, 200)]
    # A delivered event may be sent again too.
    r = send(stack, "POST", "%s/%d/Events/%d/Resend" % (REST, hook, failed["DeliveryId"]))
    assert (r.status, r.json()["Cycle"], r.json()["Outcome"]) == (202, 3, "Pending"), r
    assert wait_deliveries(rx, path, 5)[-1].header("X-SuperOffice-Retry") == "6"


def test_resend_of_a_pending_event_makes_it_due_and_refuses_one_in_flight(hooks, rx):
    stack = hooks
    path, event = unique("/log-due-"), unique("task.") + ".created"
    hook = save_hook(stack, rx.url(path), [event])["WebhookId"]
    due = stack.sql("INSERT INTO webhook_delivery (webhook_id, event, primary_key, due_at) VALUES "
                    "(%s, %s, 1, now() + interval '1 hour') RETURNING delivery_id", (hook, event))[0][0]
    r = send(stack, "POST", "%s/%d/Events/%d/Resend" % (REST, hook, due))
    assert (r.status, r.json()["Outcome"], r.json()["Cycle"]) == (202, "Pending", 1), r
    assert utc(r.json()["NextAttemptAt"]) < datetime.datetime.now(datetime.timezone.utc)
    wait_deliveries(rx, path, 1)
    # In flight: the receiver holds the answer while the resend comes.
    rx.respond(path, 200, delay=1.5)
    signal(stack, event, 2)
    wait_deliveries(rx, path, 2)
    busy = delivery_ids(stack, hook)[0]
    bad(send(stack, "POST", "%s/%d/Events/%d/Resend" % (REST, hook, busy)), "Event %d of webhook %d is being sent "
        "right now; resend it once this attempt is over." % (busy, hook), "webhookd/delivery", 409, "Conflict")
    until(lambda: detail(stack, hook, busy)["Outcome"] == "Delivered", what="the slow delivery done")


def test_resend_and_recover_wait_for_an_active_webhook(hooks, rx):
    stack = hooks
    path, event = unique("/log-inactive-"), unique("deal.") + ".lost"
    hook = save_hook(stack, rx.url(path), [event])["WebhookId"]
    failed = failed_event(stack, rx, hook, path, event, 1)
    resend = "%s/%d/Events/%d/Resend" % (REST, hook, failed["DeliveryId"])
    recover = "%s/%d/Recover?since=2000-01-01" % (REST, hook)
    for st in ("Stopped", "TooManyErrors"):
        set_state(stack, hook, st)
        bad(send(stack, "POST", resend), "Webhook %d is %s: set its State to Active first, then resend." % (hook, st),
            "webhookd/delivery", 409, "Conflict")
        bad(send(stack, "POST", recover), "Webhook %d is %s: set its State to Active first, then recover."
            % (hook, st), "webhookd/delivery", 409, "Conflict")
        assert outcomes(stack, hook) == ["Failed"]
    rx.respond(path, 200)
    set_state(stack, hook, "Active")
    r = send(stack, "POST", resend)
    assert (r.status, r.json()["Cycle"]) == (202, 2), r
    until(lambda: outcomes(stack, hook) == ["Delivered"], what="delivered after re-activation")


def test_recover_is_bounded_and_goes_oldest_first(hooks, rx):
    stack = hooks
    path, event = unique("/log-recover-"), unique("order.") + ".created"
    hook = save_hook(stack, rx.url(path), [event])["WebhookId"]
    for pk in range(5):
        failed_event(stack, rx, hook, path, event, pk)
    since = events(stack, hook)["Items"][-1]["SignalledAt"]
    rx.respond(path, 200)
    recover = "%s/%d/Recover" % (REST, hook)
    r = send(stack, "POST", recover + "?since=" + since)
    assert (r.status, r.headers.get("content-type"), r.body) == (202, JSON_CT, b'{"Recovered":3,"Remaining":2}'), r
    # The oldest three, each a new cycle of the same event.
    assert [(i["PrimaryKey"], i["Outcome"] != "Failed", i["Cycle"]) for i in events(stack, hook)["Items"]] == [
        (4, False, 1), (3, False, 1), (2, True, 2), (1, True, 2), (0, True, 2)]
    r = send(stack, "POST", recover, {"since": since})
    assert (r.status, r.body) == (202, b'{"Recovered":2,"Remaining":0}'), r
    until(lambda: outcomes(stack, hook) == ["Delivered"] * 5, what="every recovered event delivered")
    r = send(stack, "POST", recover, {"Since": since})
    assert (r.status, r.body) == (202, b'{"Recovered":0,"Remaining":0}'), r


# == 5. Retention and activity ======================================================================

def test_retention_prunes_old_rows_and_rows_beyond_the_cap(hooks, rx):
    stack = hooks
    path, event = unique("/log-keep-"), unique("mail.") + ".sent"
    hook = save_hook(stack, rx.url(path), [event])["WebhookId"]
    for pk in range(6):
        signal(stack, event, pk)
    settled(stack, hook, 6)
    old = delivery_ids(stack, hook)[-2:]
    # Finished 15 days ago (keep_days is 14): the daemon's next pass deletes them and their attempts.
    stack.sql("UPDATE webhook_message SET finished_at = finished_at - interval '15 days' WHERE delivery_id = ANY(%s)",
              (old,))
    stack.sql("UPDATE webhook_attempt SET attempted_at = attempted_at - interval '15 days' "
              "WHERE delivery_id = ANY(%s)", (old,))
    until(lambda: len(delivery_ids(stack, hook)) == 4, what="the old events pruned")
    assert not set(old) & set(delivery_ids(stack, hook))
    assert stack.sql("SELECT count(*) FROM webhook_attempt WHERE webhook_id = %s", (hook,))[0][0] == 4
    # Beyond MAX_ROWS per webhook: the oldest go, events and attempts alike.
    for pk in range(MAX_ROWS):
        signal(stack, event, 100 + pk)
    wait_deliveries(rx, path, MAX_ROWS + 6)
    newest = None
    until(lambda: stack.sql("SELECT count(*) FROM webhook_message WHERE webhook_id = %s", (hook,))[0][0] == MAX_ROWS
          and stack.sql("SELECT count(*) FROM webhook_attempt WHERE webhook_id = %s", (hook,))[0][0] == MAX_ROWS,
          what="%d rows kept" % MAX_ROWS)
    newest = [i["PrimaryKey"] for i in events(stack, hook, "?limit=500")["Items"]]
    assert newest == list(range(100 + MAX_ROWS - 1, 99, -1))


def test_activity_counts_attempts_per_hour(hooks, rx):
    stack = hooks
    path, event = unique("/log-act-"), unique("chat.") + ".sent"
    hook = save_hook(stack, rx.url(path), [event])["WebhookId"]
    signal(stack, event, 1)
    settled(stack, hook, 1)
    failed_event(stack, rx, hook, path, event, 2)
    ids = stack.sql("SELECT attempt_id FROM webhook_attempt WHERE webhook_id = %s ORDER BY attempt_id", (hook,))
    # One failure three hours ago, one 25 hours ago (outside the window).
    stack.sql("UPDATE webhook_attempt SET attempted_at = attempted_at - interval '3 hours' WHERE attempt_id = %s",
              (ids[1][0],))
    stack.sql("UPDATE webhook_attempt SET attempted_at = attempted_at - interval '25 hours' WHERE attempt_id = %s",
              (ids[2][0],))
    for url in ("%s/%d/Activity" % (REST, hook), REST + "/Activity"):
        items = ordered(get(stack, url))["Items"]
        now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0, tzinfo=None)
        assert [list(i) for i in items] == [["Hour", "Succeeded", "Failed"]] * 24
        hours = [datetime.datetime.fromisoformat(i["Hour"]) for i in items]
        assert hours == [now - datetime.timedelta(hours=23 - k) for k in range(24)], items
        counts = {23 - k: (i["Succeeded"], i["Failed"]) for k, i in enumerate(items) if i["Succeeded"] or i["Failed"]}
        assert counts == {0: (1, 1), 3: (0, 1)}, items
