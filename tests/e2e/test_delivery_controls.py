"""Delivery controls end to end (README, "Delivery controls"; migrations/0009_delivery_controls.sql):
secret rotation with a grace period, and per-webhook RateLimit, MaxInFlight, Ordered and Probe,
through nginx, with real receivers on loopback and, where the controls must hold over all daemons,
a second webhook-deliverd beside the stack's own.

  1. Rotation: a changed Secret (SaveWebhook, PUT, PATCH) keeps the previous one for
     secret_rotation_grace_s; meanwhile webhook-signature carries both (current first) and a
     receiver that knows only the old secret verifies as well as one that knows only the new one,
     each checked here independently; X-SuperOffice-Signature is the current one's. DELETE
     PreviousSecret or the end of the grace leaves the new one alone. The previous secret is in no
     answer, no stored excerpt and no log line.
  2. The Controls resource: shapes (JSON and XML), partial PUT, validation 400s, 404s, ownership.
  3. RateLimit: receipts per second stay under the limit with two daemons delivering.
  4. MaxInFlight: a slow receiver never sees more requests at once than the cap, over two daemons.
  5. Ordered: per PrimaryKey the receipts follow signal order even when an attempt fails and two
     daemons claim, while other keys go on meanwhile.
  6. Probe: a TooManyErrors webhook that asks for it is probed by one daemon per interval and is
     Active again (webhook.started) on the first 2xx; without Probe it stays as it is.

Waits poll with deadlines; a bare sleep only ever proves that something does NOT arrive.
"""
import calendar
import json
import secrets
import time

import pytest

from e2e_support import JSON_CT, error_body, pid_alive, private_stack, token_digest
from test_delivery import (  # noqa: F401 - arrival_times, rx_server and rx are fixtures
    AGENT, REST, agent, arrival_times, deliverd_pid, deliveries, get_hook, leaked_secrets, new_secret, rx, rx_server,
    save_hook, send, signal, signature, standard_signature, state, unique, until, usage, wait_deliveries)
from test_delivery_faults import Deliverd
from test_webhook_agent import XML_CT, XML_DECL, XSI_NS

GRACE_S = 6
CONTROLS = {
    "WEBHOOKD_DELIVERY_RETRY_DELAYS_MS": "200,400",
    "WEBHOOKD_DELIVERY_CYCLE_DELAY_S": "1",
    "WEBHOOKD_DELIVERY_MAX_CYCLES": "3",
    "WEBHOOKD_DELIVERY_LEASE_S": "4",
    "WEBHOOKD_DELIVERY_TIMEOUT_MS": "3000",
    "WEBHOOKD_DELIVERY_MAX_CONSECUTIVE_ERRORS": "4",
    "WEBHOOKD_SECRET_ROTATION_GRACE_S": str(GRACE_S),
    "WEBHOOKD_DELIVERY_PROBE_INTERVAL_S": "1",
}
DEFAULTS = {"RateLimit": None, "MaxInFlight": None, "Ordered": False, "Probe": False, "PreviousSecretUntil": None}


@pytest.fixture(scope="module")
def cstack():
    with private_stack("webhookd-controls-", "cora", CONTROLS) as s:
        yield s
        leaked = leaked_secrets(s)
        assert not leaked, "secrets reached the logs: %s" % leaked


@pytest.fixture
def ctl(cstack, rx):
    """The module's stack; no webhook is left after a test, and the stack's daemon survived it."""
    pid = deliverd_pid(cstack)
    yield cstack
    cstack.sql("DELETE FROM webhook")
    assert pid_alive(pid), "webhook-deliverd (pid %d) died during this test" % pid


@pytest.fixture
def second_daemon(ctl):
    """A second webhook-deliverd on the stack's settings: the controls must hold over both."""
    d = Deliverd(ctl, **{k[len("WEBHOOKD_"):].lower(): v for k, v in CONTROLS.items()}).start()
    yield d
    d.stop()


