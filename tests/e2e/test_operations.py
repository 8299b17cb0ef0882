"""Running it as production does: socket handed over by a supervisor, restarts and reloads under
load, health and metrics, migrations run twice at once, and logs that hold no secret."""
import grp
import os
import pwd
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from e2e_support import wrk, token_digest, pg_bin, DEFAULT_BODY, REPO, basic, error_body, parse_raw_response, private_stack



@pytest.fixture(scope="module")
def ops():
    """A stack of its own: these tests stop, restart and reload its daemon."""
    with private_stack("webhookd-ops-", "olga") as s:
        yield s


class HeldSocket:
    """Plays systemd's part: holds the listening socket and starts the daemon with it on fd 0, so a
    restart leaves connections queued in the kernel instead of refused."""

    def __init__(self, stack):
        self.stack = stack
        self.proc = None
        stack.kill_daemon()
        path = stack.fcgi_socket
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chown(path, pwd.getpwnam("webhookd").pw_uid, grp.getgrnam("www-data").gr_gid)
        os.chmod(path, 0o660)
        self.sock.listen(1024)
        self.log = stack.dir / "log" / "webhookd.log"

    def start(self):
        offset = self.log.stat().st_size
        daemon = self.stack.dir / "bin" / "webhookd"
        # WEBHOOKD_LISTEN="" overrides the file's listen: use the inherited socket.
        env = dict(os.environ, WEBHOOKD_LISTEN="")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                ["setpriv", "--reuid=webhookd", "--regid=webhookd", "--init-groups", "--inh-caps=-all",
                 str(daemon), "-c", str(self.stack.dir / "webhookd.conf")],
                stdin=self.sock.fileno(), stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + 15
        while b"ready:" not in self.log.read_bytes()[offset:]:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the daemon did not become ready"
            time.sleep(0.02)
        self.stack.pid_file.write_text("%d\n" % self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(30) == 0, self.log.read_text()[-2000:]

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        self.sock.close()


@pytest.fixture
def held(ops):
    h = HeldSocket(ops)
    try:
        h.start()
        yield h
    finally:
        h.close()
        ops.start()  # back to the stack's own daemon


def test_inherited_socket_serves(held, ops):
    r = ops.post()
    assert (r.status, r.body) == (200, DEFAULT_BODY)
    assert "on the inherited socket" in held.log.read_text()


def test_restarts_under_load_lose_no_request(held, ops):
    restarts = []

    def restart_three_times():
        for _ in range(3):
            time.sleep(1.5)
            held.stop()
            held.start()
            restarts.append(time.monotonic())

    result = wrk(ops, 7, during=restart_three_times)
    assert len(restarts) == 3
    assert result["requests"] > 1000, result
    assert (result["non2xx"], result["connect"], result["read"], result["write"], result["timeout"]) == (0, 0, 0, 0, 0), \
        result
    assert held.log.read_text().count("\n<6>stopped") >= 3


def test_reloads_under_load_lose_no_request(ops):
    pid = ops.daemon_pid()
    sessions = "SELECT pid FROM pg_stat_activity WHERE usename = 'webhookd' AND application_name = 'webhookd'"
    before = {row[0] for row in ops.sql(sessions)}

    def reload_five_times():
        for _ in range(5):
            time.sleep(0.8)
            os.kill(pid, signal.SIGHUP)

    result = wrk(ops, 5, during=reload_five_times)
    assert (result["non2xx"], result["connect"], result["read"], result["write"], result["timeout"]) == (0, 0, 0, 0, 0), \
        result
    assert ops.daemon_pid() == pid and ops.daemon_alive()
    after = {row[0] for row in ops.sql(sessions)}
    assert after and not (after & before), "the workers did not reconnect to PostgreSQL"
    assert ops.post().status == 200
    assert "reload: configuration applied" in (ops.dir / "log" / "webhookd.log").read_text()


def rewrite_conf(stack, extra):
    conf = stack.dir / "webhookd.conf"
    original = conf.read_text()
    conf.write_text(original + extra)
    return original


def sighup_and_wait(stack, marker):
    log = stack.dir / "log" / "webhookd.log"
    offset = log.stat().st_size
    os.kill(stack.daemon_pid(), signal.SIGHUP)
    deadline = time.monotonic() + 10
    while marker not in log.read_text()[offset:]:
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.02)
    return log.read_text()[offset:]


def test_reload_applies_new_settings(ops):
    conf = ops.dir / "webhookd.conf"
    original = rewrite_conf(ops, "auth_schemes = soticket,bearer\n")
    try:
        sighup_and_wait(ops, "reload: configuration applied")
        r = ops.post()
        assert r.status == 401
        assert r.json()["ErrorMessage"] == ("This Authorization scheme is not accepted here; "
                                           "WWW-Authenticate lists the accepted ones.")
    finally:
        conf.write_text(original)
        sighup_and_wait(ops, "reload: configuration applied")
    assert ops.post().status == 200


