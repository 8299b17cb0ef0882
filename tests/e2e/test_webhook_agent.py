"""The Webhook agent end to end: POST /api/v1/Agents/Webhook/<Method>.

CreateDefaultWebhook -> fill in -> SaveWebhook (WebhookId 0 creates) -> GetWebhook ->
GetAllWebhooks -> SaveWebhook with an id (replaces) -> GetLastError -> DeleteWebhook, as the
TypeScript client (camelCase) and the .NET client (PascalCase) call them, in JSON and in XML.

Every expectation is exact bytes. What the server decides at run time (ids, Registered and
Updated, the caller's associate id) is read back from the response or from SQL, never predicted.

The helpers in the first section are shared with test_webhook_rest.py and
test_webhook_validation.py.
"""
import json
import secrets
from datetime import datetime, timezone

import pytest

from e2e_support import DEFAULT_BODY, basic, error_body, jstr

# -- shared helpers ------------------------------------------------------------------------------

AGENT = "/api/v1/Agents/Webhook/"
REST = "/api/v1/Webhook"
JSON_CT = "application/json; charset=utf-8"
XML_CT = "application/xml; charset=utf-8"
XML_DECL = '<?xml version="1.0" encoding="utf-8"?>'
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SERIALIZATION_NS = "http://schemas.microsoft.com/2003/10/Serialization/"
UNSET = "0001-01-01T00:00:00"


def encode(body):
    """A request body: bytes as they are, str as UTF-8, anything else as compact JSON."""
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def send(stack, method, path, body=None, headers=None, content_type="application/json", auth=True):
    """One request as alice. body None sends no body (and no Content-Type); content_type None
    sends a body without Content-Type."""
    h = {}
    if auth:
        h["Authorization"] = basic(stack.user, stack.password)
    if body is not None and content_type is not None:
        h["Content-Type"] = content_type
    h.update(headers or {})
    return stack.request(method, path, headers=h, body=encode(body))


def agent(stack, method, body=None, query="", headers=None, content_type="application/json"):
    """POST /api/v1/Agents/Webhook/<method><query>."""
    return send(stack, "POST", AGENT + method + query, body, headers, content_type)


def new_secret(stack):
    """A Secret to send, registered so that the session can check no log ever holds it."""
    value = "sec-" + secrets.token_urlsafe(18)
    stack.secrets.add(value)
    return value


def count(stack):
    return stack.sql("SELECT count(*) FROM webhook")[0][0]


def format_time(us, tag_utc=False):
    """A date-time as the daemon writes it: UTC, microseconds only when there are any."""
    secs, frac = divmod(us, 1_000_000)
    text = datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += ".%06d" % frac
    return text + ("Z" if tag_utc else "")


def stored_times(stack, hook_id, tag_utc=False):
    """(Registered, Updated) of a stored webhook, as the carrier writes them."""
    reg, upd = stack.sql(
        "SELECT (extract(epoch FROM registered) * 1000000)::bigint, (extract(epoch FROM updated) * 1000000)::bigint "
        "FROM webhook WHERE webhook_id = %s", (hook_id,))[0]
    return format_time(reg, tag_utc), format_time(upd, tag_utc)


def row(stack, hook_id):
    """Everything stored of a webhook, to prove a refused change changed nothing."""
    rows = stack.sql("SELECT to_jsonb(w)::text FROM webhook w WHERE webhook_id = %s", (hook_id,))
    return rows[0][0] if rows else None


def associate(stack, name):
    """(id, name, full name, deleted) of an associate by login name."""
    return stack.sql("SELECT associate_id, name, coalesce(full_name, name), deleted FROM associate "
                     "WHERE lower(name) = lower(%s)", (name,))[0]


def associate_json(stack, name):
    """The Associate carrier of an associate, as the daemon writes it in JSON (Carrier base last)."""
    aid, login, full, deleted = associate(stack, name)
    return ('{"AssociateId":%d,"Name":%s,"PersonId":0,"Rank":0,"Tooltip":%s,"Type":"InternalAssociate",'
            '"GroupIdx":0,"FullName":%s,"FormalName":%s,"Deleted":%s,"EjUserId":0,"UserName":%s,'
            '"TableRight":null,"FieldProperties":null}'
            % (aid, jstr(login), jstr(full), jstr(full), jstr(full), "true" if deleted else "false", jstr(login)))


def xml_text(value):
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")


def associate_xml(stack, element, name):
    """The Associate carrier in XML: DataContract order puts the Carrier base first."""
    aid, login, full, deleted = associate(stack, name)
    return ('<%s><TableRight i:nil="true"/><FieldProperties i:nil="true"/><AssociateId>%d</AssociateId>'
            '<Name>%s</Name><PersonId>0</PersonId><Rank>0</Rank><Tooltip>%s</Tooltip><Type>InternalAssociate</Type>'
            '<GroupIdx>0</GroupIdx><FullName>%s</FullName><FormalName>%s</FormalName><Deleted>%s</Deleted>'
            '<EjUserId>0</EjUserId><UserName>%s</UserName></%s>'
            % (element, aid, xml_text(login), xml_text(full), xml_text(full), xml_text(full),
               "true" if deleted else "false", xml_text(login), element))


def hook_json(stack, hook_id, *, events, target_url, name=None, secret=None, state="Active", type_="webhook",
              headers="null", properties="null", registered_by=None, updated_by=None, tag_utc=False):
    """The exact JSON of a stored webhook. headers and properties are raw JSON text; Registered
    and Updated come from SQL; the associates are carriers of login names (default: the caller)."""
    registered_by = registered_by or stack.user
    updated_by = updated_by or registered_by
    reg, upd = stored_times(stack, hook_id, tag_utc)
    return ('{"WebhookId":%d,"Name":%s,"Events":[%s],"TargetUrl":%s,"Secret":%s,"State":%s,"Type":%s,'
            '"Headers":%s,"Properties":%s,"Registered":%s,"RegisteredAssociate":%s,"Updated":%s,'
            '"UpdatedAssociate":%s}'
            % (hook_id, jstr(name), ",".join(jstr(e) for e in events), jstr(target_url), jstr(secret),
               jstr(state), jstr(type_), headers, properties, jstr(reg), associate_json(stack, registered_by),
               jstr(upd), associate_json(stack, updated_by))).encode()


