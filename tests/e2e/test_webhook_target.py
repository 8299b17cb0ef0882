"""The target check: before a webhook is stored with a new or changed TargetUrl, the daemon POSTs
a signed `test` event to it, as NetServer does, and stores the webhook only when the target
answers 2xx. Every case here runs against a real HTTP receiver on loopback (the session stack
allows http:// and private targets, as a development installation does).

What is proven: the test event's bytes and headers on the wire (the signature recomputed here
from the secret and the exact body), which answers store the webhook and which refuse it with
which message, that a refusal stores nothing, that a replace which keeps the TargetUrl sends
nothing, that target_check=no sends nothing at all, and that target_check_concurrency bounds
how many saves may wait on targets at once.
"""
import base64
import collections
import datetime
import hashlib
import hmac
import json
import re
import secrets
import threading
import time

import pytest

from e2e_support import JSON_CT, REPO, basic, error_body, free_port, private_stack

SAVE = "/api/v1/Agents/Webhook/SaveWebhook"
REST = "/api/v1/Webhook"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
# The members of every event body, in NetServer's order; Properties follow them.
STANDARD_MEMBERS = ["EventId", "Timestamp", "Changes", "Event", "PrimaryKey", "Entity", "ContextIdentifier",
                    "ChangedByAssociateId", "WebhookName", "FieldValues"]


def package_version():
    """The daemon's version as configure.ac declares it: its User-Agent is webhookd/<version>."""
    text = (REPO / "configure.ac").read_text()
    return re.search(r"AC_INIT\(\[webhookd\],\s*\[([^\]]+)\]", text).group(1)


