"""Every rule a Webhook body must pass, through SaveWebhook and through REST POST alike.

One table: each case changes one thing of a valid body and names the exact answer (status and
error body). The rules live in src/body.c (media type, strict JSON), src/hookparse.c (each
property) and net/url.c (TargetUrl's syntax); the session stack allows http:// and loopback
targets, so the URL messages say "http:// or https://". After every refusal nothing is stored and
the target has heard nothing: a body is refused before any test event goes out.
"""
import json

import pytest

from e2e_support import error_body, jstr
from test_webhook_agent import AGENT, JSON_CT, REST, count, encode, hook_json, send

ENDPOINTS = {"SaveWebhook": ("POST", AGENT + "SaveWebhook", 200), "REST": ("POST", REST, 201)}

ABSENT = object()


def base(url):
    return {"WebhookId": 0, "Name": "valid", "Events": ["contact.created"], "TargetUrl": url, "Secret": None,
            "State": "Active", "Type": "webhook", "Headers": None, "Properties": None}


def body_with(url, change):
    """The valid body with one change: a dict of properties (ABSENT removes one), a raw JSON text
    whose @URL@ becomes the target, or bytes sent as they are."""
    if isinstance(change, bytes):
        return change
    if isinstance(change, str):
        return change.replace("@URL@", url).encode()
    body = base(url)
    for k, v in change.items():
        if v is ABSENT:
            del body[k]
        else:
            body[k] = v
    return encode(body)


def register_secret(stack, change):
    """Every Secret string sent is registered: the session checks no log holds one."""
    if isinstance(change, dict) and isinstance(change.get("Secret"), str):
        stack.secrets.add(change["Secret"])


def request(stack, endpoint, body, content_type="application/json"):
    method, path, _ = ENDPOINTS[endpoint]
    return send(stack, method, path, body, content_type=content_type)


def refused(status, error_type, message, source):
    return status, error_type, message, source


def bad(message):
    return refused(400, "BadRequest", message, "webhookd/request")


def bad_url(message):
    """TargetUrl's syntax is checked by the service, after the body has been read."""
    return refused(400, "BadRequest", message, "webhookd/webhook")


NOT_AN_ID = bad("WebhookId must be an integer from 0 to 2147483647.")
NAME_TYPE = bad("Name must be a string or null.")
EVENTS_REQUIRED = bad("Events is required: an array of 1 to 100 event names.")
EVENTS_SHAPE = bad("Events must be an array of 1 to 100 event names.")


def event_name(i):
    return bad("Events[%d] must be 1 to 200 bytes without white space, control characters or commas." % i)


URL_REQUIRED = bad("TargetUrl is required: the https:// URL events are posted to.")
URL_TYPE = bad("TargetUrl must be a string.")
URL_ABSOLUTE = bad_url("TargetUrl must be an absolute http:// or https:// URL.")
URL_HOST = bad_url("TargetUrl must name a host (http:// or https://host/...).")
URL_USER = bad_url("TargetUrl must not contain a user name or password.")
URL_SPACE = bad_url("TargetUrl must not contain spaces or control characters.")
URL_FRAGMENT = bad_url("TargetUrl must not contain a fragment (#...): it is never sent to the target.")
URL_PORT = bad_url("TargetUrl has an invalid port: it must be a number from 1 to 65535.")
URL_HOST_NAME = bad_url("TargetUrl has an invalid host name.")
SECRET_TYPE = bad("Secret must be a string or null.")
STATE = bad("State must be Unknown, Active, Stopped or TooManyErrors (or 0 to 3).")
TYPE_TYPE = bad("Type must be a string or null.")
TYPE_OTHER = bad('Type must be "webhook" (the only plugin this server has).')
TYPE_CRMSCRIPT = bad('Type "crmscript" is not supported: this server runs no CRMScript; use "webhook".')
HEADERS_SHAPE = bad("Headers must be an object of header names and string values, or null.")
PROPERTIES_SHAPE = bad("Properties must be an object or null.")
NOT_AN_OBJECT = bad("The body must be a Webhook: a JSON object.")


