"""webhook_delivery_record_batch (migrations/0011_delivery_batch.sql): the attempts one turn of a
delivery daemon's loop finished, recorded in one statement with the meaning one call per attempt
had (test_delivery.py shows that meaning through the daemon).

The function is called here directly, on deliveries leased to an owner no daemon has, so the
session stack's own delivery daemon never touches them and every outcome is the test's choice:
  1. mixed outcomes in one batch: done, retry, new cycle, given up; the counters per webhook follow
     the order the attempts finished (a run of failures that reaches the limit turns the webhook
     TooManyErrors even when a success follows in the same batch); 410 at once; a lease another
     daemon holds now keeps its delivery's next step to that daemon; an attempt whose delivery is
     gone is dropped;
  2. a batch over two webhooks while one of them is deleted, both ways round: neither side
     deadlocks, and what remains is recorded.
"""
import threading
import time
import uuid

import psycopg2
import pytest

OWNER = "e2e-batch/1/00000000"
MAX = 3

# Element order of webhook_delivery_record_batch's arrays after (owner, max consecutive).
RECORD = ("SELECT webhook_delivery_record_batch(%s, %s, %s::integer[], %s::bigint[], %s::integer[], %s::text[], "
          "%s::integer[], %s::text[], %s::boolean[], %s::boolean[], %s::integer[], %s::integer[])")
DONE, RETRY, NEXT_CYCLE, GIVE_UP = 0, 1, 2, 3


def outcome(hook, delivery, status=200, error=None, failed=False, gone=False, action=DONE, delay_ms=0,
            response=None):
    if response is None:
        response = "HTTP/1.1 %d X\r\n\r\n" % status if status else error
    return (hook, delivery, status or None, error, 7, response, failed, gone, action, delay_ms)


def record(db, outcomes, owner=OWNER):
    """One batch; returns how many attempts it recorded."""
    columns = [list(c) for c in zip(*outcomes)]
    with db.cursor() as cur:
        cur.execute(RECORD, [owner, MAX] + columns)
        return cur.fetchone()[0]


def new_hook(stack, name):
    return stack.sql("INSERT INTO webhook (name, events, target_url, state, type) "
                     "VALUES (%s, ARRAY['batch.test'], 'http://127.0.0.1:9/batch', 1, 'webhook') "
                     "RETURNING webhook_id", (name + uuid.uuid4().hex[:6],))[0][0]


def leased(stack, hook, pk, owner=OWNER, cycle=1, attempt=0):
    """A queued delivery, leased for an hour to owner (no daemon of the stack claims it)."""
    return stack.sql("INSERT INTO webhook_delivery (webhook_id, event, primary_key, cycle, attempt, leased_until, "
                     "leased_by) VALUES (%s, 'batch.test', %s, %s, %s, now() + interval '1 hour', %s) "
                     "RETURNING delivery_id", (hook, pk, cycle, attempt, owner))[0][0]


def usage(stack, hook):
    rows = stack.sql("SELECT total_calls, total_errors, consecutive_errors, last_error FROM webhook_usage "
                     "WHERE webhook_id = %s", (hook,))
    return rows[0] if rows else None


def state(stack, hook):
    return stack.sql("SELECT state FROM webhook WHERE webhook_id = %s", (hook,))[0][0]


@pytest.fixture
def db(webhooks):
    """An autocommit superuser connection of the test's own."""
    conn = psycopg2.connect(webhooks.dsn())
    conn.autocommit = True
    yield conn
    conn.close()