def save(stack, hook, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return stack.post(SAVE, headers=h, body=json.dumps(hook).encode())


def rest(stack, method, path, body=None, content_type="application/json", headers=None):
    h = {"Authorization": basic(stack.user, stack.password)}
    if body is not None:
        h["Content-Type"] = content_type
        body = json.dumps(body).encode()
    h.update(headers or {})
    return stack.request(method, path, headers=h, body=body)


def hook(url, name=None, events=("contact.created",), **extra):
    out = {"WebhookId": 0, "Name": name, "Events": list(events), "TargetUrl": url}
    out.update(extra)
    return out


def refused(why):
    """The 400 of a target that did not take the test event."""
    return error_body("BadRequest", "TargetUrl did not take the test event: %s." % why, "webhookd/webhook")


def answered(status_line):
    return refused('it answered "%s" (a webhook target must answer 2xx)' % status_line)


def stored(stack, url):
    """How many webhooks have this TargetUrl: a refusal must leave none behind."""
    return stack.sql("SELECT count(*) FROM webhook WHERE target_url = %s", (url,))[0][0]


def associate_id(stack, name):
    return stack.sql("SELECT associate_id FROM associate WHERE name = %s", (name,))[0][0]


def signature(secret, body):
    """X-SuperOffice-Signature computed independently: Base64(HMAC-SHA256(secret, body bytes))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode("ascii")


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def header_names(request):
    return [k.lower() for k, _ in request.headers]


# -- the test event on the wire -----------------------------------------------------------------------

def test_the_test_event_on_the_wire(webhooks, receiver):
    stack = webhooks
    secret = secrets.token_urlsafe(24)
    bearer = secrets.token_urlsafe(18)
    stack.secrets.update({secret, bearer})
    # Path and query are the target's own: a token in the query must reach it unchanged.
    url = receiver.url("/hooks/wire?token=abc%20def&x=1&x=2")
    properties = {
        "Tenant": "acme",
        # Standard members win over Properties of the same name, in any case.
        "EventId": "forged", "event": "forged", "WEBHOOKNAME": "forged", "fieldvalues": {"x": 1},
        "Nested": {"list": [1, "two", None, True], "empty": {}},
        "Unicode": "snø ☃ \"quoted\" back\\slash",
    }
    headers = {"X-Custom": "custom value", "Authorization": "Bearer " + bearer, "X-Empty": ""}
    before = datetime.datetime.now(datetime.timezone.utc)
    r = save(stack, hook(url, name="Wire hook", Secret=secret, Headers=headers, Properties=properties))
    after = datetime.datetime.now(datetime.timezone.utc)
    assert r.status == 200, r
    saved = r.json()
    assert saved["TargetUrl"] == url and saved["WebhookId"] > 0

    # The check is synchronous: by the time the save answered, the test event had arrived.
    [req] = receiver.requests()
    assert req.method == "POST"
    assert req.path == "/hooks/wire?token=abc%20def&x=1&x=2"
    body = req.body

    # Headers: the delivery's own and the hook's custom ones, each exactly once.
    names = header_names(req)
    for name in ("content-type", "user-agent", "x-superoffice-event", "x-superoffice-eventid", "x-hook-test",
                 "x-superoffice-signature", "x-custom", "authorization", "x-empty", "content-length"):
        assert names.count(name) == 1, (name, req.headers)
    assert "expect" not in names  # no 100-continue round trip
    assert req.header("Content-Type") == "application/json; charset=utf-8"
    assert req.header("User-Agent") == "webhookd/" + package_version()
    assert req.header("X-SuperOffice-Event") == "test"
    assert req.header("X-Hook-Test") == "true"
    assert req.header("Content-Length") == str(len(body))
    event_id = req.header("X-SuperOffice-EventId")
    assert GUID.match(event_id), event_id
    assert req.header("X-SuperOffice-Signature") == signature(secret, body)
    assert req.header("X-Custom") == "custom value"
    assert req.header("Authorization") == "Bearer " + bearer
    assert req.header("X-Empty") == ""

    # The body: the standard members in NetServer's order, then the Properties that do not clash.
    doc = json.loads(body, object_pairs_hook=collections.OrderedDict)
    assert list(doc) == STANDARD_MEMBERS + ["Tenant", "Nested", "Unicode"]
    assert doc["EventId"] == event_id
    stamp = doc["Timestamp"]
    assert TIMESTAMP.match(stamp), stamp
    when = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    assert before - datetime.timedelta(seconds=1) <= when <= after + datetime.timedelta(seconds=1)
    # And the exact bytes, so that the signature above covers what a receiver would parse.
    expected = (
        '{"EventId":"%s","Timestamp":"%s","Changes":[],"Event":"test","PrimaryKey":0,"Entity":"test",'
        '"ContextIdentifier":"Default","ChangedByAssociateId":%d,"WebhookName":"Wire hook","FieldValues":{},'
        '"Tenant":"acme","Nested":%s,"Unicode":%s}'
        % (event_id, stamp, associate_id(stack, stack.user), compact(properties["Nested"]),
           compact(properties["Unicode"]))).encode()
    assert body == expected


@pytest.mark.parametrize("secret", [None, ""], ids=["no secret", "empty secret"])
def test_the_test_event_is_unsigned_without_a_secret(webhooks, receiver, secret):
    stack = webhooks
    r = save(stack, hook(receiver.url("/hooks/unsigned"), Secret=secret))
    assert r.status == 200, r
    [req] = receiver.requests()
    assert "x-superoffice-signature" not in header_names(req)
    doc = json.loads(req.body, object_pairs_hook=collections.OrderedDict)
    # Without Name and Properties: WebhookName is null and nothing follows FieldValues.
    assert list(doc) == STANDARD_MEMBERS
    assert doc["WebhookName"] is None and doc["EventId"] == req.header("X-SuperOffice-EventId")


SECRETS = [
    ("one byte", lambda: "k"),
    ("a block of 64 bytes", lambda: secrets.token_hex(32)),
    ("longer than a block", lambda: secrets.token_hex(32) + "x"),  # HMAC hashes such a key first
    ("400 characters", lambda: secrets.token_hex(200)),
    ("not ASCII", lambda: "nøkkel-☃-" + secrets.token_hex(8)),  # the key is the secret's UTF-8 bytes
]


@pytest.mark.parametrize("make", [m for _, m in SECRETS], ids=[n for n, _ in SECRETS])
def test_the_signature_covers_any_secret(webhooks, receiver, make):
    stack = webhooks
    secret = make()
    if len(secret) > 1:  # one letter is in every log anyway: registering it would prove nothing
        stack.secrets.add(secret)
    r = save(stack, hook(receiver.url("/hooks/signed"), Secret=secret))
    assert (r.status, r.json()["Secret"]) == (200, secret), r
    [req] = receiver.requests()
    assert req.header("X-SuperOffice-Signature") == signature(secret, req.body)


def test_each_test_event_has_its_own_event_id(webhooks, receiver):
    stack = webhooks
    for i in range(3):
        assert save(stack, hook(receiver.url("/hooks/ids/%d" % i))).status == 200
    ids = [r.header("X-SuperOffice-EventId") for r in receiver.requests()]
    assert len(ids) == 3 and len(set(ids)) == 3, ids
    assert [json.loads(r.body)["EventId"] for r in receiver.requests()] == ids


# -- which answers store the webhook ------------------------------------------------------------------

@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_a_2xx_answer_stores_the_webhook(webhooks, receiver, status):
    stack = webhooks
    receiver.respond("/hooks/ok", status=status, body=b"" if status == 204 else b'{"ok":true}')
    url = receiver.url("/hooks/ok")
    r = save(stack, hook(url, name="ok-%d" % status))
    assert r.status == 200, r
    assert r.json()["Name"] == "ok-%d" % status
    assert len(receiver.requests("/hooks/ok")) == 1
    assert stack.sql("SELECT webhook_id, name FROM webhook WHERE target_url = %s", (url,)) == [
        (r.json()["WebhookId"], "ok-%d" % status)]


REFUSALS = [
    (500, "HTTP/1.1 500 Internal Server Error"),
    (404, "HTTP/1.1 404 Not Found"),
    (410, "HTTP/1.1 410 Gone"),
    (302, "HTTP/1.1 302 Found"),
    (307, "HTTP/1.1 307 Temporary Redirect"),
    (304, "HTTP/1.1 304 Not Modified"),
    (599, "HTTP/1.1 599 "),  # a status without a reason phrase: the status line as received
]


@pytest.mark.parametrize("status,line", REFUSALS, ids=[str(s) for s, _ in REFUSALS])
def test_any_other_answer_refuses_the_webhook(webhooks, receiver, status, line):
    stack = webhooks
    # A redirect names a second path on the same receiver: it must never be followed.
    receiver.respond("/hooks/no", status=status, headers=[("Location", receiver.url("/hooks/elsewhere"))],
                     body=b"not today")
    url = receiver.url("/hooks/no")
    r = save(stack, hook(url))
    assert (r.status, r.headers["content-type"], r.body) == (400, JSON_CT, answered(line))
    assert len(receiver.requests("/hooks/no")) == 1
    assert receiver.requests("/hooks/elsewhere") == []
    assert stored(stack, url) == 0


@pytest.mark.parametrize("status,body", [(200, None), (500, answered("HTTP/1.1 500 Internal Server Error"))])
def test_a_long_answer_is_judged_by_its_status(webhooks, receiver, status, body):
    """The daemon keeps a few KiB of the answer and stops reading there: a long body neither fails
    a 2xx nor hides a 5xx."""
    stack = webhooks
    receiver.respond("/hooks/long", status=status, body=b"x" * 200000)
    url = receiver.url("/hooks/long")
    r = save(stack, hook(url))
    if body is None:
        assert r.status == 200, r
        assert stored(stack, url) == 1
    else:
        assert (r.status, r.body) == (400, body)
        assert stored(stack, url) == 0


def test_the_rest_create_is_checked_the_same_way(webhooks, receiver):
    stack = webhooks
    receiver.respond("/hooks/rest-no", status=500)
    url = receiver.url("/hooks/rest-no")
    r = rest(stack, "POST", REST, hook(url))
    assert (r.status, r.body) == (400, answered("HTTP/1.1 500 Internal Server Error"))
    assert "location" not in r.headers
    assert stored(stack, url) == 0
    r = rest(stack, "POST", REST, hook(receiver.url("/hooks/rest-ok")))
    assert r.status == 201, r
    assert len(receiver.requests("/hooks/rest-ok")) == 1


def test_a_target_that_closes_without_answering_is_refused(webhooks, receiver):
    stack = webhooks
    receiver.respond("/hooks/hangup", close=True)
    url = receiver.url("/hooks/hangup")
    r = save(stack, hook(url))
    assert (r.status, r.body) == (400, refused("the server closed the connection without answering"))
    assert len(receiver.requests("/hooks/hangup")) == 1  # it did get the event, and said nothing
    assert stored(stack, url) == 0


def test_a_closed_port_is_refused(webhooks):
    stack = webhooks
    url = "http://127.0.0.1:%d/hooks/nobody" % free_port()  # bound, then closed again: nothing listens
    r = save(stack, hook(url))
    assert (r.status, r.body) == (400, refused("connection refused"))
    assert stored(stack, url) == 0


# -- replaces ---------------------------------------------------------------------------------------

def test_a_replace_keeping_the_target_url_sends_nothing(webhooks, receiver):
    stack = webhooks
    url = receiver.url("/hooks/same")
    r = save(stack, hook(url, name="first"))
    assert r.status == 200, r
    hook_id = r.json()["WebhookId"]
    assert len(receiver.requests("/hooks/same")) == 1
    # From now on the target refuses: a check would fail the saves below, so each 200 also proves
    # that no check ran (and the request log proves that nothing was sent at all).
    receiver.respond("/hooks/same", status=500)
    changed = dict(hook(url, name="second", events=["contact.changed"]), WebhookId=hook_id)
    r = save(stack, changed)
    assert (r.status, r.json()["Name"]) == (200, "second"), r
    r = rest(stack, "PUT", "%s/%d" % (REST, hook_id), dict(changed, Name="third"))
    assert (r.status, r.json()["Name"]) == (200, "third"), r
    r = rest(stack, "PATCH", "%s/%d" % (REST, hook_id), {"Name": "fourth"}, "application/merge-patch+json")
    assert (r.status, r.json()["Name"]) == (200, "fourth"), r
    r = rest(stack, "PATCH", "%s/%d" % (REST, hook_id), [{"op": "replace", "path": "/Name", "value": "fifth"}],
             "application/json-patch+json")
    assert (r.status, r.json()["Name"]) == (200, "fifth"), r
    assert len(receiver.requests()) == 1
    assert stack.sql("SELECT name, target_url FROM webhook WHERE webhook_id = %s", (hook_id,)) == [("fifth", url)]


def test_a_changed_target_url_is_checked(webhooks, receiver):
    stack = webhooks
    first, second, third = (receiver.url("/hooks/move/%d" % i) for i in (1, 2, 3))
    r = save(stack, hook(first, name="mover"))
    assert r.status == 200, r
    hook_id = r.json()["WebhookId"]

    # A new TargetUrl that answers 2xx: the new target gets the test event, with the new name.
    r = save(stack, dict(hook(second, name="moved"), WebhookId=hook_id))
    assert (r.status, r.json()["TargetUrl"]) == (200, second), r
    [req] = receiver.requests("/hooks/move/2")
    assert json.loads(req.body)["WebhookName"] == "moved"
    assert len(receiver.requests("/hooks/move/1")) == 1  # the old target hears nothing more

    # A new TargetUrl that refuses: the replace is refused and the row stays as it was.
    receiver.respond("/hooks/move/3", status=410)
    row = stack.sql("SELECT to_jsonb(w) FROM webhook w WHERE webhook_id = %s", (hook_id,))
    r = save(stack, dict(hook(third, name="lost"), WebhookId=hook_id))
    assert (r.status, r.body) == (400, answered("HTTP/1.1 410 Gone"))
    r = rest(stack, "PUT", "%s/%d" % (REST, hook_id), hook(third, name="lost"))
    assert (r.status, r.body) == (400, answered("HTTP/1.1 410 Gone"))
    r = rest(stack, "PATCH", "%s/%d" % (REST, hook_id), {"TargetUrl": third, "Name": "lost"},
             "application/merge-patch+json")
    assert (r.status, r.body) == (400, answered("HTTP/1.1 410 Gone"))
    assert len(receiver.requests("/hooks/move/3")) == 3
    assert stack.sql("SELECT to_jsonb(w) FROM webhook w WHERE webhook_id = %s", (hook_id,)) == row


# -- settings: the timeout, target_check=no, the concurrency bound --------------------------------

@pytest.fixture(scope="module")
def quick():
    """A stack whose target check gives up after 500 ms."""
    with private_stack("webhookd-target-timeout-", "tess", {"WEBHOOKD_TARGET_CHECK_TIMEOUT_MS": "500"}) as s:
        yield s


def test_a_target_slower_than_the_timeout_is_refused(quick, receiver):
    receiver.respond("/hooks/slow", delay=3)
    url = receiver.url("/hooks/slow")
    started = time.monotonic()
    r = save(quick, hook(url))
    took = time.monotonic() - started
    assert (r.status, r.headers["content-type"], r.body) == (400, JSON_CT, refused("timed out after 500 ms"))
    # Cut at the timeout, not when the target would have answered.
    assert took < 2.5, took
    assert len(receiver.requests("/hooks/slow")) == 1
    assert stored(quick, url) == 0
    # A target within the timeout is fine on the same stack.
    assert save(quick, hook(receiver.url("/hooks/fast"))).status == 200


@pytest.fixture(scope="module")
def unchecked():
    """A stack that stores webhooks without asking their targets (target_check = no)."""
    with private_stack("webhookd-target-off-", "uma", {"WEBHOOKD_TARGET_CHECK": "no"}) as s:
        yield s


def test_target_check_no_stores_without_any_request(unchecked, receiver):
    receiver.respond("/hooks/unasked", status=500)
    url = receiver.url("/hooks/unasked")
    r = save(unchecked, hook(url, name="unasked"))
    assert (r.status, r.json()["TargetUrl"]) == (200, url), r
    nobody = "http://127.0.0.1:%d/hooks/nobody" % free_port()
    r = save(unchecked, hook(nobody))
    assert (r.status, r.json()["TargetUrl"]) == (200, nobody), r
    r = rest(unchecked, "POST", REST, hook(url, name="rest"))
    assert r.status == 201, r
    assert receiver.requests() == []
    assert stored(unchecked, url) == 2 and stored(unchecked, nobody) == 1
    # The syntax of TargetUrl is still checked: only the request is skipped.
    r = save(unchecked, hook("ftp://example.com/x"))
    assert (r.status, r.body) == (400, error_body(
        "BadRequest", "TargetUrl must use http:// or https://, not ftp://.", "webhookd/webhook"))


@pytest.fixture(scope="module")
def one_slot():
    """A stack with a single target check slot."""
    with private_stack("webhookd-target-slots-", "sol", {"WEBHOOKD_TARGET_CHECK_CONCURRENCY": "1"}) as s:
        yield s


BUSY = error_body("ServiceUnavailable", "Every target check slot is busy; try again shortly.", "webhookd/webhook")


def test_target_checks_are_bounded_by_the_slots(one_slot, receiver):
    stack = one_slot
    existing = save(stack, hook(receiver.url("/hooks/existing"), name="existing"))
    assert existing.status == 200, existing
    existing = existing.json()
    receiver.clear()

    # One save waits on a slow target (3 s, within the 5 s timeout) and holds the only slot.
    receiver.respond("/hooks/holder", delay=3)
    held = []
    holder = threading.Thread(target=lambda: held.append(save(stack, hook(receiver.url("/hooks/holder")))))
    holder.start()
    try:
        receiver.wait_for(1, "/hooks/holder")  # the check is in flight now
        for attempt in (lambda: save(stack, hook(receiver.url("/hooks/second"))),
                        lambda: rest(stack, "POST", REST, hook(receiver.url("/hooks/second")))):
            r = attempt()
            assert (r.status, r.headers["content-type"], r.headers.get("retry-after"), r.body) == (
                503, JSON_CT, "1", BUSY), r
        # A replace that keeps its TargetUrl needs no check, hence no slot.
        r = save(stack, dict(existing, Name="renamed while busy"))
        assert (r.status, r.json()["Name"]) == (200, "renamed while busy"), r
        assert holder.is_alive()  # all of the above happened while the slot was held
    finally:
        holder.join(30)
    assert len(held) == 1 and held[0].status == 200, held
    assert receiver.requests("/hooks/second") == []  # refused at once: nothing was sent
    assert stored(stack, receiver.url("/hooks/second")) == 0

    # The slot is free again, after a success and after a refusal alike.
    receiver.respond("/hooks/refuses", status=500)
    r = save(stack, hook(receiver.url("/hooks/refuses")))
    assert (r.status, r.body) == (400, answered("HTTP/1.1 500 Internal Server Error"))
    r = save(stack, hook(receiver.url("/hooks/second")))
    assert r.status == 200, r
    assert len(receiver.requests("/hooks/second")) == 1
