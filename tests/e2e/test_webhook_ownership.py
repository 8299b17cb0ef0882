"""Who owns a webhook: one saved with SO-AppToken belongs to that partner application, which alone
sees and changes it; to any other application it is as if it did not exist (the agent's null
and 204, REST's 404), and nothing it sends reaches the row or the webhook's target. A caller
without SO-AppToken (the installation's own users) sees and manages every webhook.
"""
import json
import secrets

import pytest

from e2e_support import JSON_CT, basic, error_body, token_digest

AGENT = "/api/v1/Agents/Webhook/"
REST = "/api/v1/Webhook"


class Caller:
    """The session's associate, alice, with an application's token or without one."""

    def __init__(self, stack, app_token=None, user=None, password=None):
        self.stack = stack
        self.auth = basic(user or stack.user, password or stack.password)
        self.app_token = app_token

    def headers(self, content_type=None):
        h = {"Authorization": self.auth}
        if self.app_token is not None:
            h["SO-AppToken"] = self.app_token
        if content_type is not None:
            h["Content-Type"] = content_type
        return h

    def agent(self, method, body=None):
        data = None if body is None else json.dumps(body).encode()
        return self.stack.request("POST", AGENT + method, headers=self.headers("application/json"), body=data)

    def rest(self, method, path, body=None, content_type="application/json"):
        data = None if body is None else json.dumps(body).encode()
        return self.stack.request(method, path, headers=self.headers(content_type if body is not None else None),
                                  body=data)

    def save(self, hook):
        r = self.agent("SaveWebhook", hook)
        assert r.status == 200, r
        return r.json()

    def all_ids(self, body=None):
        r = self.agent("GetAllWebhooks", body if body is not None else {})
        assert r.status == 200, r
        return [h["WebhookId"] for h in r.json()]


@pytest.fixture
def apps(webhooks):
    """Applications A and B, both granted the Webhook agent, as callers; and the tokenless caller."""
    stack = webhooks
    tokens = {"a": secrets.token_urlsafe(24), "b": secrets.token_urlsafe(24)}
    stack.secrets.update(tokens.values())
    names = {k: "e2e-owner-%s-%s" % (k, secrets.token_hex(4)) for k in tokens}
    ids = {}
    for k in tokens:
        ids[k] = stack.sql("INSERT INTO application (name, token_sha256, webhook_access) VALUES (%s, %s, true) "
                           "RETURNING application_id", (names[k], token_digest(tokens[k])))[0][0]
    try:
        yield {"a": Caller(stack, tokens["a"]), "b": Caller(stack, tokens["b"]), "none": Caller(stack),
               "ids": ids}
    finally:
        stack.sql("DELETE FROM webhook")
        stack.sql("DELETE FROM application WHERE application_id = ANY(%s)", (list(ids.values()),))


def hook(receiver, path, name, **extra):
    out = {"WebhookId": 0, "Name": name, "Events": ["contact.created"], "TargetUrl": receiver.url(path)}
    out.update(extra)
    return out


def row(stack, hook_id):
    return stack.sql("SELECT to_jsonb(w) FROM webhook w WHERE webhook_id = %s", (hook_id,))


def not_found_rest(hook_id):
    return error_body("NotFound", "Webhook %d does not exist." % hook_id, "webhookd/webhook")


def not_found_save(hook_id):
    return error_body("NotFound", "Webhook %d does not exist: save it with WebhookId 0 to create it." % hook_id,
                      "webhookd/webhook")


def test_another_application_does_not_see_the_webhook(apps, receiver):
    a, b = apps["a"], apps["b"]
    secret = secrets.token_urlsafe(16)
    a.stack.secrets.add(secret)
    mine = a.save(hook(receiver, "/hooks/a", "a-private", Secret=secret))["WebhookId"]
    theirs = b.save(hook(receiver, "/hooks/b", "b-own"))["WebhookId"]

    r = b.agent("GetWebhook", {"WebhookId": mine})
    assert (r.status, r.headers["content-type"], r.body) == (200, JSON_CT, b"null")
    r = b.rest("GET", "%s/%d" % (REST, mine))
    assert (r.status, r.body) == (404, not_found_rest(mine))
    assert "last-modified" not in r.headers
    r = b.agent("GetLastError", {"WebhookId": mine})
    assert (r.status, r.body) == (200, b"null")
    r = b.rest("GET", "%s/%d/LastError" % (REST, mine))
    assert (r.status, r.body) == (404, not_found_rest(mine))

    # Lists hold B's own only, whatever the filters name.
    assert b.all_ids() == [theirs]
    assert b.all_ids({"NameFilter": "a-private"}) == []
    assert b.all_ids({"EventFilter": "contact.created"}) == [theirs]
    assert b.all_ids({"StatusFilter": "Active"}) == [theirs]
    r = b.rest("GET", REST)
    assert r.status == 200 and [h["WebhookId"] for h in r.json()] == [theirs], r
    r = b.rest("GET", REST + "?NameFilter=a-private")
    assert (r.status, r.body) == (200, b"[]")
    # The test events went where their owners said, each signed with its own secret or none.
    assert len(receiver.requests("/hooks/a")) == 1 and len(receiver.requests("/hooks/b")) == 1


