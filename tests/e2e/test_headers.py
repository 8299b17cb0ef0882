"""Every request header of the reference page, alone and combined, with each refusal's exact answer.

Authorization (Basic, SOTicket, Bearer), X-XSRF-TOKEN with the session cookie, Accept (six media
types), Accept-Language and SO-Language, SO-Culture, SO-TimeZone and SO-AppToken.
"""
import http.client
import secrets
import xml.etree.ElementTree as ET

import pytest

from e2e_support import (DEFAULT_BODY, ENDPOINT, token_digest, FCGI_PARAMS, FCGI_STDIN, basic, error_body, fcgi_begin,
                         fcgi_exchange, fcgi_pair, fcgi_record, parse_raw_response, private_stack, webhook_body)

CHALLENGES = [
    'Basic realm="SuperOffice Username or Ticket", charset="UTF-8"',
    'SOTicket realm="SuperOffice Username or Ticket"',
    'Bearer realm="SuperOffice Username or Ticket"',
]
XML_DECL = b'<?xml version="1.0" encoding="utf-8"?>'
XSI = b'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
DEFAULT_XML = (
    XML_DECL + b'<Webhook ' + XSI + b'><WebhookId>0</WebhookId><Name i:nil="true"/>'
    b'<Events><string>contact.created</string><string>contact.deleted</string></Events>'
    b'<TargetUrl i:nil="true"/><Secret i:nil="true"/><State>Active</State><Type>webhook</Type>'
    b'<Headers i:nil="true"/><Properties i:nil="true"/><Registered>0001-01-01T00:00:00</Registered>'
    b'<RegisteredAssociate i:nil="true"/><Updated>0001-01-01T00:00:00</Updated>'
    b'<UpdatedAssociate i:nil="true"/></Webhook>'
)


class Reply:
    def __init__(self, status, msg, body):
        self.status = status
        self.msg = msg
        self.body = body

    def header(self, name):
        return self.msg.get(name)

    def all(self, name):
        return self.msg.get_all(name) or []


def call(stack, headers, method="POST", path=ENDPOINT):
    """One request on a fresh connection; keeps repeated response headers (WWW-Authenticate)."""
    conn = http.client.HTTPConnection(stack.host, stack.port, timeout=20)
    try:
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        return Reply(resp.status, resp.msg, resp.read())
    finally:
        conn.close()


def unauthorized(message, challenges=CHALLENGES):
    return 401, "application/json; charset=utf-8", error_body("Unauthorized", message, "webhookd/auth"), challenges


def forbidden(message):
    return 403, "application/json; charset=utf-8", error_body("Forbidden", message, "webhookd/auth"), []


def bad_request(message):
    return 400, "application/json; charset=utf-8", error_body("BadRequest", message, "webhookd/request"), []


OK_JSON = (200, "application/json; charset=utf-8", DEFAULT_BODY, [])


@pytest.fixture
def creds(stack):
    """Tickets, tokens, a session and applications for the session's associate, alice."""
    made = {name: secrets.token_urlsafe(24) for name in (
        "ticket", "bearer", "expired", "revoked", "session", "xsrf", "old_session",
        "app_granted", "app_plain", "app_revoked", "retired_ticket")}
    made["ticket"] = "7T:" + made["ticket"] + "=="   # tickets look like 7T:abc==
    stack.secrets.update(made.values())
    alice = stack.sql("SELECT associate_id FROM associate WHERE name = %s", (stack.user,))[0][0]
    bob = stack.sql("INSERT INTO associate (name, password_hash, deleted) VALUES ('bob-retired', %s, true) "
                    "RETURNING associate_id", ("$y$j9T$not.a.real.hash",))[0][0]
    stack.transaction(
        ("INSERT INTO credential (token_sha256, scheme, associate_id, expires_at, revoked_at) VALUES "
         "(%s, 'soticket', %s, now() + interval '1 hour', NULL), (%s, 'bearer', %s, now() + interval '1 hour', NULL),"
         "(%s, 'soticket', %s, now() - interval '1 second', NULL), (%s, 'soticket', %s, now() + interval '1 hour', now()),"
         "(%s, 'soticket', %s, now() + interval '1 hour', NULL)",
         (token_digest(made["ticket"]), alice, token_digest(made["bearer"]), alice, token_digest(made["expired"]), alice,
          token_digest(made["revoked"]), alice, token_digest(made["retired_ticket"]), bob)),
        ("INSERT INTO browser_session (session_sha256, xsrf_sha256, associate_id, expires_at) VALUES "
         "(%s, %s, %s, now() + interval '1 hour'), (%s, %s, %s, now() - interval '1 second')",
         (token_digest(made["session"]), token_digest(made["xsrf"]), alice, token_digest(made["old_session"]), token_digest(made["xsrf"]), alice)),
        ("INSERT INTO application (name, token_sha256, webhook_access, revoked_at) VALUES "
         "('granted', %s, true, NULL), ('plain', %s, false, NULL), ('gone', %s, true, now())",
         (token_digest(made["app_granted"]), token_digest(made["app_plain"]), token_digest(made["app_revoked"]))),
    )
    try:
        yield made
    finally:
        stack.transaction(
            ("DELETE FROM credential", None), ("DELETE FROM browser_session", None),
            ("DELETE FROM application", None), ("DELETE FROM associate WHERE name = 'bob-retired'", None))


