"""Delivery when daemons stop, die or run side by side: webhook-deliverd killed with deliveries in
flight (nothing lost once the leases run out), stopped with SIGTERM (the attempt in flight is
finished, or after shutdown_timeout_s handed back), two daemons on one queue (each event delivered
once), two webhookd behind one upstream with two delivery daemons (README, "Scaling out": every
event delivered once, every daemon taking part), no daemon at all (the events wait), the per-webhook in-flight cap, giving up after the last
cycle, and the metrics file.

The module's stack runs with a 3 s delivery timeout and 4 s leases, so that a receiver may take
2 s to answer; one retry after 100 ms, a new cycle after 1 s, at most 2 cycles. The stack's own
delivery daemon is replaced by one this module starts (as deploy/dev/stack does: setpriv to the
webhookd user, the stack's configuration, its log), so that the tests can signal it, wait for it
and read its exit status. Helpers come from test_delivery.py.
"""
import json
import os
import re
import signal
import subprocess
import threading
import time

import psycopg2
import pytest

from e2e_support import basic, fcgi_exchange, fcgi_request, pid_alive, private_stack
from test_scale_out import Cluster
from test_delivery import (  # noqa: F401 - arrival_times, rx_server and rx are fixtures
    arrival_times, attempts, deliverd_pid, deliveries, leaked_secrets, queued, rx, rx_server, save_hook,
    signal as signal_event, state, stop_stack_deliverd, unique, until, usage, wait_deliveries)

FAULTS = {
    "WEBHOOKD_DELIVERY_RETRY_DELAYS_MS": "100",
    "WEBHOOKD_DELIVERY_CYCLE_DELAY_S": "1",
    "WEBHOOKD_DELIVERY_MAX_CYCLES": "2",
    "WEBHOOKD_DELIVERY_LEASE_S": "4",
    "WEBHOOKD_DELIVERY_TIMEOUT_MS": "3000",
}
LEASE = 4.0
SLOW = 2.0  # a receiver this slow is still within the 3 s timeout


class Deliverd:
    """One webhook-deliverd process of the test's own, on the stack's configuration."""

    def __init__(self, stack, **settings):
        self.stack = stack
        self.env = dict(os.environ)
        self.env.update(FAULTS)
        self.env.update({"WEBHOOKD_" + k.upper(): str(v) for k, v in settings.items()})
        self.proc = None

    @property
    def log(self):
        return self.stack.dir / "log" / "deliverd.log"

    def start(self, timeout=15):
        with open(self.log, "ab") as out:
            # STACK_DAEMON_WRAPPER (valgrind) runs the daemon in the same process, as the stack does.
            self.proc = subprocess.Popen(
                ["setpriv", "--reuid=webhookd", "--regid=webhookd", "--init-groups", "--inh-caps=-all"]
                + os.environ.get("STACK_DAEMON_WRAPPER", "").split()
                + [str(self.stack.dir / "bin" / "webhook-deliverd"), "-c", str(self.stack.dir / "webhookd.conf")],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd="/")
        # setpriv execs the daemon: the child's pid is the daemon's, and its ready line names it.
        ready = re.compile(r"ready: .* as [^/\s]+/%d/" % self.proc.pid)
        deadline = time.monotonic() + timeout
        while not ready.search(self.log.read_text(errors="replace")):
            assert self.proc.poll() is None, "webhook-deliverd exited (%s):\n%s" % (self.proc.returncode, self.tail())
            assert time.monotonic() < deadline, "webhook-deliverd did not become ready:\n%s" % self.tail()
            time.sleep(0.05)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig):
        os.kill(self.proc.pid, sig)

    def wait(self, timeout=30):
        return self.proc.wait(timeout)

    def stop(self):
        if self.running():
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, n=2000):
        return self.log.read_text(errors="replace")[-n:]

    def lines_of_this_run(self):
        """This process's lines of the shared log (from its ready line on)."""
        text = self.log.read_text(errors="replace")
        start = re.search(r"ready: .* as [^/\s]+/%d/" % self.proc.pid, text)
        return text[start.start():] if start else ""


