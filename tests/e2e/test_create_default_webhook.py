"""POST /api/v1/Agents/Webhook/CreateDefaultWebhook: the carrier built from table webhook_default."""
import json
import secrets

import psycopg2
import psycopg2.errors
import pytest

from e2e_support import DEFAULT_BODY, ENDPOINT, JSON_CT, basic, error_body, webhook_body


def assert_webhook(r, expected):
    assert r.status == 200, r
    assert r.headers["content-type"] == JSON_CT
    assert r.headers["content-length"] == str(len(r.body))
    assert r.body == expected


def test_default_webhook_exact_bytes(stack):
    r = stack.post()
    assert_webhook(r, DEFAULT_BODY)
    assert "www-authenticate" not in r.headers
    # The helper that builds expectations agrees with the literal NetServer bytes.
    assert webhook_body() == DEFAULT_BODY


@pytest.mark.parametrize("path", [
    ENDPOINT,
    ENDPOINT + "/",
    ENDPOINT.lower(),
    ENDPOINT.lower() + "/",
    "/api/V1/AGENTS/WEBHOOK/CREATEDEFAULTWEBHOOK",
    "/api/v1/agents/Webhook/createDefaultWebHook",
    ENDPOINT + "?x=1&y=%20",  # the query string is not part of the path
])
def test_path_variants(stack, path):
    assert_webhook(stack.post(path), DEFAULT_BODY)


def test_path_prefix_case_insensitive(stack):
    assert_webhook(stack.post("/API/V1/Agents/Webhook/CreateDefaultWebhook"), DEFAULT_BODY)


@pytest.mark.parametrize("body,content_type", [
    (json.dumps({"Name": "mine", "Events": ["x"], "pad": "p" * 1000}).encode(), "application/json"),
    (b"", "application/json"),
    (b"not json at all {", "text/plain"),
    (b"\x00\xff\xfe binary", "application/octet-stream"),
    (b"b" * 65536, "application/octet-stream"),  # exactly the limit is accepted
])
def test_request_body_is_read_and_ignored(stack, body, content_type):
    assert_webhook(stack.post(body=body, headers={"Content-Type": content_type}), DEFAULT_BODY)


def test_chunked_request_body_is_ignored(stack):
    conn = stack.connection()
    try:
        h = {"Authorization": basic(stack.user, stack.password), "Content-Type": "application/json"}
        conn.request("POST", ENDPOINT, body=iter([b'{"a":', b"1" * 3000, b"}"]), headers=h,
                     encode_chunked=True)
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200
        assert body == DEFAULT_BODY
    finally:
        conn.close()


# -- the defaults come from webhook_default, read on every call -------------------------------------

STATE_NAMES = {0: "Unknown", 1: "Active", 2: "Stopped", 3: "TooManyErrors"}


@pytest.mark.parametrize("state", sorted(STATE_NAMES))
def test_state_enumeration(defaults, state):
    defaults.sql("UPDATE webhook_default SET state = %s", (state,))
    assert_webhook(defaults.post(), webhook_body(state=STATE_NAMES[state]))


