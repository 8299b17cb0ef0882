"""The SSRF guard of the target check, on stacks with production settings.

A production installation allows neither http:// targets nor private ones: a TargetUrl may not
make the daemon POST into its own network. The guard judges the address libcurl is about to
connect to, in the socket-open callback (net/target.c, net_opensocket): a refused address never
gets a socket, so no packet leaves. That is what lets this suite name 10.0.0.1, 169.254.169.254
and 224.0.0.1 without sending them anything; every refusal message below starts "refused: <the
address> is ...", which only that callback writes.

For the loopback forms the proof is direct: a listener on 127.0.0.1 and ::1 at the TargetUrl's
port counts connections, and sees none. The same URLs on the session stack (private targets
allowed) do reach it, which shows the listener would have noticed.
"""
import json
import socket
import threading

import pytest

from e2e_support import JSON_CT, error_body, free_port, private_stack

SAVE = "/api/v1/Agents/Webhook/SaveWebhook"
REST = "/api/v1/Webhook"


def save(stack, url, path=SAVE):
    body = json.dumps({"Name": "ssrf", "Events": ["contact.created"], "TargetUrl": url}).encode()
    return stack.post(path, headers={"Content-Type": "application/json"}, body=body)


def refused(why):
    return error_body("BadRequest", "TargetUrl did not take the test event: refused: %s." % why, "webhookd/webhook")


def not_allowed(address, what):
    return refused("%s is %s and this installation does not allow private targets" % (address, what))


def never(address, what):
    return refused("%s is %s, which is never allowed" % (address, what))


HTTP_REFUSED = error_body("BadRequest", "TargetUrl must use https:// (this installation does not allow http://).",
                          "webhookd/webhook")


class Listener:
    """A TCP listener on 127.0.0.1 and ::1 at one port that counts every connection and closes it
    at once. It needs no TLS: a connection counts when it is accepted, before any byte is read, and
    the close makes a TLS client fail at once instead of waiting for its timeout."""

    def __init__(self):
        self.port = free_port()
        self.count = 0
        self._lock = threading.Lock()
        self._socks = []
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((host, self.port))
            s.listen(64)
            self._socks.append(s)
            threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, s):
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return  # closed
            # Counted before the close: the daemon answers only after the close failed its TLS.
            with self._lock:
                self.count += 1
            conn.close()

    def connections(self):
        with self._lock:
            return self.count

    def close(self):
        for s in self._socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


@pytest.fixture(scope="module")
def listener():
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def production():
    """Production defaults: https:// only, no private targets."""
    with private_stack("webhookd-ssrf-", "pat", {"WEBHOOKD_ALLOW_PRIVATE_TARGETS": "no",
                                                 "WEBHOOKD_ALLOW_HTTP_TARGETS": "no"}) as s:
        yield s


@pytest.fixture(scope="module")
def http_public():
    """http:// allowed, private targets still not."""
    with private_stack("webhookd-ssrf-http-", "hal", {"WEBHOOKD_ALLOW_PRIVATE_TARGETS": "no",
                                                      "WEBHOOKD_ALLOW_HTTP_TARGETS": "yes"}) as s:
        yield s


def stored(stack):
    return stack.sql("SELECT count(*) FROM webhook")[0][0]


# Loopback in every spelling libcurl accepts; each names the address actually connected to.
LOOPBACK = [
    ("127.0.0.1", ["127.0.0.1"]),
    ("[::1]", ["::1"]),
    # localhost is 127.0.0.1, ::1 or both, depending on /etc/hosts and the libcurl version: the
    # message names the first address refused.
    ("localhost", ["127.0.0.1", "::1"]),
    ("127.1", ["127.0.0.1"]),
    ("2130706433", ["127.0.0.1"]),
    ("0x7f000001", ["127.0.0.1"]),
    ("[::ffff:127.0.0.1]", ["::ffff:127.0.0.1"]),
]


@pytest.mark.parametrize("host,addresses", LOOPBACK, ids=[h for h, _ in LOOPBACK])
def test_loopback_is_refused_and_never_connected(production, listener, host, addresses):
    before = listener.connections()
    url = "https://%s:%d/hook" % (host, listener.port)
    for path in (SAVE, REST):
        r = save(production, url, path)
        assert (r.status, r.headers["content-type"]) == (400, JSON_CT), r
        assert r.body in [not_allowed(a, "a loopback address") for a in addresses], r.body
    assert listener.connections() == before
    assert stored(production) == 0


def test_the_unspecified_address_is_never_allowed(production, listener):
    # On Linux a connection to 0.0.0.0 lands on this host, so the listener would see it.
    before = listener.connections()
    for host, address in (("0.0.0.0", "0.0.0.0"), ("0", "0.0.0.0"), ("[::]", "::")):
        r = save(production, "https://%s:%d/hook" % (host, listener.port))
        assert (r.status, r.body) == (400, never(address, "an unspecified address")), (host, r)
    assert listener.connections() == before
    assert stored(production) == 0