class Daemons:
    """The module's main daemon (written into deliverd.pid, so that the stack's stop finds it) and
    any extra ones a test starts; each test ends with only a running main daemon."""

    def __init__(self, stack):
        self.stack = stack
        self.main = None
        self.extra = []

    def start_main(self):
        self.main = Deliverd(self.stack).start()
        (self.stack.dir / "deliverd.pid").write_text("%d\n" % self.main.pid)
        return self.main

    def start_extra(self, **settings):
        d = Deliverd(self.stack, **settings)
        self.extra.append(d)
        return d.start()

    def settle(self):
        for d in self.extra:
            d.stop()
        self.extra = []
        if self.main is None or not self.main.running():
            self.start_main()

    def stop_all(self):
        for d in self.extra + [self.main]:
            if d is not None:
                d.stop()


@pytest.fixture(scope="module")
def fstack():
    with private_stack("webhookd-delivery-faults-", "fay", FAULTS) as s:
        # The stack's own delivery daemon makes way for the module's.
        stop_stack_deliverd(s)
        s.daemons = Daemons(s)
        s.daemons.start_main()
        try:
            yield s
        finally:
            s.daemons.stop_all()
        leaked = leaked_secrets(s)
        assert not leaked, "secrets reached the logs: %s" % leaked


@pytest.fixture
def faults(fstack, rx):
    """The module's stack with a running main daemon; afterwards no webhook (nor delivery) is left,
    extra daemons are stopped and the main one runs again."""
    fstack.daemons.settle()
    yield fstack
    fstack.sql("DELETE FROM webhook")
    fstack.daemons.settle()


def metrics(path):
    """The samples of a Prometheus text file: {name with labels: float}."""
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


# -- no daemon: the events wait -------------------------------------------------------------------

def test_events_wait_in_the_queue_while_no_daemon_runs(faults, rx):
    """SignalEvent only records the signal (migrations/0012): it answers 204 with no delivery
    daemon at all, the signals wait in the inbox, and the events go out once one starts."""
    stack = faults
    event = unique("contact.") + ".created"
    paths = [unique("/nodaemon-a-"), unique("/nodaemon-b-")]
    hooks = [save_hook(stack, rx.url(p), [event]) for p in paths]
    stack.daemons.main.stop()
    assert stack.daemons.main.proc.returncode == 0
    signal_event(stack, event, 1, {"n": 1})
    signal_event(stack, event, 2, {"n": 2})
    assert stack.sql("SELECT event, primary_key, data::text FROM webhook_signal ORDER BY signal_id") == [
        (event, 1, '{"n":1}'), (event, 2, '{"n":2}')]
    assert stack.sql("SELECT count(*) FROM webhook_delivery WHERE webhook_id = ANY (%s)",
                     ([h["WebhookId"] for h in hooks],)) == [(0,)]
    time.sleep(0.5)  # a bare sleep: nothing arrives while no daemon runs
    assert [deliveries(rx, p) for p in paths] == [[], []]
    stack.daemons.start_main()
    for p in paths:
        got = wait_deliveries(rx, p, 2)
        assert sorted(json.loads(r.body)["PrimaryKey"] for r in got) == [1, 2]
    until(lambda: stack.sql("SELECT count(*) FROM webhook_delivery")[0][0] == 0, what="the queue to empty")
    assert stack.sql("SELECT count(*) FROM webhook_signal") == [(0,)]


# -- SIGKILL: leases run out, nothing is lost ---------------------------------------------------------