def test_another_application_cannot_change_or_delete_the_webhook(apps, receiver):
    a, b, stack = apps["a"], apps["b"], apps["a"].stack
    mine = a.save(hook(receiver, "/hooks/a", "a-private"))["WebhookId"]
    before = row(stack, mine)
    receiver.clear()

    # A save over A's id with a new TargetUrl: no such webhook for B, and its target is not asked
    # (an application must not learn of, nor probe through, another one's webhook).
    changed = hook(receiver, "/hooks/b-probe", "b-was-here", WebhookId=mine)
    r = b.agent("SaveWebhook", changed)
    assert (r.status, r.headers["content-type"], r.body) == (404, JSON_CT, not_found_save(mine))
    r = b.rest("PUT", "%s/%d" % (REST, mine), changed)
    assert (r.status, r.body) == (404, not_found_rest(mine))
    r = b.rest("PUT", "%s/%d" % (REST, mine), dict(changed, TargetUrl=receiver.url("/hooks/a")))
    assert (r.status, r.body) == (404, not_found_rest(mine))
    r = b.rest("PATCH", "%s/%d" % (REST, mine), {"Name": "b-was-here"}, "application/merge-patch+json")
    assert (r.status, r.body) == (404, not_found_rest(mine))
    r = b.rest("PATCH", "%s/%d" % (REST, mine), [{"op": "replace", "path": "/Name", "value": "b-was-here"}],
               "application/json-patch+json")
    assert (r.status, r.body) == (404, not_found_rest(mine))
    r = b.rest("DELETE", "%s/%d" % (REST, mine))
    assert (r.status, r.body) == (404, not_found_rest(mine))
    # The agent's delete is idempotent: 204 as for a missing webhook, and nothing is deleted.
    r = b.agent("DeleteWebhook", {"WebhookId": mine})
    assert (r.status, r.body) == (204, b"")
    assert receiver.requests() == []
    assert row(stack, mine) == before
    # A still has it, unchanged.
    r = a.agent("GetWebhook", {"WebhookId": mine})
    assert (r.status, r.json()["Name"]) == (200, "a-private")


def test_the_owner_sees_and_changes_its_own(apps, receiver):
    a, stack = apps["a"], apps["a"].stack
    saved = a.save(hook(receiver, "/hooks/a", "a-own"))
    mine = saved["WebhookId"]
    r = a.agent("GetWebhook", {"WebhookId": mine})
    assert (r.status, r.json()) == (200, saved)
    r = a.rest("GET", "%s/%d" % (REST, mine))
    assert (r.status, r.json()) == (200, saved)
    assert a.all_ids() == [mine]
    r = a.agent("GetLastError", {"WebhookId": mine})
    assert (r.status, r.body) == (200, b'""')  # nothing has failed yet
    r = a.rest("PUT", "%s/%d" % (REST, mine), dict(saved, Name="a-put"))
    assert (r.status, r.json()["Name"]) == (200, "a-put"), r
    r = a.rest("PATCH", "%s/%d" % (REST, mine), {"Name": "a-patched"}, "application/merge-patch+json")
    assert (r.status, r.json()["Name"]) == (200, "a-patched"), r
    r = a.agent("SaveWebhook", dict(saved, Name="a-saved", TargetUrl=receiver.url("/hooks/a2")))
    assert (r.status, r.json()["Name"]) == (200, "a-saved"), r
    assert len(receiver.requests("/hooks/a2")) == 1
    assert stack.sql("SELECT application_id FROM webhook WHERE webhook_id = %s", (mine,)) == [(apps["ids"]["a"],)]
    r = a.agent("DeleteWebhook", {"WebhookId": mine})
    assert (r.status, r.body) == (204, b"")
    assert row(stack, mine) == []