# Refused in the socket-open callback, before any socket exists: nothing is sent to them.
INTERNAL = [
    ("10.0.0.1", not_allowed("10.0.0.1", "a private address")),
    ("169.254.169.254", not_allowed("169.254.169.254", "a link-local address")),
    ("224.0.0.1", never("224.0.0.1", "a multicast address")),
    ("100.64.0.1", not_allowed("100.64.0.1", "a private address")),
    ("192.0.2.1", never("192.0.2.1", "a reserved address")),
    ("255.255.255.255", never("255.255.255.255", "a reserved address")),
    ("[fd00::1]", not_allowed("fd00::1", "a private address")),
    ("[fe80::1]", not_allowed("fe80::1", "a link-local address")),
    ("[ff02::1]", never("ff02::1", "a multicast address")),
    # IPv6 spellings of internal IPv4 addresses are judged by the address they embed.
    ("[::ffff:10.0.0.1]", not_allowed("::ffff:10.0.0.1", "a private address")),
    ("[::ffff:169.254.169.254]", not_allowed("::ffff:169.254.169.254", "a link-local address")),
    ("[64:ff9b::a9fe:a9fe]", not_allowed("64:ff9b::a9fe:a9fe", "a link-local address")),
    ("[2002:a00:1::1]", not_allowed("2002:a00:1::1", "a private address")),
]


@pytest.mark.parametrize("host,body", INTERNAL, ids=[h for h, _ in INTERNAL])
def test_internal_addresses_are_refused_before_connecting(production, host, body):
    r = save(production, "https://%s/latest/meta-data/" % host)
    assert (r.status, r.headers["content-type"], r.body) == (400, JSON_CT, body)
    assert stored(production) == 0


def test_a_replace_to_an_internal_address_is_refused(production, listener):
    """A stored webhook (written here in SQL: this stack can reach no public target) moved to
    loopback: refused like a new one, and the row stays as it was."""
    stack = production
    hook_id = stack.sql("INSERT INTO webhook (name, events, target_url, state, type) VALUES "
                        "('stored', '{contact.created}', 'https://hooks.example.com/in', 1, 'webhook') "
                        "RETURNING webhook_id")[0][0]
    try:
        before = stack.sql("SELECT to_jsonb(w) FROM webhook w WHERE webhook_id = %s", (hook_id,))
        body = json.dumps({"WebhookId": hook_id, "Name": "moved", "Events": ["contact.created"],
                           "TargetUrl": "https://127.0.0.1:%d/hook" % listener.port}).encode()
        seen = listener.connections()
        r = stack.post(SAVE, headers={"Content-Type": "application/json"}, body=body)
        assert (r.status, r.body) == (400, not_allowed("127.0.0.1", "a loopback address"))
        assert listener.connections() == seen
        assert stack.sql("SELECT to_jsonb(w) FROM webhook w WHERE webhook_id = %s", (hook_id,)) == before
    finally:
        stack.sql("DELETE FROM webhook")


def test_http_is_refused_without_a_request(production, receiver):
    url = receiver.url("/hooks/plain")
    for path in (SAVE, REST):
        r = save(production, url, path)
        assert (r.status, r.headers["content-type"], r.body) == (400, JSON_CT, HTTP_REFUSED)
    # Upper case is the same scheme.
    r = save(production, url.replace("http://", "HTTP://"))
    assert (r.status, r.body) == (400, HTTP_REFUSED)
    assert receiver.requests() == []
    assert stored(production) == 0


def test_http_allowed_still_refuses_loopback(http_public, receiver):
    for host in ("127.0.0.1", "localhost"):
        url = "http://%s:%d/hooks/plain" % (host, receiver.port)
        r = save(http_public, url)
        assert (r.status, r.headers["content-type"], r.body) == (400, JSON_CT,
                                                                 not_allowed("127.0.0.1", "a loopback address"))
    assert receiver.requests() == []
    assert stored(http_public) == 0


def test_private_targets_allowed_accept_loopback(webhooks, receiver):
    """The session stack allows private targets (and http://): the receiver on loopback takes the
    test event and the webhook is stored."""
    stack = webhooks
    for host in ("127.0.0.1", "localhost", "127.1"):
        url = "http://%s:%d/hooks/%s" % (host, receiver.port, host)
        r = save(stack, url)
        assert (r.status, r.json()["TargetUrl"]) == (200, url), r
        assert len(receiver.requests("/hooks/%s" % host)) == 1
    assert stack.sql("SELECT count(*) FROM webhook")[0][0] == 3


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "127.1", "[::ffff:127.0.0.1]"])
def test_the_listener_sees_what_an_allowed_target_check_connects(webhooks, listener, host):
    """The control for the refusals above: with private targets allowed the same https:// URL does
    connect, and the listener counts it (the TLS handshake then fails, which libcurl words)."""
    before = listener.connections()
    r = save(webhooks, "https://%s:%d/hook" % (host, listener.port))
    assert r.status == 400, r
    assert r.json()["ErrorMessage"].startswith("TargetUrl did not take the test event: TLS: "), r.body
    assert listener.connections() == before + 1