def nil_or(element, inner):
    return '<%s i:nil="true"/>' % element if inner is None else "<%s>%s</%s>" % (element, inner, element)


def hook_xml_element(stack, hook_id, *, events, target_url, name=None, secret=None, state="Active",
                     type_="webhook", headers_xml=None, properties_xml=None, registered_by=None, updated_by=None):
    """A stored webhook as a <Webhook> element without prologue (for ArrayOfWebhook).
    headers_xml and properties_xml are the inner XML of the dictionaries, None for nil."""
    registered_by = registered_by or stack.user
    updated_by = updated_by or registered_by
    reg, upd = stored_times(stack, hook_id)
    return ("<WebhookId>%d</WebhookId>%s<Events>%s</Events>%s%s<State>%s</State><Type>%s</Type>%s%s"
            "<Registered>%s</Registered>%s<Updated>%s</Updated>%s"
            % (hook_id, nil_or("Name", None if name is None else xml_text(name)),
               "".join("<string>%s</string>" % xml_text(e) for e in events),
               nil_or("TargetUrl", xml_text(target_url)), nil_or("Secret", None if secret is None else xml_text(secret)),
               state, xml_text(type_), nil_or("Headers", headers_xml), nil_or("Properties", properties_xml),
               reg, associate_xml(stack, "RegisteredAssociate", registered_by), upd,
               associate_xml(stack, "UpdatedAssociate", updated_by)))


def hook_xml(stack, hook_id, **kwargs):
    """The exact XML document of one stored webhook."""
    return (XML_DECL + '<Webhook xmlns:i="%s">%s</Webhook>' % (XSI_NS, hook_xml_element(stack, hook_id, **kwargs))).encode()


def pascal_body(target_url, **overrides):
    """A Webhook as the .NET client sends it: all 13 properties, PascalCase, unset dates."""
    body = {"WebhookId": 0, "Name": "hook", "Events": ["contact.created"], "TargetUrl": target_url, "Secret": None,
            "State": "Active", "Type": "webhook", "Headers": None, "Properties": None, "Registered": UNSET,
            "RegisteredAssociate": None, "Updated": UNSET, "UpdatedAssociate": None}
    body.update(overrides)
    return body


def save(stack, body):
    """SaveWebhook that must succeed; returns (new or same id, response)."""
    r = agent(stack, "SaveWebhook", body)
    assert r.status == 200, r
    return r.json()["WebhookId"], r


def assert_ok(r, body, content_type=JSON_CT):
    assert (r.status, r.headers.get("content-type"), r.body) == (200, content_type, body)
    assert r.headers["content-length"] == str(len(body))


def assert_error(r, status, error_type, message, source):
    assert (r.status, r.headers.get("content-type"), r.body) == (
        status, JSON_CT, error_body(error_type, message, source)), r


def bad_request(r, message, source="webhookd/request"):
    assert_error(r, 400, "BadRequest", message, source)


# -- create default, fill in, save ------------------------------------------------------------------

def test_create_fill_in_save(webhooks, receiver):
    """The NetServer flow: the default carrier, filled in and sent back as is, creates a webhook."""
    stack = webhooks
    r = agent(stack, "CreateDefaultWebhook")
    assert_ok(r, DEFAULT_BODY)
    hook = r.json()
    secret = new_secret(stack)
    hook.update(Name="CRM sync", Events=["contact.created", "sale.changed"], TargetUrl=receiver.url("/in"),
                Secret=secret)
    r = agent(stack, "SaveWebhook", hook)
    assert r.status == 200, r
    hook_id = r.json()["WebhookId"]
    assert hook_id > 0
    reg, upd = stored_times(stack, hook_id)
    # A new webhook is registered and updated at the same moment, by the caller.
    assert reg == upd and reg != UNSET
    alice_id = associate(stack, "alice")[0]
    alice = ('{"AssociateId":%d,"Name":"alice","PersonId":0,"Rank":0,"Tooltip":"alice","Type":"InternalAssociate",'
             '"GroupIdx":0,"FullName":"alice","FormalName":"alice","Deleted":false,"EjUserId":0,"UserName":"alice",'
             '"TableRight":null,"FieldProperties":null}' % alice_id)
    expected = ('{"WebhookId":%d,"Name":"CRM sync","Events":["contact.created","sale.changed"],"TargetUrl":%s,'
                '"Secret":%s,"State":"Active","Type":"webhook","Headers":null,"Properties":null,'
                '"Registered":"%s","RegisteredAssociate":%s,"Updated":"%s","UpdatedAssociate":%s}'
                % (hook_id, jstr(receiver.url("/in")), jstr(secret), reg, alice, upd, alice)).encode()
    assert_ok(r, expected)
    # Stored as answered, and the target heard one test event before it was stored.
    assert stack.sql("SELECT name, events, target_url, secret, state, type, headers, properties, "
                     "registered_associate_id, updated_associate_id, application_id FROM webhook "
                     "WHERE webhook_id = %s", (hook_id,)) == [
        ("CRM sync", ["contact.created", "sale.changed"], receiver.url("/in"), secret, 1, "webhook", None, None,
         alice_id, alice_id, None)]
    assert len(receiver.requests("/in")) == 1
    # What GetWebhook reads back is the very same document.
    assert_ok(agent(stack, "GetWebhook", {"WebhookId": hook_id}), expected)


