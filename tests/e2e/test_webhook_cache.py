"""Saved webhooks answered from memory (src/hookcache.c): in steady state GetWebhook, GetAllWebhooks
and the REST reads touch no table; a change through SQL is seen by the next read once the change
feed has heard it, one through the API by the very next read; the filters decide as the SQL does;
an application sees only its own; and while the feed is away every read goes to the database,
with the same answers. Each proof of "from memory" holds every table it could read locked."""
import contextlib
import json
import re
import secrets
import threading
import time

import psycopg2
import pytest

from e2e_support import basic, token_digest

AGENT = "/api/v1/Agents/Webhook/"
REST = "/api/v1/Webhook"
TABLES = "webhook, associate, application, credential, browser_session, webhook_default, language, resource, " \
         "culture, timezone"


def read(stack, method, path, body=None, app_token=None, extra=None):
    headers = dict(extra or {}, Authorization=basic(stack.user, stack.password))
    if app_token is not None:
        headers["SO-AppToken"] = app_token
    if body is not None:
        headers["Content-Type"] = "application/json"
    return stack.request(method, path, headers=headers, body=None if body is None else json.dumps(body).encode())


def agent(stack, method, body=None, app_token=None):
    return read(stack, "POST", AGENT + method, body, app_token)


def under_lock(stack, ask):
    """ask()'s response while every table it could read is locked, or None when it waited."""
    locker = psycopg2.connect(stack.dsn())
    result = {}
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE" % TABLES)
            t = threading.Thread(target=lambda: result.setdefault("r", ask()))
            t.start()
            t.join(1.0)  # statement_timeout is 2 s: an answer within 1 s did not wait on a lock
            answered = not t.is_alive()
    finally:
        locker.rollback()
        locker.close()
    t.join(10)
    return result["r"] if answered else None


def until(predicate, within=2.0):
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "not within %.1f s" % within
        time.sleep(0.01)


def warm(ask, n=20):
    for _ in range(n):
        assert ask().status in (200, 404), "warming up"


# name, events, state, application ("a", "b" or None)
ROWS = [
    ("Orders", ["contact.created", "sale.created"], 1, None),
    ("ORDERS", ["contact.created"], 2, None),
    (None, ["sale.created"], 1, None),
    ("Ärende", ["contact.created"], 3, None),
    ("Partner A's", ["contact.created"], 1, "a"),
    ("Partner B's", ["sale.created"], 1, "b"),
]


@pytest.fixture
def stored(webhooks):
    """The rows above, two applications with their tokens; everything is gone afterwards."""
    stack = webhooks
    tokens = {k: secrets.token_urlsafe(24) for k in ("a", "b")}
    stack.secrets.update(tokens.values())
    apps = {}
    for k, token in tokens.items():
        apps[k] = stack.sql("INSERT INTO application (name, token_sha256, webhook_access) VALUES (%s, %s, true) "
                            "RETURNING application_id", ("e2e-cache-%s-%s" % (k, secrets.token_hex(4)),
                                                          token_digest(token)))[0][0]
    ids = []
    for name, events, state, app in ROWS:
        ids.append(stack.sql("INSERT INTO webhook (name, events, target_url, secret, state, type, application_id, "
                             "registered_associate_id, updated_associate_id) SELECT %s, %s, 'http://127.0.0.1:9/', "
                             "'s3cret', %s, 'webhook', %s, associate_id, associate_id FROM associate WHERE name = %s "
                             "RETURNING webhook_id", (name, events, state, apps.get(app), stack.user))[0][0])
    try:
        yield {"stack": stack, "ids": ids, "tokens": tokens}
    finally:
        stack.sql("DELETE FROM webhook")
        stack.sql("DELETE FROM application WHERE application_id = ANY(%s)", (list(apps.values()),))


def reads(ids):
    """(label, method, path, body) of every kind of read."""
    return [
        ("GetWebhook", "POST", AGENT + "GetWebhook?WebhookId=%d" % ids[0], None),
        ("GetWebhook, missing", "POST", AGENT + "GetWebhook?WebhookId=%d" % (ids[-1] + 1000), None),
        ("GetAllWebhooks", "POST", AGENT + "GetAllWebhooks", {}),
        ("GetAllWebhooks, filtered", "POST", AGENT + "GetAllWebhooks", {"NameFilter": "orders", "StatusFilter": 1}),
        ("REST get", "GET", REST + "/%d" % ids[1], None),
        ("REST list, filtered", "GET", REST + "?eventFilter=sale.created", None),
    ]