def header_name(i):
    return bad("Headers: header %d has an invalid name: names are 1 to 100 token characters (RFC 9110)." % i)


def header_reserved(name):
    return bad('Headers: "%s" is set by the delivery itself and cannot be given (nor Content-*, Host, User-Agent, '
               'X-SuperOffice-*, webhook-* or hop-by-hop headers).' % name)


def header_value(name):
    return bad('Headers: the value of "%s" must be at most 4000 bytes without control characters (CR, LF, NUL, ...).'
               % name)


def twice(name):
    return bad("%s is given more than once (property names match in any case)." % name)


def not_json(at):
    return bad("The body is not valid JSON (near byte %d)." % at)


def dup(text, name, value):
    """The valid body plus `name` again (other case): raw JSON text."""
    return text[:-1] + ",%s:%s}" % (json.dumps(name), value)


BASE_TEXT = json.dumps(base("@URL@"), separators=(",", ":"))
URL_4001 = "http://127.0.0.1/" + "a" * (4001 - len("http://127.0.0.1/"))


def nested(levels):
    """A body whose Properties nest `levels` objects deep: the body then nests levels + 1 deep."""
    return '{"Events":["a"],"TargetUrl":"@URL@","Properties":' + '{"d":' * levels + "1" + "}" * levels + "}"