def controls_path(hook_id):
    return "%s/%d/Controls" % (REST, hook_id)


def get_controls(stack, hook_id, headers=None):
    r = send(stack, "GET", controls_path(hook_id), headers=headers)
    assert (r.status, r.headers.get("content-type")) == (200, JSON_CT), r
    return r.json()


def put_controls(stack, hook_id, body):
    r = send(stack, "PUT", controls_path(hook_id), body)
    assert (r.status, r.headers.get("content-type")) == (200, JSON_CT), r
    return r.json()


def verifies(req, secret):
    """A receiver that knows only secret (Standard Webhooks): one of the space-separated
    signatures of webhook-signature is the one it computes itself."""
    mine = standard_signature(secret, req.header("webhook-id"), req.header("webhook-timestamp"), req.body)
    return mine in req.header("webhook-signature").split(" ")


def signal_sql(stack, event, items):
    """Signals (primary_key, data) pairs in one transaction, in that order."""
    stack.transaction(*[("SELECT webhook_signal(%s, %s, %s::jsonb)", (event, pk, json.dumps(data)))
                        for pk, data in items])


# == 1. Secret rotation ================================================================================

def change_secret(stack, form, hook, secret):
    """Changes only the Secret, by SaveWebhook, PUT or a merge PATCH; returns the answer's webhook."""
    if form == "agent":
        r = agent(stack, "SaveWebhook", dict(hook, Secret=secret))
    elif form == "put":
        r = send(stack, "PUT", "%s/%d" % (REST, hook["WebhookId"]), dict(hook, Secret=secret))
    else:
        r = send(stack, "PATCH", "%s/%d" % (REST, hook["WebhookId"]), {"Secret": secret},
                 content_type="application/merge-patch+json")
    assert r.status == 200, r
    return r.json()


@pytest.mark.parametrize("form", ["agent", "put", "patch"])
def test_during_the_grace_both_secrets_sign_and_the_old_one_is_never_shown(ctl, rx, form):
    stack = ctl
    old, new = new_secret(stack, "old-"), new_secret(stack, "new-")
    event = unique("rotation.") + ".changed"
    path = unique("/rotation-")
    hook = save_hook(stack, rx.url(path), [event], Secret=old)
    before = time.time()
    saved = change_secret(stack, form, hook, new)
    assert saved["Secret"] == new
    controls = get_controls(stack, hook["WebhookId"])
    until_text = controls.pop("PreviousSecretUntil")
    assert controls == {"RateLimit": None, "MaxInFlight": None, "Ordered": False, "Probe": False}
    ends = calendar.timegm(time.strptime(until_text.split(".")[0], "%Y-%m-%dT%H:%M:%S"))
    assert before + GRACE_S - 2 <= ends <= time.time() + GRACE_S + 1, until_text

    signal(stack, event, 7, {"n": 1})
    [req] = wait_deliveries(rx, path, 1)
    sigs = req.header("webhook-signature").split(" ")
    stamp, msg_id = req.header("webhook-timestamp"), req.header("webhook-id")
    assert sigs == [standard_signature(new, msg_id, stamp, req.body), standard_signature(old, msg_id, stamp, req.body)]
    assert verifies(req, old) and verifies(req, new)
    assert req.header("X-SuperOffice-Signature") == signature(new, req.body)

    # The previous secret is in no answer: the webhook (REST, agent, list), its controls.
    answers = [send(stack, "GET", "%s/%d" % (REST, hook["WebhookId"])), send(stack, "GET", REST),
               agent(stack, "GetWebhook", {"WebhookId": hook["WebhookId"]}), agent(stack, "GetAllWebhooks", {}),
               send(stack, "GET", controls_path(hook["WebhookId"]), headers={"Accept": "application/xml"})]
    for r in answers:
        assert r.status == 200 and old.encode() not in r.body, r
    assert all(new.encode() in r.body for r in answers[:4])


