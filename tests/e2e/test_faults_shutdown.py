"""Stopping and signalling the daemons on a stack of their own: SIGTERM loses no connection that is
already queued on the daemon's socket, and signals the daemons do not use are ignored."""
import hashlib
import os
import secrets
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from e2e_support import DEFAULT_BODY, JSON_CT, WORKERS, error_body, pid_alive, private_stack, wait_until

NGINX_UNAVAILABLE = error_body("ServiceUnavailable", "The service is unavailable; try again shortly.", "nginx")
QUEUED = 2 * WORKERS


@pytest.fixture(scope="module")
def slow_stack():
    """A statement_timeout far beyond the test, so requests wait on a lock for as long as it is held."""
    with private_stack("webhookd-faults-stop-", "stella", settings={"WEBHOOKD_STATEMENT_TIMEOUT_MS": "60000"}) as s:
        yield s


@pytest.fixture
def slow(slow_stack):
    """The module's stack; afterwards started again (with its settings) if a test left it down."""
    try:
        yield slow_stack
    finally:
        try:
            deliverd = int((slow_stack.dir / "deliverd.pid").read_text())
            healthy = slow_stack.daemon_alive() and pid_alive(deliverd) and slow_stack.post().status == 200
        except OSError:
            healthy = False
        if not healthy:
            saved = os.environ.get("WEBHOOKD_STATEMENT_TIMEOUT_MS")
            os.environ["WEBHOOKD_STATEMENT_TIMEOUT_MS"] = "60000"
            try:
                slow_stack.start()
            finally:
                if saved is None:
                    del os.environ["WEBHOOKD_STATEMENT_TIMEOUT_MS"]
                else:
                    os.environ["WEBHOOKD_STATEMENT_TIMEOUT_MS"] = saved


def new_ticket(stack):
    """A SOTicket for the stack's user: a login that needs no password hashing, whose share of the
    workers is bounded on purpose, so that every worker can be made to wait on a lock."""
    ticket = "7T:" + secrets.token_urlsafe(20)
    stack.sql("INSERT INTO credential (token_sha256, scheme, associate_id, expires_at) SELECT %s, 'soticket', "
              "associate_id, now() + interval '1 hour' FROM associate WHERE name = %s",
              (hashlib.sha256(ticket.encode()).digest(), stack.user))
    return "SOTicket " + ticket



def accept_queue(path):
    """How many connections wait in the listening socket's accept queue (ss: Recv-Q of LISTEN)."""
    out = subprocess.run(["ss", "-xlnH"], stdout=subprocess.PIPE, check=True).stdout.decode()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[4] == path:
            return int(fields[2])
    return None


def waiting_on_lock(stack):
    return stack.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'webhookd' "
                     "AND wait_event_type = 'Lock'")[0][0]


def post_in_thread(stack, results, auth=True):
    def run():
        try:
            results.append(stack.post(auth=auth))
        except Exception as e:  # noqa: BLE001 - reported by the caller
            results.append(e)
    t = threading.Thread(target=run)
    t.start()
    return t


def test_sigterm_serves_every_connection_already_queued(slow):
    """Every worker waits on a lock, QUEUED more requests wait in the socket's backlog, then
    SIGTERM: all of them are answered 200 once the lock goes. Requests that come after the
    SIGTERM find no socket and get nginx's JSON 503 at once: none is queued only to be reset."""
    stack = slow
    pid = stack.daemon_pid()
    log = stack.dir / "log" / "webhookd.log"
    auth = new_ticket(stack)
    stack.flush_caches()  # so that every request reads the table locked below
    locker = psycopg2.connect(stack.dsn())
    results, threads = [], []
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE webhook_default IN ACCESS EXCLUSIVE MODE")
            threads += [post_in_thread(stack, results, auth) for _ in range(WORKERS)]
            wait_until("every worker to wait on the lock", lambda: waiting_on_lock(stack) == WORKERS)
            threads += [post_in_thread(stack, results, auth) for _ in range(QUEUED)]
            wait_until("nginx to queue %d connections on the daemon's socket" % QUEUED,
                       lambda: accept_queue(stack.fcgi_socket) == QUEUED)
            offset = log.stat().st_size
            os.kill(pid, signal.SIGTERM)
            wait_until("the daemon to start stopping", lambda: b"stopping" in log.read_bytes()[offset:])
            # The intake is closed: a new request is refused at once, with a JSON 503, not queued.
            assert not Path(stack.fcgi_socket).exists()
            r = stack.post()
            assert (r.status, r.headers["content-type"], r.headers["retry-after"], r.body) == (
                503, JSON_CT, "2", NGINX_UNAVAILABLE), r
            assert len(results) == 0, results  # nothing answered yet: all still wait
        locker.rollback()
    finally:
        locker.close()
    for t in threads:
        t.join(60)
    assert len(results) == WORKERS + QUEUED
    bad = [r for r in results if getattr(r, "status", None) != 200 or r.body != DEFAULT_BODY]
    assert not bad, bad
    wait_until("the daemon to exit", lambda: not pid_alive(pid))
    text = log.read_text()
    assert text.rstrip().endswith("stopped"), text[-2000:]
    assert "still running" not in text[offset:]