def test_every_property_round_trips(webhooks, receiver):
    stack = webhooks
    secret = new_secret(stack)
    headers = '{"X-Api-Key":"k\\"1","Accept":"*/*","X-B":"é"}'
    properties = '{"n":1.50,"big":12345678901234567890,"s":"x\\ny","t":true,"z":null,"a":[1,{"k":[]}],"o":{}}'
    body = ('{"WebhookId":0,"Name":"Ünïcødé ✓ 😀 \\"q\\" </x>","Events":["person.changed","sale.created"],'
            '"TargetUrl":%s,"Secret":%s,"State":"TooManyErrors","Type":"webhook","Headers":%s,"Properties":%s}'
            % (jstr(receiver.url("/all")), jstr(secret), headers, properties))
    hook_id, r = save(stack, body)
    # Headers and Properties come back as sent (member order and number spelling kept).
    assert_ok(r, hook_json(stack, hook_id, name='Ünïcødé ✓ 😀 "q" </x>', events=["person.changed", "sale.created"],
                           target_url=receiver.url("/all"), secret=secret, state="TooManyErrors",
                           headers=headers, properties=properties))


# -- the two clients --------------------------------------------------------------------------------

def client_bodies(target_url, secret):
    """The same webhook as each client sends it."""
    typescript = {"webhookId": 0, "name": "Client hook", "events": ["contact.created", "contact.changed"],
                  "targetUrl": target_url, "secret": secret, "state": "Active"}
    dotnet = pascal_body(target_url, Name="Client hook", Events=["contact.created", "contact.changed"], Secret=secret)
    return {"typescript": typescript, "dotnet": dotnet}


@pytest.mark.parametrize("client", ["typescript", "dotnet"])
def test_clients_save_identically(webhooks, receiver, client):
    stack = webhooks
    secret = new_secret(stack)
    hook_id, r = save(stack, client_bodies(receiver.url(), secret)[client])
    assert_ok(r, hook_json(stack, hook_id, name="Client hook", events=["contact.created", "contact.changed"],
                           target_url=receiver.url(), secret=secret))


def test_both_clients_give_identical_results(webhooks, receiver):
    """Saved side by side, the two differ only in WebhookId, Registered and Updated."""
    stack = webhooks
    secret = new_secret(stack)
    saved = {}
    for client, body in client_bodies(receiver.url(), secret).items():
        hook_id, r = save(stack, body)
        doc = r.json()
        assert doc["WebhookId"] == hook_id
        del doc["WebhookId"], doc["Registered"], doc["Updated"]
        saved[client] = doc
    assert saved["typescript"] == saved["dotnet"]


@pytest.mark.parametrize("state,name", [
    (0, "Unknown"), (1, "Active"), (2, "Stopped"), (3, "TooManyErrors"),
    ("stopped", "Stopped"), ("TOOMANYERRORS", "TooManyErrors"), ("unknown", "Unknown"), ("2", "Stopped"),
    (None, "Active"),  # null is Active, as for a new webhook
])
def test_state_by_name_or_number(webhooks, receiver, state, name):
    stack = webhooks
    hook_id, r = save(stack, pascal_body(receiver.url(), State=state))
    assert_ok(r, hook_json(stack, hook_id, name="hook", events=["contact.created"], target_url=receiver.url(),
                           state=name))


# (change to the .NET body, what is stored instead)
NORMALISED = {
    "state_absent": ({"State": "<absent>"}, {}),
    "type_null": ({"Type": None}, {}),
    "type_absent": ({"Type": "<absent>"}, {}),
    "type_any_case": ({"Type": "WebHook"}, {}),
    "duplicate_events_dropped": ({"Events": ["a.b", "c.d", "a.b", "c.d", "e.f"]}, {"events": ["a.b", "c.d", "e.f"]}),
    "events_case_kept": ({"Events": ["Contact.Created", "contact.created"]},
                         {"events": ["Contact.Created", "contact.created"]}),
    "name_absent": ({"Name": "<absent>"}, {"name": None}),
    "name_empty": ({"Name": ""}, {"name": ""}),
    "headers_empty": ({"Headers": {}}, {"headers": "{}"}),
    "properties_empty": ({"Properties": {}}, {"properties": "{}"}),
    "webhook_id_null": ({"WebhookId": None}, {}),
    "webhook_id_absent": ({"WebhookId": "<absent>"}, {}),
}


@pytest.mark.parametrize("case", sorted(NORMALISED))
def test_accepted_variants(webhooks, receiver, case):
    stack = webhooks
    change, expected = NORMALISED[case]
    body = pascal_body(receiver.url())
    for k, v in change.items():
        if v == "<absent>":
            del body[k]
        else:
            body[k] = v
    hook_id, r = save(stack, body)
    kwargs = dict(name="hook", events=["contact.created"], target_url=receiver.url())
    kwargs.update(expected)
    assert_ok(r, hook_json(stack, hook_id, **kwargs))


def test_unknown_and_newer_client_properties_are_ignored(webhooks, receiver):
    """Newer NetServer versions (and the clients built for them) send more than the 13
    properties; an older server takes what it knows and ignores the rest."""
    stack = webhooks
    body = pascal_body(receiver.url(), Name="newer")
    body.update(Description="what it is for", ErrorEmails=["ops@example.com"], NotifyVia="Email",
                NotifyWhen="TooManyErrors", TotalCalls=1234, TotalErrors=5, ConsecutiveErrors=2,
                LastError="HTTP 500", ErrorsEmail="ops@example.com", Bogus={"deep": [1, 2, {"x": None}]},
                webhookid_="not the id", TableRight=None)
    hook_id, r = save(stack, body)
    assert_ok(r, hook_json(stack, hook_id, name="newer", events=["contact.created"], target_url=receiver.url()))
    # Nothing of the newer properties shows anywhere: GetLastError still reads the usage table.
    assert_ok(agent(stack, "GetLastError", {"WebhookId": hook_id}), b'""')


