"""Fixtures of the end-to-end suite: one private stack per session, and state restoration.

Run as root with the Debian interpreter:

    cd <repo> && /usr/bin/python3 -m pytest -q tests/e2e
"""
import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from e2e_support import REPO, destroy_stack, new_stack
from receiver import Receiver


def pytest_configure(config):
    # Many tests send wrong passwords on purpose, all from 127.0.0.1: the daemon's throttle of
    # failed logins would answer them 429. test_security runs a stack with it on.
    os.environ["WEBHOOKD_MAX_FAILED_LOGINS"] = "0"


@pytest.fixture(scope="session")
def stack():
    """The session's stack with one associate, alice, whose password is random."""
    if os.geteuid() != 0:
        pytest.exit("the e2e suite needs root: deploy/dev/stack switches users", returncode=2)
    daemon = Path(os.environ.get("STACK_DAEMON_BIN") or REPO / "build" / "webhookd")
    if not daemon.exists():
        if "STACK_DAEMON_BIN" in os.environ:
            pytest.exit("STACK_DAEMON_BIN=%s does not exist" % daemon, returncode=2)
        # The build deploy/dev/up and tests/run make: out of tree, in build/.
        subprocess.run(["bash", "-c", 'source deploy/dev/lib.sh && build build'], cwd=str(REPO), check=True)
    s = new_stack("webhookd-e2e-")
    try:
        s.user = "alice"
        s.password = secrets.token_urlsafe(18)
        s.secrets = {s.password}  # tests add every secret they send; none may reach a log
        s.seed(s.user, s.password)
        yield s
        leaked = secrets_in_logs(s)
        assert not leaked, "secrets reached the logs of the run: %s" % leaked
    finally:
        destroy_stack(s)


@pytest.fixture(scope="session")
def receiver_server():
    rx = Receiver()
    try:
        yield rx
    finally:
        rx.close()


@pytest.fixture
def receiver(receiver_server):
    """A webhook target on loopback that answers 200 unless told otherwise; empty for each test."""
    receiver_server.clear()
    yield receiver_server
    receiver_server.clear()


@pytest.fixture
def webhooks(stack):
    """Lets a test save webhooks; every webhook is gone afterwards."""
    yield stack
    stack.sql("DELETE FROM webhook")


def secrets_in_logs(stack):
    """The log files of the stack (daemon, nginx, PostgreSQL) holding any registered secret."""
    found = []
    for f in sorted((stack.dir / "log").glob("*")):
        text = f.read_bytes()
        found += ["%s (a secret of %d bytes)" % (f.name, len(x)) for x in stack.secrets if x.encode() in text]
    return found


# -- state restoration --------------------------------------------------------------------------

def _snapshot_defaults(stack):
    return stack.sql("SELECT coalesce(jsonb_agg(to_jsonb(w)), '[]') FROM webhook_default w")[0][0]


def _restore_defaults(stack, rows):
    stack.transaction(
        ("DELETE FROM webhook_default", None),
        ("INSERT INTO webhook_default SELECT * FROM jsonb_populate_recordset(NULL::webhook_default, %s)",
         (json.dumps(rows),)))


@pytest.fixture
def defaults(stack):
    """Lets a test change webhook_default; the original row(s) come back afterwards."""
    saved = _snapshot_defaults(stack)
    try:
        yield stack
    finally:
        _restore_defaults(stack, saved)


def _snapshot_associates(stack):
    return stack.sql("SELECT coalesce(jsonb_agg(to_jsonb(a)), '[]') FROM associate a")[0][0]


def _restore_associates(stack, rows):
    # Row by row rather than DELETE all: credential and browser_session rows cascade from associate.
    columns = [r[0] for r in stack.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = 'associate' AND column_name <> 'associate_id' ORDER BY ordinal_position")]
    saved = json.dumps(rows)
    stack.transaction(
        ("DELETE FROM associate WHERE associate_id NOT IN "
         "(SELECT associate_id FROM jsonb_populate_recordset(NULL::associate, %s))", (saved,)),
        ("INSERT INTO associate OVERRIDING SYSTEM VALUE "
         "SELECT * FROM jsonb_populate_recordset(NULL::associate, %s) ON CONFLICT (associate_id) DO UPDATE SET "
         + ", ".join('"%s" = EXCLUDED."%s"' % (c, c) for c in columns), (saved,)))


@pytest.fixture
def associates(stack):
    """Lets a test add, retire or change associates; the table comes back as it was afterwards."""
    saved = _snapshot_associates(stack)
    try:
        yield stack
    finally:
        _restore_associates(stack, saved)


@pytest.fixture(autouse=True)
def daemon_watch(request):
    """A test during which the session's daemon dies fails in its teardown, naming itself, and the
    stack is restarted so that the death (a crash, a sanitizer abort) does not fail every later test."""
    if "stack" not in request.fixturenames:
        yield
        return
    stack = request.getfixturevalue("stack")
    pid = stack.daemon_pid()
    yield
    if stack.daemon_pid() == pid and not stack.daemon_alive():
        log = (stack.dir / "log" / "webhookd.log").read_text(errors="replace")[-800:]
        stack.start()
        pytest.fail("webhookd (pid %d) died during this test; the stack was restarted. Log tail:\n%s" % (pid, log))
