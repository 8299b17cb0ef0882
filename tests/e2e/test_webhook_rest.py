"""The REST resource /api/v1/Webhook end to end: the same rows and service as the agent, with REST
conventions. A missing webhook is 404; GET carries Last-Modified and honours If-Modified-Since
(304); PUT, PATCH and DELETE honour If-Unmodified-Since (412); POST answers 201 with Location;
PATCH takes a JSON Patch (RFC 6902) or a merge patch (RFC 7386).

Every expectation is exact bytes; ids and date-times are read back from responses and SQL.
"""
import json
from email.utils import formatdate

import pytest

from e2e_support import DEFAULT_BODY, error_body, jstr
from test_webhook_agent import (AGENT, JSON_CT, REST, SERIALIZATION_NS, XML_CT, XML_DECL, agent, assert_error,
                                assert_ok, bad_request, count, hook_json, hook_xml, new_secret, row, send,
                                xml_text)

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
XML = {"Accept": "application/xml"}
PAST = "Sun, 06 Nov 1994 08:49:37 GMT"
FUTURE = "Fri, 31 Dec 2099 23:59:59 GMT"


def last_modified(stack, hook_id):
    """Last-Modified of a stored webhook: its Updated, in whole seconds, as an HTTP date."""
    secs = stack.sql("SELECT floor(extract(epoch FROM updated))::bigint FROM webhook WHERE webhook_id = %s",
                     (hook_id,))[0][0]
    return formatdate(secs, usegmt=True)


def not_found(r, hook_id):
    assert_error(r, 404, "NotFound", "Webhook %d does not exist." % hook_id, "webhookd/webhook")


def no_endpoint(r):
    assert_error(r, 404, "NotFound", "There is no API endpoint at this path.", "webhookd/router")


def assert_rest(r, status, body, stack, hook_id, content_type=JSON_CT):
    """A stored webhook as a REST answer: exact body and Last-Modified."""
    assert (r.status, r.headers.get("content-type"), r.body) == (status, content_type, body), r
    assert r.headers["last-modified"] == last_modified(stack, hook_id)


# The webhook the PATCH, PUT and DELETE tests start from.
ORIGINAL = dict(name="orig", events=["contact.created", "sale.created"], state="Active",
                headers='{"X-A":"1"}', properties='{"p":1}')


@pytest.fixture
def hook(webhooks, receiver):
    """A webhook created through POST: its id; ORIGINAL plus the receiver's URL."""
    r = send(webhooks, "POST", REST, {"Name": "orig", "Events": ["contact.created", "sale.created"],
                                      "TargetUrl": receiver.url(), "Headers": {"X-A": "1"}, "Properties": {"p": 1}})
    assert r.status == 201, r
    receiver.clear()
    return r.json()["WebhookId"]


def expected(stack, hook_id, url, **changes):
    fields = dict(ORIGINAL, target_url=url)
    fields.update(changes)
    return hook_json(stack, hook_id, **fields)


# -- POST ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("webhook_id", ["<absent>", 0, None])
def test_post_creates(webhooks, receiver, webhook_id):
    stack = webhooks
    secret = new_secret(stack)
    body = {"Name": "rest", "Events": ["sale.created"], "TargetUrl": receiver.url("/rest"), "Secret": secret,
            "State": "Stopped"}
    if webhook_id != "<absent>":
        body["WebhookId"] = webhook_id
    r = send(stack, "POST", REST, body)
    hook_id = r.json()["WebhookId"]
    assert hook_id > 0
    created = hook_json(stack, hook_id, name="rest", events=["sale.created"], target_url=receiver.url("/rest"),
                        secret=secret, state="Stopped")
    assert_rest(r, 201, created, stack, hook_id)
    assert r.headers["location"] == "/api/v1/Webhook/%d" % hook_id
    assert len(receiver.requests("/rest")) == 1
    # What Location names is the created webhook; the agent reads the same bytes.
    assert_rest(send(stack, "GET", r.headers["location"]), 200, created, stack, hook_id)
    assert_ok(agent(stack, "GetWebhook", {"WebhookId": hook_id}), created)


def test_post_in_camel_case_and_xml(webhooks, receiver):
    stack = webhooks
    r = send(stack, "POST", REST, {"webhookId": 0, "name": "ts", "events": ["a.b"], "targetUrl": receiver.url(),
                                   "state": "Active"}, headers=XML)
    hook_id = int(r.body.split(b"<WebhookId>")[1].split(b"<")[0])
    assert_rest(r, 201, hook_xml(stack, hook_id, name="ts", events=["a.b"], target_url=receiver.url()), stack,
                hook_id, XML_CT)
    assert r.headers["location"] == "/api/v1/Webhook/%d" % hook_id


@pytest.mark.parametrize("webhook_id", [1, 2147483647])
def test_post_with_an_id_is_refused(webhooks, receiver, webhook_id):
    r = send(webhooks, "POST", REST, {"WebhookId": webhook_id, "Events": ["a"], "TargetUrl": receiver.url()})
    bad_request(r, "WebhookId must be 0 or absent when creating a webhook: change an existing one with PUT or PATCH "
                   "/api/v1/Webhook/{id}.")
    assert count(webhooks) == 0
    assert receiver.requests() == []


def test_post_with_the_id_of_an_existing_webhook_is_refused(hook, stack, receiver):
    before = row(stack, hook)
    r = send(stack, "POST", REST, {"WebhookId": hook, "Events": ["a"], "TargetUrl": receiver.url()})
    bad_request(r, "WebhookId must be 0 or absent when creating a webhook: change an existing one with PUT or PATCH "
                   "/api/v1/Webhook/{id}.")
    assert row(stack, hook) == before and count(stack) == 1