# -- GetWebhook ---------------------------------------------------------------------------------------

@pytest.fixture
def one_hook(webhooks, receiver):
    """A saved webhook: (id, its exact JSON)."""
    hook_id, r = save(webhooks, pascal_body(receiver.url(), Name="one"))
    return hook_id, r.body


# How the id may be given: (query, body) with {id} for the webhook's id.
GET_FORMS = {
    "query": ("?webhookId={id}", None),
    "query_pascal": ("?WebhookId={id}", None),
    "query_upper": ("?WEBHOOKID={id}", None),
    "query_among_others": ("?x=1&webhookId={id}&y=%20", None),
    "body": ("", '{{"WebhookId":{id}}}'),
    "body_camel": ("", '{{"webhookId":{id}}}'),
    "body_lower": ("", '{{"webhookid":{id}}}'),
    "body_with_other_members": ("", '{{"Other":1,"WebhookId":{id},"More":[null]}}'),
    "body_and_query_equal": ("?webhookId={id}", '{{"WebhookId":{id}}}'),
    "body_null_query_given": ("?webhookId={id}", '{{"WebhookId":null}}'),
    "query_empty_body": ("?webhookId={id}", "{{}}"),
}


@pytest.mark.parametrize("form", sorted(GET_FORMS))
def test_get_webhook(one_hook, stack, form):
    hook_id, expected = one_hook
    query, body = GET_FORMS[form]
    r = agent(stack, "GetWebhook", None if body is None else body.format(id=hook_id), query.format(id=hook_id))
    assert_ok(r, expected)


MISSING_ID = "is required: give it in the query (?WebhookId=1) or in the body."
NOT_AN_ID = "WebhookId must be an integer from 0 to 2147483647."

# (query, body, message) for GetWebhook, GetLastError and DeleteWebhook alike
ID_ERRORS = {
    "body_and_query_differ": ("?webhookId=1", '{"WebhookId":2}',
                              "WebhookId is given in the query and in the body, with different values."),
    "missing": ("", None, "WebhookId " + MISSING_ID),
    "missing_empty_object": ("", "{}", "WebhookId " + MISSING_ID),
    "missing_null": ("", '{"WebhookId":null}', "WebhookId " + MISSING_ID),
    "missing_blank_body": ("", " \r\n\t", "WebhookId " + MISSING_ID),
    "other_name_only": ("?id=1", '{"Id":1}', "WebhookId " + MISSING_ID),
    "query_word": ("?webhookId=one", None, NOT_AN_ID),
    "query_empty": ("?webhookId=", None, NOT_AN_ID),
    "query_no_value": ("?webhookId", None, NOT_AN_ID),
    "query_negative": ("?webhookId=-1", None, NOT_AN_ID),
    "query_plus": ("?webhookId=+1", None, NOT_AN_ID),
    "query_fraction": ("?webhookId=1.5", None, NOT_AN_ID),
    "query_space": ("?webhookId=%201", None, NOT_AN_ID),
    "query_trailing": ("?webhookId=1x", None, NOT_AN_ID),
    "query_too_large": ("?webhookId=2147483648", None, NOT_AN_ID),
    "query_huge": ("?webhookId=99999999999999999999999", None, NOT_AN_ID),
    "query_repeated": ("?webhookId=1&WebhookId=1", None, "The query parameter WebhookId is given more than once."),
    "query_malformed": ("?webhookId=%zz", None, "The query parameter WebhookId is malformed or too long."),
    "body_string": ("", '{"WebhookId":"1"}', NOT_AN_ID),
    "body_fraction": ("", '{"WebhookId":1.5}', NOT_AN_ID),
    "body_float_integer": ("", '{"WebhookId":1.0}', NOT_AN_ID),
    "body_exponent": ("", '{"WebhookId":1e2}', NOT_AN_ID),
    "body_negative": ("", '{"WebhookId":-1}', NOT_AN_ID),
    "body_too_large": ("", '{"WebhookId":2147483648}', NOT_AN_ID),
    "body_bool": ("", '{"WebhookId":true}', NOT_AN_ID),
    "body_array": ("", '{"WebhookId":[1]}', NOT_AN_ID),
    "body_duplicate": ("", '{"WebhookId":1,"webhookId":1}',
                       "WebhookId is given more than once (property names match in any case)."),
    "body_not_json": ("", '{"WebhookId":1', "The body is not valid JSON (near byte 14)."),
}


@pytest.mark.parametrize("method", ["GetWebhook", "GetLastError", "DeleteWebhook"])
@pytest.mark.parametrize("case", sorted(ID_ERRORS))
def test_webhook_id_errors(one_hook, stack, method, case):
    hook_id, _ = one_hook
    before = row(stack, hook_id)
    query, body, message = ID_ERRORS[case]
    bad_request(agent(stack, method, body, query), message)
    assert row(stack, hook_id) == before


@pytest.mark.parametrize("query,body", [
    ("?webhookId=2147483647", None),
    ("?webhookId=0", None),       # 0 is a valid id that no webhook has
    ("", '{"WebhookId":0}'),
    ("", '{"WebhookId":2147483647}'),
])
def test_get_missing_webhook_is_null(stack, query, body):
    assert_ok(agent(stack, "GetWebhook", body, query), b"null")


def test_get_deleted_webhook_is_null(one_hook, stack):
    hook_id, _ = one_hook
    assert agent(stack, "DeleteWebhook", {"WebhookId": hook_id}).status == 204
    assert_ok(agent(stack, "GetWebhook", {"WebhookId": hook_id}), b"null")