def test_the_target_check_and_test_webhook_sign_with_both(ctl, rx):
    """A TargetUrl changed during the grace: its test event carries both signatures, as deliveries do."""
    stack = ctl
    old, new = new_secret(stack, "old-"), new_secret(stack, "new-")
    first, second = unique("/check-a-"), unique("/check-b-")
    hook = save_hook(stack, rx.url(first), ["contact.created"], Secret=old)
    [created] = rx.requests(first)
    assert created.header("webhook-signature") == standard_signature(
        old, created.header("webhook-id"), created.header("webhook-timestamp"), created.body)
    # Secret and TargetUrl change together: the check already signs as the saved webhook will.
    r = send(stack, "PUT", "%s/%d" % (REST, hook["WebhookId"]), dict(hook, Secret=new, TargetUrl=rx.url(second)))
    assert r.status == 200, r
    [check] = rx.requests(second)
    assert check.header("X-Hook-Test") == "true"
    assert check.header("webhook-id") == check.header("X-SuperOffice-EventId")
    assert verifies(check, new) and verifies(check, old)
    assert len(check.header("webhook-signature").split(" ")) == 2
    assert check.header("X-SuperOffice-Signature") == signature(new, check.body)


def test_delete_previous_secret_ends_the_grace(ctl, rx):
    stack = ctl
    old, new = new_secret(stack, "old-"), new_secret(stack, "new-")
    event = unique("rotation.") + ".ended"
    path = unique("/ended-")
    hook = save_hook(stack, rx.url(path), [event], Secret=old)
    change_secret(stack, "patch", hook, new)
    assert get_controls(stack, hook["WebhookId"])["PreviousSecretUntil"] is not None
    r = send(stack, "DELETE", "%s/%d/PreviousSecret" % (REST, hook["WebhookId"]))
    assert (r.status, r.body, r.headers.get("content-type")) == (204, b"", None), r
    assert get_controls(stack, hook["WebhookId"]) == DEFAULTS
    signal(stack, event, 1)
    [req] = wait_deliveries(rx, path, 1)
    assert verifies(req, new) and not verifies(req, old)
    assert req.header("webhook-signature") == standard_signature(
        new, req.header("webhook-id"), req.header("webhook-timestamp"), req.body)
    # Idempotent: no previous secret is still 204.
    r = send(stack, "DELETE", "%s/%d/PreviousSecret" % (REST, hook["WebhookId"]))
    assert r.status == 204, r


def test_the_grace_runs_out_and_only_the_new_secret_signs(ctl, rx):
    stack = ctl
    old, new = new_secret(stack, "old-"), new_secret(stack, "new-")
    event = unique("rotation.") + ".expired"
    path = unique("/expired-")
    hook = save_hook(stack, rx.url(path), [event], Secret=old)
    change_secret(stack, "put", hook, new)
    until(lambda: get_controls(stack, hook["WebhookId"])["PreviousSecretUntil"] is None, timeout=GRACE_S + 5,
          what="the grace to run out")
    signal(stack, event, 1)
    [req] = wait_deliveries(rx, path, 1)
    assert verifies(req, new) and not verifies(req, old)


def test_unchanged_secret_keeps_the_grace_and_a_second_change_replaces_the_previous(ctl, rx):
    stack = ctl
    first, second, third = (new_secret(stack, p) for p in ("one-", "two-", "three-"))
    event = unique("rotation.") + ".again"
    path = unique("/again-")
    hook = save_hook(stack, rx.url(path), [event], Secret=first)
    saved = change_secret(stack, "put", hook, second)
    grace = get_controls(stack, hook["WebhookId"])["PreviousSecretUntil"]
    # A save that leaves the Secret as it is changes nothing of the rotation.
    r = send(stack, "PUT", "%s/%d" % (REST, hook["WebhookId"]), dict(saved, Name="renamed"))
    assert r.status == 200, r
    assert get_controls(stack, hook["WebhookId"])["PreviousSecretUntil"] == grace
    change_secret(stack, "patch", hook, third)
    signal(stack, event, 1)
    [req] = wait_deliveries(rx, path, 1)
    assert verifies(req, third) and verifies(req, second) and not verifies(req, first)