def test_sigterm_when_idle_still_exits_at_once(slow):
    """With nothing queued the drain ends at the first accept(): no wait for an idle timeout."""
    stack = slow
    assert stack.post().status == 200
    pid = stack.daemon_pid()
    t0 = time.monotonic()
    stack.kill_daemon(signal.SIGTERM)
    assert not pid_alive(pid)
    assert time.monotonic() - t0 < 10
    assert not Path(stack.fcgi_socket).exists()


@pytest.mark.parametrize("daemon", ["webhookd", "webhook-deliverd"])
@pytest.mark.parametrize("sig", [signal.SIGUSR2, signal.SIGPIPE], ids=["SIGUSR2", "SIGPIPE"])
def test_signals_the_daemons_do_not_use_are_ignored(slow, daemon, sig):
    stack = slow
    pid_file = stack.dir / ("webhookd.pid" if daemon == "webhookd" else "deliverd.pid")
    pid = int(pid_file.read_text())
    name = "webhookd.log" if daemon == "webhookd" else "deliverd.log"
    log = stack.dir / "log" / name
    offset = log.stat().st_size
    os.kill(pid, sig)
    # A signal is delivered before kill() returns to a process that does not block it; give the
    # daemon a request (and the delivery daemon a NOTIFY) to prove it is still the same process.
    assert stack.post().body == DEFAULT_BODY
    stack.sql("SELECT pg_notify('webhookd_delivery', '')")
    assert pid_alive(pid), "%s died of signal %d" % (daemon, sig)
    assert int(pid_file.read_text()) == pid
    assert stack.post().body == DEFAULT_BODY
    assert pid_alive(pid)
    assert b"stopping" not in log.read_bytes()[offset:]


def test_sigterm_waits_shutdown_timeout_s_for_a_request_then_exits():
    """shutdown_timeout_s bounds how long SIGTERM waits for requests in flight: a request held on a
    lock for longer does not keep the daemon (it exits while the lock is still held, and says so);
    nginx answers that request with its JSON 503."""
    settings = {"WEBHOOKD_SHUTDOWN_TIMEOUT_S": "1", "WEBHOOKD_STATEMENT_TIMEOUT_MS": "60000"}
    with private_stack("webhookd-faults-timeout-", "tim", settings=settings) as s:
        ticket = new_ticket(s)
        s.flush_caches()  # so that the request reads the table locked below
        locker = psycopg2.connect(s.dsn())
        results = []
        try:
            with locker.cursor() as cur:
                cur.execute("LOCK TABLE webhook_default IN ACCESS EXCLUSIVE MODE")
                t = post_in_thread(s, results, auth=ticket)
                wait_until("the request to wait on the lock", lambda: waiting_on_lock(s) >= 1)
                pid = s.daemon_pid()
                os.kill(pid, signal.SIGTERM)
                # The lock is held until this block ends: the daemon exits without the request.
                wait_until("the daemon to exit", lambda: not pid_alive(pid))
        finally:
            locker.rollback()
            locker.close()
        t.join(30)
        [r] = results
        assert (r.status, r.headers["content-type"], r.body) == (503, JSON_CT, NGINX_UNAVAILABLE), r
        log = (s.dir / "log" / "webhookd.log").read_text()
        assert "1 request(s) still running after 1s; exiting without them" in log


def test_a_daemon_that_never_answers_is_a_json_503_from_nginx():
    """nginx's own 504 (fastcgi_read_timeout, 15 s) becomes the same JSON 503 with Retry-After as a
    daemon that is down: a FastCGI peer that accepts and never answers stands in for a hung daemon."""
    import socket as sockets
    with private_stack("webhookd-faults-hung-", "hugo") as s:
        pid = s.daemon_pid()
        os.kill(pid, signal.SIGTERM)  # a clean stop: the dev stack's supervisor lets it be
        wait_until("the daemon to exit", lambda: not pid_alive(pid))
        path = s.fcgi_socket
        if os.path.exists(path):
            os.unlink(path)
        hung = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
        hung.bind(path)
        os.chmod(path, 0o666)
        hung.listen(8)
        held = []
        stop = threading.Event()

        def accept_and_hold():
            hung.settimeout(0.2)
            while not stop.is_set():
                try:
                    conn, _ = hung.accept()
                    held.append(conn)  # read nothing, answer nothing
                except OSError:
                    pass

        t = threading.Thread(target=accept_and_hold)
        t.start()
        try:
            r = s.post()
        finally:
            stop.set()
            t.join(5)
            for c in held:
                c.close()
            hung.close()
        assert held, "nginx never connected to the stand-in"
        assert (r.status, r.headers["content-type"], r.body) == (503, JSON_CT, NGINX_UNAVAILABLE), r
        assert r.headers.get("retry-after") == "2"