# case -> (change to the valid body, expected refusal)
CASES = {
    # -- the body as a whole ---------------------------------------------------------------------
    "body_array": ("[]", NOT_AN_OBJECT),
    "body_array_of_webhook": ("[" + BASE_TEXT + "]", NOT_AN_OBJECT),
    "body_string": ('"webhook"', NOT_AN_OBJECT),
    "body_number": ("0", NOT_AN_OBJECT),
    "body_true": ("true", NOT_AN_OBJECT),
    "body_null": ("null", NOT_AN_OBJECT),
    # -- strict JSON ---------------------------------------------------------------------------------
    "json_missing_value": ('{"Name":}', not_json(9)),
    "json_trailing_comma": ('{"Name":"x",}', not_json(13)),
    "json_single_quotes": ("{'Name':'x'}", not_json(2)),
    "json_unquoted_name": ("{Name:1}", not_json(2)),
    "json_two_documents": ('{"Name":"x"}{}', not_json(13)),
    "json_trailing_garbage": ('{"Name":"x"} x', not_json(14)),
    "json_nan": ('{"WebhookId":NaN}', not_json(14)),
    "json_infinity": ('{"WebhookId":Infinity}', not_json(14)),
    "json_hex": ('{"WebhookId":0x1}', not_json(15)),
    "json_truncated": ('{"Name":"x"', not_json(11)),
    "json_byte_order_mark": (b'\xef\xbb\xbf{"Name":"x"}', not_json(1)),
    "json_invalid_utf8": (b'{"Name":"\xff"}', not_json(10)),
    "json_overlong_utf8": (b'{"Name":"\xc0\xaf"}', not_json(12)),
    "json_utf8_surrogate": (b'{"Name":"\xed\xa0\x80"}', not_json(13)),
    "json_lone_low_surrogate": ('{"Name":"\\udfff"}', not_json(10)),
    "json_lone_high_surrogate": ('{"Name":"\\ud800x"}', not_json(10)),
    "json_high_surrogate_without_low": ('{"Name":"\\ud800\\u0041"}', not_json(10)),
    "json_form_feed_as_space": ('{"Name":"x"\f}', not_json(12)),
    "json_vertical_tab_as_space": ('\v{"Name":"x"}', not_json(1)),
    "json_escaped_nul": ('{"Name":"a\\u0000b"}', bad("The body contains an escaped NUL character (\\u0000).")),
    "json_nul_byte": (b'{"Name":"a\x00b"}', bad("The body contains a NUL byte.")),
    "json_too_deep": ("[" * 33 + "]" * 33, bad("The JSON nests deeper than 32 levels.")),
    "json_too_deep_in_properties": (nested(32), bad("The JSON nests deeper than 32 levels.")),
    # Comments are not JSON: each is refused at its first byte.
    "comment_block_first": ('/* c */{"Name":"x"}', not_json(1)),
    "comment_line_first": ('// c\n{"Name":"x"}', not_json(1)),
    "comment_hash_first": ('# c\n{"Name":"x"}', not_json(1)),
    "comment_block_inside": ('{/* c */"Name":"x"}', not_json(1)),
    "comment_line_after_value": ('{"Name":"x" // c\n}', not_json(12)),
    # A raw control character inside a string: refused at that byte.
    "raw_newline_in_string": ('{"Name":"a\nb"}', not_json(10)),
    # -- duplicate properties, differing only in case ----------------------------------------
    "twice_webhook_id": (dup(BASE_TEXT, "webhookid", "0"), twice("WebhookId")),
    "twice_name": (dup(BASE_TEXT, "name", '"other"'), twice("Name")),
    "twice_name_same_case": (dup(BASE_TEXT, "Name", '"valid"'), twice("Name")),
    "twice_events": (dup(BASE_TEXT, "EVENTS", '["a"]'), twice("Events")),
    "twice_target_url": (dup(BASE_TEXT, "targetUrl", '"@URL@"'), twice("TargetUrl")),
    "twice_secret": (dup(BASE_TEXT, "secret", "null"), twice("Secret")),
    "twice_state": (dup(BASE_TEXT, "state", '"Active"'), twice("State")),
    "twice_type": (dup(BASE_TEXT, "TYPE", '"webhook"'), twice("Type")),
    "twice_headers": (dup(BASE_TEXT, "headers", "null"), twice("Headers")),
    "twice_properties": (dup(BASE_TEXT, "properties", "{}"), twice("Properties")),
    # -- WebhookId -------------------------------------------------------------------------------
    "id_string": ({"WebhookId": "0"}, NOT_AN_ID),
    "id_negative": ({"WebhookId": -1}, NOT_AN_ID),
    "id_fraction": ({"WebhookId": 0.5}, NOT_AN_ID),
    "id_float_zero": ('{"WebhookId":0.0,"Events":["a"],"TargetUrl":"@URL@"}', NOT_AN_ID),
    "id_exponent": ('{"WebhookId":0e0,"Events":["a"],"TargetUrl":"@URL@"}', NOT_AN_ID),
    "id_too_large": ({"WebhookId": 2147483648}, NOT_AN_ID),
    "id_bool": ({"WebhookId": False}, NOT_AN_ID),
    "id_object": ({"WebhookId": {}}, NOT_AN_ID),
    # -- Name --------------------------------------------------------------------------------------
    "name_number": ({"Name": 5}, NAME_TYPE),
    "name_bool": ({"Name": True}, NAME_TYPE),
    "name_array": ({"Name": ["x"]}, NAME_TYPE),
    "name_object": ({"Name": {}}, NAME_TYPE),
    "name_too_long": ({"Name": "n" * 401}, bad("Name must be at most 400 characters long.")),
    "name_too_long_in_characters": ({"Name": "é" * 401}, bad("Name must be at most 400 characters long.")),
    # -- Events ------------------------------------------------------------------------------------
    "events_absent": ({"Events": ABSENT}, EVENTS_REQUIRED),
    "events_null": ({"Events": None}, EVENTS_REQUIRED),
    "events_empty": ({"Events": []}, EVENTS_SHAPE),
    "events_string": ({"Events": "contact.created"}, EVENTS_SHAPE),
    "events_object": ({"Events": {"contact.created": True}}, EVENTS_SHAPE),
    "events_101": ({"Events": ["e.%d" % i for i in range(101)]}, EVENTS_SHAPE),
    "event_number": ({"Events": [1]}, bad("Events[0] must be a string.")),
    "event_null": ({"Events": ["a", None]}, bad("Events[1] must be a string.")),
    "event_array": ({"Events": ["a", "b", ["c"]]}, bad("Events[2] must be a string.")),
    "event_empty": ({"Events": [""]}, event_name(0)),
    "event_space": ({"Events": ["contact created"]}, event_name(0)),
    "event_leading_space": ({"Events": ["a", " b"]}, event_name(1)),
    "event_tab": ({"Events": ["a\tb"]}, event_name(0)),
    "event_newline": ({"Events": ["a\nb"]}, event_name(0)),
    "event_del": ({"Events": ["a\x7fb"]}, event_name(0)),
    "event_comma": ({"Events": ["contact.created,sale.created"]}, event_name(0)),
    "event_201_bytes": ({"Events": ["e" * 201]}, event_name(0)),
    "event_201_bytes_multibyte": ({"Events": ["é" * 100 + "e"]}, event_name(0)),
    # White space and control characters beyond ASCII are white space and control characters too
    # (the schema's own rule refuses them: \s and [:cntrl:]).
    "event_line_separator": ({"Events": ["a\u2028b"]}, event_name(0)),
    "event_ideographic_space": ({"Events": ["a\u3000b"]}, event_name(0)),
    "event_c1_control": ({"Events": ["a\u0085b"]}, event_name(0)),
    # -- TargetUrl: the property ---------------------------------------------------------------
    "url_absent": ({"TargetUrl": ABSENT}, URL_REQUIRED),
    "url_null": ({"TargetUrl": None}, URL_REQUIRED),
    "url_empty": ({"TargetUrl": ""}, URL_REQUIRED),
    "url_number": ({"TargetUrl": 80}, URL_TYPE),
    "url_array": ({"TargetUrl": ["http://127.0.0.1/"]}, URL_TYPE),
    "url_object": ({"TargetUrl": {"Host": "127.0.0.1"}}, URL_TYPE),
    # -- TargetUrl: the URL (net/url.c) ----------------------------------------------------------
    "url_relative_path": ({"TargetUrl": "/hook"}, URL_ABSOLUTE),
    "url_relative_word": ({"TargetUrl": "hook"}, URL_ABSOLUTE),
    "url_scheme_relative": ({"TargetUrl": "//127.0.0.1/hook"}, URL_ABSOLUTE),
    "url_host_port_only": ({"TargetUrl": "127.0.0.1:8080/hook"}, URL_ABSOLUTE),
    "url_name_port_only": ({"TargetUrl": "localhost:8080/hook"}, URL_ABSOLUTE),
    "url_one_slash": ({"TargetUrl": "http:/127.0.0.1/hook"}, URL_ABSOLUTE),
    "url_no_slashes": ({"TargetUrl": "http:127.0.0.1/hook"}, URL_ABSOLUTE),
    "url_mailto": ({"TargetUrl": "mailto:ops@example.com"}, URL_ABSOLUTE),
    "url_byte_order_mark": ({"TargetUrl": "\ufeffhttp://127.0.0.1/"}, URL_ABSOLUTE),
    "url_ftp": ({"TargetUrl": "ftp://127.0.0.1/hook"}, bad_url("TargetUrl must use http:// or https://, not ftp://.")),
    "url_file": ({"TargetUrl": "file:///etc/passwd"}, bad_url("TargetUrl must use http:// or https://, not file://.")),
    "url_ws": ({"TargetUrl": "ws://127.0.0.1/"}, bad_url("TargetUrl must use http:// or https://, not ws://.")),
    "url_gopher_upper": ({"TargetUrl": "GOPHER://127.0.0.1/"},
                         bad_url("TargetUrl must use http:// or https://, not GOPHER://.")),
    "url_long_scheme_is_cut": ({"TargetUrl": "x" * 40 + "://127.0.0.1/"},
                               bad_url("TargetUrl must use http:// or https://, not %s...://." % ("x" * 32))),
    "url_three_slashes": ({"TargetUrl": "http:///hook"}, URL_HOST),
    "url_scheme_only": ({"TargetUrl": "http://"}, URL_HOST),
    "url_user_password": ({"TargetUrl": "http://user:pass@127.0.0.1/hook"}, URL_USER),
    "url_user": ({"TargetUrl": "http://user@127.0.0.1/hook"}, URL_USER),
    "url_empty_user": ({"TargetUrl": "http://@127.0.0.1/hook"}, URL_USER),
    "url_fragment": ({"TargetUrl": "http://127.0.0.1/hook#part"}, URL_FRAGMENT),
    "url_empty_fragment": ({"TargetUrl": "http://127.0.0.1/hook#"}, URL_FRAGMENT),
    "url_space": ({"TargetUrl": "http://127.0.0.1/a b"}, URL_SPACE),
    "url_leading_space": ({"TargetUrl": " http://127.0.0.1/"}, URL_SPACE),
    "url_trailing_space": ({"TargetUrl": "http://127.0.0.1/ "}, URL_SPACE),
    "url_tab": ({"TargetUrl": "http://127.0.0.1/\thook"}, URL_SPACE),
    "url_newline": ({"TargetUrl": "http://127.0.0.1/\r\nX-Evil: 1"}, URL_SPACE),
    "url_del": ({"TargetUrl": "http://127.0.0.1/\x7f"}, URL_SPACE),
    "url_4001": ({"TargetUrl": URL_4001}, bad_url("TargetUrl must be at most 4000 characters long.")),
    "url_port_zero": ({"TargetUrl": "http://127.0.0.1:0/"}, URL_PORT),
    "url_port_too_large": ({"TargetUrl": "http://127.0.0.1:65536/"}, URL_PORT),
    "url_port_word": ({"TargetUrl": "http://127.0.0.1:http/"}, URL_PORT),
    "url_bad_ipv6": ({"TargetUrl": "http://[::1/hook"}, URL_HOST_NAME),
    "url_bad_host_character": ({"TargetUrl": "http://exa<mple.com/"}, URL_HOST_NAME),
    "url_semicolon_host": ({"TargetUrl": "http://127.0.0.1;x/"}, URL_HOST_NAME),
    # -- Secret ------------------------------------------------------------------------------------
    "secret_number": ({"Secret": 12345}, SECRET_TYPE),
    "secret_object": ({"Secret": {"value": "x"}}, SECRET_TYPE),
    "secret_too_long": ({"Secret": "s" * 401}, bad("Secret must be at most 400 characters long.")),
    "secret_too_long_in_characters": ({"Secret": "ß" * 401}, bad("Secret must be at most 400 characters long.")),
    # -- State -------------------------------------------------------------------------------------
    "state_word": ({"State": "Paused"}, STATE),
    "state_empty": ({"State": ""}, STATE),
    "state_padded": ({"State": " Active"}, STATE),
    "state_four": ({"State": 4}, STATE),
    "state_four_text": ({"State": "4"}, STATE),
    "state_negative": ({"State": -1}, STATE),
    "state_fraction": ({"State": 1.5}, STATE),
    "state_bool": ({"State": True}, STATE),
    "state_array": ({"State": ["Active"]}, STATE),
    # -- Type --------------------------------------------------------------------------------------
    "type_number": ({"Type": 1}, TYPE_TYPE),
    "type_bool": ({"Type": False}, TYPE_TYPE),
    "type_other": ({"Type": "zapier"}, TYPE_OTHER),
    "type_empty": ({"Type": ""}, TYPE_OTHER),
    "type_crmscript": ({"Type": "crmscript"}, TYPE_CRMSCRIPT),
    "type_crmscript_any_case": ({"Type": "CRMScript"}, TYPE_CRMSCRIPT),
    # -- Headers -----------------------------------------------------------------------------------
    "headers_array": ({"Headers": [["X-A", "1"]]}, HEADERS_SHAPE),
    "headers_string": ({"Headers": "X-A: 1"}, HEADERS_SHAPE),
    "headers_number": ({"Headers": 1}, HEADERS_SHAPE),
    "headers_51": ({"Headers": {"X-H%d" % i: "v" for i in range(51)}}, bad("Headers may hold at most 50 headers.")),
    "header_name_empty": ({"Headers": {"": "v"}}, header_name(0)),
    "header_name_space": ({"Headers": {"X-A": "1", "X B": "v"}}, header_name(1)),
    "header_name_colon": ({"Headers": {"X-A:": "v"}}, header_name(0)),
    "header_name_parenthesis": ({"Headers": {"X(A)": "v"}}, header_name(0)),
    "header_name_non_ascii": ({"Headers": {"X-Ä": "v"}}, header_name(0)),
    "header_name_101": ({"Headers": {"X" * 101: "v"}}, header_name(0)),
    "header_content_type": ({"Headers": {"Content-Type": "text/plain"}}, header_reserved("Content-Type")),
    "header_content_length": ({"Headers": {"content-length": "0"}}, header_reserved("content-length")),
    # The message says Content-*: a Content-Encoding would tell the target to decode the JSON.
    "header_content_encoding": ({"Headers": {"Content-Encoding": "gzip"}}, header_reserved("Content-Encoding")),
    "header_host": ({"Headers": {"HOST": "example.com"}}, header_reserved("HOST")),
    "header_user_agent": ({"Headers": {"User-Agent": "x"}}, header_reserved("User-Agent")),
    "header_connection": ({"Headers": {"Connection": "close"}}, header_reserved("Connection")),
    "header_transfer_encoding": ({"Headers": {"Transfer-Encoding": "chunked"}}, header_reserved("Transfer-Encoding")),
    "header_expect": ({"Headers": {"Expect": "100-continue"}}, header_reserved("Expect")),
    "header_te": ({"Headers": {"te": "trailers"}}, header_reserved("te")),
    "header_upgrade": ({"Headers": {"Upgrade": "h2c"}}, header_reserved("Upgrade")),
    "header_keep_alive": ({"Headers": {"Keep-Alive": "5"}}, header_reserved("Keep-Alive")),
    "header_hook_test": ({"Headers": {"X-Hook-Test": "false"}}, header_reserved("X-Hook-Test")),
    "header_superoffice_signature": ({"Headers": {"X-SuperOffice-Signature": "x"}},
                                     header_reserved("X-SuperOffice-Signature")),
    "header_superoffice_any_case": ({"Headers": {"x-superoffice-event": "x"}}, header_reserved("x-superoffice-event")),
    "header_webhook_id": ({"Headers": {"webhook-id": "x"}}, header_reserved("webhook-id")),
    "header_webhook_signature": ({"Headers": {"Webhook-Signature": "x"}}, header_reserved("Webhook-Signature")),
    "header_proxy_authorization": ({"Headers": {"Proxy-Authorization": "Basic x"}},
                                   header_reserved("Proxy-Authorization")),
    "header_twice_in_other_case": ({"Headers": {"X-Api-Key": "1", "x-api-key": "2"}},
                                   bad('Headers: "x-api-key" is given more than once (header names match in any case).')),
    "header_value_number": ({"Headers": {"X-A": 1}}, bad('Headers: the value of "X-A" must be a string.')),
    "header_value_null": ({"Headers": {"X-A": "1", "X-B": None}}, bad('Headers: the value of "X-B" must be a string.')),
    "header_value_object": ({"Headers": {"X-A": {"v": "1"}}}, bad('Headers: the value of "X-A" must be a string.')),
    "header_value_crlf": ({"Headers": {"X-A": "1\r\nX-Evil: 2"}}, header_value("X-A")),
    "header_value_lf": ({"Headers": {"X-A": "1\n2"}}, header_value("X-A")),
    "header_value_del": ({"Headers": {"X-A": "1\x7f"}}, header_value("X-A")),
    "header_value_4001": ({"Headers": {"X-A": "v" * 4001}}, header_value("X-A")),
    "header_value_4001_bytes": ({"Headers": {"X-A": "é" * 2000 + "v"}}, header_value("X-A")),
    # -- Properties --------------------------------------------------------------------------------
    "properties_array": ({"Properties": [1]}, PROPERTIES_SHAPE),
    "properties_string": ({"Properties": "{}"}, PROPERTIES_SHAPE),
    "properties_number": ({"Properties": 0}, PROPERTIES_SHAPE),
    "properties_bool": ({"Properties": True}, PROPERTIES_SHAPE),
    "properties_duplicate_name": (BASE_TEXT.replace('"Properties":null', '"Properties":{"a":1,"b":2,"a":3}'),
                                  bad("Properties: a name is given more than once.")),
    "properties_16385_bytes": ({"Properties": {"p": "x" * (16385 - len('{"p":""}'))}},
                               bad("Properties must be at most 16384 bytes as compact JSON.")),
}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_refused(webhooks, receiver, endpoint, case):
    stack = webhooks
    change, (status, error_type, message, source) = CASES[case]
    before = count(stack)
    register_secret(stack, change)
    r = request(stack, endpoint, body_with(receiver.url(), change))
    assert (r.status, r.headers.get("content-type"), r.body) == (
        status, JSON_CT, error_body(error_type, message, source)), r
    assert count(stack) == before
    assert receiver.requests() == []