def test_get_webhook_with_time_zone_offset(one_hook, stack, receiver):
    """With includeTZOffset the UTC stamps are tagged Z, and not shifted into the zone."""
    hook_id, _ = one_hook
    r = agent(stack, "GetWebhook", {"WebhookId": hook_id}, headers={"SO-TimeZone": "NO,includeTZOffset"})
    assert_ok(r, hook_json(stack, hook_id, name="one", events=["contact.created"], target_url=receiver.url(),
                           tag_utc=True))
    assert r.headers["so-timezone"] == "NO"
    # Without the flag: the same stamps, untagged.
    r = agent(stack, "GetWebhook", {"WebhookId": hook_id}, headers={"SO-TimeZone": "NO"})
    assert_ok(r, hook_json(stack, hook_id, name="one", events=["contact.created"], target_url=receiver.url()))


# -- GetAllWebhooks -----------------------------------------------------------------------------------

@pytest.fixture
def three_hooks(webhooks, receiver):
    """Alpha (Active: contact.created, sale.created), Beta (Stopped: sale.created) and Gamma
    (TooManyErrors: contact.created); returns {name: exact JSON}, in id order."""
    stack = webhooks
    specs = [("Alpha", ["contact.created", "sale.created"], "Active"),
             ("Beta", ["sale.created"], "Stopped"),
             ("Gamma", ["contact.created"], "TooManyErrors")]
    out = {}
    for name, events, state in specs:
        hook_id, _ = save(stack, pascal_body(receiver.url("/" + name), Name=name, Events=events, State=state))
        out[name] = hook_json(stack, hook_id, name=name, events=events, target_url=receiver.url("/" + name),
                              state=state)
    return out


def listing(hooks, names):
    return b"[" + b",".join(hooks[n] for n in names) + b"]"


ALL = ["Alpha", "Beta", "Gamma"]

# (query, body, names listed)
LIST_CASES = {
    "no_body": ("", None, ALL),
    "blank_body": ("", "  \n", ALL),
    "empty_object": ("", "{}", ALL),
    "all_null": ("", '{"NameFilter":null,"EventFilter":null,"StatusFilter":null}', ALL),
    "all_empty": ("", '{"NameFilter":"","EventFilter":""}', ALL),
    "status_empty_is_no_filter": ("", '{"StatusFilter":""}', ALL),
    "name": ("", '{"NameFilter":"Beta"}', ["Beta"]),
    "name_any_case": ("", '{"NameFilter":"bEtA"}', ["Beta"]),
    "name_camel_member": ("", '{"nameFilter":"gamma"}', ["Gamma"]),
    "name_is_exact_not_prefix": ("", '{"NameFilter":"Alp"}', []),
    "name_unknown": ("", '{"NameFilter":"Delta"}', []),
    "event": ("", '{"EventFilter":"contact.created"}', ["Alpha", "Gamma"]),
    "event_other": ("", '{"EventFilter":"sale.created"}', ["Alpha", "Beta"]),
    "event_exact_case": ("", '{"EventFilter":"Contact.Created"}', []),
    "event_unknown": ("", '{"EventFilter":"project.deleted"}', []),
    "status_name": ("", '{"StatusFilter":"Stopped"}', ["Beta"]),
    "status_lower": ("", '{"StatusFilter":"stopped"}', ["Beta"]),
    "status_upper": ("", '{"StatusFilter":"TOOMANYERRORS"}', ["Gamma"]),
    "status_number": ("", '{"StatusFilter":1}', ["Alpha"]),
    "status_number_text": ("", '{"StatusFilter":"3"}', ["Gamma"]),
    "status_unknown_is_no_filter": ("", '{"StatusFilter":"Unknown"}', ALL),
    "status_zero_is_no_filter": ("", '{"StatusFilter":0}', ALL),
    "status_zero_text_is_no_filter": ("", '{"StatusFilter":"0"}', ALL),
    "combined": ("", '{"NameFilter":"alpha","EventFilter":"sale.created","StatusFilter":"Active"}', ["Alpha"]),
    "combined_disjoint": ("", '{"EventFilter":"sale.created","StatusFilter":"TooManyErrors"}', []),
    "unknown_members_ignored": ("", '{"Paging":{"Skip":0},"EventFilter":"sale.created"}', ["Alpha", "Beta"]),
    # Without a body the filters come from the query, names in any case.
    "query_name": ("?NameFilter=ALPHA", None, ["Alpha"]),
    "query_name_lower_param": ("?namefilter=gamma", None, ["Gamma"]),
    "query_event": ("?eventFilter=contact.created", None, ["Alpha", "Gamma"]),
    "query_status": ("?statusFilter=stopped", None, ["Beta"]),
    "query_status_number": ("?StatusFilter=3", None, ["Gamma"]),
    "query_status_unknown": ("?StatusFilter=Unknown", None, ALL),
    "query_status_zero": ("?StatusFilter=0", None, ALL),
    "query_empty_values": ("?NameFilter=&EventFilter=&StatusFilter=", None, ALL),
    "query_combined": ("?eventfilter=sale.created&STATUSFILTER=Active", None, ["Alpha"]),
    "query_encoded": ("?NameFilter=%42eta", None, ["Beta"]),
}


@pytest.mark.parametrize("case", sorted(LIST_CASES))
def test_get_all_webhooks(three_hooks, stack, case):
    query, body, names = LIST_CASES[case]
    assert_ok(agent(stack, "GetAllWebhooks", body, query), listing(three_hooks, names))


STATUS_MESSAGE = "StatusFilter must be Unknown, Active, Stopped or TooManyErrors (or 0 to 3)."