# Each case: headers (values may name a credential as "{ticket}" etc.), and the expected
# (status, content type, exact body, WWW-Authenticate challenges).
AUTH_CASES = [
    ("soticket", {"Authorization": "SOTicket {ticket}"}, OK_JSON),
    ("soticket upper-case", {"Authorization": "SOTICKET {ticket}"}, OK_JSON),
    ("soticket mixed-case", {"Authorization": "SoTicket {ticket}"}, OK_JSON),
    ("bearer", {"Authorization": "Bearer {bearer}"}, OK_JSON),
    ("bearer lower-case", {"Authorization": "bearer {bearer}"}, OK_JSON),
    ("basic", {"Authorization": "{basic}"}, OK_JSON),
    ("ticket expired", {"Authorization": "SOTicket {expired}"}, unauthorized("The ticket has expired.")),
    ("ticket revoked", {"Authorization": "SOTicket {revoked}"}, unauthorized("The ticket has been revoked.")),
    ("ticket unknown", {"Authorization": "SOTicket 7T:nope=="}, unauthorized("The ticket is not valid.")),
    ("ticket of a retired associate", {"Authorization": "SOTicket {retired_ticket}"},
     unauthorized("The ticket is not valid.")),
    ("bearer token sent as a ticket", {"Authorization": "SOTicket {bearer}"},
     unauthorized("The ticket is not valid.")),
    ("ticket sent as a bearer token", {"Authorization": "Bearer {ticket}"},
     unauthorized("The bearer token is not valid.")),
    ("soticket without a ticket", {"Authorization": "SOTicket"},
     unauthorized("The Authorization header is malformed: expected SOTicket and a ticket.")),
    ("bearer with two tokens", {"Authorization": "Bearer a b"},
     unauthorized("The Authorization header is malformed: expected Bearer and a token.")),
    ("unknown scheme", {"Authorization": "Negotiate abc"},
     unauthorized("This Authorization scheme is not accepted here; WWW-Authenticate lists the accepted ones.")),
    ("nothing at all", {},
     unauthorized("Authentication required: send an Authorization header, or the session cookie with X-XSRF-TOKEN.")),
    # Browser sessions: the cookie and the XSRF token issued with it.
    ("session with its xsrf token", {"Cookie": "a=b; SO_SESSION={session}", "X-XSRF-TOKEN": "{xsrf}"}, OK_JSON),
    ("session without xsrf token", {"Cookie": "SO_SESSION={session}"},
     forbidden("X-XSRF-TOKEN is required with a session cookie.")),
    ("session with a wrong xsrf token", {"Cookie": "SO_SESSION={session}", "X-XSRF-TOKEN": "{ticket}"},
     forbidden("X-XSRF-TOKEN does not match the session.")),
    ("expired session", {"Cookie": "SO_SESSION={old_session}", "X-XSRF-TOKEN": "{xsrf}"},
     unauthorized("The session has expired.")),
    ("unknown session", {"Cookie": "SO_SESSION=forged", "X-XSRF-TOKEN": "{xsrf}"},
     unauthorized("The session is not valid.")),
    ("xsrf token without a session", {"X-XSRF-TOKEN": "{xsrf}"},
     unauthorized("Authentication required: send an Authorization header, or the session cookie with X-XSRF-TOKEN.")),
    ("Authorization wins over a session", {"Authorization": "SOTicket 7T:nope==", "Cookie": "SO_SESSION={session}",
                                           "X-XSRF-TOKEN": "{xsrf}"}, unauthorized("The ticket is not valid.")),
    # SO-AppToken on an on-site installation: optional, but checked when sent.
    ("granted application", {"Authorization": "SOTicket {ticket}", "SO-AppToken": "{app_granted}"}, OK_JSON),
    ("application without webhook access", {"Authorization": "SOTicket {ticket}", "SO-AppToken": "{app_plain}"},
     forbidden("The application has not been granted access to the Webhook agent, which is Online restricted: "
               "request it when registering the application.")),
    ("unknown application", {"Authorization": "SOTicket {ticket}", "SO-AppToken": "nope"},
     forbidden("The application token in SO-AppToken is not valid.")),
    ("revoked application", {"Authorization": "SOTicket {ticket}", "SO-AppToken": "{app_revoked}"},
     forbidden("The application token in SO-AppToken is not valid.")),
    ("app token does not replace the user", {"SO-AppToken": "{app_granted}"},
     unauthorized("Authentication required: send an Authorization header, or the session cookie with X-XSRF-TOKEN.")),
]