def test_reads_in_steady_state_touch_no_table(stored):
    stack, ids = stored["stack"], stored["ids"]
    for label, method, path, body in reads(ids):
        def ask():
            return read(stack, method, path, body)
        warm(ask)
        expected = ask()
        r = under_lock(stack, ask)
        assert r is not None, "%s waited on a lock" % label
        assert (r.status, r.body) == (expected.status, expected.body), label
    assert agent(stack, "GetWebhook?WebhookId=%d" % ids[0]).json()["Name"] == "Orders"


def test_a_change_through_sql_is_seen_once_the_feed_has_heard_it(stored):
    stack, ids = stored["stack"], stored["ids"]
    path = "GetWebhook?WebhookId=%d" % ids[0]
    warm(lambda: agent(stack, path))
    stack.sql("UPDATE webhook SET name = 'Renamed', state = 2 WHERE webhook_id = %s", (ids[0],))
    got = agent(stack, path).json()
    assert (got["Name"], got["State"]) == ("Renamed", "Stopped")
    assert [h["WebhookId"] for h in agent(stack, "GetAllWebhooks", {"NameFilter": "renamed"}).json()] == [ids[0]]
    # An associate's new name reaches the carrier too (the snapshot depends on that table).
    stack.sql("UPDATE associate SET full_name = 'Alice Cached' WHERE name = %s", (stack.user,))
    try:
        assert agent(stack, path).json()["UpdatedAssociate"]["FullName"] == "Alice Cached"
    finally:
        stack.sql("UPDATE associate SET full_name = NULL WHERE name = %s", (stack.user,))
    # Deleted through SQL: gone at once.
    stack.sql("DELETE FROM webhook WHERE webhook_id = %s", (ids[0],))
    assert agent(stack, path).body == b"null"
    # And caching resumes.
    warm(lambda: agent(stack, "GetWebhook?WebhookId=%d" % ids[1]))
    assert under_lock(stack, lambda: agent(stack, "GetWebhook?WebhookId=%d" % ids[1])) is not None


def test_a_save_through_the_api_is_seen_by_the_very_next_read(webhooks, receiver):
    stack = webhooks
    saved = agent(stack, "SaveWebhook", {"Name": "v0", "Events": ["contact.created"],
                                         "TargetUrl": receiver.url("/cache")}).json()
    hook_id = saved["WebhookId"]
    warm(lambda: agent(stack, "GetWebhook?WebhookId=%d" % hook_id))
    for i in range(1, 41):
        name = "v%d" % i
        body = dict(saved, Name=name)
        r = agent(stack, "SaveWebhook", body)
        assert r.status == 200 and r.json()["Name"] == name
        # No wait at all: the save bumped the generation before it answered.
        assert agent(stack, "GetWebhook?WebhookId=%d" % hook_id).json()["Name"] == name
        assert [h["Name"] for h in agent(stack, "GetAllWebhooks", {"NameFilter": name}).json()] == [name]
    assert stack.request("DELETE", REST + "/%d" % hook_id, headers={"Authorization": basic(stack.user, stack.password)}).status == 204
    assert agent(stack, "GetWebhook?WebhookId=%d" % hook_id).body == b"null"
    assert agent(stack, "GetAllWebhooks", {}).json() == []


FILTERS = [
    {},
    {"NameFilter": "orders"},
    {"NameFilter": "oRdErS"},
    {"NameFilter": "order"},
    {"NameFilter": "ärende"},      # beyond ASCII: the database folds it
    {"NameFilter": "ÄRENDE"},
    {"EventFilter": "sale.created"},
    {"EventFilter": "SALE.CREATED"},
    {"EventFilter": "sale"},
    {"StatusFilter": "Active"},
    {"StatusFilter": 3},
    {"NameFilter": "Orders", "EventFilter": "contact.created", "StatusFilter": "Stopped"},
    {"NameFilter": "partner a's"},
]


def sql_ids(stack, f, app_id=None):
    state = {"Active": 1, "Stopped": 2}.get(f.get("StatusFilter"), f.get("StatusFilter"))
    return [r[0] for r in stack.sql(
        "SELECT webhook_id FROM webhook w WHERE (%(app)s::integer IS NULL OR w.application_id = %(app)s) "
        "AND (%(n)s::text IS NULL OR lower(w.name) = lower(%(n)s)) AND (%(e)s::text IS NULL OR w.events @> "
        "ARRAY[%(e)s::text]) AND (%(s)s::smallint IS NULL OR w.state = %(s)s) ORDER BY 1",
        {"app": app_id, "n": f.get("NameFilter"), "e": f.get("EventFilter"), "s": state}) or []]


