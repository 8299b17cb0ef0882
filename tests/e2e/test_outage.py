"""Destructive tests on a stack of their own: the daemon or PostgreSQL goes away, then comes back."""
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from e2e_support import (pg_bin, DEFAULT_BODY, ENDPOINT, JSON_CT, WORKERS, assert_all_workers_serve, concurrent_posts,
                         destroy_stack, error_body, new_stack)

NGINX_UNAVAILABLE = error_body("ServiceUnavailable", "The service is unavailable; try again shortly.", "nginx")
DB_UNAVAILABLE = error_body("ServiceUnavailable", "The database is unavailable; try again shortly.",
                            "webhookd/database")


def pg_ctl(stack, *args):
    data = str(stack.dir / "pg" / "data")
    subprocess.run(["runuser", "-u", "postgres", "--", str(pg_bin() / "pg_ctl"), "-D", data, *args],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=60)


@pytest.fixture(scope="module")
def scratch():
    s = new_stack("webhookd-e2e-outage-")
    try:
        s.user, s.password = "olivia", "outage-password"
        s.seed(s.user, s.password)
        yield s
    finally:
        destroy_stack(s)


@pytest.fixture
def outage(scratch):
    """Hands out the scratch stack; afterwards brings it back whole if a test left it broken."""
    try:
        yield scratch
    finally:
        try:
            healthy = scratch.daemon_alive() and scratch.post().status == 200
        except OSError:
            healthy = False
        if not healthy:
            scratch.start()  # idempotent: starts PostgreSQL if needed, restarts daemon and nginx


def assert_nginx_503(r):
    assert r.status == 503, r
    assert r.headers["content-type"] == JSON_CT
    assert r.headers["retry-after"] == "2"
    assert r.body == NGINX_UNAVAILABLE


def assert_daemon_down_answers(stack):
    for method, path in [("POST", ENDPOINT), ("GET", ENDPOINT), ("POST", "/api/v1/Nope")]:
        assert_nginx_503(stack.request(method, path, headers={"Authorization": "Basic eDp5"}))
    # Outside /api/ nginx still answers by itself.
    assert stack.request("GET", "/").status == 404


def test_daemon_killed_is_503_then_its_supervisor_restarts_it(outage):
    """deploy/dev/stack runs the daemon under a supervisor (as systemd's Restart=on-failure): a
    killed daemon comes back by itself, over the socket file the dead one left behind. Meanwhile
    nginx answers its JSON 503; the restart follows within seconds, with nothing done by hand."""
    assert outage.post().body == DEFAULT_BODY
    old = outage.daemon_pid()
    outage.kill_daemon(signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        r = outage.request("POST", ENDPOINT, headers={"Authorization": "Basic eDp5"})
        if r.status != 503:
            break
        assert_nginx_503(r)  # down: nginx's JSON 503, never a socket error
        assert time.monotonic() < deadline, "the daemon was not restarted"
        time.sleep(0.05)
    assert outage.daemon_pid() != old and outage.daemon_alive()
    log = (outage.dir / "log" / "webhookd.log").read_text()
    assert "webhookd (pid %d) ended with status 137; starting it again" % old in log
    r = outage.post()
    assert r.status == 200 and r.body == DEFAULT_BODY
    assert_all_workers_serve(outage)


def test_sigterm_lets_the_request_in_flight_finish(outage):
    outage.flush_caches()  # so the request reads the table locked below
    locker = psycopg2.connect(outage.dsn())
    result = {}
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE webhook_default IN ACCESS EXCLUSIVE MODE")
            t = threading.Thread(target=lambda: result.setdefault("r", outage.post()))
            t.start()
            deadline = time.monotonic() + 1.5
            while not outage.sql("SELECT 1 FROM pg_stat_activity WHERE usename = 'webhookd' "
                                 "AND wait_event_type = 'Lock'"):
                assert time.monotonic() < deadline, "the request never reached the database"
                time.sleep(0.02)
            pid = outage.daemon_pid()
            os.kill(pid, signal.SIGTERM)
            time.sleep(0.3)
        locker.rollback()
        t.join(15)
    finally:
        locker.close()
    r = result["r"]
    assert r.status == 200 and r.body == DEFAULT_BODY, r
    deadline = time.monotonic() + 15
    while outage.daemon_alive():
        assert time.monotonic() < deadline, "webhookd did not exit after SIGTERM"
        time.sleep(0.05)
    log = (outage.dir / "log" / "webhookd.log").read_text()
    assert log.rstrip().endswith("stopped"), log[-500:]
    # A clean stop removes the socket (connect: ENOENT); nginx still answers for it.
    assert not Path(outage.fcgi_socket).exists()
    assert_daemon_down_answers(outage)
    outage.start()
    assert outage.post().body == DEFAULT_BODY


def test_database_restart_is_503_then_recovers_without_daemon_restart(outage):
    pid = outage.daemon_pid()
    assert outage.post().status == 200
    outage.close_db()
    pg_ctl(outage, "-m", "fast", "-w", "stop")
    try:
        # The change feed notices within milliseconds; until then an answer may come from memory.
        deadline = time.monotonic() + 2
        while outage.post().status != 503:
            assert time.monotonic() < deadline, "the daemon did not notice the stopped database"
            time.sleep(0.01)
        for _ in range(10):
            r = outage.post()
            assert r.status == 503, r
            assert r.headers["content-type"] == JSON_CT
            assert r.body == DB_UNAVAILABLE
            assert "retry-after" not in r.headers or r.headers["retry-after"] == "2"
    finally:
        # restart reuses the options of the last start (postmaster.opts): socket dir, no TCP.
        pg_ctl(outage, "-l", str(outage.dir / "log" / "postgresql.log"), "-w", "-t", "30", "restart")
    # The daemon tries again at growing intervals, at most a second apart, and meanwhile answers
    # 503 at once; once one attempt succeeds, every worker reconnects at its next request.
    deadline = time.monotonic() + 5
    while (r := outage.post()).status != 200:
        assert r.status == 503 and r.body == DB_UNAVAILABLE, r
        assert time.monotonic() < deadline, "the daemon did not reconnect"
        time.sleep(0.05)
    for _ in range(20):
        r = outage.post()
        assert r.status == 200 and r.body == DEFAULT_BODY, r
    assert outage.daemon_pid() == pid and outage.daemon_alive()
    assert_all_workers_serve(outage)


def test_reconnecting_under_a_lock_does_not_poison_workers(outage):
    try:
        outage.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'webhookd'")
        outage.flush_caches()  # so the request reads the table locked below
        locker = psycopg2.connect(outage.dsn())
        try:
            with locker.cursor() as cur:
                cur.execute("LOCK TABLE webhook_default IN ACCESS EXCLUSIVE MODE")
                # Every worker reconnects now, and its PREPARE waits for the lock until statement_timeout.
                during = concurrent_posts(outage, 2 * WORKERS)
        finally:
            locker.rollback()
            locker.close()
        assert all(r.status in (500, 503) for r in during), [getattr(r, "status", r) for r in during]
        # The lock is gone: the database is fine again, and so must every answer of every worker be.
        statuses = [outage.post().status for _ in range(40)]
        assert statuses == [200] * 40, statuses
        assert_all_workers_serve(outage)
    finally:
        outage.start()  # a fresh start for the other tests, whatever happened here