def fill(headers, creds, stack):
    values = dict(creds, basic=basic(stack.user, stack.password))
    return {k: v.format(**values) for k, v in headers.items()}


def check(reply, expected):
    status, content_type, body, challenges = expected
    assert (reply.status, reply.header("Content-Type"), reply.body) == (status, content_type, body)
    assert reply.all("WWW-Authenticate") == challenges


@pytest.mark.parametrize("name,headers,expected", AUTH_CASES, ids=[c[0] for c in AUTH_CASES])
def test_authentication(stack, creds, name, headers, expected):
    check(call(stack, fill(headers, creds, stack)), expected)


def test_revocation_takes_effect_on_the_next_request(stack, creds):
    headers = {"Authorization": "SOTicket " + creds["ticket"]}
    assert call(stack, headers).status == 200
    stack.sql("UPDATE credential SET revoked_at = now() WHERE token_sha256 = %s", (token_digest(creds["ticket"]),))
    check(call(stack, headers), unauthorized("The ticket has been revoked."))


# -- Accept ------------------------------------------------------------------------------------

ACCEPT_CASES = [
    ("application/json", "application/json; charset=utf-8", DEFAULT_BODY),
    ("application/json; charset=utf-8", "application/json; charset=utf-8", DEFAULT_BODY),
    ("text/json", "text/json; charset=utf-8", DEFAULT_BODY),
    ("application/xml", "application/xml; charset=utf-8", DEFAULT_XML),
    ("text/xml", "text/xml; charset=utf-8", DEFAULT_XML),
    ("application/json-patch+json", "application/json-patch+json; charset=utf-8", DEFAULT_BODY),
    ("application/merge-patch+json", "application/merge-patch+json; charset=utf-8", DEFAULT_BODY),
    ("*/*", "application/json; charset=utf-8", DEFAULT_BODY),
    ("text/*", "text/json; charset=utf-8", DEFAULT_BODY),
    ("application/json;q=0.5, application/xml", "application/xml; charset=utf-8", DEFAULT_XML),
    ("text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", "application/xml; charset=utf-8",
     DEFAULT_XML),
    ("*/*;q=0.1, application/json;q=0", "text/json; charset=utf-8", DEFAULT_BODY),
]