def test_a_batch_records_mixed_outcomes_in_the_order_they_finished(webhooks, db):
    stack = webhooks
    a, b, c = new_hook(stack, "a-"), new_hook(stack, "b-"), new_hook(stack, "c-")
    # b had 2 failures in a row before this batch: one more reaches MAX.
    stack.sql("INSERT INTO webhook_usage (webhook_id, total_calls, total_errors, consecutive_errors) "
              "VALUES (%s, 5, 2, 2)", (b,))
    a1, a2, a3, a4, a5 = (leased(stack, a, pk) for pk in (1, 2, 3, 4, 5))
    b1, b2 = leased(stack, b, 1), leased(stack, b, 2)
    c1 = leased(stack, c, 1)
    other = leased(stack, a, 6, owner="another-daemon/2/ffffffff")
    events = dict(stack.sql("SELECT delivery_id, event_id::text FROM webhook_delivery WHERE delivery_id IN %s",
                            ((a4, other),)))
    n = record(db, [
        outcome(a, a1, 500, failed=True, action=RETRY, delay_ms=60000, response="first failure"),
        outcome(b, b1, 500, failed=True, action=RETRY, delay_ms=60000, response="b reaches the limit"),
        outcome(a, a2, 200),
        outcome(a, a3, 502, failed=True, action=GIVE_UP, response="given up"),
        outcome(b, b2, 200),
        outcome(c, c1, 410, failed=True, gone=True, action=RETRY, delay_ms=60000, response="gone"),
        outcome(a, a4, 0, error="connection refused", failed=True, action=NEXT_CYCLE, delay_ms=60000),
        outcome(a, other, 200),
        outcome(a, 999999999, 200),  # no such delivery: dropped
        outcome(a, a5, 503, failed=True, action=RETRY, delay_ms=60000, response="last failure of a"),
    ])
    assert n == 9
    # a finished F (a1), S (a2), F F (a3, a4), S (other), F (a5): 6 calls, 4 errors, 1 in a row at
    # the end; never MAX in a row, so it stays Active.
    assert usage(stack, a) == (6, 4, 1, "last failure of a")
    assert state(stack, a) == 1
    # b reached MAX with its first attempt (2 + 1): TooManyErrors, though its second succeeded.
    assert usage(stack, b) == (7, 3, 0, "b reaches the limit")
    assert state(stack, b) == 3
    # c answered 410: TooManyErrors at once.
    assert usage(stack, c) == (1, 1, 1, "gone")
    assert state(stack, c) == 3
    # The attempts, numbered after what each delivery had made.
    assert stack.sql("SELECT delivery_id, cycle, attempt, status, error, latency_ms FROM webhook_attempt "
                     "WHERE webhook_id = ANY (%s) ORDER BY attempt_id", ([a, b, c],)) == [
        (a1, 1, 1, 500, None, 7), (b1, 1, 1, 500, None, 7), (a2, 1, 1, 200, None, 7), (a3, 1, 1, 502, None, 7),
        (b2, 1, 1, 200, None, 7), (c1, 1, 1, 410, None, 7), (a4, 1, 1, None, "connection refused", 7),
        (other, 1, 1, 200, None, 7), (a5, 1, 1, 503, None, 7)]
    # Done and given up moved into the log; the rest wait, unleased, with their summaries.
    assert stack.sql("SELECT delivery_id, delivered, attempts, last_status FROM webhook_message "
                     "WHERE webhook_id = ANY (%s) ORDER BY delivery_id", ([a, b, c],)) == sorted([
        (a2, True, 1, 200), (a3, False, 1, 502), (b2, True, 1, 200)])
    rows = {r[0]: r[1:] for r in stack.sql(
        "SELECT delivery_id, cycle, attempt, attempts, last_status, last_error, leased_by, event_id::text, "
        "due_at > now() + interval '50 seconds' FROM webhook_delivery WHERE webhook_id = ANY (%s)", ([a, b, c],))}
    assert set(rows) == {a1, a4, a5, b1, c1, other}
    assert rows[a1][:6] == (1, 1, 1, 500, None, None) and rows[a1][7]
    assert rows[b1][:6] == (1, 1, 1, 500, None, None) and rows[c1][:6] == (1, 1, 1, 410, None, None)
    # A new cycle: a new EventId, no attempt made in it yet.
    assert rows[a4][:6] == (2, 0, 1, None, "connection refused", None) and rows[a4][6] != events[a4]
    # Another daemon holds `other` now: the attempt and the summary are recorded, its next step is not.
    assert rows[other][:6] == (1, 0, 1, 200, None, "another-daemon/2/ffffffff")
    assert rows[other][6] == events[other] and not rows[other][7]


def test_a_batch_over_a_webhook_being_deleted_neither_deadlocks_nor_fails(webhooks, db):
    """The batch locks its webhooks first, in id order, then the deliveries, as a DELETE of a
    webhook does (the webhook, then what cascades): whichever starts first, the other waits."""
    stack = webhooks
    for delete_first in (False, True):
        a, b = sorted((new_hook(stack, "keep-"), new_hook(stack, "drop-")))
        da, db_ = leased(stack, a, 1), leased(stack, b, 1)
        batch = [outcome(b, db_, 200), outcome(a, da, 200)]
        deleter = psycopg2.connect(stack.dsn())
        recorder = psycopg2.connect(stack.dsn())
        try:
            first, second = (deleter, recorder) if delete_first else (recorder, deleter)
            with first.cursor() as cur:
                if delete_first:
                    cur.execute("DELETE FROM webhook WHERE webhook_id = %s", (b,))
                else:
                    cur.execute(RECORD, [OWNER, MAX] + [list(c) for c in zip(*batch)])
            result = {}

            def run_second():
                try:
                    with second.cursor() as cur:
                        if delete_first:
                            cur.execute(RECORD, [OWNER, MAX] + [list(c) for c in zip(*batch)])
                            result["recorded"] = cur.fetchone()[0]
                        else:
                            cur.execute("DELETE FROM webhook WHERE webhook_id = %s", (b,))
                    second.commit()
                except Exception as e:  # noqa: BLE001 - asserted below
                    result["error"] = e

            t = threading.Thread(target=run_second)
            t.start()
            deadline = time.monotonic() + 5
            while stack.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND pid = %s", (second.get_backend_pid(),))[0][0] == 0:
                assert time.monotonic() < deadline, "the second transaction never waited"
                time.sleep(0.02)
            first.commit()
            t.join(10)
            assert not t.is_alive() and "error" not in result, result
        finally:
            deleter.close()
            recorder.close()
        assert stack.sql("SELECT count(*) FROM webhook WHERE webhook_id = %s", (b,)) == [(0,)]
        # a's attempt is recorded either way; b's only when the batch came before the delete (it
        # went with the webhook then).
        assert stack.sql("SELECT count(*) FROM webhook_message WHERE delivery_id = %s", (da,)) == [(1,)]
        if delete_first:
            assert result["recorded"] == 1
        assert stack.sql("SELECT count(*) FROM webhook_attempt WHERE webhook_id = %s", (b,)) == [(0,)]
        assert "deadlock" not in (stack.dir / "log" / "postgresql.log").read_text(errors="replace")