LIST_ERRORS = {
    "status_word": ("", '{"StatusFilter":"Paused"}', STATUS_MESSAGE),
    "status_number_high": ("", '{"StatusFilter":4}', STATUS_MESSAGE),
    "status_number_negative": ("", '{"StatusFilter":-1}', STATUS_MESSAGE),
    "status_fraction": ("", '{"StatusFilter":1.5}', STATUS_MESSAGE),
    "status_bool": ("", '{"StatusFilter":true}', STATUS_MESSAGE),
    "status_array": ("", '{"StatusFilter":["Active"]}', STATUS_MESSAGE),
    "name_number": ("", '{"NameFilter":5}', "NameFilter must be a string or null."),
    "event_array": ("", '{"EventFilter":["a"]}', "EventFilter must be a string or null."),
    "name_duplicate": ("", '{"NameFilter":"a","namefilter":"b"}',
                       "NameFilter is given more than once (property names match in any case)."),
    "body_array": ("", "[]", "The body must be a JSON object: {NameFilter, EventFilter, StatusFilter}."),
    "body_string": ("", '"Alpha"', "The body must be a JSON object: {NameFilter, EventFilter, StatusFilter}."),
    "body_null": ("", "null", "The body must be a JSON object: {NameFilter, EventFilter, StatusFilter}."),
    "body_broken": ("", '{"NameFilter":', "The body is not valid JSON (near byte 14)."),
    "query_status": ("?StatusFilter=Paused", None, STATUS_MESSAGE),
    "query_status_high": ("?StatusFilter=4", None, STATUS_MESSAGE),
    "query_repeated": ("?NameFilter=a&namefilter=b", None, "The query parameter NameFilter is given more than once."),
    "query_malformed": ("?EventFilter=%g0", None, "The query parameter EventFilter is malformed or too long."),
    "query_nul": ("?NameFilter=a%00b", None, "The query parameter NameFilter is malformed or too long."),
}


@pytest.mark.parametrize("case", sorted(LIST_ERRORS))
def test_get_all_webhooks_errors(stack, case):
    query, body, message = LIST_ERRORS[case]
    bad_request(agent(stack, "GetAllWebhooks", body, query), message)


def test_get_all_webhooks_when_there_are_none(webhooks):
    assert_ok(agent(webhooks, "GetAllWebhooks"), b"[]")
    assert_ok(agent(webhooks, "GetAllWebhooks", headers={"Accept": "application/xml"}),
              (XML_DECL + '<ArrayOfWebhook xmlns:i="%s"></ArrayOfWebhook>' % XSI_NS).encode(), XML_CT)


# -- SaveWebhook with an id replaces ---------------------------------------------------------------

def test_save_with_id_replaces(webhooks, receiver):
    stack = webhooks
    first_secret, second_secret = new_secret(stack), new_secret(stack)
    hook_id, first = save(stack, pascal_body(receiver.url(), Name="before", Secret=first_secret,
                                             Headers={"X-A": "1"}, Properties={"p": 1}))
    reg, upd = first.json()["Registered"], first.json()["Updated"]
    fake = {"AssociateId": 999, "Name": "mallory", "FullName": "Mallory"}
    r = agent(stack, "SaveWebhook", {
        "WebhookId": hook_id, "Name": "after", "Events": ["sale.changed"], "TargetUrl": receiver.url(),
        "Secret": second_secret, "State": "Stopped",
        # The server's to set: every client value is ignored.
        "Registered": "2001-02-03T04:05:06", "Updated": "2031-02-03T04:05:06",
        "RegisteredAssociate": fake, "UpdatedAssociate": fake})
    # Replaced as a whole: Headers and Properties, not sent, are gone.
    assert_ok(r, hook_json(stack, hook_id, name="after", events=["sale.changed"], target_url=receiver.url(),
                           secret=second_secret, state="Stopped"))
    doc = r.json()
    assert doc["Registered"] == reg
    assert doc["Updated"] > upd
    assert count(stack) == 1
    # The TargetUrl did not change, so it was not checked again.
    assert len(receiver.requests()) == 1
    # GetWebhook reads the replacement.
    assert_ok(agent(stack, "GetWebhook", query="?webhookId=%d" % hook_id), r.body)


def test_save_replaces_in_camel_case(webhooks, receiver):
    stack = webhooks
    hook_id, first = save(stack, {"webhookId": 0, "name": "ts", "events": ["a.b"], "targetUrl": receiver.url(),
                                  "state": "Active"})
    r = agent(stack, "SaveWebhook", {"webhookId": hook_id, "name": "ts2", "events": ["a.b", "c.d"],
                                     "targetUrl": receiver.url(), "state": 2})
    assert_ok(r, hook_json(stack, hook_id, name="ts2", events=["a.b", "c.d"], target_url=receiver.url(),
                           state="Stopped"))
    assert r.json()["Registered"] == first.json()["Registered"]


def test_another_associate_updates(webhooks, receiver, associates):
    """RegisteredAssociate stays the creator; UpdatedAssociate becomes whoever saved last."""
    stack = webhooks
    password = "bob-" + secrets.token_urlsafe(12)
    stack.secrets.add(password)
    stack.seed("bob", password)
    stack.sql("UPDATE associate SET full_name = 'Bob <Builder> & Co' WHERE name = 'bob'")
    hook_id, _ = save(stack, pascal_body(receiver.url(), Name="shared"))
    r = stack.request("POST", AGENT + "SaveWebhook", body=encode(pascal_body(receiver.url(), WebhookId=hook_id,
                                                                             Name="shared by bob")),
                      headers={"Authorization": basic("bob", password), "Content-Type": "application/json"})
    expected = hook_json(stack, hook_id, name="shared by bob", events=["contact.created"], target_url=receiver.url(),
                         registered_by="alice", updated_by="bob")
    assert_ok(r, expected)
    assert b'"FullName":"Bob <Builder> & Co"' in expected
    # Anyone reads the same document.
    assert_ok(agent(stack, "GetWebhook", {"WebhookId": hook_id}), expected)
    r = agent(stack, "GetWebhook", {"WebhookId": hook_id}, headers={"Accept": "application/xml"})
    assert_ok(r, hook_xml(stack, hook_id, name="shared by bob", events=["contact.created"], target_url=receiver.url(),
                          registered_by="alice", updated_by="bob"), XML_CT)
    assert b"<FullName>Bob &lt;Builder&gt; &amp; Co</FullName>" in r.body