@pytest.mark.parametrize("accept,content_type,body", ACCEPT_CASES, ids=[c[0] for c in ACCEPT_CASES])
def test_accept(stack, accept, content_type, body):
    r = call(stack, {"Authorization": basic(stack.user, stack.password), "Accept": accept})
    assert (r.status, r.header("Content-Type"), r.body) == (200, content_type, body)
    if b"<?xml" in body:
        root = ET.fromstring(r.body)  # a real XML parser
        assert root.tag == "Webhook"
        assert [child.tag for child in root] == [
            "WebhookId", "Name", "Events", "TargetUrl", "Secret", "State", "Type", "Headers", "Properties",
            "Registered", "RegisteredAssociate", "Updated", "UpdatedAssociate"]
        assert [s.text for s in root.find("Events")] == ["contact.created", "contact.deleted"]


def test_no_acceptable_type_is_406_naming_the_supported_types(stack):
    r = call(stack, {"Authorization": basic(stack.user, stack.password), "Accept": "text/html, image/png"})
    assert (r.status, r.header("Content-Type"), r.body) == (406, "application/json; charset=utf-8", error_body(
        "NotAcceptable", "None of the media types in Accept can be served; supported: application/json, text/json, "
        "application/xml, text/xml, application/json-patch+json, application/merge-patch+json.", "webhookd/request"))


@pytest.mark.parametrize("accept", ["json", "application/json;q=2", "application/json; q=0.12345", "*/xml"])
def test_malformed_accept_is_400(stack, accept):
    r = call(stack, {"Authorization": basic(stack.user, stack.password), "Accept": accept})
    check(r, bad_request('The Accept header is malformed: expected media ranges such as '
                         '"application/json, application/xml;q=0.5".'))


def test_errors_come_in_the_negotiated_format(stack):
    r = call(stack, {"Accept": "text/xml"})
    assert (r.status, r.header("Content-Type")) == (401, "text/xml; charset=utf-8")
    assert r.body == (XML_DECL + b'<ErrorResponse ' + XSI + b'><Error>true</Error><ErrorType>Unauthorized</ErrorType>'
                      b'<ErrorMessage>Authentication required: send an Authorization header, or the session cookie '
                      b'with X-XSRF-TOKEN.</ErrorMessage><ErrorSource>webhookd/auth</ErrorSource></ErrorResponse>')
    root = ET.fromstring(r.body)
    assert [(c.tag, c.text) for c in root][:2] == [("Error", "true"), ("ErrorType", "Unauthorized")]


def test_xml_of_stored_objects_and_escaping(defaults):
    defaults.sql("UPDATE webhook_default SET name = %s, headers = %s, properties = %s",
                 ('a < b & "c"', '{"X-A": "1"}', '{"n": 1.5, "o": {"k": [true]}, "z": null}'))
    r = call(defaults, {"Authorization": basic(defaults.user, defaults.password), "Accept": "application/xml"})
    assert r.status == 200
    root = ET.fromstring(r.body)
    assert root.find("Name").text == 'a < b & "c"'
    pairs = [(p.find("Key").text, p.find("Value").text) for p in root.find("Headers")]
    assert pairs == [("X-A", "1")]
    props = root.find("Properties")
    assert [p.tag for p in props] == ["StringObjectKeyValuePair"] * 3
    assert [(p.find("Key").text, p.find("Value").text) for p in props] == [
        ("n", "1.5"), ("o", '{"k":[true]}'), ("z", None)]
    nil = "{http://www.w3.org/2001/XMLSchema-instance}nil"
    assert props[2].find("Value").get(nil) == "true"


# -- Languages and cultures ------------------------------------------------------------------------

MULTI = 'US:"New hook";NO:"Ny hook";SE:"Ny krok"'

