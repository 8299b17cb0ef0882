"""SignalEvent's inbox and the delivery daemons' wake-up (migrations/0012_signal_inbox.sql).

What is proven:
  1. A signal is one row of webhook_signal until a daemon fans it out: one delivery per Active
     webhook subscribed to it then, none for Stopped or unsubscribed ones, with the signal's time.
  2. The fan-out keeps signal order (delivery ids follow it), moves at most what it is asked, and
     one daemon fans out at a time.
  3. SignalEvent sends a NOTIFY only when a daemon says it waits (webhook_delivery_waiter), after
     its commit; sessions that are gone leave the waiters on the next change.
  4. With a real daemon: it says it waits when it has nothing to do, each of a series of events
     one at a time is delivered without waiting for the daemon's idle timer, a burst from
     several clients arrives once each, and an event comes through at once while another
     waits for a slow target.

A module stack without its delivery daemon serves 1 to 3 (the fan-out is called as a daemon calls
it); 4 starts one of its own.
"""
import json
import select
import threading
import time

import psycopg2
import pytest

from e2e_support import private_stack
from test_delivery import (  # noqa: F401 - arrival_times, rx_server and rx are fixtures
    arrival_times, rx, rx_server, save_hook, signal, stop_stack_deliverd, unique, until, wait_deliveries)
from test_delivery_faults import FAULTS, Deliverd

# The daemon looks at the queue by itself every 5 s (ENGINE_IDLE_MS): an event that arrives well
# before that was announced, not found by the timer. Not a speed test: the bound is 2,000 times
# what a wake-up takes on this machine.
WOKEN_WITHIN_S = 2.5
# Slower than that, within the delivery timeout of FAULTS (3 s).
SLOW_ANSWER_S = 2.8


@pytest.fixture(scope="module")
def inbox():
    with private_stack("webhookd-signal-inbox-", "ivy", FAULTS) as s:
        stop_stack_deliverd(s)
        until(lambda: s.sql("SELECT count(*) FROM webhook_delivery_waiter WHERE pid <> pg_backend_pid() AND pid IN "
                            "(SELECT pid FROM pg_stat_activity)")[0][0] == 0, what="the daemon's session to end")
        yield s


@pytest.fixture
def quiet(inbox):
    """Each test starts with an empty inbox and queue and no waiter."""
    inbox.sql("TRUNCATE webhook_signal, webhook_delivery, webhook_delivery_waiter")
    return inbox