@pytest.mark.parametrize("missing_id", [2147483647, "<deleted>"])
def test_save_unknown_id_is_not_found(webhooks, receiver, missing_id):
    stack = webhooks
    if missing_id == "<deleted>":
        missing_id, _ = save(stack, pascal_body(receiver.url()))
        stack.sql("DELETE FROM webhook")
    receiver.clear()
    r = agent(stack, "SaveWebhook", pascal_body(receiver.url(), WebhookId=missing_id))
    assert_error(r, 404, "NotFound", "Webhook %d does not exist: save it with WebhookId 0 to create it." % missing_id,
                 "webhookd/webhook")
    assert count(stack) == 0
    # Nothing was stored, so nothing was checked either.
    assert receiver.requests() == []


# -- GetLastError -------------------------------------------------------------------------------------

def test_get_last_error(one_hook, stack):
    hook_id, _ = one_hook
    # No delivery yet: an empty string, not null.
    for query, body in [("?webhookId=%d" % hook_id, None), ("", {"WebhookId": hook_id}),
                        ("?WebhookId=%d" % hook_id, {"webhookId": hook_id})]:
        assert_ok(agent(stack, "GetLastError", body, query), b'""')
    # What the delivery statistics hold, as is.
    text = 'HTTP 500 "Internal <Server> Error" & more\r\nline 2 é/😀'
    stack.sql("INSERT INTO webhook_usage (webhook_id, total_calls, total_errors, consecutive_errors, last_error, "
              "last_error_at) VALUES (%s, 3, 2, 1, %s, now())", (hook_id, text))
    assert_ok(agent(stack, "GetLastError", {"WebhookId": hook_id}), jstr(text).encode())
    r = agent(stack, "GetLastError", {"WebhookId": hook_id}, headers={"Accept": "application/xml"})
    assert_ok(r, (XML_DECL + '<string xmlns="%s">%s</string>' % (SERIALIZATION_NS, xml_text(text))).encode(), XML_CT)
    # A usage row without an error is "" too.
    stack.sql("UPDATE webhook_usage SET last_error = NULL WHERE webhook_id = %s", (hook_id,))
    assert_ok(agent(stack, "GetLastError", {"WebhookId": hook_id}), b'""')


def test_get_last_error_of_missing_webhook_is_null(stack):
    assert_ok(agent(stack, "GetLastError", query="?webhookId=2147483647"), b"null")


# -- DeleteWebhook ------------------------------------------------------------------------------------

@pytest.mark.parametrize("query,body", [("?webhookId={id}", None), ("", '{{"WebhookId":{id}}}'),
                                        ("", '{{"webhookId":{id}}}'), ("?WebhookId={id}", '{{"WebhookId":{id}}}')])
def test_delete_webhook(webhooks, receiver, query, body):
    stack = webhooks
    keep, _ = save(stack, pascal_body(receiver.url(), Name="keep"))
    hook_id, _ = save(stack, pascal_body(receiver.url(), Name="drop"))
    stack.sql("INSERT INTO webhook_usage (webhook_id, last_error) VALUES (%s, 'x')", (hook_id,))
    for _ in range(2):
        # Deleting what is not there leaves the same state: 204 both times.
        r = agent(stack, "DeleteWebhook", None if body is None else body.format(id=hook_id), query.format(id=hook_id))
        assert (r.status, r.body) == (204, b"")
        assert "content-type" not in r.headers
    assert stack.sql("SELECT webhook_id FROM webhook") == [(keep,)]
    assert stack.sql("SELECT count(*) FROM webhook_usage")[0][0] == 0
    assert_ok(agent(stack, "GetWebhook", {"WebhookId": hook_id}), b"null")
    assert_ok(agent(stack, "GetLastError", {"WebhookId": hook_id}), b"null")


def test_delete_never_existing_webhook(stack):
    r = agent(stack, "DeleteWebhook", query="?webhookId=2147483647")
    assert (r.status, r.body) == (204, b"")


# -- XML ----------------------------------------------------------------------------------------------

XML = {"Accept": "application/xml"}


