"""Delivery end to end: events signalled through the API or from SQL, queued in PostgreSQL
(migrations/0006_delivery.sql) and posted by webhook-deliverd to real receivers on loopback.

What is proven, with exact bytes where there are bytes:
  1. SignalEvent (agent and REST) queues one delivery per Active subscribed webhook and none for
     Stopped, TooManyErrors or unsubscribed ones; its validation errors.
  2. The request on the wire: every header, the body, both signatures recomputed here (plain and
     whsec_ secrets), custom Headers, Properties merged with the standard members winning.
  3. webhook_signal() from SQL is transactional, and works from an application's own trigger.
  4. Outcomes: 2xx succeed; failures retry on the schedule (lower bounds on the receiver's arrival
     times), a new cycle gets a new EventId, TooManyErrors after delivery_max_consecutive_errors
     (and the webhook{ID}.errors event), 410 at once, redirects never followed, Retry-After,
     hang-ups and timeouts, GetLastError (capped, secret redacted), reactivation.
  5. TestWebhook, agent and REST.

The daemons' faults (SIGKILL, SIGTERM, two daemons, the per-webhook cap, metrics) are in
test_delivery_faults.py, which shares the helpers of the first section.

One private stack with a fast schedule serves the module: retries after 200 and 400 ms, a new cycle
after 1 s, TooManyErrors after 4 failed attempts in a row, a 1 s timeout and 2 s leases. Every test
uses paths and event names of its own, and its webhooks (hence their queued deliveries) are deleted
after it. Waits poll with deadlines; a bare sleep only ever proves that something does NOT arrive.
"""
import base64
import collections
import datetime
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import signal as signals
import time
import uuid

import pytest

import receiver as receiver_module
from e2e_support import JSON_CT, REPO, basic, error_body, free_port, jstr, pid_alive, private_stack
from receiver import Receiver

AGENT = "/api/v1/Agents/Webhook/"
REST = "/api/v1/Webhook"
MERGE_PATCH = "application/merge-patch+json"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
HTTP_DATE = r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT"
STANDARD_MEMBERS = ["EventId", "Timestamp", "Changes", "Event", "PrimaryKey", "Entity", "ContextIdentifier",
                    "ChangedByAssociateId", "WebhookName", "FieldValues"]
# What the receiver's BaseHTTPRequestHandler says about itself in every answer.
RECEIVER_SERVER = "%s %s" % (http.server.BaseHTTPRequestHandler.server_version,
                             http.server.BaseHTTPRequestHandler.sys_version)

FAST = {
    "WEBHOOKD_DELIVERY_RETRY_DELAYS_MS": "200,400",
    "WEBHOOKD_DELIVERY_CYCLE_DELAY_S": "1",
    "WEBHOOKD_DELIVERY_LEASE_S": "2",
    "WEBHOOKD_DELIVERY_TIMEOUT_MS": "1000",
    "WEBHOOKD_DELIVERY_MAX_CONSECUTIVE_ERRORS": "4",
}
RETRY_DELAYS = (0.2, 0.4)
CYCLE_DELAY = 1.0
MAX_CONSECUTIVE = 4


# -- shared helpers (test_delivery_faults.py imports these) ------------------------------------------

def package_version():
    text = (REPO / "configure.ac").read_text()
    return re.search(r"AC_INIT\(\[webhookd\],\s*\[([^\]]+)\]", text).group(1)


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def send(stack, method, path, body=None, content_type="application/json", headers=None):
    """One request as the stack's associate; body: bytes/str as is, anything else as compact JSON."""
    h = {"Authorization": basic(stack.user, stack.password)}
    if body is not None:
        if content_type is not None:
            h["Content-Type"] = content_type
        if not isinstance(body, (bytes, str)):
            body = compact(body)
        if isinstance(body, str):
            body = body.encode()
    h.update(headers or {})
    return stack.request(method, path, headers=h, body=body)


def agent(stack, method, body=None):
    return send(stack, "POST", AGENT + method, body)


def new_secret(stack, prefix="sec-"):
    value = prefix + secrets.token_urlsafe(18)
    stack.secrets.add(value)
    return value


def unique(prefix):
    """A name of this test's own (paths, events): late deliveries of other tests never match it."""
    return "%s%s" % (prefix, uuid.uuid4().hex[:10])


def save_hook(stack, url, events, **extra):
    """SaveWebhook (the target must answer 2xx to the test event now); returns the stored webhook."""
    body = {"WebhookId": 0, "Name": extra.pop("Name", None), "Events": list(events), "TargetUrl": url}
    body.update(extra)
    r = agent(stack, "SaveWebhook", body)
    assert r.status == 200, r
    return r.json()


def get_hook(stack, hook_id):
    r = agent(stack, "GetWebhook", {"WebhookId": hook_id})
    assert r.status == 200, r
    return r.json()


def associate_id(stack):
    return stack.sql("SELECT associate_id FROM associate WHERE lower(name) = lower(%s)", (stack.user,))[0][0]


def signal(stack, event, primary_key, data=None):
    """SignalEvent (agent): 204 without a body, before anything is delivered."""
    r = agent(stack, "SignalEvent", {"EventName": event, "PrimaryKey": primary_key, "Data": data})
    assert (r.status, r.body, r.headers.get("content-type")) == (204, b"", None), r
    return r


def deliveries(rx, path):
    """What reached path, without the test events of saves and TestWebhook."""
    return [r for r in rx.requests(path) if r.header("X-Hook-Test") is None]


def wait_deliveries(rx, path, n, timeout=20.0):
    """Polls until at least n deliveries reached path; returns them all."""
    deadline = time.monotonic() + timeout
    while True:
        got = deliveries(rx, path)
        if len(got) >= n:
            return got
        assert time.monotonic() < deadline, "only %d of %d deliveries reached %s in %ss" % (
            len(got), n, path, timeout)
        time.sleep(0.02)


