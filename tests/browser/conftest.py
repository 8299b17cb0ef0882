"""Fixtures of the browser tests: a private stack of tests/e2e (PostgreSQL, webhookd,
webhook-deliverd and nginx with the production site file, which serves the page at /operator/)
with a fast delivery schedule, a loopback receiver, and a headless Chromium (Debian's package).

Run as root with the Debian interpreter, after a build (build/):

    cd <repo> && /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/browser

OPERATOR_SCREENSHOTS=1 writes the README's screenshots to doc/screenshots/.
"""
import os
import sys
from pathlib import Path

import pytest

# The end-to-end suite's stack, receiver and helpers, reused rather than copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from cdp import Browser  # noqa: E402
from e2e_support import REPO, private_stack  # noqa: E402
from receiver import Receiver  # noqa: E402

# Retries after 200 and 400 ms and one cycle only, so that a failing event is given up (Failed)
# within a second; three failed attempts in a row turn its webhook TooManyErrors.
SETTINGS = {
    "WEBHOOKD_DELIVERY_RETRY_DELAYS_MS": "200,400",
    "WEBHOOKD_DELIVERY_CYCLE_DELAY_S": "1",
    "WEBHOOKD_DELIVERY_MAX_CYCLES": "1",
    "WEBHOOKD_DELIVERY_MAX_CONSECUTIVE_ERRORS": "3",
    "WEBHOOKD_DELIVERY_LEASE_S": "2",
    "WEBHOOKD_DELIVERY_TIMEOUT_MS": "1000",
    # One test signs in with a wrong password on purpose.
    "WEBHOOKD_MAX_FAILED_LOGINS": "0",
}


@pytest.fixture(scope="session")
def stack():
    if os.geteuid() != 0:
        pytest.exit("the browser tests need root: deploy/dev/stack switches users", returncode=2)
    if not (REPO / "build" / "webhookd").exists() and "STACK_DAEMON_BIN" not in os.environ:
        pytest.exit("build first: source deploy/dev/lib.sh && build build", returncode=2)
    with private_stack("webhookd-browser-", "olivia", SETTINGS) as s:
        yield s


@pytest.fixture(scope="session")
def rx():
    receiver = Receiver()
    try:
        yield receiver
    finally:
        receiver.close()


@pytest.fixture(scope="session")
def browser():
    with Browser() as b:
        yield b


@pytest.fixture
def page(browser):
    """A fresh tab (its own sessionStorage) at desktop size."""
    p = browser.new_page(1280, 800)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """Where screenshots go: doc/screenshots/ with OPERATOR_SCREENSHOTS=1, else a scratch folder."""
    if os.environ.get("OPERATOR_SCREENSHOTS") == "1":
        folder = REPO / "doc" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")