def test_xml_responses(webhooks, receiver):
    stack = webhooks
    secret = new_secret(stack)
    body = ('{"WebhookId":0,"Name":"x<y> & z","Events":["contact.created","a&b"],"TargetUrl":%s,"Secret":%s,'
            '"State":"Stopped","Headers":{"X-A":"1 < 2","X-B":""},'
            '"Properties":{"s":"t","n":1.50,"b":false,"z":null,"o":{"k":[1,"<"]},"a":[]}}'
            % (jstr(receiver.url("/x?a=1&b=2")), jstr(secret)))
    r = agent(stack, "SaveWebhook", body, headers=XML)
    hook_id = int(r.body.split(b"<WebhookId>")[1].split(b"<")[0])
    headers_xml = ("<StringKeyValuePair><Key>X-A</Key><Value>1 &lt; 2</Value></StringKeyValuePair>"
                   "<StringKeyValuePair><Key>X-B</Key><Value></Value></StringKeyValuePair>")
    # Scalars as text, null as nil, nested objects and arrays as their compact JSON.
    properties_xml = ('<StringObjectKeyValuePair><Key>s</Key><Value>t</Value></StringObjectKeyValuePair>'
                      '<StringObjectKeyValuePair><Key>n</Key><Value>1.50</Value></StringObjectKeyValuePair>'
                      '<StringObjectKeyValuePair><Key>b</Key><Value>false</Value></StringObjectKeyValuePair>'
                      '<StringObjectKeyValuePair><Key>z</Key><Value i:nil="true"/></StringObjectKeyValuePair>'
                      '<StringObjectKeyValuePair><Key>o</Key><Value>{"k":[1,"&lt;"]}</Value></StringObjectKeyValuePair>'
                      '<StringObjectKeyValuePair><Key>a</Key><Value>[]</Value></StringObjectKeyValuePair>')
    fields = dict(name="x<y> & z", events=["contact.created", "a&b"], target_url=receiver.url("/x?a=1&b=2"),
                  secret=secret, state="Stopped")
    expected = hook_xml(stack, hook_id, headers_xml=headers_xml, properties_xml=properties_xml, **fields)
    assert_ok(r, expected, XML_CT)
    assert_ok(agent(stack, "GetWebhook", {"WebhookId": hook_id}, headers=XML), expected, XML_CT)
    # text/xml names itself.
    assert_ok(agent(stack, "GetWebhook", {"WebhookId": hook_id}, headers={"Accept": "text/xml"}), expected,
              "text/xml; charset=utf-8")
    # The list: one ArrayOfWebhook root, the namespace declared once.
    other, _ = save(stack, pascal_body(receiver.url(), Name="plain"))
    r = agent(stack, "GetAllWebhooks", headers=XML)
    assert_ok(r, (XML_DECL + '<ArrayOfWebhook xmlns:i="%s"><Webhook>%s</Webhook><Webhook>%s</Webhook></ArrayOfWebhook>' % (
        XSI_NS,
        hook_xml_element(stack, hook_id, headers_xml=headers_xml, properties_xml=properties_xml, **fields),
        hook_xml_element(stack, other, name="plain", events=["contact.created"], target_url=receiver.url()))).encode(),
        XML_CT)
    assert_ok(agent(stack, "GetLastError", {"WebhookId": hook_id}, headers=XML),
              (XML_DECL + '<string xmlns="%s"></string>' % SERIALIZATION_NS).encode(), XML_CT)


def test_xml_null_webhook(stack):
    assert_ok(agent(stack, "GetWebhook", {"WebhookId": 2147483647}, headers=XML),
              (XML_DECL + '<Webhook i:nil="true" xmlns:i="%s"/>' % XSI_NS).encode(), XML_CT)


def test_xml_null_string(stack):
    """GetLastError of a missing webhook is a null string: in DataContract XML, the same root
    <string> in the Serialization namespace as a present one, with i:nil. Without that namespace a
    .NET client's DataContractSerializer(typeof(string)) refuses the document."""
    r = agent(stack, "GetLastError", {"WebhookId": 2147483647}, headers=XML)
    assert_ok(r, (XML_DECL + '<string i:nil="true" xmlns="%s" xmlns:i="%s"/>' % (SERIALIZATION_NS, XSI_NS)).encode(),
              XML_CT)


def test_xml_errors(stack):
    r = agent(stack, "GetWebhook", headers=XML)
    assert (r.status, r.headers["content-type"], r.body) == (400, XML_CT, (
        XML_DECL + '<ErrorResponse xmlns:i="%s"><Error>true</Error><ErrorType>BadRequest</ErrorType>'
        '<ErrorMessage>WebhookId is required: give it in the query (?WebhookId=1) or in the body.</ErrorMessage>'
        '<ErrorSource>webhookd/request</ErrorSource></ErrorResponse>' % XSI_NS).encode())


# -- the README session ---------------------------------------------------------------------------

def test_readme_session(webhooks, receiver):
    """The copy-paste session: create default -> fill in -> save -> list -> delete, with the
    calls a shell user makes (curl -u, -H 'Content-Type: application/json', -d)."""
    stack = webhooks
    secret = new_secret(stack)
    # 1. The defaults.
    default = agent(stack, "CreateDefaultWebhook")
    assert_ok(default, DEFAULT_BODY)
    # 2. Filled in, the rest as it came.
    hook = default.json()
    hook.update(Name="My first webhook", Events=["contact.created"], TargetUrl=receiver.url("/readme"), Secret=secret)
    # 3. Saved: it has an id now.
    saved = agent(stack, "SaveWebhook", json.dumps(hook))
    assert saved.status == 200, saved
    hook_id = saved.json()["WebhookId"]
    expected = hook_json(stack, hook_id, name="My first webhook", events=["contact.created"],
                         target_url=receiver.url("/readme"), secret=secret)
    assert_ok(saved, expected)
    [test_event] = receiver.requests("/readme")
    assert test_event.header("X-SuperOffice-Event") == "test"
    # 4. Listed, by the whole list and by name.
    assert_ok(agent(stack, "GetAllWebhooks"), b"[" + expected + b"]")
    assert_ok(agent(stack, "GetAllWebhooks", '{"NameFilter":"My first webhook"}'), b"[" + expected + b"]")
    # 5. Deleted, and the list is empty again.
    r = agent(stack, "DeleteWebhook", query="?webhookId=%d" % hook_id)
    assert (r.status, r.body) == (204, b"")
    assert_ok(agent(stack, "GetAllWebhooks"), b"[]")
    assert count(stack) == 0


# -- every method needs a caller ------------------------------------------------------------------

@pytest.mark.parametrize("method", ["SaveWebhook", "GetWebhook", "GetAllWebhooks", "DeleteWebhook", "GetLastError"])
def test_methods_need_authentication(stack, method):
    r = send(stack, "POST", AGENT + method + "?webhookId=1", body='{"WebhookId":1}', auth=False)
    assert_error(r, 401, "Unauthorized",
                 "Authentication required: send an Authorization header, or the session cookie with X-XSRF-TOKEN.",
                 "webhookd/auth")