def test_an_answer_quoting_the_previous_secret_is_stored_redacted(ctl, rx):
    stack = ctl
    old, new = new_secret(stack, "old-"), new_secret(stack, "new-")
    event = unique("rotation.") + ".echo"
    path = unique("/echo-")
    hook = save_hook(stack, rx.url(path), [event], Secret=old)
    change_secret(stack, "put", hook, new)
    rx.respond(path, status=500, body=("bad signature for %s or %s" % (old, new)).encode())
    signal(stack, event, 1)
    until(lambda: usage(stack, hook["WebhookId"]), what="the failed attempt to be recorded")
    r = send(stack, "GET", "%s/%d/LastError" % (REST, hook["WebhookId"]))
    text = json.loads(r.body)
    assert text.endswith("bad signature for *** or ***"), text
    stored = stack.sql("SELECT string_agg(response, '') FROM webhook_attempt WHERE webhook_id = %s",
                       (hook["WebhookId"],))[0][0]
    assert old not in stored and new not in stored and "***" in stored


# == 2. The Controls resource ==========================================================================

def test_controls_get_and_put(ctl, rx):
    stack = ctl
    hook = save_hook(stack, rx.url(unique("/controls-")), ["contact.created"])
    hid = hook["WebhookId"]
    r = send(stack, "GET", controls_path(hid))
    assert (r.status, r.headers.get("content-type"), r.body) == (
        200, JSON_CT, b'{"RateLimit":null,"MaxInFlight":null,"Ordered":false,"Probe":false,"PreviousSecretUntil":null}')
    # Any subset, names in any case; what is absent keeps its value.
    assert put_controls(stack, hid, {"rateLimit": 20, "ORDERED": True}) == dict(DEFAULTS, RateLimit=20, Ordered=True)
    assert put_controls(stack, hid, {"MaxInFlight": 3, "Probe": True, "Unknown": 1, "PreviousSecretUntil": "x"}) == \
        {"RateLimit": 20, "MaxInFlight": 3, "Ordered": True, "Probe": True, "PreviousSecretUntil": None}
    # null clears the limits; false turns the flags off.
    assert put_controls(stack, hid, {"RateLimit": None, "MaxInFlight": None, "Ordered": False}) == \
        dict(DEFAULTS, Probe=True)
    assert put_controls(stack, hid, {}) == dict(DEFAULTS, Probe=True)
    assert get_controls(stack, hid) == dict(DEFAULTS, Probe=True)
    assert stack.sql("SELECT rate_limit, max_in_flight, ordered, probe FROM webhook WHERE webhook_id = %s",
                     (hid,)) == [(None, None, False, True)]
    # Controls are no part of the Webhook: saving it keeps them.
    r = send(stack, "PUT", "%s/%d" % (REST, hid), dict(hook, Name="renamed"))
    assert r.status == 200 and get_controls(stack, hid) == dict(DEFAULTS, Probe=True)


def test_controls_in_xml_and_with_a_time_zone(ctl, rx):
    stack = ctl
    hook = save_hook(stack, rx.url(unique("/controls-xml-")), ["contact.created"], Secret=new_secret(stack))
    hid = hook["WebhookId"]
    put_controls(stack, hid, {"RateLimit": 7})
    r = send(stack, "GET", controls_path(hid), headers={"Accept": "application/xml"})
    assert (r.status, r.headers.get("content-type")) == (200, XML_CT), r
    assert r.body == (XML_DECL + '<WebhookControls xmlns:i="%s"><RateLimit>7</RateLimit><MaxInFlight i:nil="true"/>'
                      '<Ordered>false</Ordered><Probe>false</Probe><PreviousSecretUntil i:nil="true"/>'
                      '</WebhookControls>' % XSI_NS).encode()
    change_secret(stack, "patch", hook, new_secret(stack))
    r = send(stack, "GET", controls_path(hid), headers={"SO-TimeZone": "UTC,includeTZOffset"})
    assert r.status == 200 and r.headers.get("so-timezone") == "UTC", r
    assert r.json()["PreviousSecretUntil"].endswith("Z"), r
    assert not get_controls(stack, hid)["PreviousSecretUntil"].endswith("Z")


