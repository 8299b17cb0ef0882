"""Concurrent writers of webhooks: every save is whole (a row is never a mix of two saves), every
write is counted, read-modify-write patches lose no update, creates never share an id, and a
conditional write that raced another one and lost is refused with 412.
"""
import datetime
import email.utils
import json
import secrets
import threading

import pytest

from e2e_support import JSON_CT, basic, error_body, private_stack

SAVE = "/api/v1/Agents/Webhook/SaveWebhook"
REST = "/api/v1/Webhook"
N = 16  # twice the stack's workers, so that requests also queue for a worker


def save(stack, hook):
    return stack.post(SAVE, headers={"Content-Type": "application/json"}, body=json.dumps(hook).encode())


def rest(stack, method, path, body=None, content_type="application/json", headers=None):
    h = {"Authorization": basic(stack.user, stack.password)}
    if body is not None:
        h["Content-Type"] = content_type
        body = json.dumps(body).encode()
    h.update(headers or {})
    return stack.request(method, path, headers=h, body=body)


def at_once(n, work):
    """Runs work(i) for i in range(n) in n threads released together; returns the results (or the
    exceptions) in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        try:
            barrier.wait(10)
            results[i] = work(i)
        except Exception as e:  # noqa: BLE001 - the assertions report it
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def stored(stack, hook_id):
    return stack.sql("SELECT name, events, secret, state, headers::text, properties::text, target_url, "
                     "updated_count FROM webhook WHERE webhook_id = %s", (hook_id,))[0]


def test_concurrent_replaces_leave_one_whole_save(webhooks, receiver):
    stack = webhooks
    url = receiver.url("/hooks/race")
    created = save(stack, {"Name": "original", "Events": ["contact.created"], "TargetUrl": url})
    assert created.status == 200, created
    hook_id = created.json()["WebhookId"]
    # Writer i changes every column to values of its own, so a mix of two writers shows.
    writers = []
    for i in range(N):
        writers.append({
            "WebhookId": hook_id, "Name": "writer-%02d" % i, "Events": ["race.%02d.a" % i, "race.%02d.b" % i],
            "TargetUrl": url, "Secret": secrets.token_urlsafe(16), "State": "Stopped" if i % 2 else "Active",
            "Headers": {"X-Writer": str(i)}, "Properties": {"writer": i, "tag": "w%02d" % i},
        })
    stack.secrets.update(w["Secret"] for w in writers)

    results = at_once(N, lambda i: save(stack, writers[i]))
    for i, r in enumerate(results):
        assert not isinstance(r, Exception) and r.status == 200, (i, r)
        assert r.json()["Name"] == "writer-%02d" % i  # each got its own save back

    name, events, secret, state, headers, properties, target_url, count = stored(stack, hook_id)
    assert name.startswith("writer-"), name
    winner = int(name[len("writer-"):])
    w = writers[winner]
    assert (events, secret, state, json.loads(headers), json.loads(properties), target_url) == (
        w["Events"], w["Secret"], 2 if winner % 2 else 1, w["Headers"], w["Properties"], url)
    # Every write counted: the row's version moved once per save.
    assert count == N
    # The last save to commit is the row: what it answered is exactly what a read gives now.
    r = stack.post("/api/v1/Agents/Webhook/GetWebhook", headers={"Content-Type": "application/json"},
                   body=json.dumps({"WebhookId": hook_id}).encode())
    assert (r.status, r.body) == (200, results[winner].body)
    # Replaces kept the TargetUrl: only the create's test event reached the target.
    assert len(receiver.requests("/hooks/race")) == 1


def test_concurrent_json_patches_lose_no_update(webhooks, receiver):
    stack = webhooks
    url = receiver.url("/hooks/patch-race")
    created = save(stack, {"Name": "patched", "Events": ["base"], "TargetUrl": url})
    assert created.status == 200, created
    hook_id = created.json()["WebhookId"]
    path = "%s/%d" % (REST, hook_id)

    def patch(i):
        return rest(stack, "PATCH", path, [{"op": "add", "path": "/Events/-", "value": "added.%02d" % i}],
                    "application/json-patch+json")

    results = at_once(N, patch)
    assert not [r for r in results if isinstance(r, Exception)], results
    succeeded = [i for i, r in enumerate(results) if r.status == 200]
    for i in succeeded:
        assert "added.%02d" % i in results[i].json()["Events"]
    name, events, _, _, _, _, _, count = stored(stack, hook_id)
    # No lost update: every patch that answered 200 is in the row, each once, and nothing else.
    assert events[0] == "base" and name == "patched"
    assert sorted(events[1:]) == ["added.%02d" % i for i in succeeded], events
    assert count == len(succeeded)  # one write per patch: the retries over fresh reads wrote nothing extra
    # And no patch gave up: each retries over a fresh read until its write lands. A 409 here is
    # the daemon giving up after a fixed number of lost races while others kept winning.
    refused = [(i, results[i].status, results[i].body) for i in range(N) if i not in succeeded]
    assert refused == [], "%d of %d concurrent patches failed: %r" % (len(refused), N, refused[:3])


@pytest.fixture(scope="module")
def many_slots():
    """A stack with a target check slot for every concurrent create (the default 2 would answer most
    of them 503, which test_webhook_target covers)."""
    with private_stack("webhookd-concurrency-", "cora", {"WEBHOOKD_TARGET_CHECK_CONCURRENCY": str(N)}) as s:
        yield s


def test_concurrent_creates_get_distinct_ids(many_slots, receiver):
    stack = many_slots

    def create(i):
        hook = {"Name": "new-%02d" % i, "Events": ["contact.created"], "TargetUrl": receiver.url("/hooks/new/%d" % i)}
        if i % 2:
            return rest(stack, "POST", REST, hook)
        return save(stack, hook)

    results = at_once(N, create)
    ids = []
    for i, r in enumerate(results):
        assert not isinstance(r, Exception) and r.status == (201 if i % 2 else 200), (i, r)
        body = r.json()
        assert body["Name"] == "new-%02d" % i
        if i % 2:
            assert r.headers["location"] == "/api/v1/Webhook/%d" % body["WebhookId"]
        ids.append(body["WebhookId"])
    assert len(set(ids)) == N, ids
    assert sorted(stack.sql("SELECT webhook_id, name FROM webhook")) == sorted(
        (ids[i], "new-%02d" % i) for i in range(N))
    for i in range(N):
        assert len(receiver.requests("/hooks/new/%d" % i)) == 1


def http_date(dt):
    return email.utils.format_datetime(dt.astimezone(datetime.timezone.utc), usegmt=True)


def test_a_conditional_put_that_lost_the_race_is_412(webhooks, receiver):
    stack = webhooks
    url = receiver.url("/hooks/conditional")
    created = save(stack, {"Name": "start", "Events": ["contact.created"], "TargetUrl": url})
    assert created.status == 200, created
    hook_id = created.json()["WebhookId"]
    path = "%s/%d" % (REST, hook_id)

    read = rest(stack, "GET", path)
    assert read.status == 200, read
    seen = email.utils.parsedate_to_datetime(read.headers["last-modified"])

    # Another writer lands first.
    other = rest(stack, "PUT", path, {"Name": "other", "Events": ["contact.changed"], "TargetUrl": url})
    assert (other.status, other.json()["Name"]) == (200, "other"), other
    updated = stack.sql("SELECT updated FROM webhook WHERE webhook_id = %s", (hook_id,))[0][0]
    # The date of the read, or a second before the other write when both fell in one second
    # (HTTP dates have whole seconds): either way a time before the other write.
    since = min(seen, updated.replace(microsecond=0) - datetime.timedelta(seconds=1))

    mine = {"Name": "mine", "Events": ["contact.deleted"], "TargetUrl": url}
    precondition = error_body("PreconditionFailed", "Webhook %d has changed since the time If-Unmodified-Since "
                              "names." % hook_id, "webhookd/webhook")
    r = rest(stack, "PUT", path, mine, headers={"If-Unmodified-Since": http_date(since)})
    assert (r.status, r.headers["content-type"], r.body) == (412, JSON_CT, precondition)
    r = rest(stack, "PATCH", path, {"Name": "mine"}, "application/merge-patch+json",
             headers={"If-Unmodified-Since": http_date(since)})
    assert (r.status, r.body) == (412, precondition)
    assert stored(stack, hook_id)[:2] == ("other", ["contact.changed"])
    assert stored(stack, hook_id)[7] == 1  # the other write only

    # With the date of the other write the same PUT goes through.
    r = rest(stack, "PUT", path, mine, headers={"If-Unmodified-Since": other.headers["last-modified"]})
    assert (r.status, r.json()["Name"]) == (200, "mine"), r