def test_table_covers_valid_base(webhooks, receiver):
    """The body every case changes is itself valid, through both endpoints."""
    for endpoint, (_, _, ok) in ENDPOINTS.items():
        r = request(webhooks, endpoint, body_with(receiver.url(), {}))
        assert r.status == ok, r
    assert count(webhooks) == 2


# -- at the limits: accepted -------------------------------------------------------------------------

# case -> (change, keyword arguments of hook_json for what is stored)
LIMITS = {
    "name_400": ({"Name": "n" * 400}, dict(name="n" * 400)),
    "name_400_characters": ({"Name": "é" * 400}, dict(name="é" * 400)),
    "secret_400": ({"Secret": "s" * 400}, dict(secret="s" * 400)),
    "events_100": ({"Events": ["e.%d" % i for i in range(100)]}, dict(events=["e.%d" % i for i in range(100)])),
    "event_200_bytes": ({"Events": ["é" * 100]}, dict(events=["é" * 100])),
    "event_non_ascii": ({"Events": ["kontakt.opprettet.ø"]}, dict(events=["kontakt.opprettet.ø"])),
    "headers_50": ({"Headers": {"X-H%d" % i: "v" for i in range(50)}},
                   dict(headers=json.dumps({"X-H%d" % i: "v" for i in range(50)}, separators=(",", ":")))),
    "header_name_100": ({"Headers": {"X" * 100: "v"}}, dict(headers='{"%s":"v"}' % ("X" * 100))),
    "header_name_all_token_characters": ({"Headers": {"!#$%&'*+-.^_`|~09azAZ": "v"}},
                                         dict(headers='{"!#$%&\'*+-.^_`|~09azAZ":"v"}')),
    "header_value_4000": ({"Headers": {"X-A": "v" * 4000}}, dict(headers='{"X-A":"%s"}' % ("v" * 4000))),
    "header_value_tab_and_empty": ({"Headers": {"X-A": "a\tb", "X-B": ""}}, dict(headers='{"X-A":"a\\tb","X-B":""}')),
    "properties_16384_bytes": ({"Properties": {"p": "x" * (16384 - len('{"p":""}'))}},
                               dict(properties='{"p":"%s"}' % ("x" * (16384 - len('{"p":""}'))))),
    "properties_names_differ_in_case": ({"Properties": {"a": 1, "A": 2}}, dict(properties='{"a":1,"A":2}')),
    "properties_nested_to_the_limit": (nested(31), dict(events=["a"], name=None,
                                                        properties='{"d":' * 31 + "1" + "}" * 31)),
    # TargetUrl: at most 4000 characters; the scheme in any case, stored as given.
    "url_4000": (lambda url: {"TargetUrl": url + "?" + "q" * (4000 - len(url) - 1)}, {}),
    "url_upper_case_scheme": (lambda url: {"TargetUrl": url.replace("http://", "HTTP://")}, {}),
}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("case", sorted(LIMITS))
def test_accepted_at_the_limits(webhooks, receiver, endpoint, case):
    stack = webhooks
    change, expected = LIMITS[case]
    url = receiver.url("/limit")
    if callable(change):
        change = change(url)
    target = change.get("TargetUrl", url) if isinstance(change, dict) else url
    register_secret(stack, change)
    r = request(stack, endpoint, body_with(url, change))
    assert r.status == ENDPOINTS[endpoint][2], r
    hook_id = r.json()["WebhookId"]
    kwargs = dict(name="valid", events=["contact.created"], target_url=target)
    kwargs.update(expected)
    assert r.body == hook_json(stack, hook_id, **kwargs)