def test_sigkill_with_deliveries_in_flight_loses_nothing(faults, rx):
    stack = faults
    event = unique("order.") + ".created"
    path = unique("/killed-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    rx.respond(path, delay=3 * SLOW)  # slower than the timeout: they are in flight when the daemon dies
    signalled = time.monotonic()
    for pk in range(1, 6):
        signal_event(stack, event, pk, {"n": pk})
    first = wait_deliveries(rx, path, 5)
    victim = stack.daemons.main
    victim.kill(signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    # Nothing was recorded: the five deliveries are still queued, leased to the dead daemon.
    assert attempts(stack, hook_id) == []
    assert stack.sql("SELECT count(*) FROM webhook_delivery WHERE webhook_id = %s AND leased_by IS NOT NULL "
                     "AND attempt = 0", (hook_id,)) == [(5,)]

    rx.respond(path, status=200)
    stack.daemons.start_main()
    got = wait_deliveries(rx, path, 10, timeout=30)
    until(lambda: queued(stack, hook_id) == 0, what="the queue to empty")
    again = got[5:]
    # Each event again, once, after its lease ran out, as the same event (same EventId, not a retry).
    assert sorted(r.body for r in first) == sorted(r.body for r in again)
    first_ids = {r.header("webhook-id") for r in first}
    assert len(first_ids) == 5 and {r.header("webhook-id") for r in again} == first_ids
    assert [r.header("X-SuperOffice-Retry") for r in again] == ["0"] * 5
    assert min(r.at for r in again) - signalled >= LEASE
    assert sorted(a[0] for a in attempts(stack, hook_id)) == [1, 2, 3, 4, 5]
    assert {a[1:] for a in attempts(stack, hook_id)} == {(1, 1, 200, None)}
    assert usage(stack, hook_id) == (5, 0, 0)
    assert len(deliveries(rx, path)) == 10


# -- two daemons, one queue ------------------------------------------------------------------------

def test_two_daemons_deliver_each_event_exactly_once(faults, rx):
    stack = faults
    event = unique("order.") + ".shipped"
    path = unique("/two-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    rx.respond(path, delay=0.02)
    # Two daemons of 4 slots each (the main one makes way), each with a metrics file of its own.
    stack.daemons.main.stop()
    prom = [stack.dir / "run" / ("deliverd-%s.prom" % n) for n in ("a", "b")]
    for p in prom:
        if p.exists():
            p.unlink()
    for p in prom:
        stack.daemons.start_extra(delivery_concurrency=4, delivery_metrics_file=p)

    # 200 events: 100 through SignalEvent, 100 from SQL in transactions of 20.
    for pk in range(1, 101):
        signal_event(stack, event, pk, {"n": pk})
    for batch in range(5):
        stack.transaction(("SELECT webhook_signal(%s, g, jsonb_build_object('n', g)) "
                           "FROM generate_series(%s, %s) g", (event, 101 + 20 * batch, 120 + 20 * batch)))
    wait_deliveries(rx, path, 200, timeout=60)
    until(lambda: queued(stack, hook_id) == 0, timeout=30, what="the queue to empty")
    time.sleep(0.5)  # a bare sleep: no duplicate arrives late
    got = deliveries(rx, path)
    ids = [r.header("webhook-id") for r in got]
    assert len(ids) == 200 and len(set(ids)) == 200
    assert sorted(json.loads(r.body)["PrimaryKey"] for r in got) == list(range(1, 201))
    assert stack.sql("SELECT count(*), count(DISTINCT delivery_id), count(*) FILTER (WHERE status = 200) "
                     "FROM webhook_attempt WHERE webhook_id = %s", (hook_id,)) == [(200, 200, 200)]
    assert usage(stack, hook_id) == (200, 0, 0)
    # Both took part, and between them they made exactly 200 attempts.
    counts = until(lambda: (lambda c: c if sum(c) == 200 else None)(
        [metrics(p).get("webhookd_delivery_attempts_total", 0) if p.exists() else 0 for p in prom]),
        timeout=20, what="the metrics files to count 200 attempts")
    assert min(counts) > 0, counts


@pytest.fixture
def second_webhookd(faults):
    """A second webhookd on a socket of its own, next to the first in nginx's upstream; afterwards
    the upstream is the stack's one server again."""
    cluster = Cluster(faults)
    site = faults.dir / "nginx" / "site.conf"
    saved = site.read_text()
    try:
        cluster.start_instance_b()
        cluster.upstream_both()
        yield cluster
    finally:
        site.write_text(saved)
        subprocess.run(["nginx", "-p", str(faults.dir / "nginx"), "-c", str(faults.dir / "nginx" / "nginx.conf"),
                        "-s", "reload"], check=True)
        if cluster.b_proc is not None:
            cluster.b_proc.terminate()
            cluster.b_proc.wait(30)


def test_two_webhookd_and_two_delivery_daemons_deliver_every_event_once(faults, rx, second_webhookd):
    stack, cluster = faults, second_webhookd
    event = unique("order.") + ".scaled"
    paths = [unique("/scaled-") for _ in range(3)]
    hook_ids = [save_hook(stack, rx.url(p), [event])["WebhookId"] for p in paths]
    stack.daemons.main.stop()
    prom = [stack.dir / "run" / ("deliverd-scaled-%s.prom" % n) for n in ("a", "b")]
    for p in prom:
        if p.exists():
            p.unlink()
        stack.daemons.start_extra(delivery_concurrency=16, delivery_metrics_file=p)
    # Each instance checks the password once; then its credential cache answers the signals.
    for sock in cluster.sockets:
        fcgi_exchange(str(sock), fcgi_request(authorization=basic(stack.user, stack.password)))
    signalled_before = [cluster.metric(i, rb'^webhookd_requests_total\{status="204"\} (\d+)$') for i in (0, 1)]

    # 240 events from 6 clients at once, through nginx to both instances: 720 deliveries.
    errors = []

    def client(first):
        try:
            for pk in range(first, 241, 6):
                signal_event(stack, event, pk, {"n": pk})
        except Exception as e:  # noqa: BLE001 - asserted below
            errors.append(e)

    clients = [threading.Thread(target=client, args=(k,)) for k in range(1, 7)]
    for c in clients:
        c.start()
    for c in clients:
        c.join(120)
    assert not errors, errors
    for p in paths:
        wait_deliveries(rx, p, 240, timeout=60)
    until(lambda: stack.sql("SELECT count(*) FROM webhook_delivery WHERE webhook_id = ANY (%s)", (hook_ids,))
          == [(0,)], timeout=30, what="the queue to empty")
    time.sleep(0.5)  # a bare sleep: no duplicate arrives late
    for p in paths:
        got = deliveries(rx, p)
        assert len(got) == 240 and len({r.header("webhook-id") for r in got}) == 240
        assert sorted(json.loads(r.body)["PrimaryKey"] for r in got) == list(range(1, 241))
    assert stack.sql("SELECT count(*), count(DISTINCT delivery_id), count(*) FILTER (WHERE status = 200) "
                     "FROM webhook_attempt WHERE webhook_id = ANY (%s)", (hook_ids,)) == [(720, 720, 720)]
    # Both FastCGI daemons queued events, and both delivery daemons sent them.
    signalled = [cluster.metric(i, rb'^webhookd_requests_total\{status="204"\} (\d+)$') - signalled_before[i]
                 for i in (0, 1)]
    assert sum(signalled) == 240 and min(signalled) > 0, signalled
    counts = until(lambda: (lambda c: c if sum(c) == 720 else None)(
        [metrics(p).get("webhookd_delivery_attempts_total", 0) if p.exists() else 0 for p in prom]),
        timeout=20, what="the metrics files to count 720 attempts")
    assert min(counts) > 0, counts


# -- recording ------------------------------------------------------------------------------------

def test_a_record_that_times_out_is_recorded_again_not_sent_again(faults, rx):
    """The batch that records an attempt waits for its webhook's row; held longer than the
    statement timeout (2 s), the database cancels and rolls the batch back, and the daemon sends the
    same batch again rather than leave the attempt to be posted again when its lease runs out."""
    stack = faults
    event = unique("order.") + ".slowrecord"
    path = unique("/slowrecord-")
    hook_id = save_hook(stack, rx.url(path), [event])["WebhookId"]
    log = stack.daemons.main.log
    offset = log.stat().st_size
    locker = psycopg2.connect(stack.dsn())
    try:
        with locker.cursor() as cur:
            # What the recorder takes (a signal's foreign key check takes less, and goes through).
            cur.execute("SELECT FROM webhook WHERE webhook_id = %s FOR NO KEY UPDATE", (hook_id,))
        signal_event(stack, event, 1)
        wait_deliveries(rx, path, 1)
        until(lambda: "recorded again after a transient failure" in log.read_text(errors="replace")[offset:],
              timeout=10, what="the batch to be sent again")
    finally:
        locker.rollback()
        locker.close()
    until(lambda: attempts(stack, hook_id), what="the attempt to be recorded")
    time.sleep(LEASE + 1)  # a bare sleep: nothing goes out again when the lease would have run out
    assert len(deliveries(rx, path)) == 1
    assert attempts(stack, hook_id) == [(1, 1, 1, 200, None)]
    assert usage(stack, hook_id) == (1, 0, 0)


# -- SIGTERM --------------------------------------------------------------------------------------

def test_sigterm_finishes_the_delivery_in_flight(faults, rx):
    stack = faults
    event = unique("order.") + ".paid"
    path = unique("/term-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    rx.respond(path, delay=SLOW)
    signal_event(stack, event, 1)
    [req] = wait_deliveries(rx, path, 1)
    d = stack.daemons.main
    d.kill(signal.SIGTERM)
    assert d.wait() == 0
    # It waited for the answer, which came SLOW seconds after the request arrived.
    assert time.monotonic() - req.at >= SLOW
    assert attempts(stack, hook_id) == [(1, 1, 1, 200, None)]
    assert queued(stack, hook_id) == 0 and usage(stack, hook_id) == (1, 0, 0)
    lines = d.lines_of_this_run()
    assert "signal 15: stopping; 1 deliveries in flight may take up to 10 s" in lines, lines
    assert lines.rstrip().endswith("stopped"), lines
    assert "handing back" not in lines


def test_sigterm_hands_back_what_outlasts_the_shutdown_timeout(faults, rx):
    stack = faults
    event = unique("order.") + ".refunded"
    path = unique("/handback-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    rx.respond(path, delay=2.5)  # within the 3 s timeout, beyond the 1 s shutdown timeout
    stack.daemons.main.stop()
    d = stack.daemons.start_extra(shutdown_timeout_s=1)
    signal_event(stack, event, 1, {"n": 1})
    [req] = wait_deliveries(rx, path, 1)
    termed = time.monotonic()
    d.kill(signal.SIGTERM)
    assert d.wait() == 0
    assert time.monotonic() - termed >= 1.0
    lines = d.lines_of_this_run()
    assert "handing back 1 deliveries still in flight" in lines, lines
    # Handed back: unleased, due at once, no attempt recorded.
    assert stack.sql("SELECT attempt, cycle, leased_by, leased_until, due_at <= clock_timestamp() "
                     "FROM webhook_delivery WHERE webhook_id = %s", (hook_id,)) == [(0, 1, None, None, True)]
    assert attempts(stack, hook_id) == []
    # Another daemon takes it over (not after a lease: there is none) and delivers the same event.
    rx.respond(path, status=200)
    stack.daemons.start_main()
    first, again = wait_deliveries(rx, path, 2)
    assert again.header("webhook-id") == first.header("webhook-id")
    assert again.header("X-SuperOffice-Retry") == "0" and again.body == req.body
    until(lambda: attempts(stack, hook_id) == [(1, 1, 1, 200, None)], what="the delivery to be recorded")


# -- the per-webhook cap -------------------------------------------------------------------------------

def test_in_flight_deliveries_are_capped_per_webhook(faults, rx):
    """delivery_per_webhook = 2: however many events are due at once, a webhook has at most two
    requests in flight; another webhook has its own two."""
    stack = faults
    event = unique("order.") + ".burst"
    paths = [unique("/cap-a-"), unique("/cap-b-")]
    hooks = [save_hook(stack, rx.url(p), [event]) for p in paths]
    for p in paths:
        rx.respond(p, delay=SLOW)
    stack.daemons.main.stop()
    stack.daemons.start_extra(delivery_per_webhook=2)
    # Five events, queued in one transaction, so that all ten deliveries are due together.
    stack.transaction(("SELECT webhook_signal(%s, g) FROM generate_series(1, 5) g", (event,)))
    for p in paths:
        wait_deliveries(rx, p, 2)
    time.sleep(0.5)  # a bare sleep, well within the 2 s the receiver takes: no third request arrives
    assert [len(deliveries(rx, p)) for p in paths] == [2, 2]
    assert stack.sql("SELECT webhook_id, count(*) FROM webhook_delivery WHERE leased_by IS NOT NULL "
                     "GROUP BY 1 ORDER BY 1") == [(h["WebhookId"], 2) for h in hooks]
    # And all of them go out in the end.
    for p in paths:
        got = wait_deliveries(rx, p, 5, timeout=30)
        assert len({r.header("webhook-id") for r in got}) == 5
    for h in hooks:
        until(lambda: queued(stack, h["WebhookId"]) == 0, timeout=30, what="the queue to empty")


def test_in_flight_deliveries_are_capped_at_the_default(faults, rx):
    """The default cap is 8 per webhook: twelve due deliveries of one webhook, eight in flight."""
    stack = faults
    event = unique("order.") + ".burst"
    path = unique("/cap-default-")
    hook = save_hook(stack, rx.url(path), [event])
    rx.respond(path, delay=SLOW)
    stack.transaction(("SELECT webhook_signal(%s, g) FROM generate_series(1, 12) g", (event,)))
    wait_deliveries(rx, path, 8)
    time.sleep(0.5)  # a bare sleep, well within the 2 s the receiver takes: no ninth request arrives
    assert len(deliveries(rx, path)) == 8
    assert stack.sql("SELECT count(*) FROM webhook_delivery WHERE webhook_id = %s AND leased_by IS NOT NULL",
                     (hook["WebhookId"],)) == [(8,)]
    wait_deliveries(rx, path, 12, timeout=30)
    until(lambda: queued(stack, hook["WebhookId"]) == 0, timeout=30, what="the queue to empty")


# -- giving up --------------------------------------------------------------------------------------

def test_a_delivery_is_given_up_after_the_last_cycle(faults, rx):
    """Two cycles of two attempts (0, +100 ms; a new cycle after 1 s): after the fourth failure the
    delivery is dropped; the webhook stays Active (4 errors in a row is below the default 9)."""
    stack = faults
    event = unique("order.") + ".lost"
    path = unique("/giveup-")
    hook = save_hook(stack, rx.url(path), [event])
    hook_id = hook["WebhookId"]
    rx.respond(path, status=500)
    signal_event(stack, event, 1)
    got = wait_deliveries(rx, path, 4)
    until(lambda: queued(stack, hook_id) == 0, what="the delivery to be given up")
    assert attempts(stack, hook_id) == [(1, 1, 1, 500, None), (1, 1, 2, 500, None), (1, 2, 1, 500, None),
                                        (1, 2, 2, 500, None)]
    ids = [r.header("webhook-id") for r in got]
    assert ids[0] == ids[1] != ids[2] == ids[3]
    assert [r.header("X-SuperOffice-Retry") for r in got] == ["0", "1", "2", "3"]
    gaps = [b.at - a.at for a, b in zip(got, got[1:])]
    assert gaps[0] >= 0.1 and gaps[1] >= 1.0 and gaps[2] >= 0.1, gaps
    assert state(stack, hook_id) == "Active"
    assert usage(stack, hook_id) == (4, 4, 4)
    time.sleep(1.2)  # a bare sleep: nothing more arrives
    assert len(deliveries(rx, path)) == 4
    # The webhook still takes new events.
    rx.respond(path, status=200)
    signal_event(stack, event, 2)
    wait_deliveries(rx, path, 5)
    until(lambda: usage(stack, hook_id) == (5, 4, 0), what="the success")


# -- metrics -----------------------------------------------------------------------------------------

def test_the_metrics_file_counts(faults, rx):
    stack = faults
    prom = stack.dir / "run" / "deliverd.prom"
    # A fresh daemon and a fresh file: the counters start at zero.
    stack.daemons.main.stop()
    if prom.exists():
        prom.unlink()
    stack.daemons.start_main()
    until(prom.exists, what="the metrics file")
    before = metrics(prom)
    text = prom.read_text()
    for name, kind in [("webhookd_delivery_attempts_total", "counter"),
                       ("webhookd_delivery_retries_total", "counter"),
                       ("webhookd_delivery_outcomes_total", "counter"),
                       ("webhookd_delivery_unanswered_total", "counter"),
                       ("webhookd_delivery_in_flight", "gauge"), ("webhookd_delivery_queue_due", "gauge"),
                       ("webhookd_delivery_oldest_due_seconds", "gauge"),
                       ("webhookd_delivery_latency_seconds", "histogram")]:
        assert "# TYPE %s %s\n" % (name, kind) in text, name
    assert before["webhookd_delivery_attempts_total"] == 0

    event = unique("order.") + ".metered"
    ok, bad, mute = unique("/m-ok-"), unique("/m-500-"), unique("/m-hangup-")
    for p in (ok, bad, mute):
        save_hook(stack, rx.url(p), [event])
    rx.respond(bad, status=500)
    rx.respond(mute, close=True)
    signal_event(stack, event, 1)
    wait_deliveries(rx, ok, 1)
    wait_deliveries(rx, bad, 2)
    wait_deliveries(rx, mute, 2)

    def moved():
        m = metrics(prom)
        return m if (m["webhookd_delivery_attempts_total"] >= 5
                     and m['webhookd_delivery_outcomes_total{outcome="succeeded"}'] >= 1
                     and m['webhookd_delivery_outcomes_total{outcome="failed"}'] >= 4
                     and m["webhookd_delivery_retries_total"] >= 2
                     and m["webhookd_delivery_unanswered_total"] >= 2
                     and m["webhookd_delivery_latency_seconds_count"] >= 5) else None

    m = until(moved, timeout=20, what="the counters to move")
    assert m['webhookd_delivery_latency_seconds_bucket{le="+Inf"}'] == m["webhookd_delivery_latency_seconds_count"]
    assert m["webhookd_delivery_outcomes_total{outcome=\"succeeded\"}"] + \
        m["webhookd_delivery_outcomes_total{outcome=\"failed\"}"] <= m["webhookd_delivery_attempts_total"]


# -- SIGHUP: settings re-read, a bad file kept out ------------------------------------------------

def test_sighup_reloads_the_settings_and_keeps_them_when_the_file_is_bad(faults, rx):
    stack = faults
    conf = stack.dir / "webhookd.conf"
    saved = conf.read_text()
    event = unique("order.") + ".reloaded"
    path = unique("/hup-")
    hook = save_hook(stack, rx.url(path), [event])
    d = stack.daemons.start_extra()
    stack.daemons.main.kill(signal.SIGTERM)  # the extra daemon is the only one delivering now
    assert stack.daemons.main.wait() == 0
    try:
        # A file it cannot read: the daemon says so and keeps delivering with what it had.
        conf.write_text(saved + "delivery_max_cycles = many\n")
        d.kill(signal.SIGHUP)
        until(lambda: "keeping the current settings" in d.lines_of_this_run(), what="the refused reload")
        signal_event(stack, event, 1)
        wait_deliveries(rx, path, 1)
        # A good one: debug logging shows each attempt from now on.
        conf.write_text(saved + "log_level = debug\n")
        d.kill(signal.SIGHUP)
        until(lambda: "reload: configuration applied" in d.lines_of_this_run(), what="the reload")
        signal_event(stack, event, 2)
        wait_deliveries(rx, path, 2)
        line = "to webhook %d, %s attempt 1.1: 200" % (hook["WebhookId"], event)
        until(lambda: line in d.lines_of_this_run(), what="the attempt's debug line")
        assert d.running()
    finally:
        conf.write_text(saved)


# -- a webhook deleted while its deliveries are answered ------------------------------------------

def test_deleting_a_webhook_while_its_attempts_are_recorded_neither_deadlocks_nor_fails(faults, rx):
    """Recording an attempt and deleting its webhook lock the same rows; they take them in the same
    order (the webhook first), so the delete waits for the records (or they for it) and never
    deadlocks. The answers come back while the DELETE runs."""
    stack = faults
    event = unique("order.") + ".deleted"
    path = unique("/del-")
    hook = save_hook(stack, rx.url(path), [event])
    rx.respond(path, delay=0.5)
    for pk in range(8):
        signal_event(stack, event, pk)
    wait_deliveries(rx, path, 8)  # all eight in flight, answered in about 0.5 s
    r = stack.request("DELETE", "/api/v1/Webhook/%d" % hook["WebhookId"],
                      headers={"Authorization": basic(stack.user, stack.password)})
    assert r.status == 204, r
    until(lambda: stack.sql("SELECT count(*) FROM webhook_delivery")[0][0] == 0, what="the queue to empty")
    assert "deadlock" not in (stack.dir / "log" / "postgresql.log").read_text(errors="replace")
    assert stack.daemons.main.running()