def listener(stack):
    conn = psycopg2.connect(stack.dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("LISTEN webhookd_delivery")
    return conn


def announced(stack, conn):
    """The payloads on webhookd_delivery up to a marker sent now: everything committed before it
    has arrived by then (notifications come in commit order)."""
    marker = unique("marker-")
    stack.sql("SELECT pg_notify('webhookd_delivery', %s)", (marker,))
    got = []
    deadline = time.monotonic() + 10
    while marker not in got:
        assert time.monotonic() < deadline, "the marker did not arrive: %s" % got
        select.select([conn], [], [], 1)
        conn.poll()
        while conn.notifies:
            got.append(conn.notifies.pop(0).payload)
    return got[:got.index(marker)]


def test_a_signal_waits_in_the_inbox_until_it_is_fanned_out(quiet, rx):
    stack = quiet
    event = unique("inbox.") + ".created"
    a = save_hook(stack, rx.url(unique("/inbox-a-")), [event])["WebhookId"]
    b = save_hook(stack, rx.url(unique("/inbox-b-")), [event, "other.event"])["WebhookId"]
    stopped = save_hook(stack, rx.url(unique("/inbox-stopped-")), [event], State="Stopped")["WebhookId"]
    save_hook(stack, rx.url(unique("/inbox-other-")), ["other.event"])
    signal(stack, event, 7, {"name": "Acme", "n": 2})
    [(topic, ev, pk, data, at)] = stack.sql("SELECT topic, event, primary_key, data::text, signalled_at "
                                            "FROM webhook_signal")
    assert (topic, ev, pk, json.loads(data)) == (None, event, 7, {"name": "Acme", "n": 2})
    assert stack.sql("SELECT count(*) FROM webhook_delivery") == [(0,)]
    assert stack.sql("SELECT webhook_signal_fan_out(10)") == [(1,)]
    assert stack.sql("SELECT count(*) FROM webhook_signal") == [(0,)]
    assert stack.sql("SELECT webhook_id, event, primary_key, data::text, signalled_at, attempt FROM webhook_delivery "
                     "ORDER BY webhook_id") == [(a, event, 7, data, at, 0), (b, event, 7, data, at, 0)]
    assert stopped not in [r[0] for r in stack.sql("SELECT webhook_id FROM webhook_delivery")]
    assert stack.sql("SELECT webhook_signal_fan_out(10)") == [(0,)]


def test_a_signal_nobody_subscribes_to_queues_nothing(quiet):
    stack = quiet
    signal(stack, unique("nobody.") + ".listens", 1, {"a": 1})
    assert stack.sql("SELECT count(*) FROM webhook_signal") == [(1,)]
    assert stack.sql("SELECT webhook_signal_fan_out(10)") == [(1,)]
    assert stack.sql("SELECT (SELECT count(*) FROM webhook_signal), (SELECT count(*) FROM webhook_delivery)") == [
        (0, 0)]


def test_the_fan_out_keeps_signal_order_and_its_limit(quiet, rx):
    stack = quiet
    event = unique("order.") + ".changed"
    hooks = sorted(save_hook(stack, rx.url(unique("/inbox-order-")), [event])["WebhookId"] for _ in range(2))
    for pk in range(1, 6):
        signal(stack, event, pk)
    assert [stack.sql("SELECT webhook_signal_fan_out(2)")[0][0] for _ in range(4)] == [2, 2, 1, 0]
    rows = stack.sql("SELECT primary_key, webhook_id FROM webhook_delivery ORDER BY delivery_id")
    assert rows == [(pk, h) for pk in range(1, 6) for h in hooks]


def test_the_fan_out_drops_signals_that_break_the_queues_rules(quiet, rx):
    """Rows only a writer skipping the checks could make: dropped with a WARNING, never blocking
    the signals behind them."""
    stack = quiet
    event = unique("rules.") + ".created"
    hook = save_hook(stack, rx.url(unique("/inbox-rules-")), [event])["WebhookId"]
    stack.sql("INSERT INTO webhook_signal (event, primary_key, data) VALUES (%s, 1, '[1]'), (%s, 2, '{\"ok\": 1}'), "
              "('bad event', 3, NULL)", (event, event))
    conn = psycopg2.connect(stack.dsn())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT webhook_signal_fan_out(10)")
            assert cur.fetchone() == (3,)
        conn.commit()
        assert any("dropped 2 signals that break the queue's rules" in n for n in conn.notices), conn.notices
    finally:
        conn.close()
    assert stack.sql("SELECT webhook_id, primary_key, data::text FROM webhook_delivery") == [(hook, 2, '{"ok": 1}')]
    assert stack.sql("SELECT count(*) FROM webhook_signal") == [(0,)]


def test_one_daemon_fans_out_at_a_time(quiet, rx):
    stack = quiet
    event = unique("lock.") + ".created"
    save_hook(stack, rx.url(unique("/inbox-lock-")), [event])
    signal(stack, event, 1)
    signal(stack, event, 2)
    first = psycopg2.connect(stack.dsn())
    try:
        with first.cursor() as cur:
            cur.execute("SELECT webhook_signal_fan_out(1)")
            assert cur.fetchone() == (1,)
            # The first holds the fan-out until it commits: the second leaves it.
            assert stack.sql("SELECT webhook_signal_fan_out(10)") == [(-1,)]
        first.commit()
    finally:
        first.close()
    assert stack.sql("SELECT webhook_signal_fan_out(10)") == [(1,)]
    assert stack.sql("SELECT primary_key FROM webhook_delivery ORDER BY delivery_id") == [(1,), (2,)]


def test_a_signal_wakes_only_a_waiting_daemon(quiet, rx):
    stack = quiet
    event = unique("wake.") + ".created"
    save_hook(stack, rx.url(unique("/inbox-wake-")), [event])
    conn = listener(stack)
    try:
        # Nobody waits: no NOTIFY at all.
        signal(stack, event, 1)
        assert announced(stack, conn) == []
        # This session says it waits, as a daemon does: the next signal is announced, once.
        with conn.cursor() as cur:
            cur.execute("SELECT webhook_delivery_wait(true)")
        assert stack.sql("SELECT pid = %s FROM webhook_delivery_waiter", (conn.get_backend_pid(),)) == [(True,)]
        signal(stack, event, 2)
        assert announced(stack, conn) == [""]
        # Busy again: silence.
        with conn.cursor() as cur:
            cur.execute("SELECT webhook_delivery_wait(false)")
        signal(stack, event, 3)
        assert announced(stack, conn) == []
        assert stack.sql("SELECT count(*) FROM webhook_signal") == [(3,)]
    finally:
        conn.close()


def test_a_daemon_cannot_say_it_waits_while_a_signal_is_being_made(quiet):
    """The lock that makes the wake-up safe: a daemon's row never appears between a signal's
    look for waiters and its commit; the daemon looks again instead."""
    stack = quiet
    signaller = psycopg2.connect(stack.dsn())
    try:
        with signaller.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock_shared(hashtext('webhook_delivery_waiter'))")
            assert stack.sql("SELECT webhook_delivery_wait(true)") == [(False,)]
            assert stack.sql("SELECT count(*) FROM webhook_delivery_waiter") == [(0,)]
        signaller.commit()
    finally:
        signaller.close()
    assert stack.sql("SELECT webhook_delivery_wait(true)") == [(True,)]
    assert stack.sql("SELECT count(*) FROM webhook_delivery_waiter") == [(1,)]


def test_sessions_that_are_gone_leave_the_waiters(quiet):
    stack = quiet
    gone = psycopg2.connect(stack.dsn())
    with gone.cursor() as cur:
        cur.execute("SELECT webhook_delivery_wait(true)")
    gone.commit()
    gone_pid = gone.get_backend_pid()
    gone.close()
    until(lambda: stack.sql("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (gone_pid,))[0][0] == 0,
          what="the session to end")
    assert stack.sql("SELECT pid FROM webhook_delivery_waiter") == [(gone_pid,)]
    conn = psycopg2.connect(stack.dsn())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT webhook_delivery_wait(true)")
        conn.commit()
        assert stack.sql("SELECT pid FROM webhook_delivery_waiter") == [(conn.get_backend_pid(),)]
    finally:
        conn.close()


def test_a_daemon_waits_when_idle_and_is_woken_for_each_event(quiet, rx):
    stack = quiet
    event = unique("live.") + ".created"
    path = unique("/inbox-live-")
    save_hook(stack, rx.url(path), [event])
    daemon = Deliverd(stack).start()
    try:
        waiting = "SELECT count(*) FROM webhook_delivery_waiter WHERE pid IN (SELECT pid FROM pg_stat_activity)"
        until(lambda: stack.sql(waiting)[0][0] == 1, what="the idle daemon to say it waits")
        for pk in range(1, 11):
            signalled = time.monotonic()
            signal(stack, event, pk)
            wait_deliveries(rx, path, pk, timeout=WOKEN_WITHIN_S)
            assert time.monotonic() - signalled < WOKEN_WITHIN_S, "event %d waited for the idle timer" % pk
        # A burst from several clients while the daemon is busy: each event once.
        threads = [threading.Thread(target=lambda first=first: [signal(stack, event, pk)
                                                                for pk in range(first, first + 25)])
                   for first in (100, 200, 300, 400)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got = wait_deliveries(rx, path, 10 + 100)
        expected = list(range(1, 11)) + [pk for first in (100, 200, 300, 400) for pk in range(first, first + 25)]
        assert sorted(json.loads(r.body)["PrimaryKey"] for r in got) == expected
        until(lambda: stack.sql(waiting)[0][0] == 1, what="the daemon to wait again")
        assert stack.sql("SELECT count(*) FROM webhook_signal") == [(0,)]
    finally:
        daemon.stop()


def test_a_daemon_busy_with_a_slow_target_still_takes_new_events_at_once(quiet, rx):
    """A busy daemon is sent no NOTIFY: it looks again by itself a moment after a claim that
    brought deliveries, finds nothing more, and says it waits, while the slow attempt goes on."""
    stack = quiet
    slow_event, fast_event = unique("slow.") + ".created", unique("fast.") + ".created"
    slow_path, fast_path = unique("/inbox-slow-"), unique("/inbox-fast-")
    save_hook(stack, rx.url(slow_path), [slow_event])
    save_hook(stack, rx.url(fast_path), [fast_event])
    rx.respond(slow_path, delay=SLOW_ANSWER_S)
    daemon = Deliverd(stack).start()
    try:
        signal(stack, slow_event, 1)
        wait_deliveries(rx, slow_path, 1)  # the slow attempt is in flight from here on
        signalled = time.monotonic()
        signal(stack, fast_event, 2)
        wait_deliveries(rx, fast_path, 1, timeout=WOKEN_WITHIN_S)
        assert time.monotonic() - signalled < WOKEN_WITHIN_S, "the fast event waited for the slow one"
        assert stack.sql("SELECT count(*) FROM webhook_attempt WHERE event = %s", (slow_event,)) == [(0,)]
    finally:
        daemon.stop()
