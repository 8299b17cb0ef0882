"""PostgreSQL away and back, on a stack of its own. While it is away both daemons answer at once (the
API with a JSON 503 and Retry-After), try to reconnect at growing intervals instead of once per
request, and log the change of state once, not once per attempt; every line they write carries its
journald priority. When it is back they recover by themselves."""
import re
import subprocess

import pytest

from e2e_support import pg_bin, DEFAULT_BODY, JSON_CT, WORKERS, basic, concurrent_posts, error_body, private_stack, wait_until

DB_UNAVAILABLE = error_body("ServiceUnavailable", "The database is unavailable; try again shortly.",
                            "webhookd/database")
# Attempts to wait for while the database is away, beyond the workers' first ones: at intervals of
# 0.1, 0.2, 0.4, 0.8 and then 1 s, these take about 4.5 s, in which webhook-deliverd (which looks
# at its queue every second) has made several attempts of its own.
PROBES = 7


def pg_ctl(stack, *args):
    """pg_ctl as postgres; "restart" of a stopped server starts it with the options of the stack's
    start (postmaster.opts: its socket directory, no TCP), which a bare "start" would not."""
    subprocess.run(["runuser", "-u", "postgres", "--", str(pg_bin() / "pg_ctl"), "-D", str(stack.dir / "pg" / "data"),
                    *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=60)


@pytest.fixture(scope="module")
def dbstack():
    with private_stack("webhookd-faults-db-", "dora") as s:
        yield s


@pytest.fixture
def outage(dbstack):
    """Stops PostgreSQL; afterwards it runs again, whatever the test did."""
    dbstack.close_db()
    pg_ctl(dbstack, "-m", "fast", "-w", "stop")
    try:
        yield dbstack
    finally:
        pg_ctl(dbstack, "-l", str(dbstack.dir / "log" / "postgresql.log"), "-w", "-t", "30", "restart")


class LogTail:
    """The lines a daemon writes from now on."""

    def __init__(self, stack, name):
        self.path = stack.dir / "log" / name
        self.offset = self.path.stat().st_size

    def lines(self):
        return self.path.read_bytes()[self.offset:].decode(errors="replace").splitlines()

    def count(self, text):
        return sum(text in line for line in self.lines())


def metric(stack, name):
    text = stack.request("GET", "/_webhookd/metrics").body.decode()
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    assert m, text
    return float(m.group(1))



def assert_db_503(r):
    assert (r.status, r.headers.get("content-type"), r.headers.get("retry-after"), r.body) == (
        503, JSON_CT, "2", DB_UNAVAILABLE), r


def test_outage_is_quiet_bounded_and_recovered(dbstack):
    stack = dbstack
    pid = stack.daemon_pid()
    assert stack.post().body == DEFAULT_BODY
    webhookd, deliverd = LogTail(stack, "webhookd.log"), LogTail(stack, "deliverd.log")
    failures_before = metric(stack, "webhookd_db_connect_failures_total")
    stack.close_db()
    pg_ctl(stack, "-m", "fast", "-w", "stop")
    requests = 0
    try:
        # The change feed notices within a second; until then an answer may come from memory.
        wait_until("the daemon to notice the stopped database", lambda: stack.post().status == 503)
        # Requests keep coming, from every worker at once, while the daemon makes PROBES attempts
        # beyond the first one of each worker: each request that meets no attempt due is a 503
        # at once, not an attempt of its own.
        while metric(stack, "webhookd_db_connect_failures_total") - failures_before < WORKERS + PROBES:
            for r in concurrent_posts(stack, 2 * WORKERS):
                assert_db_503(r)
                requests += 1
        attempts = metric(stack, "webhookd_db_connect_failures_total") - failures_before
        assert requests >= 4 * attempts, (requests, attempts)  # most requests made no attempt
        health = stack.request("GET", "/_webhookd/health")
        assert (health.status, health.headers.get("retry-after"), health.body) == (
            503, "2", b'{"Status":"Unavailable","Database":"Unreachable"}')
        # One line says the database is gone, whatever the requests and attempts since.
        assert webhookd.count("database: cannot connect") == 1, webhookd.lines()
        assert webhookd.count("failed (SQLSTATE") == 0, webhookd.lines()
        assert webhookd.count("change feed: cannot connect") <= 1, webhookd.lines()
        assert len(webhookd.lines()) <= 4, webhookd.lines()
        # webhook-deliverd looks at its queue every second: one line from the database layer for
        # all its attempts, and its own one about the deliveries.
        assert deliverd.count("database: cannot connect") == 1, deliverd.lines()
        assert len(deliverd.lines()) <= 3, deliverd.lines()
    finally:
        pg_ctl(stack, "-l", str(stack.dir / "log" / "postgresql.log"), "-w", "-t", "30", "restart")
    # Back: within an interval (at most a second) the next attempt connects, and every worker
    # reconnects at its next request, with nothing restarted.
    wait_until("the daemon to reconnect", lambda: stack.post().status == 200)
    wait_until("every worker to serve again",
               lambda: all(getattr(r, "status", None) == 200 for r in concurrent_posts(stack, 2 * WORKERS)))
    assert stack.daemon_pid() == pid and stack.daemon_alive()
    wait_until("webhook-deliverd to reconnect", lambda: deliverd.count("database: connected again") == 1)
    assert webhookd.count("database: connected again") == 1, webhookd.lines()
    assert stack.request("GET", "/_webhookd/health").status == 200
    # Every line either daemon wrote carries its priority, for journald.
    for tail in (webhookd, deliverd):
        bad = [line for line in tail.lines() if not re.match(r"<[0-7]>", line)]
        assert not bad, bad


def test_database_away_at_a_request_is_503_with_retry_after_on_every_path(outage):
    """The API, the agent methods and health: each 503 says when to come back."""
    stack = outage
    wait_until("the daemon to notice the stopped database", lambda: stack.post().status == 503)
    assert_db_503(stack.post())
    assert_db_503(stack.request("GET", "/api/v1/Webhook",
                                headers={"Authorization": basic(stack.user, stack.password)}))
    health = stack.request("GET", "/_webhookd/health")
    assert (health.status, health.headers.get("retry-after")) == (503, "2")