LANGUAGE_CASES = [
    # (headers, stored name, expected name, Content-Language)
    ({"Accept-Language": "sv"}, MULTI, "Ny krok", "sv"),
    ({"Accept-Language": "de;q=0.5, sv;q=0.9"}, MULTI, "Ny krok", "sv"),
    ({"Accept-Language": "nb-NO, en;q=0.5"}, MULTI, "Ny hook", "nb"),
    ({"Accept-Language": "sv", "SO-Language": "no"}, MULTI, "Ny hook", "no"),
    ({"Accept-Language": "en", "SO-Language": "en"}, MULTI, "New hook", "en"),
    ({"Accept-Language": "sv", "SO-Language": "*"}, MULTI, MULTI, None),
    ({"Accept-Language": "sv", "SO-Language": "x"}, MULTI, MULTI, None),
    ({}, MULTI, MULTI, None),
    # Installed, but without a variant: the default language's (US), then the first.
    ({"Accept-Language": "de"}, MULTI, "New hook", "de"),
    ({"Accept-Language": "de"}, 'NO:"Ny hook";SE:"Ny krok"', "Ny hook", "de"),
    # Not installed: the installation's default language.
    ({"Accept-Language": "pt"}, MULTI, "New hook", "en"),
    ({"Accept-Language": "*"}, MULTI, MULTI, None),
    # Resource references, with fallback to the default language and unknown ones left alone.
    ({"Accept-Language": "de"}, "[SR_WEBHOOK_NEW]", "Neuer Webhook", "de"),
    ({"SO-Language": "sv"}, "[SR_WEBHOOK_NEW] ([SR_NOPE])", "Ny webhook ([SR_NOPE])", "sv"),
    ({}, "[SR_WEBHOOK_NEW]", "[SR_WEBHOOK_NEW]", None),
    # Cultures: numbers and dates written neutrally in stored text, rendered for the culture.
    ({"SO-Language": "de"}, "Limit {n:1234.5} seit {d:2024-05-01}", "Limit 1.234,5 seit 01.05.2024", "de"),
    ({"SO-Language": "de", "SO-Culture": "en-US"}, "Limit {n:1234.5} seit {d:2024-05-01}",
     "Limit 1,234.5 seit 5/1/2024", "de"),
    ({"SO-Language": "en", "SO-Culture": "nb"}, "{n:1234.5}", "1 234,5", "en"),
    ({"SO-Culture": "nb"}, "{n:1234.5}", "{n:1234.5}", None),  # no language: the culture is ignored
]


@pytest.mark.parametrize("headers,stored,name,language", LANGUAGE_CASES,
                         ids=["%s-%s" % ("+".join("%s=%s" % kv for kv in c[0].items()) or "none", i)
                              for i, c in enumerate(LANGUAGE_CASES)])
def test_languages(defaults, headers, stored, name, language):
    defaults.sql("UPDATE webhook_default SET name = %s", (stored,))
    r = call(defaults, dict(headers, Authorization=basic(defaults.user, defaults.password)))
    assert (r.status, r.body) == (200, webhook_body(name=name))
    assert r.header("Content-Language") == language


def test_translation_reaches_events_and_type_but_not_secrets(defaults):
    defaults.sql("UPDATE webhook_default SET events = ARRAY['US:\"a.created\";SE:\"a.skapad\"'], type = %s, "
                 "secret = %s, target_url = %s", (MULTI, MULTI, "[SR_WEBHOOK_NEW]"))
    r = call(defaults, {"Authorization": basic(defaults.user, defaults.password), "Accept-Language": "sv"})
    assert r.body == webhook_body(events=["a.skapad"], type_="Ny krok", secret=MULTI, target_url="[SR_WEBHOOK_NEW]")


@pytest.mark.parametrize("headers,message", [
    ({"Accept-Language": "en;q=2"}, 'The Accept-Language header is malformed: expected language tags with optional '
                                    'q-values, such as "sv, en;q=0.8".'),
    ({"SO-Language": "sv en"}, 'The SO-Language header is malformed: expected a language code such as "sv", '
                               'or * or x to turn translation off.'),
    ({"SO-Culture": "english"}, 'The SO-Culture header is malformed: expected a culture code such as "nb" or "en-US".'),
    ({"SO-Language": "sv", "SO-Culture": "xx-YY"}, 'Unknown culture "xx-YY" in SO-Culture.'),
    ({"SO-TimeZone": "Europe/Oslo"}, 'The SO-TimeZone header is malformed: expected a time zone code or id, '
                                     'optionally followed by ",includeTZOffset".'),
    ({"SO-TimeZone": "NO,includeOffset"}, 'The SO-TimeZone header is malformed: expected a time zone code or id, '
                                          'optionally followed by ",includeTZOffset".'),
    ({"SO-TimeZone": "XX"}, 'Unknown time zone "XX" in SO-TimeZone.'),
    ({"SO-TimeZone": "999999"}, 'Unknown time zone "999999" in SO-TimeZone.'),
])
def test_bad_header_values_are_400(stack, headers, message):
    r = call(stack, dict(headers, Authorization=basic(stack.user, stack.password)))
    check(r, bad_request(message))