@pytest.mark.parametrize("body, message", [
    ({"RateLimit": 0}, "RateLimit must be null or an integer from 1 to 10000."),
    ({"RateLimit": 10001}, "RateLimit must be null or an integer from 1 to 10000."),
    ({"RateLimit": "5"}, "RateLimit must be null or an integer from 1 to 10000."),
    ({"MaxInFlight": 1001}, "MaxInFlight must be null or an integer from 1 to 1000."),
    ({"maxInFlight": 0.5}, "MaxInFlight must be null or an integer from 1 to 1000."),
    ({"Ordered": "yes"}, "Ordered must be true or false."),
    ({"Probe": None}, "Probe must be true or false."),
    ([1], "The body must be a WebhookControls object, such as {\"RateLimit\": 10}."),
])
def test_controls_validation(ctl, rx, body, message):
    stack = ctl
    hook = save_hook(stack, rx.url(unique("/controls-bad-")), ["contact.created"])
    r = send(stack, "PUT", controls_path(hook["WebhookId"]), body)
    assert (r.status, r.headers.get("content-type"), r.body) == (
        400, JSON_CT, error_body("BadRequest", message, "webhookd/request")), r
    assert get_controls(stack, hook["WebhookId"]) == DEFAULTS


def test_controls_of_an_unknown_or_foreign_webhook_are_404(ctl, rx):
    stack = ctl
    hook = save_hook(stack, rx.url(unique("/controls-owned-")), ["contact.created"])
    hid = hook["WebhookId"]
    token = secrets.token_urlsafe(24)
    stack.secrets.add(token)
    app = stack.sql("INSERT INTO application (name, token_sha256, webhook_access) VALUES (%s, %s, true) "
                    "RETURNING application_id", ("e2e-controls-" + secrets.token_hex(4), token_digest(token)))[0][0]
    other = stack.sql("INSERT INTO application (name, token_sha256, webhook_access) VALUES (%s, %s, true) "
                      "RETURNING application_id", ("e2e-controls-" + secrets.token_hex(4),
                                                   token_digest(secrets.token_urlsafe(24))))[0][0]
    try:
        stack.sql("UPDATE webhook SET application_id = %s WHERE webhook_id = %s", (other, hid))
        as_app = {"SO-AppToken": token}
        for missing, headers in ((hid + 1000, None), (hid, as_app)):
            expected = error_body("NotFound", "Webhook %d does not exist." % missing, "webhookd/webhook")
            for method, path, body in (("GET", controls_path(missing), None), ("PUT", controls_path(missing), {}),
                                       ("DELETE", "%s/%d/PreviousSecret" % (REST, missing), None)):
                r = send(stack, method, path, body, headers=headers)
                assert (r.status, r.body) == (404, expected), (method, path, r)
        # The tokenless caller sees every webhook, and the owner's own token its own.
        assert get_controls(stack, hid) == DEFAULTS
        stack.sql("UPDATE webhook SET application_id = %s WHERE webhook_id = %s", (app, hid))
        assert put_controls(stack, hid, {"Ordered": True})["Ordered"] is True
        assert get_controls(stack, hid, headers=as_app)["Ordered"] is True
    finally:
        stack.sql("DELETE FROM webhook")
        stack.sql("DELETE FROM application WHERE application_id IN (%s, %s)", (app, other))


def test_controls_need_authentication(ctl, rx):
    r = ctl.request("GET", controls_path(1))
    assert r.status == 401, r


# == 3. RateLimit ======================================================================================