@pytest.mark.parametrize("f", FILTERS, ids=[json.dumps(f, ensure_ascii=False) for f in FILTERS])
def test_filters_select_what_the_sql_selects(stored, f):
    stack = stored["stack"]
    warm(lambda: agent(stack, "GetAllWebhooks", f))
    assert [h["WebhookId"] for h in agent(stack, "GetAllWebhooks", f).json()] == sql_ids(stack, f)
    ascii_only = all(ord(c) < 128 for c in f.get("NameFilter", ""))
    if ascii_only:  # from memory; the others were asked of the database
        r = under_lock(stack, lambda: agent(stack, "GetAllWebhooks", f))
        assert r is not None and [h["WebhookId"] for h in r.json()] == sql_ids(stack, f)


def test_an_application_sees_its_own_from_memory_too(stored):
    stack, ids, tokens = stored["stack"], stored["ids"], stored["tokens"]
    a_id, b_id = ids[4], ids[5]
    for token, own, other in ((tokens["a"], a_id, b_id), (tokens["b"], b_id, a_id)):
        def ask_all():
            return agent(stack, "GetAllWebhooks", {}, app_token=token)
        warm(ask_all)
        r = under_lock(stack, ask_all)
        assert r is not None and [h["WebhookId"] for h in r.json()] == [own]
        r = under_lock(stack, lambda: agent(stack, "GetWebhook?WebhookId=%d" % other, app_token=token))
        assert r is not None and (r.status, r.body) == (200, b"null")
        r = under_lock(stack, lambda: read(stack, "GET", REST + "/%d" % other, app_token=token))
        assert r is not None and r.status == 404
    assert [h["WebhookId"] for h in agent(stack, "GetAllWebhooks", {}).json()] == ids


def test_webhook_writes_leave_the_other_caches_alone(stored):
    stack, ids = stored["stack"], stored["ids"]
    warm(lambda: stack.post())
    stack.sql("UPDATE webhook SET name = 'Another' WHERE webhook_id = %s", (ids[1],))
    # CreateDefaultWebhook needs the credentials and the reference data: both still in memory.
    r = under_lock(stack, lambda: stack.post())
    assert r is not None and r.status == 200


@contextlib.contextmanager
def feed_away(stack):
    """The feed's connection is cut and cannot come back: webhookd's role takes no new connection
    (the workers keep theirs), so nothing may be served from memory meanwhile."""
    stack.sql("ALTER ROLE webhookd CONNECTION LIMIT 0")
    try:
        assert stack.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                         "WHERE application_name = 'webhookd-changes'")[0][0] == 1
        yield
    finally:
        stack.sql("ALTER ROLE webhookd CONNECTION LIMIT -1")


def test_while_the_feed_is_away_reads_ask_the_database_with_the_same_answers(stored):
    stack, ids = stored["stack"], stored["ids"]
    cached = {}
    for label, method, path, body in reads(ids):
        warm(lambda: read(stack, method, path, body))
        cached[label] = read(stack, method, path, body)
    with feed_away(stack):
        for label, method, path, body in reads(ids):
            r = read(stack, method, path, body)
            assert (r.status, r.body) == (cached[label].status, cached[label].body), label
            assert under_lock(stack, lambda: read(stack, method, path, body)) is None, label + " came from memory"
        # Unheard, yet seen: the next read asks the database.
        stack.sql("UPDATE webhook SET name = 'While away' WHERE webhook_id = %s", (ids[2],))
        assert agent(stack, "GetWebhook?WebhookId=%d" % ids[2]).json()["Name"] == "While away"
    # The feed comes back by itself and caching resumes.
    until(lambda: under_lock(stack, lambda: agent(stack, "GetAllWebhooks", {})) is not None, within=10)


# -- answers kept with the snapshot (src/hookanswers.c) --------------------------------------------

MULTI = 'US:"New hook";NO:"Ny hook";SE:"Ny krok"'

# Everything besides the snapshot that shapes a read's bytes: format, the zone's offset tag,
# language and culture, the application's scope. (label, headers, application "a"/"b"/None)
SHAPES = [
    ("JSON", {}, None),
    ("XML", {"Accept": "application/xml"}, None),
    ("text/xml", {"Accept": "text/xml"}, None),
    ("zone, no tag", {"SO-TimeZone": "NO"}, None),
    ("UTC with its offset", {"SO-TimeZone": "UTC,includeTZOffset"}, None),
    ("XML with the offset", {"Accept": "application/xml", "SO-TimeZone": "NO,includeTZOffset"}, None),
    ("Swedish", {"SO-Language": "sv"}, None),
    ("Norwegian", {"SO-Language": "no"}, None),
    ("Swedish, German culture", {"SO-Language": "sv", "SO-Culture": "de"}, None),
    ("Norwegian XML", {"Accept": "application/xml", "SO-Language": "no"}, None),
    ("application a", {}, "a"),
    ("application b, XML", {"Accept": "application/xml"}, "b"),
]