# -- GET /default ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [REST + "/default", REST + "/default/", "/API/V1/WEBHOOK/DEFAULT",
                                  "/api/v1/webhook/Default"])
def test_default_is_create_default_webhook(stack, path):
    r = send(stack, "GET", path)
    assert_ok(r, DEFAULT_BODY)
    assert "last-modified" not in r.headers
    assert r.body == agent(stack, "CreateDefaultWebhook").body
    xml = send(stack, "GET", path, headers=XML)
    assert (xml.status, xml.body) == (200, agent(stack, "CreateDefaultWebhook", headers=XML).body)


def test_default_follows_the_defaults_table(defaults):
    defaults.sql("UPDATE webhook_default SET name = 'Team hook', events = ARRAY['sale.created'], state = 2")
    r = send(defaults, "GET", REST + "/default")
    assert r.status == 200
    assert r.body == agent(defaults, "CreateDefaultWebhook").body
    assert r.json()["Name"] == "Team hook" and r.json()["State"] == "Stopped"


# -- GET /{id} --------------------------------------------------------------------------------------------

def test_get(hook, stack, receiver):
    body = expected(stack, hook, receiver.url())
    for path in [REST + "/%d" % hook, REST + "/%d/" % hook, "/API/V1/WEBHOOK/%d" % hook, "/api/v1/webhook/%d" % hook]:
        assert_rest(send(stack, "GET", path), 200, body, stack, hook)
    # The agent reads the same bytes.
    assert_ok(agent(stack, "GetWebhook", query="?webhookId=%d" % hook), body)
    r = send(stack, "GET", REST + "/%d" % hook, headers=XML)
    assert_rest(r, 200, hook_xml(stack, hook, target_url=receiver.url(), name="orig",
                                 events=["contact.created", "sale.created"],
                                 headers_xml="<StringKeyValuePair><Key>X-A</Key><Value>1</Value></StringKeyValuePair>",
                                 properties_xml="<StringObjectKeyValuePair><Key>p</Key><Value>1</Value>"
                                                "</StringObjectKeyValuePair>"), stack, hook, XML_CT)


@pytest.mark.parametrize("hook_id", [0, 2147483647])
def test_get_missing(stack, hook_id):
    not_found(send(stack, "GET", REST + "/%d" % hook_id), hook_id)


@pytest.mark.parametrize("segment", ["abc", "-1", "+1", "1.5", "1e3", "0x1", "2147483648", "12345678901",
                                     "99999999999999999999", "1%20", "%20", "1,2", "1;x"])
def test_non_numeric_ids_are_no_endpoint(stack, segment):
    """{id} is an int32 in the route: anything else matches no route at all."""
    for method in ["GET", "PUT", "PATCH", "DELETE"]:
        no_endpoint(send(stack, method, REST + "/" + segment, body="{}" if method in ("PUT", "PATCH") else None))
    # With /LastError it is SignalEvent's path (POST {eventName}/{primaryKey}), for POST only.
    r = send(stack, "GET", REST + "/" + segment + "/LastError")
    assert_error(r, 405, "MethodNotAllowed", "This endpoint accepts POST only.", "webhookd/router")


def test_if_modified_since(hook, stack, receiver):
    body = expected(stack, hook, receiver.url())
    stamp = last_modified(stack, hook)
    secs = stack.sql("SELECT floor(extract(epoch FROM updated))::bigint FROM webhook WHERE webhook_id = %s",
                     (hook,))[0][0]
    # Not modified since the time Last-Modified names, nor since any later time: 304, no body.
    for since in [stamp, formatdate(secs + 1, usegmt=True), FUTURE]:
        r = send(stack, "GET", REST + "/%d" % hook, headers={"If-Modified-Since": since})
        assert (r.status, r.body) == (304, b""), r
        assert r.headers["last-modified"] == stamp
        assert "content-type" not in r.headers
    # Modified since an earlier time: the whole webhook.
    for since in [formatdate(secs - 1, usegmt=True), PAST]:
        assert_rest(send(stack, "GET", REST + "/%d" % hook, headers={"If-Modified-Since": since}), 200, body,
                    stack, hook)