# (SET clause, parameters, keyword arguments of webhook_body)
CHANGES = {
    "name": ("name = %s", ["My webhook"], dict(name="My webhook")),
    "name_unicode_and_escapes": (
        "name = %s", ['Ünïcødé ✓ 😀 "quoted" back\\slash new\nline\ttab </script>'],
        dict(name='Ünïcødé ✓ 😀 "quoted" back\\slash new\nline\ttab </script>')),
    "name_max_length": ("name = %s", ["n" * 400], dict(name="n" * 400)),
    "name_empty": ("name = ''", [], dict(name="")),
    "events": ("events = %s", [["person.changed", "sale.created", "project.deleted"]],
               dict(events=["person.changed", "sale.created", "project.deleted"])),
    "events_single": ("events = ARRAY['contact.changed']", [], dict(events=["contact.changed"])),
    "events_empty": ("events = '{}'", [], dict(events=[])),
    "events_null": ("events = NULL", [], dict(events=None)),
    "events_special": ("events = %s", [['a"b', "c\\d", "é/f"]], dict(events=['a"b', "c\\d", "é/f"])),
    "target_url": ("target_url = %s", ["https://example.com/hooks/in?a=1&b=%2F"],
                   dict(target_url="https://example.com/hooks/in?a=1&b=%2F")),
    "secret": ("secret = %s", ["s3cr3t-Ω"], dict(secret="s3cr3t-Ω")),
    "type_other": ("type = 'zapier'", [], dict(type_="zapier")),
    "type_null": ("type = NULL", [], dict(type_=None)),
    "headers": ("headers = %s::jsonb", ['{"X-A":"b"}'], dict(headers='{"X-A":"b"}')),
    "headers_empty": ("headers = '{}'", [], dict(headers="{}")),
    # jsonb keeps keys ordered by length, then bytes: that order is what the daemon re-emits.
    "headers_several": ("headers = %s::jsonb", ['{"X-Api-Key": "k\\"1", "Accept": "*/*", "X-B": "é"}'],
                        dict(headers='{"X-B":"é","Accept":"*/*","X-Api-Key":"k\\"1"}')),
    "properties": ("properties = %s::jsonb", ['{"n":1.5,"nested":{"a":[true,null]}}'],
                   dict(properties='{"n":1.5,"nested":{"a":[true,null]}}')),
    "properties_empty": ("properties = '{}'", [], dict(properties="{}")),
    # Numbers pass through as PostgreSQL prints them: no float rounding, no exponent games.
    "properties_numbers": (
        "properties = %s::jsonb",
        ['{"i": -7, "f": 1.50, "big": 12345678901234567890123, "tiny": 1.5e-7, "z": 0, "ex": 1E+2}'],
        dict(properties='{"f":1.50,"i":-7,"z":0,"ex":100,"big":12345678901234567890123,"tiny":0.00000015}')),
    "properties_all_types": (
        "properties = %s::jsonb",
        ['{"s": "x\\ny \\"z\\" é/😀", "t": true, "f": false, "n": null, "a": [1, "2", [3], {"k": {}}], "o": {}}'],
        dict(properties='{"a":[1,"2",[3],{"k":{}}],"f":false,"n":null,"o":{},"s":"x\\ny \\"z\\" é/😀","t":true}')),
    "everything": (
        "name = 'All', events = ARRAY['e.1'], target_url = 'https://h/x', secret = 'sec', state = 3, "
        "type = 'webhook', headers = '{\"H\":\"v\"}', properties = '{\"p\":[]}'", [],
        dict(name="All", events=["e.1"], target_url="https://h/x", secret="sec", state="TooManyErrors",
             headers='{"H":"v"}', properties='{"p":[]}')),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_changed_defaults_show_in_next_response(defaults, change):
    clause, params, expected = CHANGES[change]
    defaults.sql("UPDATE webhook_default SET " + clause, params)
    assert_webhook(defaults.post(), webhook_body(**expected))


def test_no_caching_across_updates_and_workers(defaults):
    # Every one of several requests after each update (so several workers, each with its own
    # database session) must see the new row: nothing is cached anywhere.
    for i in range(5):
        defaults.sql("UPDATE webhook_default SET name = %s, state = %s", ("round %d" % i, i % 4))
        expected = webhook_body(name="round %d" % i, state=STATE_NAMES[i % 4])
        for _ in range(12):
            assert_webhook(defaults.post(), expected)
    defaults.sql("UPDATE webhook_default SET name = NULL, state = 1")
    assert_webhook(defaults.post(), DEFAULT_BODY)


def test_control_characters_are_escaped(defaults):
    value = "".join(chr(c) for c in range(1, 32)) + "\x7f"
    defaults.sql("UPDATE webhook_default SET name = %s, properties = jsonb_build_object('c', %s::text)",
                 (value, value))
    r = defaults.post()
    assert r.status == 200
    assert all(b >= 0x20 for b in r.body), "raw control bytes in the JSON text"
    doc = json.loads(r.body)
    assert doc["Name"] == value
    assert doc["Properties"] == {"c": value}


def test_deeply_nested_properties_within_limit(defaults):
    props = '{"d":' * 30 + "1" + "}" * 30
    defaults.sql("UPDATE webhook_default SET properties = %s::jsonb", (props,))
    assert_webhook(defaults.post(), webhook_body(properties=props))


def test_too_deeply_nested_properties_is_a_serializer_error(defaults):
    props = '{"d":' * 100 + "1" + "}" * 100
    defaults.sql("UPDATE webhook_default SET properties = %s::jsonb", (props,))
    r = defaults.post()
    assert r.status == 500
    assert r.headers["content-type"] == JSON_CT
    assert r.body == error_body("InternalServerError",
                                "The stored data cannot be represented in the requested format.",
                                "webhookd/serializer")


def test_large_response_is_delivered_whole(defaults):
    # Far beyond nginx's FastCGI buffers (16k + 8 x 16k): nginx spools to its temp path.
    big = "x" * 400_000
    defaults.sql("UPDATE webhook_default SET properties = jsonb_build_object('big', %s::text)", (big,))
    assert_webhook(defaults.post(), webhook_body(properties='{"big":"%s"}' % big))


def test_missing_defaults_row_is_an_internal_error(defaults):
    defaults.sql("DELETE FROM webhook_default")
    r = defaults.post()
    assert r.status == 500
    assert r.headers["content-type"] == JSON_CT
    assert r.body == error_body("InternalServerError", "The server could not complete the request.",
                                "webhookd/database")


def test_defaults_restored_between_tests(stack):
    # Runs in any order with the tests above: their fixture must have put the row back.
    assert_webhook(stack.post(), DEFAULT_BODY)


# -- the call writes nothing ---------------------------------------------------------------------

def _tables(stack):
    return [r[0] for r in stack.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]


def _row_versions(stack):
    # ctid and xmin change on any UPDATE (even one that writes the same values); INSERT and DELETE
    # change the set of rows; xmax changes when a row is locked, or updated or deleted by a
    # transaction that then rolled back. Every table, not only associate and webhook_default.
    # Not pg_stat_user_tables' write counters: another session's counters reach them when that
    # session next runs a statement, so a login's rehash in an earlier test showed up in this one
    # (CI, 2026-11-28: two updates of associate counted while no row had changed).
    return {t: stack.sql('SELECT ctid::text, xmin::text, xmax::text, to_jsonb(x)::text FROM "%s" x ORDER BY 1' % t)
            for t in _tables(stack)}


@pytest.fixture
def bearer(stack):
    """A valid Bearer token of alice, so the no-write check covers token logins too."""
    token = "e2e-" + secrets.token_urlsafe(24)
    stack.sql("INSERT INTO credential (token_sha256, scheme, associate_id, expires_at) "
              "SELECT sha256(convert_to(%s, 'UTF8')), 'bearer', associate_id, now() + interval '1 hour' "
              "FROM associate WHERE name = %s", (token, stack.user))
    try:
        yield token
    finally:
        stack.sql("DELETE FROM credential WHERE token_sha256 = sha256(convert_to(%s, 'UTF8'))", (token,))


def test_call_writes_nothing(stack, bearer):
    before = _row_versions(stack)
    for _ in range(20):
        assert stack.post().status == 200
        assert stack.post(auth="Bearer " + bearer).status == 200
    assert stack.post(auth="Basic " + "d3Jvbmc6d3Jvbmc=").status == 401  # wrong:wrong
    assert stack.post(auth="Bearer not-a-token").status == 401
    assert stack.post(auth=None).status == 401
    assert _row_versions(stack) == before


# The daemons' role reads every table and writes only the webhooks, the signals' inbox, their
# delivery queue, attempts and counters (no TRUNCATE even there).
WRITABLE_TABLES = {"webhook", "webhook_usage", "webhook_signal", "webhook_delivery", "webhook_attempt",
                   "webhook_message"}


def test_daemon_role_writes_only_webhooks(stack):
    rows = stack.sql(
        "SELECT tablename, has_table_privilege('webhookd', 'public.' || quote_ident(tablename), 'SELECT'), "
        "has_table_privilege('webhookd', 'public.' || quote_ident(tablename), 'INSERT, UPDATE, DELETE'), "
        "has_table_privilege('webhookd', 'public.' || quote_ident(tablename), 'TRUNCATE') "
        "FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    assert {"associate", "webhook_default"} | WRITABLE_TABLES <= {r[0] for r in rows}
    assert [r for r in rows if r[1] is not True or r[3] is not False] == []
    assert {r[0] for r in rows if r[2]} == WRITABLE_TABLES


@pytest.mark.parametrize("statement", [
    "UPDATE webhook_default SET name = 'pwned'",
    "DELETE FROM associate",
    "INSERT INTO associate (name, password_hash) VALUES ('mallory', '$y$x')",
])
def test_daemon_role_write_is_refused(stack, statement):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        stack.transaction(("SET LOCAL ROLE webhookd", None), (statement, None))
    assert stack.post().body == DEFAULT_BODY