def shaped_reads(ids):
    """(label, method, path, body) of the reads whose answers are kept."""
    return [
        ("GetWebhook", "POST", AGENT + "GetWebhook?WebhookId=%d" % ids[0], None),
        ("GetWebhook, application a's", "POST", AGENT + "GetWebhook?WebhookId=%d" % ids[4], None),
        ("GetWebhook, missing", "POST", AGENT + "GetWebhook?WebhookId=%d" % (ids[-1] + 1000), None),
        ("GetAllWebhooks", "POST", AGENT + "GetAllWebhooks", {}),
        ("GetAllWebhooks, by event", "POST", AGENT + "GetAllWebhooks", {"EventFilter": "contact.created"}),
        ("REST list, by name", "GET", REST + "?nameFilter=orders", None),
    ]


def answer(r):
    return (r.status, r.headers.get("content-type"), r.headers.get("content-language"), r.headers.get("so-timezone"),
            r.body)


def kept_hits(stack):
    text = stack.request("GET", "/_webhookd/metrics").body.decode()
    return int(re.search(r'^webhookd_cache_total\{cache="webhook_answers",result="hit"\} (\d+)$', text, re.M).group(1))


def test_kept_answers_are_the_answers_made_without_them(stored):
    stack, ids, tokens = stored["stack"], stored["ids"], stored["tokens"]
    # Translated text of every kind: a multi-language name, a resource, a number in the culture.
    stack.sql("UPDATE webhook SET name = %s WHERE webhook_id = %s", (MULTI, ids[0]))
    stack.sql("UPDATE webhook SET name = '[SR_WEBHOOK_NEW] {n:1234.5}' WHERE webhook_id = %s", (ids[4],))
    asks = [("%s: %s" % (read_label, shape), lambda m=method, p=path, b=body, h=headers, a=app:
             read(stack, m, p, b, app_token=tokens.get(a), extra=h))
            for read_label, method, path, body in shaped_reads(ids) for shape, headers, app in SHAPES]
    made = {label: answer(ask()) for label, ask in asks}
    kept = {}
    for label, ask in asks:
        hits = kept_hits(stack)
        kept[label] = answer(ask())
        assert kept_hits(stack) == hits + 1, label + ": the second read is answered with the bytes kept"
    with feed_away(stack):  # every answer made anew from the database
        for label, ask in asks:
            assert kept[label] == made[label] == answer(ask()), label
    # Each shape shaped its answer (a few facts, so that equal but wrong answers fail too).
    get = {shape: kept["GetWebhook: " + shape] for shape, _, _ in SHAPES}
    assert b'"Name":"Ny krok","Events"' in get["Swedish"][4] and get["Swedish"][2] == "sv"
    assert b"<Name>Ny hook</Name>" in get["Norwegian XML"][4]
    assert re.search(rb'"Registered":"[0-9T:.-]+Z"', get["UTC with its offset"][4])
    assert not re.search(rb'"Registered":"[0-9T:.-]+Z"', get["zone, no tag"][4]) and get["zone, no tag"][3] == "NO"
    assert get["XML"][1].startswith("application/xml") and get["text/xml"][1].startswith("text/xml")
    assert get["application a"][4] == b"null"
    own = {shape: kept["GetWebhook, application a's: " + shape][4] for shape, _, _ in SHAPES}
    assert b'"Name":"[SR_WEBHOOK_NEW] {n:1234.5}"' in own["application a"]
    assert b'"Name":"Ny webhook 1 234,5"' in own["Swedish"]
    assert b'"Name":"Ny webhook 1.234,5"' in own["Swedish, German culture"]
    assert [h["WebhookId"] for h in json.loads(kept["GetAllWebhooks: application a"][4])] == [ids[4]]
    assert b"<WebhookId>%d</WebhookId>" % ids[5] in kept["GetAllWebhooks: application b, XML"][4]


def test_a_write_is_seen_by_the_next_read_of_a_kept_answer(stored):
    stack, ids = stored["stack"], stored["ids"]
    for shape, headers, _ in SHAPES[:2] + SHAPES[6:7]:
        def ask():
            return read(stack, "POST", AGENT + "GetWebhook?WebhookId=%d" % ids[2], None, extra=headers)
        hits = kept_hits(stack)
        before = [ask(), ask()]
        assert kept_hits(stack) > hits and before[0].body == before[1].body, shape
        name = "Renamed for %s" % shape
        r = read(stack, "PUT", REST + "/%d" % ids[2], {"Name": name, "Events": ["sale.created"],
                                                       "TargetUrl": "http://127.0.0.1:9/", "State": "Active"})
        assert r.status == 200, r.body
        after = ask()
        assert after.status == 200 and name.encode() in after.body, shape