def until(check, timeout=20.0, what="the condition"):
    """Polls check() until it returns something true; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out after %ss waiting for %s (last: %r)" % (timeout, what, value)
        time.sleep(0.05)


def usage(stack, hook_id):
    """(total_calls, total_errors, consecutive_errors) of a webhook, None without a row."""
    rows = stack.sql("SELECT total_calls, total_errors, consecutive_errors FROM webhook_usage WHERE webhook_id = %s",
                     (hook_id,))
    return rows[0] if rows else None


def attempts(stack, hook_id):
    """The delivery log of a webhook: (primary_key, cycle, attempt, status, error) in order."""
    return stack.sql("SELECT primary_key, cycle, attempt, status, error FROM webhook_attempt WHERE webhook_id = %s "
                     "ORDER BY attempt_id", (hook_id,))


def queued(stack, hook_id):
    return stack.sql("SELECT count(*) FROM webhook_delivery WHERE webhook_id = %s", (hook_id,))[0][0]


def state(stack, hook_id):
    """The State GetWebhook answers."""
    return get_hook(stack, hook_id)["State"]


def last_errors(stack, hook_id):
    """GetLastError of the agent and of the REST resource: both 200 with the same JSON string."""
    a = agent(stack, "GetLastError", {"WebhookId": hook_id})
    r = send(stack, "GET", "%s/%d/LastError" % (REST, hook_id))
    assert (a.status, a.headers.get("content-type")) == (200, JSON_CT), a
    assert (r.status, r.headers.get("content-type"), r.body) == (200, JSON_CT, a.body), r
    return json.loads(a.body)


def signature(secret, body):
    """X-SuperOffice-Signature, computed independently: base64(HMAC-SHA256(secret bytes, body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode("ascii")


def standard_signature(secret, msg_id, timestamp, body):
    """webhook-signature (Standard Webhooks): v1,base64(HMAC-SHA256(key, id.timestamp.body)); the key is
    the base64-decoded rest of a whsec_ secret, else the secret's bytes."""
    if secret.startswith("whsec_"):
        key = base64.b64decode(secret[len("whsec_"):], validate=True)
    else:
        key = secret.encode()
    mac = hmac.new(key, ("%s.%s." % (msg_id, timestamp)).encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def event_body(req, event, primary_key, fields, name, changed_by, properties=(), entity=None):
    """The exact bytes a delivery must carry; EventId and Timestamp are read from the request.
    fields: (name, value) pairs of Data in the order expected; properties: (name, value) pairs."""
    doc = json.loads(req.body, object_pairs_hook=collections.OrderedDict)
    fields = list(fields)
    text = ('{"EventId":%s,"Timestamp":%s,"Changes":%s,"Event":%s,"PrimaryKey":%d,"Entity":%s,'
            '"ContextIdentifier":"Default","ChangedByAssociateId":%d,"WebhookName":%s,"FieldValues":{%s}'
            % (jstr(req.header("X-SuperOffice-EventId")), jstr(doc["Timestamp"]), compact([k for k, _ in fields]),
               jstr(event), primary_key, jstr(entity if entity is not None else event.split(".", 1)[0]),
               changed_by, jstr(name), ",".join("%s:%s" % (jstr(k), compact(v)) for k, v in fields)))
    text += "".join(",%s:%s" % (jstr(k), compact(v)) for k, v in properties) + "}"
    return text.encode()


def stamp_of(req):
    text = json.loads(req.body)["Timestamp"]
    assert TIMESTAMP.match(text), text
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


def answer_head(status_line, date, headers=(), length=0):
    """The head of an answer of the test receiver as the daemon keeps it (status line and headers)."""
    lines = [status_line, "Server: " + RECEIVER_SERVER, "Date: " + date]
    lines += ["%s: %s" % h for h in headers]
    lines.append("Content-Length: %d" % length)
    return "\r\n".join(lines) + "\r\n\r\n"


def date_in(text):
    m = re.search(r"\r\nDate: (%s)\r\n" % HTTP_DATE, text)
    assert m, text
    return m.group(1)


class StampedRequest(receiver_module.Request):
    """A receiver Request that knows when it arrived (time.monotonic() after its body was read)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.at = time.monotonic()


@pytest.fixture(scope="module", autouse=True)
def arrival_times():
    """Every request the receivers record from now on carries its arrival time (.at)."""
    saved = receiver_module.Request
    receiver_module.Request = StampedRequest
    yield
    receiver_module.Request = saved


def new_receiver():
    rx = Receiver()
    # The stdlib server listens with a backlog of 5: a burst of connections beyond that would wait
    # for SYN retransmissions (1 s) and look like slow deliveries. Linux takes a new backlog.
    rx._server.socket.listen(128)
    return rx


def leaked_secrets(stack):
    found = []
    for f in sorted((stack.dir / "log").glob("*")):
        text = f.read_bytes()
        found += ["%s (a secret of %d bytes)" % (f.name, len(s)) for s in stack.secrets if s.encode() in text]
    return found


def deliverd_pid(stack):
    return int((stack.dir / "deliverd.pid").read_text().strip())


def stop_stack_deliverd(stack):
    """Stops the stack's own delivery daemon (a test module runs its own, or none)."""
    pid = deliverd_pid(stack)
    os.kill(pid, signals.SIGTERM)
    until(lambda: not pid_alive(pid), what="the stack's webhook-deliverd to stop")


def deliverd_log_tail(stack, n=1500):
    return (stack.dir / "log" / "deliverd.log").read_text(errors="replace")[-n:]


# -- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dstack():
    with private_stack("webhookd-delivery-", "dora", FAST) as s:
        yield s
        leaked = leaked_secrets(s)
        assert not leaked, "secrets reached the logs: %s" % leaked


@pytest.fixture(scope="module")
def rx_server():
    rx = new_receiver()
    yield rx
    rx.close()


@pytest.fixture
def rx(rx_server):
    rx_server.clear()
    yield rx_server
    rx_server.clear()


@pytest.fixture
def hooks(dstack, rx):
    """The module's stack; every webhook (and so every queued delivery) is gone after the test, and
    the delivery daemon must have survived it."""
    pid = deliverd_pid(dstack)
    yield dstack
    dstack.sql("DELETE FROM webhook")
    assert pid_alive(pid), "webhook-deliverd (pid %d) died during this test:\n%s" % (pid, deliverd_log_tail(dstack))


# == 1. SignalEvent: who gets a delivery ===============================================================

@pytest.mark.parametrize("form", ["agent", "rest"])
def test_signal_reaches_every_active_subscriber_and_no_one_else(hooks, rx, form):
    stack = hooks
    event = unique("ticket.") + ".created"
    paths = {k: unique("/sig-%s-" % k) for k in ("a1", "a2", "multi", "stopped", "errors", "other")}
    a1 = save_hook(stack, rx.url(paths["a1"]), [event], Name="one")
    a2 = save_hook(stack, rx.url(paths["a2"]), [event], Name="two")
    # Subscribed to several events, this one among them: still one delivery.
    multi = save_hook(stack, rx.url(paths["multi"]), ["sale.created", event, "person.changed"], Name="multi")
    stopped = save_hook(stack, rx.url(paths["stopped"]), [event], State="Stopped")
    errors = save_hook(stack, rx.url(paths["errors"]), [event], State="TooManyErrors")
    other = save_hook(stack, rx.url(paths["other"]), [event + "x", "ticket.changed"])
    data = {"id": 7, "title": "Printer on fire"}

    if form == "agent":
        signal(stack, event, 7, data)
    else:
        r = send(stack, "POST", "%s/%s/7" % (REST, event), data)
        assert (r.status, r.body, r.headers.get("content-type")) == (204, b"", None), r

    me = associate_id(stack)
    for hook, key in ((a1, "a1"), (a2, "a2"), (multi, "multi")):
        [req] = wait_deliveries(rx, paths[key], 1)
        assert req.header("X-SuperOffice-Event") == event
        assert req.body == event_body(req, event, 7, data.items(), hook["Name"], me)
    # Each delivered one is finished (off the queue, one attempt logged): nothing more can come of it.
    for hook in (a1, a2, multi):
        until(lambda: queued(stack, hook["WebhookId"]) == 0, what="the queue to empty")
        assert attempts(stack, hook["WebhookId"]) == [(7, 1, 1, 200, None)]
    for key in ("a1", "a2", "multi"):
        assert len(deliveries(rx, paths[key])) == 1
    # The others got nothing, and nothing was queued or attempted for them.
    for hook, key in ((stopped, "stopped"), (errors, "errors"), (other, "other")):
        assert deliveries(rx, paths[key]) == [], key
        assert queued(stack, hook["WebhookId"]) == 0, key
        assert attempts(stack, hook["WebhookId"]) == [], key
        assert usage(stack, hook["WebhookId"]) is None, key
    # And the event changed no state.
    assert [state(stack, h["WebhookId"]) for h in (stopped, errors, other)] == ["Stopped", "TooManyErrors", "Active"]


def test_signal_in_camel_case_without_data_or_primary_key(hooks, rx):
    """The TypeScript client's camelCase; Data null and PrimaryKey absent: no fields, key 0."""
    stack = hooks
    event = unique("doc.") + ".archived"
    path = unique("/sig-camel-")
    save_hook(stack, rx.url(path), [event], Name="camel")
    r = agent(stack, "SignalEvent", {"eventName": event, "data": None})
    assert (r.status, r.body) == (204, b""), r
    [req] = wait_deliveries(rx, path, 1)
    assert req.body == event_body(req, event, 0, [], "camel", associate_id(stack))


def test_rest_signal_without_a_body(hooks, rx):
    stack = hooks
    event = unique("sale.") + ".closed"
    path = unique("/sig-rest-empty-")
    save_hook(stack, rx.url(path), [event], Name="rest")
    r = send(stack, "POST", "%s/%s/-12" % (REST, event))
    assert (r.status, r.body) == (204, b""), r
    [req] = wait_deliveries(rx, path, 1)
    assert req.body == event_body(req, event, -12, [], "rest", associate_id(stack))


def test_signal_for_an_event_nobody_subscribes_to(hooks, rx):
    stack = hooks
    before = stack.sql("SELECT count(*) FROM webhook_delivery")[0][0]
    signal(stack, unique("nobody.") + ".listens", 1, {"a": 1})
    assert stack.sql("SELECT count(*) FROM webhook_delivery")[0][0] == before


NOT_AN_OBJECT = "Data must be an object of field names and values, or null."
BAD_EVENT_NAME = "The event name must be 1 to 200 bytes without white space, control characters or commas."
SIGNAL_ERRORS = [
    ("not an object", [1, 2], "The body must be a JSON object: {EventName, PrimaryKey, Data}."),
    ("EventName missing", {"PrimaryKey": 1}, 'EventName is required: a string such as "contact.created".'),
    ("EventName null", {"EventName": None, "PrimaryKey": 1},
     'EventName is required: a string such as "contact.created".'),
    ("EventName a number", {"EventName": 5}, 'EventName is required: a string such as "contact.created".'),
    ("EventName empty", {"EventName": ""},
     "EventName must be 1 to 200 bytes without white space, control characters or commas."),
    ("EventName with a space", {"EventName": "contact created"},
     "EventName must be 1 to 200 bytes without white space, control characters or commas."),
    ("EventName with a comma", {"EventName": "contact.created,contact.deleted"},
     "EventName must be 1 to 200 bytes without white space, control characters or commas."),
    ("EventName with a tab", {"EventName": "contact.\tcreated"},
     "EventName must be 1 to 200 bytes without white space, control characters or commas."),
    ("EventName too long", {"EventName": "e" * 201},
     "EventName must be 1 to 200 bytes without white space, control characters or commas."),
    ("EventName twice", {"EventName": "a.b", "eventname": "a.b"},
     "EventName is given more than once (property names match in any case)."),
    ("PrimaryKey a string", {"EventName": "a.b", "PrimaryKey": "7"}, "PrimaryKey must be a 32-bit integer."),
    ("PrimaryKey a fraction", {"EventName": "a.b", "PrimaryKey": 1.5}, "PrimaryKey must be a 32-bit integer."),
    ("PrimaryKey too big", {"EventName": "a.b", "PrimaryKey": 2147483648}, "PrimaryKey must be a 32-bit integer."),
    ("PrimaryKey too small", {"EventName": "a.b", "PrimaryKey": -2147483649}, "PrimaryKey must be a 32-bit integer."),
    ("PrimaryKey an object", {"EventName": "a.b", "PrimaryKey": {"id": 1}}, "PrimaryKey must be a 32-bit integer."),
    ("Data an array", {"EventName": "a.b", "Data": [1]}, NOT_AN_OBJECT),
    ("Data a string", {"EventName": "a.b", "Data": "x=1"}, NOT_AN_OBJECT),
    ("Data a number", {"EventName": "a.b", "Data": 3}, NOT_AN_OBJECT),
    ("Data too big", {"EventName": "a.b", "Data": {"k": "x" * 16380}},
     "Data must be at most 16384 bytes as compact JSON."),
]


@pytest.mark.parametrize("body,message", [c[1:] for c in SIGNAL_ERRORS], ids=[c[0] for c in SIGNAL_ERRORS])
def test_signal_event_validation(hooks, rx, body, message):
    stack = hooks
    # A subscriber to the event most cases name: a refused signal must queue nothing for it.
    save_hook(stack, rx.url(unique("/sig-invalid-")), ["a.b"])
    r = agent(stack, "SignalEvent", body)
    assert (r.status, r.headers.get("content-type"), r.body) == (
        400, JSON_CT, error_body("BadRequest", message, "webhookd/request")), r
    assert stack.sql("SELECT count(*) FROM webhook_delivery")[0][0] == 0


def test_signal_event_without_a_body(hooks):
    r = agent(hooks, "SignalEvent")
    assert (r.status, r.body) == (400, error_body("BadRequest", "The body must be {EventName, PrimaryKey, Data}.",
                                                  "webhookd/request")), r


def test_data_at_the_size_limit_is_taken(hooks, rx):
    """16384 bytes of compact JSON is the limit itself: taken, and delivered whole."""
    stack = hooks
    event = unique("big.") + ".data"
    path = unique("/sig-big-")
    save_hook(stack, rx.url(path), [event], Name="big")
    value = "x" * (16384 - len('{"k":""}'))
    signal(stack, event, 1, {"k": value})
    [req] = wait_deliveries(rx, path, 1)
    assert req.body == event_body(req, event, 1, [("k", value)], "big", associate_id(stack))


REST_SIGNAL_ERRORS = [
    ("/a.b/abc", {}, "The primary key in the path must be a 32-bit integer."),
    ("/a.b/1.5", {}, "The primary key in the path must be a 32-bit integer."),
    ("/a.b/2147483648", {}, "The primary key in the path must be a 32-bit integer."),
    ("/a.b/-2147483649", {}, "The primary key in the path must be a 32-bit integer."),
    ("/a,b/1", {}, BAD_EVENT_NAME),
    ("/%s/1" % ("e" * 201), {}, BAD_EVENT_NAME),
    ("/a.b/1", [1], NOT_AN_OBJECT),
    ("/a.b/1", '"text"', NOT_AN_OBJECT),
    ("/a.b/1", {"k": "x" * 16380}, "Data must be at most 16384 bytes as compact JSON."),
]


@pytest.mark.parametrize("path,body,message", REST_SIGNAL_ERRORS,
                         ids=["pk letters", "pk fraction", "pk too big", "pk too small", "event comma",
                              "event too long", "data array", "data string", "data too big"])
def test_rest_signal_validation(hooks, rx, path, body, message):
    stack = hooks
    save_hook(stack, rx.url(unique("/sig-rest-invalid-")), ["a.b"])
    r = send(stack, "POST", REST + path, body)
    assert (r.status, r.headers.get("content-type"), r.body) == (
        400, JSON_CT, error_body("BadRequest", message, "webhookd/request")), r
    assert stack.sql("SELECT count(*) FROM webhook_delivery")[0][0] == 0


# == 2. The request on the wire ========================================================================

def check_wire(stack, req, hook, secret, event, primary_key, fields, before, after, properties=(),
               custom_headers=()):
    """Every header of a delivery and its exact body; returns the body."""
    body = req.body
    names = [k.lower() for k, _ in req.headers]
    own = ["content-type", "user-agent", "x-superoffice-event", "x-superoffice-eventid", "x-superoffice-retry",
           "webhook-id", "webhook-timestamp", "content-length"]
    if secret:
        own += ["x-superoffice-signature", "webhook-signature"]
    for name in own + [k.lower() for k, _ in custom_headers]:
        assert names.count(name) == 1, (name, req.headers)
    if not secret:
        assert "x-superoffice-signature" not in names and "webhook-signature" not in names, req.headers
    assert "x-hook-test" not in names and "expect" not in names
    assert req.method == "POST"
    assert req.header("Content-Type") == "application/json; charset=utf-8"
    assert req.header("User-Agent") == "webhookd/" + package_version()
    assert req.header("Content-Length") == str(len(body))
    assert req.header("X-SuperOffice-Event") == event
    event_id = req.header("X-SuperOffice-EventId")
    assert GUID.match(event_id), event_id
    assert req.header("webhook-id") == event_id
    assert req.header("X-SuperOffice-Retry") == "0"
    sent_at = req.header("webhook-timestamp")
    assert re.fullmatch(r"[1-9]\d*", sent_at), sent_at
    assert int(before.timestamp()) - 1 <= int(sent_at) <= int(time.time()) + 1
    for name, value in custom_headers:
        assert req.header(name) == value, name
    if secret:
        assert req.header("X-SuperOffice-Signature") == signature(secret, body)
        assert req.header("webhook-signature") == standard_signature(secret, event_id, sent_at, body)
    # The body: the standard members in order, then the Properties that do not clash.
    doc = json.loads(body, object_pairs_hook=collections.OrderedDict)
    assert list(doc) == STANDARD_MEMBERS + [k for k, _ in properties]
    assert doc["EventId"] == event_id
    when = stamp_of(req)
    assert before - datetime.timedelta(seconds=1) <= when <= after + datetime.timedelta(seconds=1)
    assert body == event_body(req, event, primary_key, fields, hook["Name"], associate_id(stack), properties)
    return body


def test_the_delivery_on_the_wire(hooks, rx):
    stack = hooks
    secret = new_secret(stack)
    bearer = new_secret(stack, "tok-")
    event = unique("contact.") + ".created"
    path = unique("/wire-")
    custom = [("X-Custom", "custom value"), ("Authorization", "Bearer " + bearer), ("X-Tenant", "acme")]
    properties = collections.OrderedDict([
        ("Tenant", "acme"),
        # Standard members win over Properties of the same name, in any case.
        ("EventId", "forged"), ("event", "forged"), ("WEBHOOKNAME", "forged"), ("fieldvalues", {"x": 1}),
        ("primarykey", 0), ("Changes", ["forged"]),
        ("Nested", {"list": [1, "two", None, True], "empty": {}}),
        ("Unicode", "snø ☃ \"quoted\" back\\slash </x>"),
    ])
    hook = save_hook(stack, rx.url(path + "?token=abc%20def&x=1"), [event], Name="Wire ✓ hook", Secret=secret,
                     Headers=dict(custom), Properties=properties)
    # Data whose members PostgreSQL keeps in this order (see test_data_members_keep_their_order).
    data = collections.OrderedDict([("id", 42), ("name", "Acme \"AS\" ✓"), ("tags", ["a", "b"]), ("active", True),
                                    ("parent", None), ("address", {"zip": "0150", "city": "Oslo"})])
    before = datetime.datetime.now(datetime.timezone.utc)
    signal(stack, event, 42, data)
    after = datetime.datetime.now(datetime.timezone.utc)
    [req] = wait_deliveries(rx, path, 1)
    # Path and query are the target's own.
    assert req.path == path + "?token=abc%20def&x=1"
    fields = json.loads(compact(data), object_pairs_hook=collections.OrderedDict).items()
    kept = [(k, v) for k, v in properties.items() if k in ("Tenant", "Nested", "Unicode")]
    check_wire(stack, req, hook, secret, event, 42, fields, before, after, kept, custom)


def test_the_standard_webhooks_signature_with_a_whsec_secret(hooks, rx):
    stack = hooks
    key = secrets.token_bytes(32)
    secret = "whsec_" + base64.b64encode(key).decode()
    stack.secrets.add(secret)
    event = unique("sale.") + ".created"
    path = unique("/whsec-")
    hook = save_hook(stack, rx.url(path), [event], Name="std", Secret=secret)
    before = datetime.datetime.now(datetime.timezone.utc)
    signal(stack, event, 5, {"amount": 10})
    after = datetime.datetime.now(datetime.timezone.utc)
    [req] = wait_deliveries(rx, path, 1)
    check_wire(stack, req, hook, secret, event, 5, [("amount", 10)], before, after)
    # Verified by hand as a Standard Webhooks receiver would: the key is the decoded secret.
    msg = ("%s.%s." % (req.header("webhook-id"), req.header("webhook-timestamp"))).encode() + req.body
    expected = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    assert req.header("webhook-signature") == "v1," + expected
    # X-SuperOffice-Signature keys on the whole secret, prefix included, as NetServer does.
    assert req.header("X-SuperOffice-Signature") == base64.b64encode(
        hmac.new(secret.encode(), req.body, hashlib.sha256).digest()).decode()


def test_a_whsec_secret_with_a_long_key(hooks, rx):
    """Secrets may be 400 characters: whsec_ and 200 base64 characters is a key of 150 bytes, and the
    Standard Webhooks signature must use those 150 bytes as the key."""
    stack = hooks
    key = secrets.token_bytes(150)
    secret = "whsec_" + base64.b64encode(key).decode()
    stack.secrets.add(secret)
    event = unique("sale.") + ".changed"
    path = unique("/whsec-long-")
    save_hook(stack, rx.url(path), [event], Secret=secret)
    signal(stack, event, 6)
    [req] = wait_deliveries(rx, path, 1)
    msg = ("%s.%s." % (req.header("webhook-id"), req.header("webhook-timestamp"))).encode() + req.body
    assert req.header("webhook-signature") == "v1," + base64.b64encode(
        hmac.new(key, msg, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize("secret", ["k", "whsec_not base64!", "nøkkel-☃-{}"],
                         ids=["one byte", "whsec_ that is not base64", "not ASCII"])
def test_signatures_of_other_secrets(hooks, rx, secret):
    """A whsec_ secret whose rest is not base64 keys on its own bytes; a key is the secret's UTF-8."""
    stack = hooks
    if "{}" in secret:
        secret = secret.format(secrets.token_hex(8))
        stack.secrets.add(secret)
    event = unique("person.") + ".changed"
    path = unique("/sig-any-")
    save_hook(stack, rx.url(path), [event], Secret=secret)
    signal(stack, event, 1, {"a": "b"})
    [req] = wait_deliveries(rx, path, 1)
    assert req.header("X-SuperOffice-Signature") == signature(secret, req.body)
    msg = ("%s.%s." % (req.header("webhook-id"), req.header("webhook-timestamp"))).encode() + req.body
    assert req.header("webhook-signature") == "v1," + base64.b64encode(
        hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize("secret", [None, ""], ids=["no secret", "empty secret"])
def test_no_signature_without_a_secret(hooks, rx, secret):
    stack = hooks
    event = unique("person.") + ".created"
    path = unique("/unsigned-")
    hook = save_hook(stack, rx.url(path), [event], Secret=secret)
    before = datetime.datetime.now(datetime.timezone.utc)
    signal(stack, event, 3, {"x": "y"})
    after = datetime.datetime.now(datetime.timezone.utc)
    [req] = wait_deliveries(rx, path, 1)
    check_wire(stack, req, hook, None, event, 3, [("x", "y")], before, after)
    # Without Name: WebhookName is null.
    assert json.loads(req.body)["WebhookName"] is None


def test_entity_is_the_part_before_the_first_dot(hooks, rx):
    stack = hooks
    tag = uuid.uuid4().hex[:8]
    cases = [("plain%s" % tag, "plain%s" % tag), ("a%s.b.c" % tag, "a%s" % tag),
             ("%s.created" % ("e" * 100 + tag), "e" * 100 + tag)]  # an entity of 108 bytes
    path = unique("/entity-")
    save_hook(stack, rx.url(path), [e for e, _ in cases], Name="entities")
    for i, (event, _) in enumerate(cases):
        signal(stack, event, i)
    got = wait_deliveries(rx, path, len(cases))
    by_event = {json.loads(r.body)["Event"]: r for r in got}
    me = associate_id(stack)
    for i, (event, entity) in enumerate(cases):
        req = by_event[event]
        assert json.loads(req.body)["Entity"] == entity, event
        assert req.body == event_body(req, event, i, [], "entities", me, entity=entity)


def test_data_members_keep_their_order(hooks, rx):
    """Changes lists the names of Data's members in the caller's order, and FieldValues has them in
    that order, as the caller sent them (NetServer's Data is an ordered dictionary)."""
    stack = hooks
    event = unique("contact.") + ".changed"
    path = unique("/order-")
    save_hook(stack, rx.url(path), [event], Name="order")
    fields = [("name", "Acme"), ("id", 7), ("zip", "0150"), ("country", "NO")]
    signal(stack, event, 7, collections.OrderedDict(fields))
    [req] = wait_deliveries(rx, path, 1)
    doc = json.loads(req.body, object_pairs_hook=collections.OrderedDict)
    assert doc["Changes"] == ["name", "id", "zip", "country"]
    assert list(doc["FieldValues"].items()) == fields
    assert req.body == event_body(req, event, 7, fields, "order", associate_id(stack))


def test_data_numbers_are_delivered_as_sent(hooks, rx):
    """FieldValues is Data as the caller sent it: a number keeps its text. Rewritten in full, 1e100000
    would be a 100001-digit number, and a Data within the 16 KiB limit would grow a delivery body to
    megabytes per event and subscriber."""
    stack = hooks
    event = unique("contact.") + ".measured"
    path = unique("/numbers-")
    save_hook(stack, rx.url(path), [event], Name="numbers")
    raw = '{"EventName":"%s","PrimaryKey":1,"Data":{"big":1e100000,"price":2.50}}' % event
    r = send(stack, "POST", AGENT + "SignalEvent", raw)
    assert (r.status, r.body) == (204, b""), r
    [req] = wait_deliveries(rx, path, 1)
    assert len(req.body) < 1000, len(req.body)
    expected = event_body(req, event, 1, [], "numbers", associate_id(stack))
    expected = expected.replace(b'"Changes":[]', b'"Changes":["big","price"]')
    expected = expected.replace(b'"FieldValues":{}', b'"FieldValues":{"big":1e100000,"price":2.50}')
    assert req.body == expected


# == 3. webhook_signal() from SQL =====================================================================

def test_webhook_signal_committed_is_delivered(hooks, rx):
    stack = hooks
    event = unique("order.") + ".created"
    path = unique("/sql-commit-")
    save_hook(stack, rx.url(path), [event], Name="sql")
    before = datetime.datetime.now(datetime.timezone.utc)
    stack.transaction(("SELECT webhook_signal(%s, %s, %s::jsonb, %s)", (event, 11, '{"id": 11, "total": 990}', 77)),
                      ("SELECT webhook_signal(%s, %s)", (event, 12)))
    after = datetime.datetime.now(datetime.timezone.utc)
    got = wait_deliveries(rx, path, 2)
    by_pk = {json.loads(r.body)["PrimaryKey"]: r for r in got}
    assert sorted(by_pk) == [11, 12]
    req = by_pk[11]
    assert req.body == event_body(req, event, 11, [("id", 11), ("total", 990)], "sql", 77)
    assert before - datetime.timedelta(seconds=1) <= stamp_of(req) <= after + datetime.timedelta(seconds=1)
    req = by_pk[12]
    # changed_by defaults to 0, data to none.
    assert req.body == event_body(req, event, 12, [], "sql", 0)


def test_webhook_signal_returns_how_many_were_queued(hooks, rx):
    stack = hooks
    event = unique("order.") + ".paid"
    for i in range(3):
        save_hook(stack, rx.url(unique("/sql-count-%d-" % i)), [event])
    save_hook(stack, rx.url(unique("/sql-count-stopped-")), [event], State="Stopped")
    assert stack.sql("SELECT webhook_signal(%s, 1)", (event,)) == [(3,)]
    assert stack.sql("SELECT webhook_signal(%s, 1)", (unique("no.") + ".one",)) == [(0,)]


def test_webhook_signal_rolled_back_is_never_delivered(hooks, rx):
    stack = hooks
    event = unique("order.") + ".cancelled"
    path = unique("/sql-rollback-")
    hook = save_hook(stack, rx.url(path), [event], Name="sql")
    conn = stack.db()
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT webhook_signal(%s, %s, %s::jsonb)", (event, 1, '{"lost": true}'))
        assert cur.fetchall() == [(1,)]  # queued, inside the transaction
        cur.execute("ROLLBACK")
    # A second event in its own committed transaction, after the rollback: once it has arrived, the
    # first one (signalled earlier) would have arrived too had it been queued.
    stack.transaction(("SELECT webhook_signal(%s, %s, %s::jsonb)", (event, 2, '{"kept": true}')))
    [req] = wait_deliveries(rx, path, 1)
    assert json.loads(req.body)["PrimaryKey"] == 2
    until(lambda: queued(stack, hook["WebhookId"]) == 0, what="the queue to empty")
    assert [a[0] for a in attempts(stack, hook["WebhookId"])] == [2]
    assert [json.loads(r.body)["PrimaryKey"] for r in deliveries(rx, path)] == [2]


def test_webhook_signal_refuses_data_that_is_not_an_object(hooks, rx):
    stack = hooks
    import psycopg2
    with pytest.raises(psycopg2.Error) as e:
        stack.sql("SELECT webhook_signal('a.b', 1, '[1]'::jsonb)")
    assert e.value.pgcode == "22023"
    assert "webhook_signal: data must be a JSON object" in str(e.value)


@pytest.fixture
def contact_table(hooks):
    """A table of the application's own whose insert trigger signals contact.created."""
    stack = hooks
    table = "e2e_contact_" + uuid.uuid4().hex[:8]
    stack.sql("CREATE TABLE %s (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, "
              "email text, vip boolean NOT NULL DEFAULT false)" % table)
    stack.sql("CREATE FUNCTION %s_signal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
              "PERFORM webhook_signal('contact.created', NEW.id, to_jsonb(NEW)); RETURN NULL; END $$" % table)
    stack.sql("CREATE TRIGGER %s_created AFTER INSERT ON %s FOR EACH ROW EXECUTE FUNCTION %s_signal()"
              % (table, table, table))
    yield table
    stack.sql("DROP TABLE %s" % table)
    stack.sql("DROP FUNCTION %s_signal()" % table)


def test_a_trigger_of_the_application_signals_on_commit(hooks, rx, contact_table):
    stack = hooks
    path = unique("/trigger-")
    save_hook(stack, rx.url(path), ["contact.created"], Name="crm")
    # Rolled back: the rows and their events are gone together.
    conn = stack.db()
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("INSERT INTO %s (name) VALUES ('Ghost') RETURNING id" % contact_table)
        ghost = cur.fetchone()[0]
        cur.execute("ROLLBACK")
    stack.transaction(
        ("INSERT INTO %s (name, email) VALUES (%%s, %%s)" % contact_table, ("Acme AS", "post@acme.example")),
        ("INSERT INTO %s (name, vip) VALUES (%%s, true)" % contact_table, ("Beta ✓",)))
    rows = stack.sql("SELECT id, to_jsonb(c)::text FROM %s c ORDER BY id" % contact_table)
    assert len(rows) == 2
    got = wait_deliveries(rx, path, 2)
    by_pk = {json.loads(r.body)["PrimaryKey"]: r for r in got}
    assert sorted(by_pk) == [r[0] for r in rows]
    assert ghost not in by_pk
    for pk, text in rows:
        req = by_pk[pk]
        fields = json.loads(text, object_pairs_hook=collections.OrderedDict).items()
        assert req.header("X-SuperOffice-Event") == "contact.created"
        assert req.body == event_body(req, "contact.created", pk, fields, "crm", 0)
    until(lambda: stack.sql("SELECT count(*) FROM webhook_delivery")[0][0] == 0, what="the queue to empty")
    assert len(deliveries(rx, path)) == 2


# == 4. Outcomes =======================================================================================

@pytest.mark.parametrize("status", [200, 201, 204])
def test_a_2xx_answer_is_a_success(hooks, rx, status):
    stack = hooks
    event = unique("ok.") + ".event"
    path = unique("/ok-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    rx.respond(path, status=status, body=b"" if status == 204 else b'{"ok":true}')
    signal(stack, event, 1)
    signal(stack, event, 2)
    wait_deliveries(rx, path, 2)
    until(lambda: queued(stack, hook_id) == 0 and usage(stack, hook_id) == (2, 0, 0), what="two recorded successes")
    assert sorted(attempts(stack, hook_id)) == [(1, 1, 1, status, None), (2, 1, 1, status, None)]
    assert state(stack, hook_id) == "Active"
    assert last_errors(stack, hook_id) == ""
    assert [r.header("X-SuperOffice-Retry") for r in deliveries(rx, path)] == ["0", "0"]


def test_failures_retry_on_schedule_then_too_many_errors(hooks, rx):
    """A 500 target: attempts at 0, +200 ms and +400 ms with one EventId, then after the cycle delay a
    new cycle with a new EventId; after 4 failed attempts in a row the webhook is TooManyErrors,
    nothing more is sent, and the webhook{ID}.errors event reaches a webhook subscribed to it."""
    stack = hooks
    event = unique("contact.") + ".deleted"
    path, watch = unique("/fail-"), unique("/watch-")
    secret = new_secret(stack)
    hook = save_hook(stack, rx.url(path), [event], Name="failing", Secret=secret)
    hook_id = hook["WebhookId"]
    save_hook(stack, rx.url(watch), ["webhook%d.errors" % hook_id], Name="watcher")
    rx.respond(path, status=500, body=b"down for maintenance")

    signal(stack, event, 9, {"id": 9})
    got = wait_deliveries(rx, path, MAX_CONSECUTIVE)
    until(lambda: stack.sql("SELECT state FROM webhook WHERE webhook_id = %s", (hook_id,)) == [(3,)],
          what="TooManyErrors")

    # The schedule, as lower bounds on the arrival times.
    gaps = [b.at - a.at for a, b in zip(got, got[1:])]
    assert gaps[0] >= RETRY_DELAYS[0] and gaps[1] >= RETRY_DELAYS[1] and gaps[2] >= CYCLE_DELAY, gaps
    ids = [r.header("X-SuperOffice-EventId") for r in got]
    assert ids[0] == ids[1] == ids[2] != ids[3], ids
    assert all(GUID.match(i) for i in ids)
    assert [r.header("webhook-id") for r in got] == ids
    assert [json.loads(r.body)["EventId"] for r in got] == ids
    assert [r.header("X-SuperOffice-Retry") for r in got] == ["0", "1", "2", "3"]
    # Every attempt is the same event: the same Timestamp (when it was signalled) and fields.
    me = associate_id(stack)
    for r in got:
        assert r.body == event_body(r, event, 9, [("id", 9)], "failing", me)
        assert r.header("X-SuperOffice-Signature") == signature(secret, r.body)
        assert r.header("webhook-signature") == standard_signature(secret, r.header("webhook-id"),
                                                                    r.header("webhook-timestamp"), r.body)
    assert len({json.loads(r.body)["Timestamp"] for r in got}) == 1

    assert state(stack, hook_id) == "TooManyErrors"
    assert usage(stack, hook_id) == (4, 4, 4)
    assert attempts(stack, hook_id) == [(9, 1, 1, 500, None), (9, 1, 2, 500, None), (9, 1, 3, 500, None),
                                        (9, 2, 1, 500, None)]
    # Paused, not dropped: the delivery waits in the queue for the webhook to be Active again.
    assert queued(stack, hook_id) == 1

    # The errors event, at the webhook that subscribed to it.
    [ev] = wait_deliveries(rx, watch, 1)
    doc = json.loads(ev.body, object_pairs_hook=collections.OrderedDict)
    assert ev.header("X-SuperOffice-Event") == "webhook.errors"
    assert (doc["Event"], doc["PrimaryKey"], doc["Entity"], doc["WebhookName"]) == (
        "webhook.errors", hook_id, "webhook", "watcher")
    fields = doc["FieldValues"]
    assert doc["Changes"] == list(fields)
    assert (fields["state"], fields["events"]) == (3, [event])
    assert fields["registered_associate_id"] == me and fields["updated_associate_id"] == me
    assert doc["ChangedByAssociateId"] == me

    # Nothing more is sent: the next attempt was due 200 ms after the last one. (A bare sleep, to
    # show that something does NOT arrive.)
    time.sleep(1.2)
    assert len(deliveries(rx, path)) == MAX_CONSECUTIVE
    assert len(attempts(stack, hook_id)) == MAX_CONSECUTIVE
    # Neither are events signalled meanwhile queued for it.
    signal(stack, event, 10)
    assert queued(stack, hook_id) == 1


def test_410_gone_stops_the_webhook_at_once(hooks, rx):
    stack = hooks
    event = unique("contact.") + ".gone"
    path, watch = unique("/gone-"), unique("/gone-watch-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    save_hook(stack, rx.url(watch), ["webhook%d.errors" % hook_id])
    rx.respond(path, status=410, body=b"no such subscription")
    signal(stack, event, 1)
    [req] = wait_deliveries(rx, path, 1)
    until(lambda: usage(stack, hook_id) == (1, 1, 1), what="the attempt to be recorded")
    assert state(stack, hook_id) == "TooManyErrors"
    assert attempts(stack, hook_id) == [(1, 1, 1, 410, None)]
    assert queued(stack, hook_id) == 0  # given up: nothing to resume
    [ev] = wait_deliveries(rx, watch, 1)
    assert (json.loads(ev.body)["Event"], json.loads(ev.body)["PrimaryKey"]) == ("webhook.errors", hook_id)
    text = last_errors(stack, hook_id)
    assert text == answer_head("HTTP/1.1 410 Gone", date_in(text), length=20) + "no such subscription"
    time.sleep(1.0)  # would be the retry (200 ms) and more: nothing arrives
    assert len(deliveries(rx, path)) == 1


@pytest.mark.parametrize("status,line", [(302, "HTTP/1.1 302 Found"), (307, "HTTP/1.1 307 Temporary Redirect"),
                                         (301, "HTTP/1.1 301 Moved Permanently")])
def test_a_redirect_is_a_failure_and_never_followed(hooks, rx, status, line):
    stack = hooks
    event = unique("contact.") + ".moved"
    path, elsewhere = unique("/redirect-"), unique("/elsewhere-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    location = rx.url(elsewhere)
    rx.respond(path, status=status, headers=[("Location", location)])
    signal(stack, event, 1)
    got = wait_deliveries(rx, path, 2)  # failed, hence retried
    assert got[0].header("X-SuperOffice-EventId") == got[1].header("X-SuperOffice-EventId")
    until(lambda: (usage(stack, hook_id) or (0,))[0] >= 2, what="two recorded attempts")
    assert attempts(stack, hook_id)[:2] == [(1, 1, 1, status, None), (1, 1, 2, status, None)]
    text = last_errors(stack, hook_id)
    assert text == answer_head(line, date_in(text), [("Location", location)])
    assert rx.requests(elsewhere) == []


@pytest.mark.parametrize("status,retry_after", [(429, "2"), (503, "2")])
def test_retry_after_lengthens_the_delay(hooks, rx, status, retry_after):
    stack = hooks
    event = unique("contact.") + ".throttled"
    path = unique("/throttled-")
    hook = save_hook(stack, rx.url(path), [event])
    rx.respond(path, status=status, headers=[("Retry-After", retry_after)])
    signal(stack, event, 1)
    first, second = wait_deliveries(rx, path, 2)[:2]
    # The schedule says 200 ms; Retry-After says 2 s, and the longer one counts.
    assert second.at - first.at >= float(retry_after), second.at - first.at
    assert second.header("X-SuperOffice-Retry") == "1"
    assert second.header("X-SuperOffice-EventId") == first.header("X-SuperOffice-EventId")
    assert usage(stack, hook["WebhookId"])[1] >= 1


# (status, Retry-After, the delay it must give): honoured on 429 and 503 only, up to
# delivery_retry_after_max_s (300 s by default), and ignored beyond a year or when malformed.
RETRY_AFTER_DELAYS = [(429, "86400", 300.0), (503, "301", 300.0), (503, "99999999999", None), (429, "soon", None),
                      (500, "5", None), (502, "5", None)]


@pytest.mark.parametrize("status,value,delay", RETRY_AFTER_DELAYS,
                         ids=["429 a day", "503 just over the cap", "503 beyond a year", "429 malformed",
                              "500 not honoured", "502 not honoured"])
def test_the_delay_retry_after_gives(hooks, rx, status, value, delay):
    """Read from the queue in one snapshot: due_at minus the time the last attempt was recorded is the
    delay the daemon chose (the schedule's when Retry-After does not count)."""
    stack = hooks
    event = unique("contact.") + ".throttled"
    path = unique("/retry-after-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    rx.respond(path, status=status, headers=[("Retry-After", value)])
    signal(stack, event, 1)
    wait_deliveries(rx, path, 1)
    until(lambda: usage(stack, hook_id), what="the attempt to be recorded")
    attempt, cycle, waits = stack.sql(
        "SELECT d.attempt, d.cycle, extract(epoch FROM d.due_at - (SELECT max(a.attempted_at) FROM webhook_attempt a "
        "WHERE a.delivery_id = d.delivery_id))::float FROM webhook_delivery d WHERE d.webhook_id = %s", (hook_id,))[0]
    if delay is None:  # the schedule: 200 ms, 400 ms, then the cycle delay
        delay = {(1, 1): 0.2, (2, 1): 0.4, (0, 2): CYCLE_DELAY, (1, 2): 0.2}[(attempt, cycle)]
    else:
        assert (attempt, cycle) == (1, 1)
    assert delay <= waits < delay + 0.5, (attempt, cycle, waits)


def test_retry_after_as_an_http_date(hooks, rx):
    stack = hooks
    event = unique("contact.") + ".throttled"
    path = unique("/throttled-date-")
    save_hook(stack, rx.url(path), [event])
    when = time.time() + 3
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(when))
    rx.respond(path, status=503, headers=[("Retry-After", date)])
    signal(stack, event, 1)
    first, second = wait_deliveries(rx, path, 2)[:2]
    # Whole seconds: at least 3 s minus the part of a second the date cannot say.
    assert second.at - first.at >= 2.0, second.at - first.at


def test_a_target_that_hangs_up_is_a_failed_attempt(hooks, rx):
    stack = hooks
    event = unique("contact.") + ".hangup"
    path = unique("/hangup-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    rx.respond(path, close=True)
    signal(stack, event, 1)
    wait_deliveries(rx, path, 2)
    until(lambda: (usage(stack, hook_id) or (0,))[0] >= 2, what="two recorded attempts")
    why = "the server closed the connection without answering"
    assert attempts(stack, hook_id)[:2] == [(1, 1, 1, None, why), (1, 1, 2, None, why)]
    assert last_errors(stack, hook_id) == why
    assert usage(stack, hook_id)[1] >= 2


def test_a_target_slower_than_the_timeout_is_a_failed_attempt(hooks, rx):
    stack = hooks
    event = unique("contact.") + ".slow"
    path = unique("/slow-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    rx.respond(path, delay=3)
    signal(stack, event, 1)
    wait_deliveries(rx, path, 1)
    until(lambda: usage(stack, hook_id), what="the attempt to be recorded")
    why = "timed out after 1000 ms"
    assert attempts(stack, hook_id)[0] == (1, 1, 1, None, why)
    # Cut at the timeout (a lower bound; the clocks of libcurl and of the log differ by a hair).
    assert stack.sql("SELECT latency_ms FROM webhook_attempt WHERE webhook_id = %s", (hook_id,))[0][0] >= 950
    assert last_errors(stack, hook_id) == why
    # And it is retried like any failure.
    second = wait_deliveries(rx, path, 2)[1]
    assert second.header("X-SuperOffice-Retry") == "1"


def test_last_error_is_capped_and_never_holds_the_secret(hooks, rx):
    stack = hooks
    secret = new_secret(stack)
    event = unique("contact.") + ".echo"
    path = unique("/echo-")
    hook = save_hook(stack, rx.url(path), [event], Secret=secret)
    hook_id = hook["WebhookId"]
    # A target that echoes the secret in a header and (twice) in a long body.
    body = ("error: bad secret " + secret + "\n" + "x" * 2000 + secret + "y" * 6000).encode()
    rx.respond(path, status=500, headers=[("X-Echo", secret)], body=body)
    signal(stack, event, 1)
    wait_deliveries(rx, path, 1)
    until(lambda: usage(stack, hook_id), what="the attempt to be recorded")
    text = last_errors(stack, hook_id)
    # What was read: the head, and the body up to the 4,000-byte response cap. The secret is
    # redacted in that, and the result cut at 4,000 characters.
    whole = answer_head("HTTP/1.1 500 Internal Server Error", date_in(text), [("X-Echo", secret)],
                        len(body)) + body[:4000].decode()
    assert text == whole.replace(secret, "***")[:4000]
    assert secret not in text and text.count("***") == 3
    stored = stack.sql("SELECT response FROM webhook_attempt WHERE webhook_id = %s ORDER BY attempt_id LIMIT 1",
                       (hook_id,))[0][0]
    assert stored == text


def test_last_error_never_holds_part_of_the_secret(hooks, rx):
    """The excerpt ends at 4000 characters; a secret the cut falls into must not leave its first
    half behind (the redaction has to see the whole secret)."""
    stack = hooks
    secret = secrets.token_urlsafe(36)  # random from its first character on
    stack.secrets.add(secret)
    event = unique("contact.") + ".echo"
    path = unique("/echo-cut-")
    hook = save_hook(stack, rx.url(path), [event], Secret=secret)
    hook_id = hook["WebhookId"]
    # The head is about 130 bytes; the secret starts 20 characters before the 4000th.
    probe = answer_head("HTTP/1.1 500 Internal Server Error", "Thu, 01 Jan 2026 00:00:00 GMT", length=5000)
    pad = 4000 - 20 - len(probe)
    body = ("p" * pad + secret).ljust(5000, "q").encode()
    rx.respond(path, status=500, body=body)
    signal(stack, event, 1)
    wait_deliveries(rx, path, 1)
    until(lambda: usage(stack, hook_id), what="the attempt to be recorded")
    text = last_errors(stack, hook_id)
    assert len(text) <= 4000
    assert text.startswith(probe[:len("HTTP/1.1 500 Internal Server Error")])
    # Not the secret, nor its first 20 characters.
    assert secret[:20] not in text, text[-40:]


def test_a_success_after_failures_resets_the_consecutive_errors(hooks, rx):
    stack = hooks
    event = unique("contact.") + ".flaky"
    path = unique("/flaky-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    rx.respond(path, status=502, body=b"bad gateway")
    signal(stack, event, 1)
    wait_deliveries(rx, path, 1)
    until(lambda: usage(stack, hook_id) == (1, 1, 1), what="the failure to be recorded")
    rx.respond(path, status=200)
    got = wait_deliveries(rx, path, 2)
    until(lambda: usage(stack, hook_id) == (2, 1, 0), what="the success to be recorded")
    assert attempts(stack, hook_id) == [(1, 1, 1, 502, None), (1, 1, 2, 200, None)]
    assert got[1].header("X-SuperOffice-Retry") == "1"
    assert queued(stack, hook_id) == 0
    # The last error stays what it was: a success does not erase it.
    text = last_errors(stack, hook_id)
    assert text == answer_head("HTTP/1.1 502 Bad Gateway", date_in(text), length=11) + "bad gateway"
    assert state(stack, hook_id) == "Active"


@pytest.mark.parametrize("how", ["SaveWebhook", "PATCH", "PUT"])
def test_active_again_delivers_what_was_paused(hooks, rx, how):
    stack = hooks
    event = unique("contact.") + ".paused"
    path, watch = unique("/paused-"), unique("/paused-watch-")
    hook = save_hook(stack, rx.url(path), [event], Name="paused")
    hook_id = hook["WebhookId"]
    save_hook(stack, rx.url(watch), ["webhook%d.errors" % hook_id, "webhook%d.started" % hook_id,
                                     "webhook%d.stopped" % hook_id], Name="watcher")
    rx.respond(path, status=500)
    signal(stack, event, 1, {"n": 1})
    failed = wait_deliveries(rx, path, MAX_CONSECUTIVE)
    until(lambda: state(stack, hook_id) == "TooManyErrors", what="TooManyErrors")
    assert queued(stack, hook_id) == 1
    # Signalled while TooManyErrors: not queued, so not delivered later either.
    signal(stack, event, 2, {"n": 2})
    assert queued(stack, hook_id) == 1

    rx.respond(path, status=200)
    if how == "SaveWebhook":
        current = get_hook(stack, hook_id)
        current["State"] = "Active"
        assert agent(stack, "SaveWebhook", current).status == 200
    elif how == "PATCH":
        r = send(stack, "PATCH", "%s/%d" % (REST, hook_id), {"State": "Active"}, MERGE_PATCH)
        assert (r.status, r.json()["State"]) == (200, "Active"), r
    else:
        current = get_hook(stack, hook_id)
        current["State"] = "Active"
        r = send(stack, "PUT", "%s/%d" % (REST, hook_id), current)
        assert (r.status, r.json()["State"]) == (200, "Active"), r

    got = wait_deliveries(rx, path, MAX_CONSECUTIVE + 1)
    resumed = got[-1]
    # The same delivery, where it stopped: the second cycle's EventId, the next retry number.
    assert resumed.header("X-SuperOffice-EventId") == failed[-1].header("X-SuperOffice-EventId")
    assert resumed.header("X-SuperOffice-Retry") == str(MAX_CONSECUTIVE)
    assert json.loads(resumed.body)["PrimaryKey"] == 1
    until(lambda: queued(stack, hook_id) == 0 and usage(stack, hook_id) == (5, 4, 0), what="the success")
    assert state(stack, hook_id) == "Active"
    assert [json.loads(r.body)["PrimaryKey"] for r in deliveries(rx, path)] == [1] * (MAX_CONSECUTIVE + 1)
    # The watcher heard the webhook stop with errors, then start again.
    events = wait_deliveries(rx, watch, 2)
    assert [(json.loads(e.body)["Event"], json.loads(e.body)["PrimaryKey"]) for e in events] == [
        ("webhook.errors", hook_id), ("webhook.started", hook_id)]
    assert [e.header("X-SuperOffice-Event") for e in events] == ["webhook.errors", "webhook.started"]
    assert json.loads(events[1].body)["FieldValues"]["state"] == 1


def test_stopping_raises_the_stopped_event(hooks, rx):
    stack = hooks
    path, watch = unique("/stop-"), unique("/stop-watch-")
    hook = save_hook(stack, rx.url(path), [unique("x.") + ".y"])
    hook_id = hook["WebhookId"]
    save_hook(stack, rx.url(watch), ["webhook%d.stopped" % hook_id], Name="watcher")
    r = send(stack, "PATCH", "%s/%d" % (REST, hook_id), {"State": "Stopped"}, MERGE_PATCH)
    assert r.status == 200, r
    [ev] = wait_deliveries(rx, watch, 1)
    doc = json.loads(ev.body)
    assert (doc["Event"], doc["PrimaryKey"], doc["Entity"], doc["ChangedByAssociateId"]) == (
        "webhook.stopped", hook_id, "webhook", associate_id(stack))
    assert doc["FieldValues"]["state"] == 2


# == 5. TestWebhook ====================================================================================

def result_body(success, message):
    return ('{"Success":%s,"Message":%s,"TableRight":null,"FieldProperties":null}'
            % ("true" if success else "false", jstr(message))).encode()


def call_test_webhook(stack, form, hook):
    if form == "agent":
        return agent(stack, "TestWebhook", {"Webhook": hook})
    return send(stack, "POST", REST + "/Test", hook)


@pytest.mark.parametrize("form", ["agent", "rest"])
def test_test_webhook_success(hooks, rx, form):
    stack = hooks
    secret = new_secret(stack)
    path = unique("/test-ok-")
    rx.respond(path, status=200, headers=[("X-Seen", "yes")], body=b"thanks")
    definition = {"WebhookId": 0, "Name": "unsaved", "Events": ["contact.created"], "TargetUrl": rx.url(path),
                  "Secret": secret, "Headers": {"X-Custom": "c"}, "Properties": {"Tenant": "acme"}}
    r = call_test_webhook(stack, form, definition)
    assert (r.status, r.headers.get("content-type")) == (200, JSON_CT), r
    message = r.json()["Message"]
    assert r.body == result_body(True, answer_head("HTTP/1.1 200 OK", date_in(message), [("X-Seen", "yes")], 6)
                                 + "thanks")
    # The test event on the wire: marked as a test, signed, with the hook's headers and properties.
    [req] = rx.requests(path)
    assert req.header("X-Hook-Test") == "true"
    assert req.header("X-SuperOffice-Event") == "test"
    assert req.header("X-Custom") == "c"
    assert req.header("X-SuperOffice-Signature") == signature(secret, req.body)
    doc = json.loads(req.body, object_pairs_hook=collections.OrderedDict)
    assert list(doc) == STANDARD_MEMBERS + ["Tenant"]
    assert (doc["Event"], doc["WebhookName"]) == ("test", "unsaved")
    assert doc["EventId"] == req.header("X-SuperOffice-EventId")
    # Nothing was stored, queued or counted.
    assert stack.sql("SELECT count(*) FROM webhook")[0][0] == 0
    assert stack.sql("SELECT count(*) FROM webhook_attempt")[0][0] == 0


def test_test_webhook_of_a_saved_webhook(hooks, rx):
    stack = hooks
    path = unique("/test-saved-")
    hook = save_hook(stack, rx.url(path), ["contact.created"], Name="saved")
    rx.respond(path, status=503, body=b"try later")
    r = call_test_webhook(stack, "agent", hook)
    message = r.json()["Message"]
    assert r.body == result_body(False, answer_head("HTTP/1.1 503 Service Unavailable", date_in(message), (), 9)
                                 + "try later")
    assert len(rx.requests(path)) == 2  # the save's test event and this one
    assert usage(stack, hook["WebhookId"]) is None  # a test is not a delivery
    assert state(stack, hook["WebhookId"]) == "Active"


@pytest.mark.parametrize("form", ["agent", "rest"])
def test_test_webhook_refused_by_the_target(hooks, rx, form):
    stack = hooks
    secret = new_secret(stack)
    path = unique("/test-500-")
    rx.respond(path, status=500, body=("refused, your secret " + secret + " is wrong").encode())
    r = call_test_webhook(stack, form, {"Events": ["a.b"], "TargetUrl": rx.url(path), "Secret": secret})
    assert (r.status, r.headers.get("content-type")) == (200, JSON_CT), r
    message = r.json()["Message"]
    body = "refused, your secret *** is wrong"
    assert r.body == result_body(False, answer_head("HTTP/1.1 500 Internal Server Error", date_in(message), (),
                                                    len(body) - 3 + len(secret)) + body)
    assert len(rx.requests(path)) == 1


@pytest.mark.parametrize("form", ["agent", "rest"])
def test_test_webhook_of_a_closed_port(hooks, form):
    url = "http://127.0.0.1:%d/nobody" % free_port()
    r = call_test_webhook(hooks, form, {"Events": ["a.b"], "TargetUrl": url})
    assert (r.status, r.body) == (200, result_body(False, "connection refused")), r


def test_test_webhook_of_a_target_that_hangs_up(hooks, rx):
    path = unique("/test-hangup-")
    rx.respond(path, close=True)
    r = call_test_webhook(hooks, "agent", {"Events": ["a.b"], "TargetUrl": rx.url(path)})
    assert (r.status, r.body) == (200, result_body(False, "the server closed the connection without answering")), r


@pytest.mark.parametrize("form", ["agent", "rest"])
@pytest.mark.parametrize("url,message", [
    ("ftp://example.com/x", "TargetUrl must use http:// or https://, not ftp://."),
])
def test_test_webhook_with_an_invalid_target_url(hooks, form, url, message):
    r = call_test_webhook(hooks, form, {"Events": ["a.b"], "TargetUrl": url})
    assert (r.status, r.headers.get("content-type"), r.body) == (
        400, JSON_CT, error_body("BadRequest", message, "webhookd/webhook")), r


def test_test_webhook_needs_a_webhook(hooks):
    for body, message in [([1], 'The body must be {"Webhook": {...}}, the webhook to test.'),
                          ({"Webhook": None}, "Webhook is required: the webhook to test, as an object."),
                          ({"Webhook": "x"}, "Webhook is required: the webhook to test, as an object."),
                          ({}, "Webhook is required: the webhook to test, as an object.")]:
        r = agent(hooks, "TestWebhook", body)
        assert (r.status, r.body) == (400, error_body("BadRequest", message, "webhookd/request")), (body, r)