def test_a_caller_without_app_token_sees_and_manages_all(apps, receiver):
    a, b, none, stack, ids = apps["a"], apps["b"], apps["none"], apps["a"].stack, apps["ids"]
    of_a = a.save(hook(receiver, "/hooks/a", "of-a"))["WebhookId"]
    of_b = b.save(hook(receiver, "/hooks/b", "of-b"))["WebhookId"]
    own = none.save(hook(receiver, "/hooks/none", "of-nobody"))["WebhookId"]
    # The column records the owner: the application, or NULL for the installation's own callers.
    assert stack.sql("SELECT webhook_id, application_id FROM webhook ORDER BY webhook_id") == [
        (of_a, ids["a"]), (of_b, ids["b"]), (own, None)]

    assert none.all_ids() == [of_a, of_b, own]
    r = none.rest("GET", REST)
    assert [h["WebhookId"] for h in r.json()] == [of_a, of_b, own]
    r = none.agent("GetWebhook", {"WebhookId": of_a})
    assert (r.status, r.json()["Name"]) == (200, "of-a")
    r = none.rest("GET", "%s/%d" % (REST, of_b))
    assert (r.status, r.json()["Name"]) == (200, "of-b")
    # Applications do not see the tokenless caller's webhook either.
    assert a.all_ids() == [of_a] and b.all_ids() == [of_b]
    r = a.agent("GetWebhook", {"WebhookId": own})
    assert (r.status, r.body) == (200, b"null")

    # Changing A's webhook leaves it A's: A sees the change, B still does not see it.
    r = none.rest("PATCH", "%s/%d" % (REST, of_a), {"Name": "renamed-by-admin"}, "application/merge-patch+json")
    assert (r.status, r.json()["Name"]) == (200, "renamed-by-admin"), r
    r = none.agent("SaveWebhook", hook(receiver, "/hooks/a", "saved-by-admin", WebhookId=of_a))
    assert (r.status, r.json()["Name"]) == (200, "saved-by-admin"), r
    assert stack.sql("SELECT name, application_id FROM webhook WHERE webhook_id = %s", (of_a,)) == [
        ("saved-by-admin", ids["a"])]
    r = a.agent("GetWebhook", {"WebhookId": of_a})
    assert (r.status, r.json()["Name"]) == (200, "saved-by-admin")

    r = none.rest("DELETE", "%s/%d" % (REST, of_b))
    assert (r.status, r.body) == (204, b"")
    r = none.agent("DeleteWebhook", {"WebhookId": of_a})
    assert (r.status, r.body) == (204, b"")
    assert stack.sql("SELECT webhook_id FROM webhook") == [(own,)]


def test_the_demo_associate_manages_webhooks(associates, webhooks, receiver):
    """deploy/dev/up seeds an associate named demo: it can use the Webhook agent like anybody."""
    stack = webhooks
    password = secrets.token_urlsafe(18)
    stack.secrets.add(password)
    stack.seed("demo", password)
    demo_id = stack.sql("SELECT associate_id FROM associate WHERE name = 'demo'")[0][0]
    demo = Caller(stack, user="demo", password=password)

    saved = demo.save(hook(receiver, "/hooks/demo", "demo's"))
    assert saved["RegisteredAssociate"]["AssociateId"] == demo_id
    assert saved["RegisteredAssociate"]["Name"] == "demo"
    assert saved["UpdatedAssociate"]["AssociateId"] == demo_id
    [req] = receiver.requests("/hooks/demo")
    assert json.loads(req.body)["ChangedByAssociateId"] == demo_id

    r = demo.agent("GetWebhook", {"WebhookId": saved["WebhookId"]})
    assert (r.status, r.json()) == (200, saved)
    assert demo.all_ids() == [saved["WebhookId"]]
    r = demo.rest("PATCH", "%s/%d" % (REST, saved["WebhookId"]), {"Name": "demo renamed"},
                  "application/merge-patch+json")
    assert (r.status, r.json()["Name"]) == (200, "demo renamed"), r
    r = demo.agent("DeleteWebhook", {"WebhookId": saved["WebhookId"]})
    assert (r.status, r.body) == (204, b"")
    assert stack.sql("SELECT count(*) FROM webhook")[0][0] == 0