def test_properties_limit_counts_compact_bytes(webhooks, receiver):
    """16384 bytes as compact JSON: the spaces a client sends around it do not count."""
    value = "x" * (16384 - len('{"p":""}'))
    text = '{"Events":["a"],"TargetUrl":%s,"Properties":  {  "p" :  "%s"  }  }' % (jstr(receiver.url()), value)
    assert len(text) > 16384 + 40
    r = request(webhooks, "SaveWebhook", text)
    assert r.status == 200, r
    assert r.body == hook_json(webhooks, r.json()["WebhookId"], events=["a"], target_url=receiver.url(),
                               properties='{"p":"%s"}' % value)


# -- the body's framing: media type, emptiness, size --------------------------------------------------

UNSUPPORTED = refused(415, "UnsupportedMediaType",
                      "The request body must be JSON in UTF-8: Content-Type application/json (or text/json, "
                      "application/json-patch+json, application/merge-patch+json).", "webhookd/request")


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("content_type", [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/xml",
    "text/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "application/jsonx",
    "application/json; charset=latin1",
    "application/json; charset=iso-8859-1",
    "text/json; charset=utf-16",
    "application/merge-patch+json; charset=windows-1252",
])
def test_other_media_types_are_refused(webhooks, receiver, endpoint, content_type):
    """A valid Webhook in JSON, labelled as something else: 415, not parsed, nothing stored."""
    r = request(webhooks, endpoint, body_with(receiver.url(), {}), content_type=content_type)
    status, error_type, message, source = UNSUPPORTED
    assert (r.status, r.headers.get("content-type"), r.body) == (status, JSON_CT,
                                                                 error_body(error_type, message, source))
    assert count(webhooks) == 0
    assert receiver.requests() == []


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("content_type", [
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON; CHARSET=UTF-8",
    'application/json; charset="utf-8"',
    "application/json;charset=utf8",
    "text/json",
    "application/json; odata=verbose",
    None,  # no Content-Type at all: JSON is assumed
])
def test_json_media_types_are_accepted(webhooks, receiver, endpoint, content_type):
    r = request(webhooks, endpoint, body_with(receiver.url(), {}), content_type=content_type)
    assert r.status == ENDPOINTS[endpoint][2], r
    assert count(webhooks) == 1