# -- Time zones ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,zone", [
    ("UTC", "UTC"), ("NO", "NO"), ("no", "NO"), ("261", "NO"), ("140", "DK"), ("1", "UTC"), ("460", "US-NY"),
    ("US-NY, includeTZOffset", "US-NY"), ("NO,includeTZOffset", "NO"), ("AU-ACT", "AU-ACT"), ("CA-QC", "CA-QC"),
    ("US-HI", "US-HI"), ("BD", "BD"), ("FR", "FR"),
])
def test_timezones(stack, value, zone):
    r = call(stack, {"Authorization": basic(stack.user, stack.password), "SO-TimeZone": value})
    # Registered and Updated are unset on a new webhook: they stay 0001-01-01T00:00:00 in any zone.
    assert (r.status, r.body, r.header("SO-TimeZone")) == (200, DEFAULT_BODY, zone)


def test_timezone_table_is_a_real_list(stack):
    codes = {row[0] for row in stack.sql("SELECT code FROM timezone")}
    wanted = {"UTC", "NO", "DK", "SE", "FI", "IS", "FR", "DE", "NL", "BD", "US-NY", "US-CA", "US-HI",
              "AU-ACT", "AU-NSW", "AU-VIC", "AU-QLD", "AU-SA", "AU-WA", "AU-TAS", "AU-NT", "CA-QC"}
    assert wanted <= codes
    unknown = stack.sql("SELECT t.iana FROM timezone t LEFT JOIN pg_timezone_names n ON n.name = t.iana "
                        "WHERE n.name IS NULL")
    assert unknown == []


# -- Combinations ----------------------------------------------------------------------------------

def test_soticket_xml_swedish_new_york(defaults, creds):
    defaults.sql("UPDATE webhook_default SET name = %s", (MULTI,))
    r = call(defaults, {"Authorization": "SOTicket " + creds["ticket"], "Accept": "application/xml",
                        "SO-Language": "sv", "SO-TimeZone": "US-NY,includeTZOffset"})
    assert (r.status, r.header("Content-Type"), r.header("Content-Language"), r.header("SO-TimeZone")) == (
        200, "application/xml; charset=utf-8", "sv", "US-NY")
    assert r.body == DEFAULT_XML.replace(b'<Name i:nil="true"/>', "<Name>Ny krok</Name>".encode())


def test_typescript_client_headers(defaults):
    """@superoffice/webapi sends Accept-Language and SO-Language from one code, and SO-TimeZone."""
    defaults.sql("UPDATE webhook_default SET name = %s", (MULTI,))
    r = call(defaults, {"Authorization": basic(defaults.user, defaults.password), "Accept": "application/json",
                        "Accept-Language": "nb", "SO-Language": "nb", "SO-Culture": "nb",
                        "SO-TimeZone": "NO,includeTZOffset"})
    assert (r.status, r.body, r.header("Content-Language"), r.header("SO-TimeZone")) == (
        200, webhook_body(name="Ny hook"), "nb", "NO")


def test_session_xml_with_app_token_and_culture(defaults, creds):
    defaults.sql("UPDATE webhook_default SET name = %s", ("{n:1000000}",))
    r = call(defaults, {"Cookie": "SO_SESSION=" + creds["session"], "X-XSRF-TOKEN": creds["xsrf"],
                        "SO-AppToken": creds["app_granted"], "Accept": "text/xml", "Accept-Language": "sv",
                        "SO-Culture": "de"})
    assert (r.status, r.header("Content-Type")) == (200, "text/xml; charset=utf-8")
    assert ET.fromstring(r.body).find("Name").text == "1.000.000"


def test_refusals_combine_with_xml(stack, creds):
    r = call(stack, {"Cookie": "SO_SESSION=" + creds["session"], "Accept": "application/xml"})
    assert (r.status, r.header("Content-Type")) == (403, "application/xml; charset=utf-8")
    root = ET.fromstring(r.body)
    assert [(c.tag, c.text) for c in root] == [
        ("Error", "true"), ("ErrorType", "Forbidden"),
        ("ErrorMessage", "X-XSRF-TOKEN is required with a session cookie."), ("ErrorSource", "webhookd/auth")]