@pytest.mark.parametrize("value", ["yesterday", "2026-11-28T16:52:35Z", "Sun, 06 Nov 1994 08:49:37",
                                   "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                                   "Sun, 06 Nov 1994 08:49:37 GMT x", ""])
def test_if_modified_since_malformed(hook, stack, value):
    bad_request(send(stack, "GET", REST + "/%d" % hook, headers={"If-Modified-Since": value}),
                'If-Modified-Since is not an HTTP date such as "Sun, 06 Nov 1994 08:49:37 GMT".')


def test_if_modified_since_of_a_missing_webhook(stack):
    not_found(send(stack, "GET", REST + "/2147483647", headers={"If-Modified-Since": FUTURE}), 2147483647)


# -- the list -----------------------------------------------------------------------------------------

@pytest.fixture
def three(webhooks, receiver):
    """Alpha (Active; contact.created, sale.created), Beta (Stopped; sale.created), Gamma
    (TooManyErrors; contact.created): {name: exact JSON}."""
    out = {}
    for name, events, state in [("Alpha", ["contact.created", "sale.created"], "Active"),
                                ("Beta", ["sale.created"], "Stopped"),
                                ("Gamma", ["contact.created"], "TooManyErrors")]:
        r = send(webhooks, "POST", REST, {"Name": name, "Events": events, "TargetUrl": receiver.url(), "State": state})
        assert r.status == 201, r
        out[name] = hook_json(webhooks, r.json()["WebhookId"], name=name, events=events, target_url=receiver.url(),
                              state=state)
    return out


ALL = ["Alpha", "Beta", "Gamma"]
LIST = {
    "": ALL,
    "/": ALL,
    "?nameFilter=beta": ["Beta"],
    "?NameFilter=BETA": ["Beta"],
    "?NAMEFILTER=Beta": ["Beta"],
    "?namefilter=Bet": [],
    "?eventFilter=contact.created": ["Alpha", "Gamma"],
    "?EVENTFILTER=sale.created": ["Alpha", "Beta"],
    "?eventFilter=SALE.CREATED": [],
    "?statusFilter=Stopped": ["Beta"],
    "?statusfilter=stopped": ["Beta"],
    "?StatusFilter=TOOMANYERRORS": ["Gamma"],
    "?statusFilter=1": ["Alpha"],
    "?statusFilter=Unknown": ALL,
    "?statusFilter=0": ALL,
    "?statusFilter=": ALL,
    "?nameFilter=&eventFilter=": ALL,
    "?eventFilter=sale.created&statusFilter=active": ["Alpha"],
    "?nameFilter=gamma&eventFilter=sale.created": [],
    "?nameFilter=%41lpha&other=1": ["Alpha"],
}


@pytest.mark.parametrize("query", sorted(LIST))
def test_list(three, stack, query):
    body = b"[" + b",".join(three[n] for n in LIST[query]) + b"]"
    r = send(stack, "GET", REST + query)
    assert_ok(r, body)
    assert "last-modified" not in r.headers
    # The agent's query form gives the same bytes.
    if not query.startswith("/"):
        assert agent(stack, "GetAllWebhooks", query=query).body == body


def test_list_paths_in_any_case(three, stack):
    body = b"[" + b",".join(three[n] for n in ALL) + b"]"
    for path in ["/API/V1/WEBHOOK", "/api/v1/webhook/", "/Api/V1/WebHook"]:
        assert_ok(send(stack, "GET", path), body)


@pytest.mark.parametrize("query,message", [
    ("?statusFilter=Paused", "StatusFilter must be Unknown, Active, Stopped or TooManyErrors (or 0 to 3)."),
    ("?statusFilter=4", "StatusFilter must be Unknown, Active, Stopped or TooManyErrors (or 0 to 3)."),
    ("?nameFilter=a&NameFilter=b", "The query parameter NameFilter is given more than once."),
    ("?eventFilter=%zz", "The query parameter EventFilter is malformed or too long."),
    ("?nameFilter=" + "n" * 600, "The query parameter NameFilter is malformed or too long."),
])
def test_list_errors(stack, query, message):
    bad_request(send(stack, "GET", REST + query), message)


# -- PUT /{id} ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body_id", ["<absent>", 0, None, "<same>"])
def test_put_replaces(hook, stack, receiver, body_id):
    first = json.loads(send(stack, "GET", REST + "/%d" % hook).body)
    secret = new_secret(stack)
    body = {"Name": "put", "Events": ["a.b"], "TargetUrl": receiver.url(), "Secret": secret, "State": 3,
            "Registered": "2001-01-01T00:00:00", "RegisteredAssociate": {"AssociateId": 42}}
    if body_id != "<absent>":
        body["WebhookId"] = hook if body_id == "<same>" else body_id
    r = send(stack, "PUT", REST + "/%d" % hook, body)
    # A whole replacement: Headers and Properties, not sent, are gone.
    assert_rest(r, 200, expected(stack, hook, receiver.url(), name="put", events=["a.b"], secret=secret,
                                 state="TooManyErrors", headers="null", properties="null"), stack, hook)
    assert r.json()["Registered"] == first["Registered"]
    assert r.json()["Updated"] > first["Updated"]
    assert "location" not in r.headers
    assert receiver.requests() == []  # same TargetUrl: not checked again


def test_put_with_another_id_in_the_body(hook, stack, receiver):
    before = row(stack, hook)
    r = send(stack, "PUT", REST + "/%d" % hook, {"WebhookId": hook + 1, "Events": ["a"], "TargetUrl": receiver.url()})
    bad_request(r, "WebhookId in the body (%d) is not the one in the path (%d)." % (hook + 1, hook))
    assert row(stack, hook) == before


def test_put_missing(webhooks, receiver):
    r = send(webhooks, "PUT", REST + "/2147483647", {"Events": ["a"], "TargetUrl": receiver.url()})
    not_found(r, 2147483647)
    assert count(webhooks) == 0
    assert receiver.requests() == []


def test_put_invalid_body(hook, stack, receiver):
    before = row(stack, hook)
    bad_request(send(stack, "PUT", REST + "/%d" % hook, {"Events": [], "TargetUrl": receiver.url()}),
                "Events must be an array of 1 to 100 event names.")
    bad_request(send(stack, "PUT", REST + "/%d" % hook, None), "The body must be a Webhook.")
    assert row(stack, hook) == before


# -- PATCH /{id}: JSON Patch ----------------------------------------------------------------------------

# case -> (operations, changes to ORIGINAL)
JSON_PATCHES = {
    "replace": ([{"op": "replace", "path": "/Name", "value": "new"}], dict(name="new")),
    "path_lower_case": ([{"op": "replace", "path": "/name", "value": "new"}], dict(name="new")),
    "path_upper_case": ([{"op": "replace", "path": "/NAME", "value": "new"}], dict(name="new")),
    "path_without_slash": ([{"op": "replace", "path": "Name", "value": "new"}], dict(name="new")),
    "op_any_case": ([{"op": "Replace", "path": "/Name", "value": "new"}], dict(name="new")),
    "add_replaces_a_member": ([{"op": "add", "path": "/Name", "value": "added"}], dict(name="added")),
    "add_header": ([{"op": "add", "path": "/Headers/X-B", "value": "2"}], dict(headers='{"X-A":"1","X-B":"2"}')),
    "add_header_without_slash": ([{"op": "add", "path": "headers/X-B", "value": "2"}],
                                 dict(headers='{"X-A":"1","X-B":"2"}')),
    "add_event_at_end": ([{"op": "add", "path": "/Events/-", "value": "x.y"}],
                         dict(events=["contact.created", "sale.created", "x.y"])),
    "add_event_first": ([{"op": "add", "path": "/events/0", "value": "x.y"}],
                        dict(events=["x.y", "contact.created", "sale.created"])),
    "replace_event": ([{"op": "replace", "path": "/Events/1", "value": "sale.changed"}],
                      dict(events=["contact.created", "sale.changed"])),
    "remove_event": ([{"op": "remove", "path": "/Events/0"}], dict(events=["sale.created"])),
    "remove_name": ([{"op": "remove", "path": "/Name"}], dict(name=None)),
    "remove_headers": ([{"op": "remove", "path": "/Headers"}], dict(headers="null")),
    "remove_property": ([{"op": "remove", "path": "/Properties/p"}], dict(properties="{}")),
    "add_nested_property": ([{"op": "add", "path": "/Properties/n", "value": {"a": [1, None]}}],
                            dict(properties='{"p":1,"n":{"a":[1,null]}}')),
    "replace_state_by_number": ([{"op": "replace", "path": "/State", "value": 2}], dict(state="Stopped")),
    "replace_state_by_name": ([{"op": "replace", "path": "/state", "value": "toomanyerrors"}],
                              dict(state="TooManyErrors")),
    "test_then_replace": ([{"op": "test", "path": "/Name", "value": "orig"},
                           {"op": "replace", "path": "/Name", "value": "tested"}], dict(name="tested")),
    "test_any_case": ([{"op": "test", "path": "/events/1", "value": "sale.created"},
                       {"op": "TEST", "path": "/HEADERS", "value": {"X-A": "1"}}], {}),
    "several_in_order": ([{"op": "replace", "path": "/Name", "value": "a"},
                          {"op": "replace", "path": "/Name", "value": "b"},
                          {"op": "test", "path": "/Name", "value": "b"},
                          {"op": "add", "path": "/Secret", "value": None}], dict(name="b")),
    # What the server sets is not the client's to change.
    "server_values_ignored": ([{"op": "replace", "path": "/Registered", "value": "2001-01-01T00:00:00"},
                               {"op": "replace", "path": "/RegisteredAssociate", "value": None},
                               {"op": "add", "path": "/Bogus", "value": 1}], {}),
}


@pytest.mark.parametrize("content_type", [JSON_PATCH, "application/json", "text/json"])
@pytest.mark.parametrize("case", sorted(JSON_PATCHES))
def test_json_patch(hook, stack, receiver, case, content_type):
    ops, changes = JSON_PATCHES[case]
    first = json.loads(send(stack, "GET", REST + "/%d" % hook).body)
    r = send(stack, "PATCH", REST + "/%d" % hook, ops, content_type=content_type)
    assert_rest(r, 200, expected(stack, hook, receiver.url(), **changes), stack, hook)
    assert r.json()["Registered"] == first["Registered"]
    assert_ok(agent(stack, "GetWebhook", {"WebhookId": hook}), r.body)


# case -> (operations, status, ErrorType, message with {id})
JSON_PATCH_ERRORS = {
    "test_fails": ([{"op": "test", "path": "/Name", "value": "other"}, {"op": "replace", "path": "/Name", "value": "x"}],
                   409, "Conflict", 'Operation 0 ("test") failed: the value at "/Name" is different.'),
    "test_fails_after_a_change": ([{"op": "replace", "path": "/Name", "value": "x"},
                                   {"op": "test", "path": "/Name", "value": "orig"}],
                                  409, "Conflict", 'Operation 1 ("test") failed: the value at "/Name" is different.'),
    "test_type_matters": ([{"op": "test", "path": "/State", "value": 1}],
                          409, "Conflict", 'Operation 0 ("test") failed: the value at "/State" is different.'),
    "test_missing_member": ([{"op": "test", "path": "/Nope", "value": None}],
                            400, "BadRequest", 'Operation 0: the path "/Nope" does not exist.'),
    "move": ([{"op": "move", "from": "/Name", "path": "/Secret"}],
             400, "BadRequest", 'Operation 0 ("move") is not supported: use add, replace, remove or test.'),
    "copy": ([{"op": "copy", "from": "/Name", "path": "/Secret"}],
             400, "BadRequest", 'Operation 0 ("copy") is not supported: use add, replace, remove or test.'),
    "unknown_op": ([{"op": "replace", "path": "/Name", "value": "x"}, {"op": "increment", "path": "/State"}],
                   400, "BadRequest", 'Operation 1 ("increment") is not supported: use add, replace, remove or test.'),
    "op_missing": ([{"path": "/Name", "value": "x"}], 400, "BadRequest", 'Operation 0 has no "op".'),
    "op_not_a_string": ([{"op": 1, "path": "/Name"}], 400, "BadRequest", 'Operation 0: "op" must be a string.'),
    "op_twice": ([{"op": "add", "OP": "remove", "path": "/Name", "value": 1}],
                 400, "BadRequest", 'Operation 0 has more than one "op".'),
    "path_missing": ([{"op": "replace", "value": "x"}], 400, "BadRequest", 'Operation 0 ("replace") has no "path".'),
    "path_not_a_string": ([{"op": "remove", "path": ["Name"]}], 400, "BadRequest",
                          'Operation 0: "path" must be a string.'),
    "value_missing": ([{"op": "add", "path": "/Name"}], 400, "BadRequest", 'Operation 0 ("add") has no "value".'),
    "not_an_object": (["replace"], 400, "BadRequest", "Operation 0 is not a JSON object."),
    "path_does_not_exist": ([{"op": "replace", "path": "/Nope/x", "value": 1}],
                            400, "BadRequest", 'Operation 0: the path "/Nope/x" does not exist.'),
    "replace_missing_member": ([{"op": "replace", "path": "/Nope", "value": 1}],
                               400, "BadRequest", 'Operation 0: the path "/Nope" does not exist.'),
    "remove_missing_member": ([{"op": "remove", "path": "/Headers/X-Nope"}],
                              400, "BadRequest", 'Operation 0: the path "/Headers/X-Nope" does not exist.'),
    "index_out_of_range": ([{"op": "replace", "path": "/Events/2", "value": "x"}],
                           400, "BadRequest", 'Operation 0: the path "/Events/2" does not exist.'),
    "index_leading_zero": ([{"op": "replace", "path": "/Events/01", "value": "x"}],
                           400, "BadRequest", 'Operation 0: the path "/Events/01" has an invalid array index.'),
    "index_not_a_number": ([{"op": "add", "path": "/Events/x", "value": "x"}],
                           400, "BadRequest", 'Operation 0: the path "/Events/x" has an invalid array index.'),
    "dash_only_for_add": ([{"op": "remove", "path": "/Events/-"}],
                          400, "BadRequest", 'Operation 0: the path "/Events/-" does not exist.'),
    "bad_pointer_escape": ([{"op": "replace", "path": "/Events/~2", "value": 1}],
                           400, "BadRequest", 'Operation 0: the path "/Events/~2" is not a valid JSON Pointer.'),
    "remove_the_document": ([{"op": "remove", "path": ""}],
                            400, "BadRequest", "Operation 0: the whole document cannot be removed."),
    "too_many_operations": ([{"op": "test", "path": "/Name", "value": "orig"}] * 1001,
                            400, "BadRequest", "The patch has more than 1000 operations."),
    # A patch that leaves an invalid webhook is refused naming the property, as a body would be.
    "remove_events": ([{"op": "remove", "path": "/Events"}],
                      400, "BadRequest", "Events is required: an array of 1 to 100 event names."),
    "empty_events": ([{"op": "replace", "path": "/Events", "value": []}],
                     400, "BadRequest", "Events must be an array of 1 to 100 event names."),
    "bad_event": ([{"op": "add", "path": "/Events/-", "value": "a b"}],
                  400, "BadRequest", "Events[2] must be 1 to 200 bytes without white space, control characters or "
                                     "commas."),
    "bad_state": ([{"op": "replace", "path": "/State", "value": "Paused"}],
                  400, "BadRequest", "State must be Unknown, Active, Stopped or TooManyErrors (or 0 to 3)."),
    "bad_name": ([{"op": "replace", "path": "/Name", "value": 5}], 400, "BadRequest", "Name must be a string or null."),
    "remove_target_url": ([{"op": "remove", "path": "/TargetUrl"}],
                          400, "BadRequest", "TargetUrl is required: the https:// URL events are posted to."),
    "bad_target_url": ([{"op": "replace", "path": "/TargetUrl", "value": "ftp://127.0.0.1/"}],
                       400, "BadRequest", "TargetUrl must use http:// or https://, not ftp://."),
    "reserved_header": ([{"op": "add", "path": "/Headers/Host", "value": "x"}],
                        400, "BadRequest", 'Headers: "Host" is set by the delivery itself and cannot be given (nor '
                                           'Content-*, Host, User-Agent, X-SuperOffice-*, webhook-* or hop-by-hop '
                                           'headers).'),
    "header_not_a_string": ([{"op": "add", "path": "/Headers/X-B", "value": 2}],
                            400, "BadRequest", 'Headers: the value of "X-B" must be a string.'),
    "bad_type": ([{"op": "replace", "path": "/Type", "value": "crmscript"}],
                 400, "BadRequest", 'Type "crmscript" is not supported: this server runs no CRMScript; use "webhook".'),
    "change_id": ([{"op": "replace", "path": "/WebhookId", "value": 5}],
                  400, "BadRequest", "WebhookId cannot be changed (it is {id})."),
    "remove_id": ([{"op": "remove", "path": "/webhookid"}],
                  400, "BadRequest", "WebhookId cannot be changed (it is {id})."),
    "replace_document_with_array": ([{"op": "replace", "path": "", "value": []}],
                                    400, "BadRequest", "The body must be a Webhook: a JSON object."),
}


@pytest.mark.parametrize("case", sorted(JSON_PATCH_ERRORS))
def test_json_patch_refused(hook, stack, receiver, case):
    ops, status, error_type, message = JSON_PATCH_ERRORS[case]
    before = row(stack, hook)
    r = send(stack, "PATCH", REST + "/%d" % hook, ops, content_type=JSON_PATCH)
    assert_error(r, status, error_type, message.format(id=hook), "webhookd/webhook")
    # Nothing changed, not even Updated; no target heard of it.
    assert row(stack, hook) == before
    assert receiver.requests() == []


def test_json_patch_can_replace_the_whole_document(hook, stack, receiver):
    doc = json.loads(send(stack, "GET", REST + "/%d" % hook).body)
    doc.update(Name="whole", Headers=None)
    r = send(stack, "PATCH", REST + "/%d" % hook, [{"op": "replace", "path": "", "value": doc}],
             content_type=JSON_PATCH)
    assert_rest(r, 200, expected(stack, hook, receiver.url(), name="whole", headers="null"), stack, hook)


def test_patch_changing_the_target_checks_it(hook, stack, receiver):
    r = send(stack, "PATCH", REST + "/%d" % hook, [{"op": "replace", "path": "/TargetUrl",
                                                   "value": receiver.url("/moved")}], content_type=JSON_PATCH)
    assert_rest(r, 200, expected(stack, hook, receiver.url("/moved")), stack, hook)
    assert [q.path for q in receiver.requests()] == ["/moved"]


def test_patch_missing(webhooks):
    for body, content_type in [([{"op": "replace", "path": "/Name", "value": "x"}], JSON_PATCH),
                               ({"Name": "x"}, MERGE_PATCH)]:
        not_found(send(webhooks, "PATCH", REST + "/2147483647", body, content_type=content_type), 2147483647)
    assert count(webhooks) == 0


# -- PATCH /{id}: merge patch ---------------------------------------------------------------------------

MERGE_PATCHES = {
    "name": ({"Name": "merged"}, dict(name="merged")),
    "name_camel_case": ({"name": "merged"}, dict(name="merged")),
    "null_removes": ({"Name": None}, dict(name=None)),
    "null_removes_headers": ({"headers": None}, dict(headers="null")),
    "objects_merge": ({"Headers": {"X-B": "2"}}, dict(headers='{"X-A":"1","X-B":"2"}')),
    "null_removes_a_member": ({"Headers": {"X-A": None}}, dict(headers="{}")),
    "nested_merge": ({"Properties": {"p": None, "q": [1, {"r": None}]}}, dict(properties='{"q":[1,{"r":null}]}')),
    "arrays_replace": ({"Events": ["a.b"]}, dict(events=["a.b"])),
    "state_by_number": ({"State": 2}, dict(state="Stopped")),
    "several": ({"name": "m", "STATE": "stopped", "Properties": {"p": 2}},
                dict(name="m", state="Stopped", properties='{"p":2}')),
    "empty": ({}, {}),
    "unknown_members_ignored": ({"Bogus": 1, "Registered": "2001-01-01T00:00:00"}, {}),
}


@pytest.mark.parametrize("content_type", [MERGE_PATCH, "application/json", "application/merge-patch+json; charset=utf-8"])
@pytest.mark.parametrize("case", sorted(MERGE_PATCHES))
def test_merge_patch(hook, stack, receiver, case, content_type):
    patch, changes = MERGE_PATCHES[case]
    r = send(stack, "PATCH", REST + "/%d" % hook, patch, content_type=content_type)
    assert_rest(r, 200, expected(stack, hook, receiver.url(), **changes), stack, hook)


MERGE_PATCH_ERRORS = {
    "events_null": ({"Events": None}, "Events is required: an array of 1 to 100 event names."),
    "target_url_null": ({"targetUrl": None}, "TargetUrl is required: the https:// URL events are posted to."),
    "bad_state": ({"State": 9}, "State must be Unknown, Active, Stopped or TooManyErrors (or 0 to 3)."),
    "bad_header": ({"Headers": {"X-B": "1\r\n2"}},
                   'Headers: the value of "X-B" must be at most 4000 bytes without control characters (CR, LF, NUL, '
                   '...).'),
    "change_id": ({"WebhookId": 7}, "WebhookId cannot be changed (it is {id})."),
    "remove_id": ({"WebhookId": None}, "WebhookId cannot be changed (it is {id})."),
}


@pytest.mark.parametrize("case", sorted(MERGE_PATCH_ERRORS))
def test_merge_patch_refused(hook, stack, receiver, case):
    patch, message = MERGE_PATCH_ERRORS[case]
    before = row(stack, hook)
    r = send(stack, "PATCH", REST + "/%d" % hook, patch, content_type=MERGE_PATCH)
    assert_error(r, 400, "BadRequest", message.format(id=hook), "webhookd/webhook")
    assert row(stack, hook) == before
    assert receiver.requests() == []


SHAPE = ("The body must be a JSON Patch (an array of operations, application/json-patch+json) or a merge patch "
         "(an object, application/merge-patch+json).")


@pytest.mark.parametrize("content_type,body", [
    (JSON_PATCH, {"Name": "x"}),                       # an object is a merge patch, not a JSON Patch
    (MERGE_PATCH, [{"op": "remove", "path": "/Name"}]),  # an array is a JSON Patch, not a merge patch
    ("application/json", '"Name"'),
    ("application/json", "5"),
    ("application/json", "null"),
    (JSON_PATCH, "true"),
    (MERGE_PATCH, '"x"'),
    ("application/json", b""),
    (JSON_PATCH, b"  "),
])
def test_patch_of_the_wrong_shape(hook, stack, content_type, body):
    before = row(stack, hook)
    bad_request(send(stack, "PATCH", REST + "/%d" % hook, body, content_type=content_type), SHAPE)
    assert row(stack, hook) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/json; charset=latin1"])
def test_patch_of_another_media_type(hook, stack, content_type):
    before = row(stack, hook)
    r = send(stack, "PATCH", REST + "/%d" % hook, [{"op": "remove", "path": "/Name"}], content_type=content_type)
    assert_error(r, 415, "UnsupportedMediaType", "The request body must be JSON in UTF-8: Content-Type "
                 "application/json (or text/json, application/json-patch+json, application/merge-patch+json).",
                 "webhookd/request")
    assert row(stack, hook) == before


def test_patch_with_malformed_json(hook, stack):
    before = row(stack, hook)
    bad_request(send(stack, "PATCH", REST + "/%d" % hook, '[{"op":"remove","path":"/Name"},]',
                     content_type=JSON_PATCH), "The body is not valid JSON (near byte 33).")
    assert row(stack, hook) == before


# -- If-Unmodified-Since on PUT, PATCH and DELETE -------------------------------------------------------

def put_same_target(url):
    return {"Name": "changed", "Events": ["a.b"], "TargetUrl": url}


WRITES = {
    "PUT": lambda stack, hook_id, url, headers: send(stack, "PUT", REST + "/%d" % hook_id, put_same_target(url),
                                                     headers=headers),
    "PATCH": lambda stack, hook_id, url, headers: send(stack, "PATCH", REST + "/%d" % hook_id,
                                                       [{"op": "replace", "path": "/Name", "value": "changed"}],
                                                       headers=headers, content_type=JSON_PATCH),
    "MERGE": lambda stack, hook_id, url, headers: send(stack, "PATCH", REST + "/%d" % hook_id, {"Name": "changed"},
                                                       headers=headers, content_type=MERGE_PATCH),
    "DELETE": lambda stack, hook_id, url, headers: send(stack, "DELETE", REST + "/%d" % hook_id, headers=headers),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_if_unmodified_since_past(hook, stack, receiver, write):
    before = row(stack, hook)
    secs = stack.sql("SELECT floor(extract(epoch FROM updated))::bigint FROM webhook WHERE webhook_id = %s",
                     (hook,))[0][0]
    for since in [PAST, formatdate(secs - 1, usegmt=True)]:
        r = WRITES[write](stack, hook, receiver.url(), {"If-Unmodified-Since": since})
        message = "Webhook %d has changed since the time If-Unmodified-Since names." % hook
        assert_error(r, 412, "PreconditionFailed", message, "webhookd/webhook")
        assert row(stack, hook) == before


@pytest.mark.parametrize("write", sorted(WRITES))
def test_if_unmodified_since_now_or_future(hook, stack, receiver, write):
    # The second Last-Modified names still qualifies: a change within it is not "since".
    for since in [last_modified(stack, hook), FUTURE]:
        r = WRITES[write](stack, hook, receiver.url(), {"If-Unmodified-Since": since})
        if write == "DELETE":
            assert (r.status, r.body) == (204, b"")
            return
        assert_rest(r, 200, expected(stack, hook, receiver.url(), name="changed",
                                     **(dict(events=["a.b"], headers="null", properties="null")
                                        if write == "PUT" else {})), stack, hook)


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("value", ["yesterday", "Sun, 06 Nov 1994 08:49:37", "1994-11-06T08:49:37Z", ""])
def test_if_unmodified_since_malformed(hook, stack, receiver, write, value):
    before = row(stack, hook)
    bad_request(WRITES[write](stack, hook, receiver.url(), {"If-Unmodified-Since": value}),
                'If-Unmodified-Since is not an HTTP date such as "Sun, 06 Nov 1994 08:49:37 GMT".')
    assert row(stack, hook) == before


@pytest.mark.parametrize("write", sorted(WRITES))
def test_if_unmodified_since_on_a_missing_webhook(webhooks, receiver, write):
    not_found(WRITES[write](webhooks, 2147483647, receiver.url(), {"If-Unmodified-Since": PAST}), 2147483647)
    assert count(webhooks) == 0


@pytest.mark.parametrize("write", ["PUT", "PATCH"])
def test_failed_precondition_checks_no_target(hook, stack, receiver, write):
    """A write refused for its precondition has no effect at all: in particular the new TargetUrl
    it names does not get a test event (the precondition is evaluated before the method runs,
    RFC 9110 13.2.1)."""
    before = row(stack, hook)
    moved = receiver.url("/moved")
    if write == "PUT":
        r = send(stack, "PUT", REST + "/%d" % hook, {"Events": ["a"], "TargetUrl": moved},
                 headers={"If-Unmodified-Since": PAST})
    else:
        r = send(stack, "PATCH", REST + "/%d" % hook, {"TargetUrl": moved}, content_type=MERGE_PATCH,
                 headers={"If-Unmodified-Since": PAST})
    assert_error(r, 412, "PreconditionFailed", "Webhook %d has changed since the time If-Unmodified-Since names."
                 % hook, "webhookd/webhook")
    assert row(stack, hook) == before
    assert receiver.requests() == []


# -- DELETE /{id} ---------------------------------------------------------------------------------------

def test_delete(hook, stack):
    stack.sql("INSERT INTO webhook_usage (webhook_id, last_error) VALUES (%s, 'x')", (hook,))
    r = send(stack, "DELETE", REST + "/%d" % hook)
    assert (r.status, r.body) == (204, b"")
    assert "content-type" not in r.headers and "last-modified" not in r.headers
    assert count(stack) == 0
    assert stack.sql("SELECT count(*) FROM webhook_usage")[0][0] == 0
    # Gone: every REST method says so, the agent answers null.
    not_found(send(stack, "DELETE", REST + "/%d" % hook), hook)
    not_found(send(stack, "GET", REST + "/%d" % hook), hook)
    not_found(send(stack, "GET", REST + "/%d/LastError" % hook), hook)
    assert_ok(agent(stack, "GetWebhook", {"WebhookId": hook}), b"null")


def test_delete_in_any_case_path(hook, stack):
    r = send(stack, "DELETE", "/API/V1/WEBHOOK/%d/" % hook)
    assert (r.status, r.body) == (204, b"")
    assert count(stack) == 0


# -- GET /{id}/LastError ---------------------------------------------------------------------------------

def test_last_error(hook, stack):
    for path in [REST + "/%d/LastError" % hook, REST + "/%d/lasterror/" % hook, "/API/V1/WEBHOOK/%d/LASTERROR" % hook]:
        r = send(stack, "GET", path)
        assert_ok(r, b'""')
    text = "HTTP 503 <Service Unavailable> & retry\r\n"
    stack.sql("INSERT INTO webhook_usage (webhook_id, total_calls, total_errors, consecutive_errors, last_error, "
              "last_error_at) VALUES (%s, 1, 1, 1, %s, now())", (hook,  text))
    assert_ok(send(stack, "GET", REST + "/%d/LastError" % hook), jstr(text).encode())
    assert_ok(send(stack, "GET", REST + "/%d/LastError" % hook, headers=XML),
              (XML_DECL + '<string xmlns="%s">%s</string>' % (SERIALIZATION_NS, xml_text(text))).encode(), XML_CT)
    # The agent reads the same.
    assert_ok(agent(stack, "GetLastError", {"WebhookId": hook}), jstr(text).encode())


def test_last_error_missing(stack):
    not_found(send(stack, "GET", REST + "/2147483647/LastError"), 2147483647)


# -- methods ---------------------------------------------------------------------------------------------

# (method, path with {id}, Allow)
WRONG_METHODS = [
    ("PUT", REST, "GET, POST"),
    ("PATCH", REST, "GET, POST"),
    ("DELETE", REST, "GET, POST"),
    ("DELETE", "/API/V1/WEBHOOK/", "GET, POST"),
    ("POST", REST + "/default", "GET"),
    ("PUT", REST + "/default", "GET"),
    ("PATCH", REST + "/default", "GET"),
    ("DELETE", REST + "/default", "GET"),
    ("POST", REST + "/{id}", "GET, PUT, PATCH, DELETE"),
    ("POST", "/api/v1/webhook/{id}/", "GET, PUT, PATCH, DELETE"),
    # Two segments after /Webhook are also SignalEvent's path (POST {eventName}/{primaryKey}).
    ("PUT", REST + "/{id}/LastError", "GET, POST"),
    ("PATCH", REST + "/{id}/LastError", "GET, POST"),
    ("DELETE", REST + "/{id}/LastError", "GET, POST"),
    ("GET", AGENT + "SaveWebhook", "POST"),
    ("PUT", AGENT + "GetWebhook", "POST"),
    ("DELETE", AGENT + "DeleteWebhook", "POST"),
    ("GET", AGENT + "GetAllWebhooks", "POST"),
    ("PATCH", AGENT + "GetLastError", "POST"),
]


@pytest.mark.parametrize("method,path,allow", WRONG_METHODS)
def test_wrong_method(hook, stack, method, path, allow):
    before = row(stack, hook)
    r = send(stack, method, path.format(id=hook), body="{}" if method in ("POST", "PUT", "PATCH") else None)
    assert_error(r, 405, "MethodNotAllowed", "This endpoint accepts %s only." % allow, "webhookd/router")
    assert r.header_values("allow") == [allow]
    assert row(stack, hook) == before


@pytest.mark.parametrize("path", [REST + "/1/LastError/x", REST + "s", "/api/v1/Webhooks/1", "/api/v2/Webhook"])
def test_unknown_paths(stack, path):
    no_endpoint(send(stack, "GET", path))


@pytest.mark.parametrize("path", [REST + "/1/2", REST + "/default/1"])
def test_signal_paths_take_post_only(stack, path):
    """Two segments after /Webhook name an event and a primary key (SignalEvent's REST form)."""
    r = send(stack, "GET", path)
    assert_error(r, 405, "MethodNotAllowed", "This endpoint accepts POST only.", "webhookd/router")
    assert r.header_values("allow") == ["POST"]


def test_rest_needs_authentication(hook, stack):
    for method, path in [("GET", REST), ("GET", REST + "/default"), ("GET", REST + "/%d" % hook),
                         ("DELETE", REST + "/%d" % hook), ("GET", REST + "/%d/LastError" % hook)]:
        r = send(stack, method, path, auth=False)
        assert_error(r, 401, "Unauthorized", "Authentication required: send an Authorization header, or the session "
                     "cookie with X-XSRF-TOKEN.", "webhookd/auth")
    assert count(stack) == 1