def test_rate_limit_holds_over_two_daemons(ctl, rx, second_daemon):
    stack = ctl
    limit, n = 5, 25
    event = unique("rate.") + ".created"
    path = unique("/rate-")
    hook = save_hook(stack, rx.url(path), [event])
    put_controls(stack, hook["WebhookId"], {"RateLimit": limit})
    signal_sql(stack, event, [(i, {"n": i}) for i in range(n)])
    got = wait_deliveries(rx, path, n, timeout=30)
    times = sorted(r.at for r in got)
    # In any second, at most the limit and one more (GCRA admits one at each end of a window),
    # and one of slack for the receiver's own timing. Without the limit all 25 come at once.
    busiest = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
    assert busiest <= limit + 2, [round(t - times[0], 3) for t in times]
    assert times[-1] - times[0] >= (n - limit - 2) / limit, [round(t - times[0], 3) for t in times]
    # And it is a pace, not a crawl.
    assert times[-1] - times[0] <= n / limit + 3, [round(t - times[0], 3) for t in times]
    assert sorted(json.loads(r.body)["PrimaryKey"] for r in got) == list(range(n))


def test_raising_the_rate_limit_frees_what_waited(ctl, rx):
    stack = ctl
    event = unique("rate.") + ".raised"
    path = unique("/raised-")
    hook = save_hook(stack, rx.url(path), [event])
    put_controls(stack, hook["WebhookId"], {"RateLimit": 1})
    signal_sql(stack, event, [(i, {"n": i}) for i in range(20)])
    wait_deliveries(rx, path, 1)
    start = time.monotonic()
    put_controls(stack, hook["WebhookId"], {"RateLimit": None})
    wait_deliveries(rx, path, 20, timeout=10)
    # At 1 per second the rest would take 19 s.
    assert time.monotonic() - start < 5


# == 4. MaxInFlight ====================================================================================

def test_max_in_flight_holds_over_two_daemons(ctl, rx, second_daemon):
    stack = ctl
    cap, n, slow = 2, 8, 0.4
    event = unique("cap.") + ".created"
    path = unique("/cap-")
    hook = save_hook(stack, rx.url(path), [event])
    put_controls(stack, hook["WebhookId"], {"MaxInFlight": cap})
    rx.respond(path, delay=slow)
    signal_sql(stack, event, [(i, {"n": i}) for i in range(n)])
    got = wait_deliveries(rx, path, n, timeout=30)
    # Each request is answered `slow` after it arrives; the next may arrive only after an answer.
    # Intervals a little shorter than that absorb the receiver's timing.
    starts = sorted(r.at for r in got)
    most = max(sum(1 for s in starts if s <= t < s + slow - 0.05) for t in starts)
    assert most == cap, [round(s - starts[0], 3) for s in starts]
    until(lambda: stack.sql("SELECT count(*) FROM webhook_delivery WHERE webhook_id = %s",
                            (hook["WebhookId"],))[0][0] == 0, what="the queue to empty")


# == 5. Ordered ========================================================================================

def test_ordered_keeps_signal_order_per_primary_key_over_two_daemons(ctl, rx, second_daemon):
    stack = ctl
    event = unique("order.") + ".changed"
    path = unique("/ordered-")
    hook = save_hook(stack, rx.url(path), [event])
    put_controls(stack, hook["WebhookId"], {"Ordered": True})
    fail_first = {(1, 2), (2, 4)}
    seen = set()

    def decide(req):
        doc = json.loads(req.body)
        key = (doc["PrimaryKey"], doc["FieldValues"]["n"])
        first = key not in seen
        seen.add(key)
        return {"status": 500 if key in fail_first and first else 200, "delay": 0.04}

    rx.respond_with(path, decide)
    counts = {1: 6, 2: 6, 3: 10}
    items = [(pk, {"n": i}) for i in range(1, 11) for pk in (1, 2, 3) if i <= counts[pk]]
    signal_sql(stack, event, items)
    got = wait_deliveries(rx, path, sum(counts.values()) + len(fail_first), timeout=30)
    arrivals = sorted(got, key=lambda r: r.at)
    order = {pk: [json.loads(r.body)["FieldValues"]["n"] for r in arrivals if json.loads(r.body)["PrimaryKey"] == pk]
             for pk in counts}
    assert order == {1: [1, 2, 2, 3, 4, 5, 6], 2: [1, 2, 3, 4, 4, 5, 6], 3: list(range(1, 11))}, order
    # Key 1 waited for its retry; key 3 went on meanwhile.
    failed, retried = [r.at for r in arrivals if json.loads(r.body)["PrimaryKey"] == 1 and
                       json.loads(r.body)["FieldValues"]["n"] == 2]
    assert any(failed < r.at < retried for r in arrivals if json.loads(r.body)["PrimaryKey"] == 3), order