# -- An online installation ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def online():
    """A second stack configured as SuperOffice Online: SOTicket and Bearer only, SO-AppToken required."""
    with private_stack("webhookd-online-", "carol", {"WEBHOOKD_INSTALLATION": "online"}) as s:
        ticket, app, plain = "7T:" + secrets.token_urlsafe(20), secrets.token_urlsafe(20), secrets.token_urlsafe(20)
        carol = s.sql("SELECT associate_id FROM associate WHERE name = 'carol'")[0][0]
        s.transaction(
            ("INSERT INTO credential (token_sha256, scheme, associate_id, expires_at) "
             "VALUES (%s, 'soticket', %s, now() + interval '1 hour')", (token_digest(ticket), carol)),
            ("INSERT INTO application (name, token_sha256, webhook_access) VALUES ('a', %s, true), ('b', %s, false)",
             (token_digest(app), token_digest(plain))))
        s.ticket, s.app, s.plain_app = ticket, app, plain
        yield s


def test_online_accepts_ticket_with_granted_app(online):
    r = call(online, {"Authorization": "SOTicket " + online.ticket, "SO-AppToken": online.app})
    assert (r.status, r.body) == (200, DEFAULT_BODY)


def test_online_requires_an_app_token(online):
    check(call(online, {"Authorization": "SOTicket " + online.ticket}),
          forbidden("This installation requires SO-AppToken, the token of a registered application."))


def test_online_app_without_webhook_access(online):
    check(call(online, {"Authorization": "SOTicket " + online.ticket, "SO-AppToken": online.plain_app}),
          forbidden("The application has not been granted access to the Webhook agent, which is Online "
                    "restricted: request it when registering the application."))


def test_online_refuses_basic_and_lists_only_its_schemes(online):
    check(call(online, {"Authorization": basic(online.user, online.password), "SO-AppToken": online.app}),
          unauthorized("This Authorization scheme is not accepted here; WWW-Authenticate lists the accepted ones.",
                       CHALLENGES[1:]))


# -- Weights: one qvalue grammar (RFC 9110, 12.4.2) ------------------------------------------------

@pytest.mark.parametrize("q", ["0x1", "1e-3", ".5", "1.0001", "2", "0.5x", '"0.5"', "01", "-0"])
def test_a_weight_outside_the_qvalue_grammar_is_400_in_both_headers(stack, q):
    auth = basic(stack.user, stack.password)
    check(call(stack, {"Authorization": auth, "Accept": "application/json;q=" + q}),
          bad_request('The Accept header is malformed: expected media ranges such as '
                      '"application/json, application/xml;q=0.5".'))
    check(call(stack, {"Authorization": auth, "Accept-Language": "sv;q=" + q}),
          bad_request('The Accept-Language header is malformed: expected language tags with optional '
                      'q-values, such as "sv, en;q=0.8".'))


@pytest.mark.parametrize("q", ["0.", "1.", "1.000", "0.001"])
def test_every_spelling_the_qvalue_grammar_allows_is_taken(stack, q):
    auth = basic(stack.user, stack.password)
    assert call(stack, {"Authorization": auth, "Accept": "application/xml;q=" + q + ", application/json;q=0"}
                ).status in (200, 406)
    assert call(stack, {"Authorization": auth, "Accept-Language": "sv;q=" + q}).status == 200


# -- Repeated headers ------------------------------------------------------------------------------
# nginx passes each header line to FastCGI as its own HTTP_* parameter and joins none of them; a
# daemon reading the first would let "the first one wins" decide silently. Lists are recombined
# (RFC 9110, 5.3); a header that takes one value is refused, by nginx for the ones it knows
# (Authorization, If-Modified-Since, If-Unmodified-Since, Content-Length, Host), by the daemon for
# the rest.

def raw_post(stack, lines, path=ENDPOINT, body=b""):
    head = "POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: %d\r\n" % (path, len(body))
    data = (head + "".join("%s: %s\r\n" % kv for kv in lines) + "\r\n").encode() + body
    return parse_raw_response(stack.raw(data))