@pytest.mark.parametrize("body", [b"", b" ", b"\r\n\t "])
@pytest.mark.parametrize("endpoint,message", [("SaveWebhook", "The body must be the Webhook to save."),
                                              ("REST", "The body must be a Webhook.")])
def test_empty_body(webhooks, body, endpoint, message):
    method, path, _ = ENDPOINTS[endpoint]
    r = send(webhooks, method, path, body)
    assert (r.status, r.headers.get("content-type"), r.body) == (400, JSON_CT,
                                                                 error_body("BadRequest", message, "webhookd/request"))
    assert count(webhooks) == 0


def padded(url, size):
    """A valid Webhook of exactly size bytes: the padding is an unknown property."""
    text = body_with(url, {"Pad": ""})
    return text.replace(b'"Pad":""', b'"Pad":"' + b"p" * (size - len(text)) + b'"')


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_body_at_the_size_limit_is_accepted(webhooks, receiver, endpoint):
    body = padded(receiver.url(), 65536)
    assert len(body) == 65536
    r = request(webhooks, endpoint, body)
    assert r.status == ENDPOINTS[endpoint][2], r


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("size", [65537, 200_000])
def test_body_over_the_size_limit(webhooks, receiver, endpoint, size):
    r = request(webhooks, endpoint, padded(receiver.url(), size))
    assert (r.status, r.headers.get("content-type"), r.body) == (413, JSON_CT, error_body(
        "PayloadTooLarge", "The request body exceeds the limit of 65536 bytes.", "nginx"))
    assert count(webhooks) == 0
    assert receiver.requests() == []