# == 6. Probe ==========================================================================================

def probes(rx, path):
    return [r for r in rx.requests(path) if r.header("X-Hook-Test") == "true"]


def test_probe_reactivates_a_hook_whose_target_answers_again(ctl, rx, second_daemon):
    stack = ctl
    secret = new_secret(stack)
    path, started_path = unique("/probe-"), unique("/probe-started-")
    hook = save_hook(stack, rx.url(path), ["contact.created"], Secret=secret, State="TooManyErrors")
    hid = hook["WebhookId"]
    watcher = save_hook(stack, rx.url(started_path), ["webhook%d.started" % hid])
    stack.sql("INSERT INTO webhook_usage (webhook_id, consecutive_errors) VALUES (%s, 9)", (hid,))
    rx.respond(path, status=503)
    saved_probes = len(probes(rx, path))  # the save's own test event
    put_controls(stack, hid, {"Probe": True})
    until(lambda: len(probes(rx, path)) >= saved_probes + 2, what="two probes")
    assert state(stack, hid) == "TooManyErrors"
    # One daemon per interval (1 s), though two run: over 3 s at most 3 intervals' worth, and a round.
    count = len(probes(rx, path))
    time.sleep(3.0)  # a bare sleep: counting what arrives in a fixed time
    assert len(probes(rx, path)) - count <= 4, [round(r.at, 2) for r in probes(rx, path)]
    probe = probes(rx, path)[-1]
    body = json.loads(probe.body)
    assert (probe.header("X-SuperOffice-Event"), body["Event"], body["PrimaryKey"]) == ("test", "test", 0)
    assert probe.header("X-SuperOffice-Signature") == signature(secret, probe.body)
    assert verifies(probe, secret)
    rx.respond(path, status=204)
    until(lambda: state(stack, hid) == "Active", what="the probe to re-activate the webhook")
    [started] = wait_deliveries(rx, started_path, 1)
    assert (json.loads(started.body)["Event"], json.loads(started.body)["PrimaryKey"]) == ("webhook.started", hid)
    assert usage(stack, hid)[2] == 0
    assert watcher["State"] == "Active"  # it heard of the start, as any subscriber would
    # Active: probing stops.
    count = len(probes(rx, path))
    time.sleep(2.5)  # a bare sleep: nothing more arrives
    assert len(probes(rx, path)) == count


def test_without_probe_a_hook_stays_as_it_is(ctl, rx):
    stack = ctl
    quiet, stopped = unique("/noprobe-"), unique("/stopped-probe-")
    a = save_hook(stack, rx.url(quiet), ["contact.created"], State="TooManyErrors")
    b = save_hook(stack, rx.url(stopped), ["contact.created"], State="Stopped")
    put_controls(stack, b["WebhookId"], {"Probe": True})  # Probe applies to TooManyErrors only
    before = (len(rx.requests(quiet)), len(rx.requests(stopped)))
    time.sleep(2.5)  # a bare sleep: two and a half probe intervals, and nothing arrives
    assert (len(rx.requests(quiet)), len(rx.requests(stopped))) == before
    assert (state(stack, a["WebhookId"]), state(stack, b["WebhookId"])) == ("TooManyErrors", "Stopped")
