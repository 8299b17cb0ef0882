"""Caches that are never stale: in steady state a request reads nothing from PostgreSQL, and a
changed default, a revoked ticket, a changed password or a retired associate takes effect within
one second, through LISTEN/NOTIFY. Each test first proves the answer came from memory."""
import secrets
import threading
import time

import psycopg2
import pytest

from e2e_support import DEFAULT_BODY, basic, token_digest, webhook_body

WITHIN = 1.0  # seconds


def served_from_memory(stack, **post):
    """True when the request is answered while every table it could read is locked, without any
    of the daemon's connections waiting for one of those locks (watched, not timed: a loaded
    machine may be slow to answer, but a read would show as a wait)."""
    locker = psycopg2.connect(stack.dsn())
    watcher = psycopg2.connect(stack.dsn())
    watcher.autocommit = True
    result = {}
    waited = False
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE webhook_default, associate, credential, browser_session, application, language, "
                        "resource, culture, timezone IN ACCESS EXCLUSIVE MODE")
            t = threading.Thread(target=lambda: result.setdefault("r", stack.post(**post)))
            t.start()
            with watcher.cursor() as watch:
                while t.is_alive() and not waited:
                    watch.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'webhookd' "
                                  "AND wait_event_type = 'Lock'")
                    waited = watch.fetchone()[0] > 0
                    t.join(0.005)
    finally:
        locker.rollback()
        locker.close()
        watcher.close()
    t.join(10)
    return not waited and result["r"].status == 200


def until(predicate, within=WITHIN):
    """Polls predicate; returns the seconds it took to become true, failing past `within`."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < within, "not within %.1f s" % within
        time.sleep(0.01)
    return time.monotonic() - start


@pytest.fixture
def ticket(associates):
    stack = associates
    value = "7T:" + secrets.token_urlsafe(24)
    stack.secrets.add(value)
    alice = stack.sql("SELECT associate_id FROM associate WHERE name = %s", (stack.user,))[0][0]
    stack.sql("INSERT INTO credential (token_sha256, scheme, associate_id, expires_at) "
              "VALUES (%s, 'soticket', %s, now() + interval '1 hour')", (token_digest(value), alice))
    try:
        yield value
    finally:
        stack.sql("DELETE FROM credential WHERE token_sha256 = %s", (token_digest(value),))


def warm(stack, **post):
    for _ in range(20):
        assert stack.post(**post).status == 200


def test_steady_state_reads_no_table(stack, ticket):
    warm(stack)
    warm(stack, auth="SOTicket " + ticket)
    assert served_from_memory(stack)
    assert served_from_memory(stack, auth="SOTicket " + ticket)


def test_changed_default_within_a_second(defaults):
    warm(defaults)
    assert served_from_memory(defaults)
    defaults.sql("UPDATE webhook_default SET name = 'Fresh'")
    until(lambda: defaults.post().body == webhook_body(name="Fresh"))


def test_revoked_ticket_within_a_second(stack, ticket):
    auth = "SOTicket " + ticket
    warm(stack, auth=auth)
    assert served_from_memory(stack, auth=auth)
    stack.sql("UPDATE credential SET revoked_at = now() WHERE token_sha256 = %s", (token_digest(ticket),))
    until(lambda: stack.post(auth=auth).status == 401)
    assert stack.post(auth=auth).json()["ErrorMessage"] == "The ticket has been revoked."


def test_changed_password_within_a_second(associates):
    stack = associates
    warm(stack)
    assert served_from_memory(stack)
    new_password = secrets.token_urlsafe(16)
    stack.secrets.add(new_password)
    hashed = stack.sql("SELECT password_hash FROM associate WHERE name = 'alice'")[0][0]
    # Another valid hash: the same scheme over the new password, made by the daemon's own tool.
    stack.seed(stack.user, new_password)
    assert stack.sql("SELECT password_hash FROM associate WHERE name = 'alice'")[0][0] != hashed
    until(lambda: stack.post().status == 401)
    assert stack.post(auth=basic(stack.user, new_password)).status == 200


def test_retired_associate_within_a_second(associates, ticket):
    stack = associates
    auth = "SOTicket " + ticket
    warm(stack)
    warm(stack, auth=auth)
    stack.sql("UPDATE associate SET deleted = true WHERE name = 'alice'")
    until(lambda: stack.post().status == 401 and stack.post(auth=auth).status == 401)


def test_changes_while_the_feed_is_down_are_never_served_stale(defaults):
    warm(defaults)
    assert served_from_memory(defaults)
    # Cut the feed's connection: from then until it is back, nothing may be served from memory.
    killed = defaults.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                          "WHERE application_name = 'webhookd-changes'")[0][0]
    assert killed == 1
    defaults.sql("UPDATE webhook_default SET name = 'While the feed was down'")
    until(lambda: defaults.post().body == webhook_body(name="While the feed was down"))
    defaults.sql("UPDATE webhook_default SET name = NULL")
    until(lambda: defaults.post().body == DEFAULT_BODY)
    # The feed comes back by itself and caching resumes.
    until(lambda: served_from_memory(defaults), within=10)