def repeated(name):
    return bad_request("The %s header appears more than once; it takes a single value." % name)


@pytest.mark.parametrize("name,first,second", [
    ("SO-TimeZone", "UTC", "NO"), ("SO-TimeZone", "NO", "NO"), ("SO-TimeZone", "NO", "includeTZOffset"),
    ("SO-Language", "sv", "en"), ("SO-Culture", "nb", "en-US"), ("SO-AppToken", "a", "b"),
    ("X-XSRF-TOKEN", "a", "b"), ("Content-Type", "application/json", "text/plain"),
])
def test_a_repeated_single_value_header_is_400(stack, name, first, second):
    r = raw_post(stack, [("Authorization", basic(stack.user, stack.password)), (name, first), (name, second)],
                 body=b"{}" if name == "Content-Type" else b"")
    status, content_type, body, _ = repeated(name)
    assert (r.status, r.headers["content-type"], r.body) == (status, content_type, body)


@pytest.mark.parametrize("name,value", [
    ("Authorization", None), ("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"),
    ("If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"), ("Content-Length", "0"), ("Host", "t"),
])
def test_headers_nginx_takes_once_are_its_400(stack, name, value):
    value = value or basic(stack.user, stack.password)
    lines = [("Authorization", basic(stack.user, stack.password))] if name != "Authorization" else []
    r = raw_post(stack, lines + [(name, value), (name, value)])
    assert (r.status, r.headers["content-type"], r.body) == (400, "application/json; charset=utf-8", error_body(
        "BadRequest", "The request is malformed or its headers are too large.", "nginx"))


def test_two_authorization_params_are_refused_by_the_daemon_too(stack):
    """Whatever the front lets through: two HTTP_AUTHORIZATION params reach no login."""
    params = [(b"REQUEST_METHOD", b"POST"), (b"DOCUMENT_URI", ENDPOINT.encode()), (b"QUERY_STRING", b""),
              (b"CONTENT_LENGTH", b""), (b"HTTP_AUTHORIZATION", basic(stack.user, stack.password).encode()),
              (b"HTTP_AUTHORIZATION", b"Basic eDp5")]
    blob = b"".join(fcgi_pair(k, v) for k, v in params)
    data = (fcgi_begin() + fcgi_record(FCGI_PARAMS, blob) + fcgi_record(FCGI_PARAMS, b"") +
            fcgi_record(FCGI_STDIN, b""))
    stdout, status = fcgi_exchange(stack.fcgi_socket, data)
    assert status == 0
    assert stdout.startswith(b"Status: 400 Bad Request\r\n"), stdout
    assert stdout.endswith(repeated("Authorization")[2]), stdout


def test_repeated_accept_lines_are_one_list(stack):
    r = raw_post(stack, [("Authorization", basic(stack.user, stack.password)), ("Accept", "text/html"),
                         ("Accept", "application/xml")])
    assert (r.status, r.headers["content-type"], r.body) == (200, "application/xml; charset=utf-8", DEFAULT_XML)
    r = raw_post(stack, [("Authorization", basic(stack.user, stack.password)), ("Accept", "text/html"),
                         ("Accept", "image/png")])
    assert r.status == 406


def test_repeated_accept_language_lines_are_one_list(defaults):
    defaults.sql("UPDATE webhook_default SET name = %s", (MULTI,))
    r = raw_post(defaults, [("Authorization", basic(defaults.user, defaults.password)),
                            ("Accept-Language", "de;q=0.1"), ("Accept-Language", "sv")])
    assert (r.status, r.body, r.headers.get("content-language")) == (200, webhook_body(name="Ny krok"), "sv")
    r = raw_post(defaults, [("Authorization", basic(defaults.user, defaults.password)),
                            ("Accept-Language", "sv"), ("Accept-Language", "en;q=2")])
    assert r.status == 400


def test_repeated_cookie_lines_are_one_cookie_string(stack, creds):
    r = raw_post(stack, [("Cookie", "a=b"), ("Cookie", "SO_SESSION=" + creds["session"]),
                         ("X-XSRF-TOKEN", creds["xsrf"])])
    assert (r.status, r.body) == (200, DEFAULT_BODY)
