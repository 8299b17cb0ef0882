"""GET /api/v1/Webhook/Usage and /api/v1/Webhook/{id}/Usage: a webhook's delivery counters (total
calls, total errors, errors in a row, the last error and when it happened), which the Webhook
carrier does not hold. Zero before the first delivery; scoped like the webhook itself.

Counters are written straight into webhook_usage so every figure is known; that delivery keeps
them is test_delivery.py's business.
"""
import pytest

from e2e_support import JSON_CT
from test_webhook_agent import REST, XML_CT, XML_DECL, assert_error, send
from test_webhook_ownership import apps, hook  # noqa: F401 (fixture)

LAST = "HTTP/1.1 500 Internal Server Error\r\n\r\nboom"


def usage(hook_id, calls=0, errors=0, in_a_row=0, at=None, last=""):
    return {"WebhookId": hook_id, "TotalCalls": calls, "TotalErrors": errors, "ConsecutiveErrors": in_a_row,
            "LastErrorAt": at, "LastError": last}


@pytest.fixture
def two_hooks(webhooks, receiver):
    """Two webhooks, the second with counters; their ids."""
    stack = webhooks
    ids = []
    for name in ("quiet", "busy"):
        r = send(stack, "POST", REST, {"Name": name, "Events": ["contact.created"], "TargetUrl": receiver.url()})
        assert r.status == 201, r
        ids.append(r.json()["WebhookId"])
    stack.sql("INSERT INTO webhook_usage (webhook_id, total_calls, total_errors, consecutive_errors, last_error, "
              "last_error_at) VALUES (%s, 12, 5, 2, %s, '2026-11-28 10:11:12.5+00')", (ids[1], LAST))
    return ids


def test_usage_of_every_webhook(webhooks, two_hooks):
    r = send(webhooks, "GET", REST + "/Usage")
    assert (r.status, r.headers["content-type"]) == (200, JSON_CT), r
    assert r.json() == [usage(two_hooks[0]),
                        usage(two_hooks[1], 12, 5, 2, "2026-11-28T10:11:12.500000", LAST)]


def test_usage_of_one_webhook(webhooks, two_hooks):
    r = send(webhooks, "GET", "%s/%d/Usage" % (REST, two_hooks[1]))
    assert r.status == 200, r
    assert r.body.decode() == ('{"WebhookId":%d,"TotalCalls":12,"TotalErrors":5,"ConsecutiveErrors":2,'
                      '"LastErrorAt":"2026-11-28T10:11:12.500000","LastError":"HTTP/1.1 500 Internal Server Error'
                      '\\r\\n\\r\\nboom"}' % two_hooks[1])
    r = send(webhooks, "GET", "%s/%d/Usage" % (REST, two_hooks[0]))
    assert r.json() == usage(two_hooks[0])


def test_usage_with_offset_tag(webhooks, two_hooks):
    r = send(webhooks, "GET", "%s/%d/Usage" % (REST, two_hooks[1]), headers={"SO-TimeZone": "UTC,includeTZOffset"})
    assert r.json()["LastErrorAt"] == "2026-11-28T10:11:12.500000Z"


def test_usage_as_xml(webhooks, two_hooks):
    r = send(webhooks, "GET", "%s/%d/Usage" % (REST, two_hooks[0]), headers={"Accept": "application/xml"})
    assert (r.status, r.headers["content-type"]) == (200, XML_CT), r
    body = r.body.decode()
    assert body.startswith(XML_DECL + "<WebhookUsage ")
    assert ("<WebhookId>%d</WebhookId><TotalCalls>0</TotalCalls><TotalErrors>0</TotalErrors>"
            "<ConsecutiveErrors>0</ConsecutiveErrors><LastErrorAt i:nil=\"true\"/><LastError></LastError>"
            "</WebhookUsage>" % two_hooks[0]) in body, body
    r = send(webhooks, "GET", REST + "/Usage", headers={"Accept": "application/xml"})
    body = r.body.decode()
    assert body.startswith(XML_DECL + "<ArrayOfWebhookUsage "), body
    assert body.count("<WebhookUsage>") == 2 and body.endswith("</ArrayOfWebhookUsage>"), body


def test_usage_of_a_missing_webhook_is_404(webhooks):
    r = send(webhooks, "GET", REST + "/2147483000/Usage")
    assert_error(r, 404, "NotFound", "Webhook 2147483000 does not exist.", "webhookd/webhook")


def test_usage_needs_authentication(webhooks):
    r = send(webhooks, "GET", REST + "/Usage", auth=False)
    assert r.status == 401


def test_usage_is_scoped_to_the_application(apps, receiver):  # noqa: F811
    a = apps["a"].save(hook(receiver, "/a", "usage-a"))["WebhookId"]
    b = apps["b"].save(hook(receiver, "/b", "usage-b"))["WebhookId"]
    r = apps["a"].rest("GET", REST + "/Usage")
    assert [u["WebhookId"] for u in r.json()] == [a]
    assert apps["a"].rest("GET", "%s/%d/Usage" % (REST, b)).status == 404
    assert [u["WebhookId"] for u in apps["none"].rest("GET", REST + "/Usage").json()] == [a, b]