def test_reload_with_a_bad_setting_keeps_the_running_one(ops):
    conf = ops.dir / "webhookd.conf"
    original = rewrite_conf(ops, "workers = lots\n")
    try:
        text = sighup_and_wait(ops, "keeping the running configuration")
        assert 'invalid workers "lots"' in text
        assert ops.post().status == 200
    finally:
        conf.write_text(original)
    assert ops.daemon_alive()


def test_reload_warns_about_settings_that_need_a_restart(ops):
    conf = ops.dir / "webhookd.conf"
    original = rewrite_conf(ops, "workers = 3\n")
    try:
        text = sighup_and_wait(ops, "reload: configuration applied")
        assert "<4>reload: workers changed; it takes effect on restart" in text
    finally:
        conf.write_text(original)
        sighup_and_wait(ops, "reload: configuration applied")


# -- health and metrics --------------------------------------------------------------------------------

def get(stack, path, source="127.0.0.1"):
    """GET from a given loopback address (nginx lets only 127.0.0.1 see the monitoring paths)."""
    r = parse_raw_response(stack.raw(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode(),
                                     source=source))
    return r.status, r.headers, r.body


def test_health(ops):
    status, headers, body = get(ops, "/_webhookd/health")
    assert (status, headers["content-type"], body) == (
        200, "application/json; charset=utf-8", b'{"Status":"Ready","Database":"Reachable"}')


