"""Beyond one machine, on loopback: two daemon instances behind one nginx upstream, reading from a
PostgreSQL streaming replica (target_session_attrs=prefer-standby) and falling back to the primary."""
import os
import re
import signal
import subprocess
import time

import psycopg2
import pytest

from e2e_support import pg_bin, DEFAULT_BODY, destroy_stack, fcgi_exchange, fcgi_request, new_stack, webhook_body

PGBIN = pg_bin()


def as_postgres(*args, **kw):
    return subprocess.run(["runuser", "-u", "postgres", "--", *map(str, args)], check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


class Cluster:
    def __init__(self, stack):
        self.stack = stack
        d = stack.dir
        self.primary_sock = d / "pg" / "sock"
        self.standby_data = d / "pg" / "standby"
        self.standby_sock = d / "pg" / "standby-sock"
        self.sockets = [d / "sock" / "webhookd.sock", d / "sock" / "webhookd-b.sock"]
        self.conninfo = ("host=%s,%s port=5433,5432 dbname=webhookd user=webhookd "
                         "target_session_attrs=prefer-standby connect_timeout=2" % (self.standby_sock, self.primary_sock))
        self.b_proc = None

    def start_standby(self):
        if not self.standby_data.exists():
            as_postgres(PGBIN / "pg_basebackup", "-h", self.primary_sock, "-U", "postgres", "-D", self.standby_data,
                        "-R", "-X", "stream", "-c", "fast")
        subprocess.run(["install", "-d", "-o", "postgres", "-g", "postgres", "-m", "0755", str(self.standby_sock)],
                       check=True)
        log = self.stack.dir / "log" / "standby.log"
        if not log.exists():
            subprocess.run(["install", "-o", "postgres", "-m", "0644", "/dev/null", str(log)], check=True)
        as_postgres(PGBIN / "pg_ctl", "-D", self.standby_data, "-l", log, "-w",
                    "-t", "30", "-o", "-c port=5433 -c max_connections=200 -c listen_addresses='' "
                    "-c unix_socket_directories='%s'"
                    % self.standby_sock, "start")

    def stop_standby(self):
        as_postgres(PGBIN / "pg_ctl", "-D", self.standby_data, "-m", "fast", "-w", "stop")

    def standby(self):
        conn = psycopg2.connect("host=%s port=5433 user=postgres dbname=webhookd" % self.standby_sock)
        conn.autocommit = True
        return conn

    def daemon_sessions_on(self, conn, application="webhookd"):
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = 'webhookd' AND application_name = %s",
                        (application,))
            return cur.fetchone()[0]

    def configure_instance_a(self):
        """Instance A is the stack's daemon: point it at the replica and reload (SIGHUP)."""
        conf = self.stack.dir / "webhookd.conf"
        text = re.sub(r"(?m)^database = .*$", "database = " + self.conninfo, conf.read_text())
        conf.write_text(text)
        log = self.stack.dir / "log" / "webhookd.log"
        offset = log.stat().st_size
        os.kill(self.stack.daemon_pid(), signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload: configuration applied" not in log.read_text()[offset:]:
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def start_instance_b(self):
        conf = self.stack.dir / "webhookd-b.conf"
        conf.write_text(re.sub(r"(?m)^listen = .*$", "listen = %s" % self.sockets[1],
                               (self.stack.dir / "webhookd.conf").read_text()))
        os.chmod(conf, 0o644)
        log = open(self.stack.dir / "log" / "webhookd-b.log", "ab")
        self.b_proc = subprocess.Popen(
            ["setpriv", "--reuid=webhookd", "--regid=webhookd", "--init-groups", "--inh-caps=-all",
             str(self.stack.dir / "bin" / "webhookd"), "-c", str(conf)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 15
        while b"ready:" not in (self.stack.dir / "log" / "webhookd-b.log").read_bytes():
            assert self.b_proc.poll() is None, (self.stack.dir / "log" / "webhookd-b.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def upstream_both(self):
        """The stack's nginx runs the production site file; list both instances in its upstream."""
        site = self.stack.dir / "nginx" / "site.conf"
        text = site.read_text()
        one = "server unix:%s;" % self.sockets[0]
        assert one in text
        site.write_text(text.replace(one, "%s\n    server unix:%s;" % (one, self.sockets[1])))
        nginx = ["nginx", "-p", str(self.stack.dir / "nginx"), "-c", str(self.stack.dir / "nginx" / "nginx.conf")]
        subprocess.run(nginx + ["-t", "-q"], check=True)
        subprocess.run(nginx + ["-s", "reload"], check=True)
        time.sleep(0.5)

    def metric(self, index, pattern):
        """A counter of instance index, read straight from its socket."""
        out, _ = fcgi_exchange(str(self.sockets[index]), fcgi_request("GET", "/_webhookd/metrics"))
        m = re.search(pattern, out, re.M)
        return int(m.group(1)) if m else 0

    def served_by(self, index):
        return self.metric(index, rb'^webhookd_requests_total\{status="200"\} (\d+)$')

    def cache_hits(self, index):
        return sum(self.metric(index, rb'^webhookd_cache_total\{cache="%s",result="hit"\} (\d+)$' % c)
                   for c in (b"credentials", b"reference_data"))


@pytest.fixture(scope="module")
def cluster():
    stack = new_stack("webhookd-scale-")
    c = Cluster(stack)
    try:
        stack.user, stack.password = "sam", "scale-out-password"
        stack.seed(stack.user, stack.password)
        c.start_standby()
        c.configure_instance_a()
        c.start_instance_b()
        c.upstream_both()
        yield c
    finally:
        if c.b_proc is not None and c.b_proc.poll() is None:
            c.b_proc.terminate()
            c.b_proc.wait(30)
        if (c.standby_data / "postmaster.pid").exists():
            c.stop_standby()
        destroy_stack(stack)


def test_two_instances_share_the_load_reading_from_the_standby(cluster):
    before = [cluster.served_by(0), cluster.served_by(1)]
    for _ in range(60):
        r = cluster.stack.post()
        assert (r.status, r.body) == (200, DEFAULT_BODY), r
    after = [cluster.served_by(0), cluster.served_by(1)]
    # Both instances took part (nginx spreads requests over the upstream)...
    assert after[0] > before[0] and after[1] > before[1], (before, after)
    # ...and every worker of both reads from the replica, none from the primary, where only the two
    # change feeds listen (a standby cannot LISTEN).
    standby = cluster.standby()
    primary = cluster.stack.db()
    try:
        assert cluster.daemon_sessions_on(standby) == 16
        assert cluster.daemon_sessions_on(primary) == 0
        assert cluster.daemon_sessions_on(primary, "webhookd-changes") == 2
    finally:
        standby.close()


def test_reads_from_the_standby_are_never_cached(cluster):
    """A standby may not have replayed a change the primary's feed already announced, so what the
    workers read from it is never kept: the same request, again and again, is a cache miss every
    time (no hit at all), on both instances."""
    before = [cluster.cache_hits(0), cluster.cache_hits(1)]
    for _ in range(40):
        r = cluster.stack.post()
        assert (r.status, r.body) == (200, DEFAULT_BODY), r
    assert [cluster.cache_hits(0), cluster.cache_hits(1)] == before


def test_a_change_on_the_primary_reaches_the_replicas_readers(cluster):
    stack = cluster.stack
    stack.sql("UPDATE webhook_default SET name = 'Replicated'")
    try:
        deadline = time.monotonic() + 2
        while True:
            bodies = {stack.post().body for _ in range(4)}
            if bodies == {webhook_body(name="Replicated")}:
                break
            assert time.monotonic() < deadline, bodies
            time.sleep(0.05)
    finally:
        stack.sql("UPDATE webhook_default SET name = NULL")


def test_losing_an_instance_loses_no_request(cluster):
    proc = cluster.b_proc
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    try:
        for _ in range(40):
            r = cluster.stack.post()
            assert (r.status, r.body) == (200, DEFAULT_BODY), r
    finally:
        cluster.start_instance_b()


def test_losing_the_standby_falls_back_to_the_primary(cluster):
    cluster.stop_standby()
    try:
        statuses = [cluster.stack.post().status for _ in range(40)]
        assert statuses == [200] * 40, statuses
        assert cluster.daemon_sessions_on(cluster.stack.db()) > 0
    finally:
        cluster.start_standby()
