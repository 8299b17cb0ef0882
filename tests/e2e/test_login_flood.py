"""Password hashing never takes the service down. A flood of Basic logins that each need a
password check (wrong, unknown or merely new credentials, from thousands of addresses across
127.0.0.0/8 so that no per-address budget stops it) gets bounded 503s with Retry-After, while
callers that need no hash (tickets, bearer tokens, cached Basic logins) keep being served.
Behaviour only: nothing here measures time (tests/bench/flood measures the throughput)."""
import base64
import hashlib
import random
import secrets
import socket
import threading

import pytest

from e2e_support import ENDPOINT, basic, error_body, parse_raw_response, private_stack, read_response

BUSY = error_body("ServiceUnavailable", "Too many passwords are being checked right now; try again shortly.",
                  "webhookd/auth")


@pytest.fixture(scope="module")
def flooded():
    """A stack with one hashing thread and one waiting place, so a handful of concurrent password
    checks saturate it; the per-address throttle is on, as in production."""
    settings = {"WEBHOOKD_MAX_FAILED_LOGINS": "10", "WEBHOOKD_PASSWORD_HASH_CONCURRENCY": "1",
                "WEBHOOKD_PASSWORD_HASH_QUEUE": "1", "WEBHOOKD_PASSWORD_HASH_WAIT_MS": "300"}
    with private_stack("webhookd-flood-", "fred", settings) as s:
        s.ticket = "7T:" + secrets.token_urlsafe(24) + "=="
        s.token = secrets.token_urlsafe(32)
        s.secrets |= {s.ticket, s.token}
        for scheme, value in (("soticket", s.ticket), ("bearer", s.token)):
            s.sql("INSERT INTO credential (token_sha256, scheme, associate_id, expires_at) "
                  "SELECT %s, %s, associate_id, now() + interval '1 hour' FROM associate WHERE name = %s",
                  (hashlib.sha256(value.encode()).digest(), scheme, s.user))
        yield s
        # No sanitizer spoke (in a build with them).
        log = (s.dir / "log" / "webhookd.log").read_text(errors="replace")
        for bad in ("AddressSanitizer", "runtime error", "LeakSanitizer"):
            assert bad not in log, log[-3000:]


def random_source():
    """An address of 127.0.0.0/8 other than the ones the clients below use."""
    return "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255), random.randint(1, 254))


class Flood:
    """Threads sending Basic logins that each need a password check, each from a fresh address,
    until stopped. Every answer is kept: status, Retry-After, body."""

    def __init__(self, stack, authorization, threads=24):
        self.stack, self.authorization = stack, authorization
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers = []
        self.failures = []
        self.busy_seen = threading.Event()
        self.threads = [threading.Thread(target=self.run) for _ in range(threads)]

    def run(self):
        while not self.stop.is_set():
            request = ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n" % (ENDPOINT, self.authorization())).encode()
            try:
                with socket.create_connection((self.stack.host, self.stack.port), timeout=10,
                                              source_address=(random_source(), 0)) as s:
                    s.sendall(request)
                    r = parse_raw_response(read_response(s))
            except (OSError, ValueError, IndexError) as e:
                with self.lock:
                    self.failures.append(repr(e))
                continue
            with self.lock:
                self.answers.append((r.status, r.headers.get("retry-after"), r.body))
            if r.status == 503:
                self.busy_seen.set()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def wrong_login():
    return basic("flood-%s" % secrets.token_hex(6), secrets.token_hex(8))


def serve_during(stack, flood, clients, rounds=60):
    """While the flood is on (and has been refused at least once), each client's requests, on a
    kept connection: every one must be a 200."""
    assert flood.busy_seen.wait(60), "the flood never saturated the hashing pool: %r" % flood.answers[:5]
    for name, authorization in clients:
        conn = stack.connection()
        try:
            for i in range(rounds):
                r = stack.post(auth=authorization, conn=conn)
                assert r.status == 200, (name, i, r)
        finally:
            conn.close()
        assert not flood.stop.is_set()


def check_flood_answers(flood, allowed):
    assert not flood.failures, flood.failures[:5]  # every request of the flood got its answer
    statuses = {a[0] for a in flood.answers}
    assert statuses <= allowed, statuses
    busy = [a for a in flood.answers if a[0] == 503]
    assert busy
    for status, retry_after, body in busy:
        assert retry_after == "1" and body == BUSY, (status, retry_after, body)


def test_wrong_logins_from_many_addresses_leave_tickets_tokens_and_cached_logins_alone(flooded):
    cached = basic(flooded.user, flooded.password)
    assert flooded.post(auth=cached).status == 200  # verified once: cached from here on
    with Flood(flooded, wrong_login) as flood:
        serve_during(flooded, flood, [("ticket", "SOTicket " + flooded.ticket),
                                      ("bearer", "Bearer " + flooded.token), ("cached basic", cached)])
    check_flood_answers(flood, {401, 503})
    assert any(a[0] == 401 for a in flood.answers)  # some were checked, and refused
    # Afterwards a login that needs a check gets one.
    assert flooded.post(auth=basic(flooded.user.upper(), flooded.password)).status == 200


def test_valid_uncached_logins_leave_tickets_alone(flooded):
    """The right password, but a header never seen before each time (the blanks between scheme and
    credentials vary), so that each one misses the credential cache and needs crypt(3)."""
    token = base64.b64encode(("%s:%s" % (flooded.user, flooded.password)).encode()).decode()

    def fresh_header():
        return "Basic" + "".join(random.choice(" \t") for _ in range(random.randint(8, 40))) + token

    with Flood(flooded, fresh_header) as flood:
        serve_during(flooded, flood, [("ticket", "SOTicket " + flooded.ticket)])
    check_flood_answers(flood, {200, 503})
    assert any(a[0] == 200 for a in flood.answers)


def test_a_restarted_daemon_checks_a_busy_clients_credentials_once(flooded):
    """After a restart nothing is cached: a client's whole first wave of requests, on many
    connections with the same credentials, follows one check instead of meeting 503s."""
    flooded.stop()
    flooded.start()
    herd = basic(flooded.user.swapcase(), flooded.password)  # a header no daemon has seen
    barrier = threading.Barrier(16)
    answers = []

    def one():
        barrier.wait(10)
        answers.append(flooded.post(auth=herd).status)

    threads = [threading.Thread(target=one) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [200] * 16, answers