def test_health_reports_the_database_down(ops):
    pg_ctl = pg_bin("pg_ctl")
    data = ops.dir / "pg" / "data"
    ops.close_db()
    subprocess.run(["runuser", "-u", "postgres", "--", str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        status, headers, body = get(ops, "/_webhookd/health")
        assert (status, body) == (503, b'{"Status":"Unavailable","Database":"Unreachable"}')
        assert headers["retry-after"] == "2"  # as every other 503 of the daemon and of nginx
    finally:
        ops.start()  # PostgreSQL with the stack's options, and the daemon and nginx again
    status, _, _ = get(ops, "/_webhookd/health")
    assert status == 200


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else 0.0


def test_metrics(ops):
    _, _, before = get(ops, "/_webhookd/metrics")
    for _ in range(3):
        assert ops.post().status == 200
    assert ops.post(auth=basic(ops.user, "wrong")).status == 401
    status, headers, after = get(ops, "/_webhookd/metrics")
    assert (status, headers["content-type"]) == (200, "text/plain; version=0.0.4; charset=utf-8")
    before, after = before.decode(), after.decode()
    assert metric(after, 'webhookd_requests_total{status="200"}') >= metric(before, 'webhookd_requests_total{status="200"}') + 3
    assert metric(after, 'webhookd_requests_total{status="401"}') >= metric(before, 'webhookd_requests_total{status="401"}') + 1
    assert metric(after, "webhookd_request_duration_seconds_count") >= metric(before, "webhookd_request_duration_seconds_count") + 4
    assert metric(after, 'webhookd_request_duration_seconds_bucket{le="+Inf"}') == metric(
        after, "webhookd_request_duration_seconds_count")
    assert metric(after, 'webhookd_workers{state="busy"}') + metric(after, 'webhookd_workers{state="idle"}') == 8
    for name in ("webhookd_db_reconnects_total", "webhookd_db_connect_failures_total", "webhookd_reloads_total",
                 "webhookd_cache_invalidations_total",
                 'webhookd_cache_total{cache="credentials",result="hit"}',
                 'webhookd_cache_total{cache="credentials",result="miss"}',
                 'webhookd_cache_total{cache="reference_data",result="hit"}',
                 'webhookd_cache_total{cache="reference_data",result="miss"}'):
        assert re.search(r"^%s \d+$" % re.escape(name), after, re.M), name


@pytest.mark.parametrize("path", ["/_webhookd/health", "/_webhookd/metrics"])
def test_monitoring_is_not_public(ops, path):
    status, headers, body = get(ops, path, source="127.0.0.2")
    assert (status, headers["content-type"], body) == (403, "application/json; charset=utf-8", error_body(
        "Forbidden", "This location is not public.", "nginx"))


@pytest.mark.parametrize("path,status", [
    ("/api/../_webhookd/metrics", 403),      # nginx normalises the path first: still private
    ("/api/v1/_webhookd/metrics", 404),      # the daemon serves monitoring at its own paths only
    ("/API/../_WEBHOOKD/metrics", 404),
])
def test_monitoring_is_not_reachable_through_the_api(ops, path, status):
    got, headers, body = get(ops, path, source="127.0.0.2")
    assert (got, headers["content-type"]) == (status, "application/json; charset=utf-8")
    assert b"webhookd_requests_total" not in body


# -- migrations ------------------------------------------------------------------------------------------

def test_two_migration_runs_at_once_apply_each_migration_once(ops):
    ops.sql("DROP DATABASE IF EXISTS migrate_race")
    ops.sql("CREATE DATABASE migrate_race")
    try:
        conninfo = "host=%s user=postgres dbname=migrate_race" % (ops.dir / "pg" / "sock")
        cmd = [str(REPO / "scripts" / "webhookd-migrate"), "-d", str(REPO / "migrations"), conninfo]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
        outs = [p.communicate(timeout=60)[0].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        files = sorted(f.stem for f in (REPO / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql"))
        applied = sorted(line.split()[1] for out in outs for line in out.splitlines() if line.startswith("applied "))
        assert applied == files, outs
        skipped = sorted(line.split()[2] for out in outs for line in out.splitlines() if line.startswith("already "))
        assert skipped == files, outs
        conn = psycopg2.connect(conninfo)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT version FROM schema_migrations ORDER BY version")
                assert [r[0] for r in cur.fetchall()] == [f.split("_")[0] for f in files]
        finally:
            conn.close()
        # A third run changes nothing and says so.
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True).stdout.decode()
        assert out.splitlines() == ["already applied %s" % f for f in files]
    finally:
        ops.sql("DROP DATABASE IF EXISTS migrate_race")


def test_a_failing_migration_rolls_back_and_stops(ops, tmp_path):
    ops.sql("DROP DATABASE IF EXISTS migrate_fail")
    ops.sql("CREATE DATABASE migrate_fail")
    try:
        (tmp_path / "0001_good.sql").write_text("CREATE TABLE good (x int);\n")
        (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (x int);\nSELECT 1/0;\n")
        (tmp_path / "0003_later.sql").write_text("CREATE TABLE later (x int);\n")
        conninfo = "host=%s user=postgres dbname=migrate_fail" % (ops.dir / "pg" / "sock")
        p = subprocess.run([str(REPO / "scripts" / "webhookd-migrate"), "-d", str(tmp_path), conninfo],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = p.stdout.decode()
        assert p.returncode != 0 and "applied 0001_good" in out and "division by zero" in out, out
        conn = psycopg2.connect(conninfo)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT version FROM schema_migrations")
                assert cur.fetchall() == [("0001",)]
                cur.execute("SELECT to_regclass('half'), to_regclass('later')")
                assert cur.fetchone() == (None, None)
        finally:
            conn.close()
    finally:
        ops.sql("DROP DATABASE IF EXISTS migrate_fail")


# -- logs ---------------------------------------------------------------------------------------------------

def test_logs_hold_no_secret(ops):
    """Every kind of secret, right and wrong, goes through the stack; no log may contain one."""
    ticket, bearer, session, xsrf, app = (secrets.token_urlsafe(24) for _ in range(5))
    wrong_password = "wrong-" + secrets.token_urlsafe(12)
    olga = ops.sql("SELECT associate_id FROM associate WHERE name = %s", (ops.user,))[0][0]
    ops.transaction(
        ("INSERT INTO credential (token_sha256, scheme, associate_id, expires_at) VALUES "
         "(%s, 'soticket', %s, now() + interval '1 hour'), (%s, 'bearer', %s, now() - interval '1 hour')",
         (token_digest(ticket), olga, token_digest(bearer), olga)),
        ("INSERT INTO browser_session (session_sha256, xsrf_sha256, associate_id, expires_at) "
         "VALUES (%s, %s, %s, now() + interval '1 hour')", (token_digest(session), token_digest(xsrf), olga)))
    try:
        calls = [
            {"Authorization": basic(ops.user, ops.password)},
            {"Authorization": basic(ops.user, wrong_password)},
            {"Authorization": basic("nobody-" + wrong_password, wrong_password)},
            {"Authorization": "SOTicket " + ticket},
            {"Authorization": "SOTicket x" + ticket},
            {"Authorization": "Bearer " + bearer},
            {"Cookie": "SO_SESSION=" + session, "X-XSRF-TOKEN": xsrf},
            {"Cookie": "SO_SESSION=" + session, "X-XSRF-TOKEN": "x" + xsrf},
            {"Authorization": "SOTicket " + ticket, "SO-AppToken": app},
            {"Authorization": "Basic " + wrong_password},
        ]
        for headers in calls:
            ops.request("POST", "/api/v1/Agents/Webhook/CreateDefaultWebhook", headers=headers)
        time.sleep(1.5)  # nginx flushes its buffered access log every second
        logs = {f.name: f.read_bytes() for f in (ops.dir / "log").glob("*")}
        assert logs.get("webhookd.log") and logs.get("nginx-access.log"), "no logs to check"
        for name, text in logs.items():
            for secret in (ops.password, wrong_password, ticket, bearer, session, xsrf, app):
                for line in text.splitlines():
                    assert secret.encode() not in line, "a secret reached %s: %r" % (name, line[:300])
    finally:
        ops.transaction(("DELETE FROM credential", None), ("DELETE FROM browser_session", None))


# -- threads of the daemon are not left behind --------------------------------------------------------------

def test_sigterm_exits_zero_with_its_socket_removed(ops):
    pid = ops.daemon_pid()
    proc_status = Path("/proc/%d/status" % pid).read_text()
    assert re.search(r"^Threads:\s+10$", proc_status, re.M), proc_status  # main, change feed, 8 workers
    results = []
    t = threading.Thread(target=lambda: results.append(ops.post()))
    t.start()
    ops.kill_daemon(signal.SIGTERM)
    t.join(10)
    assert results and results[0].status in (200, 503)
    assert not os.path.exists(ops.fcgi_socket)
    assert (ops.dir / "log" / "webhookd.log").read_text().rstrip().endswith("stopped")
    ops.start()
