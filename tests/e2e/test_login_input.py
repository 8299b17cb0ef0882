"""Every byte sequence in a credential or a header value is a clean 4xx, never a 500, and what
cannot be valid (src/auth.c: the rules for user names, passwords and tokens) never reaches the
database or the logs. Raw HTTP, so the bytes arrive exactly as written."""
import base64
import threading
import time

import psycopg2
import pytest

from e2e_support import ENDPOINT, basic, parse_raw_response

# The tables a login reads.
LOGIN_TABLES = "associate, credential, browser_session, application"


def raw_post(stack, headers, timeout=10):
    """POST with the header lines given as bytes (name, value), on a connection of its own."""
    request = b"POST " + ENDPOINT.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n"
    for name, value in headers:
        request += name + b": " + value + b"\r\n"
    data = stack.raw(request + b"\r\n", timeout=timeout)
    assert data, "no answer"
    return parse_raw_response(data)


def b64(raw):
    return base64.b64encode(raw)


# Values that break a rule: refused at the door, so they answer even while every table a login
# reads is locked. (name, value, status, ErrorMessage fragment)
REFUSED_AT_THE_DOOR = {
    "basic-user-not-utf8": (b"Authorization", b"Basic " + b64(b"\xffalice:pw"), 401, b"malformed"),
    "basic-user-latin1": (b"Authorization", b"Basic " + b64(b"j\xf8rgen:pw"), 401, b"malformed"),
    "basic-user-surrogate": (b"Authorization", b"Basic " + b64(b"\xed\xa0\x80:pw"), 401, b"malformed"),
    "basic-user-overlong": (b"Authorization", b"Basic " + b64(b"\xc0\xaf:pw"), 401, b"malformed"),
    "basic-user-control": (b"Authorization", b"Basic " + b64(b"al\x01ice:pw"), 401, b"malformed"),
    "basic-user-newline": (b"Authorization", b"Basic " + b64(b"alice\r\nX-Injected: 1:pw"), 401, b"malformed"),
    "basic-user-c1": (b"Authorization", b"Basic " + b64(b"alice\xc2\x9b:pw"), 401, b"malformed"),
    "basic-user-empty": (b"Authorization", b"Basic " + b64(b":pw"), 401, b"malformed"),
    "basic-user-129-bytes": (b"Authorization", b"Basic " + b64(b"u" * 129 + b":pw"), 401, b"malformed"),
    "basic-password-257-bytes": (b"Authorization", b"Basic " + b64(b"alice:" + b"p" * 257), 401, b"malformed"),
    "basic-nul": (b"Authorization", b"Basic " + b64(b"alice:p\x00w"), 401, b"malformed"),
    "basic-raw-bytes": (b"Authorization", b"Basic \xff\xfe\xfd", 401, b"malformed"),
    "basic-raw-utf8": (b"Authorization", b"Basic \xc3\xa5\xc3\xa5", 401, b"malformed"),
    "ticket-not-ascii": (b"Authorization", b"SOTicket 7T:\xff\xfe==", 401, b"malformed"),
    "ticket-utf8": (b"Authorization", b"SOTicket 7T:caf\xc3\xa9", 401, b"malformed"),
    "ticket-513-bytes": (b"Authorization", b"SOTicket " + b"t" * 513, 401, b"malformed"),
    "bearer-del": (b"Authorization", b"Bearer abc\x7fdef", 401, b"malformed"),
    "scheme-not-ascii": (b"Authorization", b"B\xe4sic abc", 401, b"malformed"),
    "cookie-not-ascii": (b"Cookie", b"SO_SESSION=\xff\xfe\xfd", 401, b"The session is not valid."),
    "cookie-utf8": (b"Cookie", b"SO_SESSION=s\xc3\xa9ssion", 401, b"The session is not valid."),
    "cookie-control": (b"Cookie", b"SO_SESSION=abc\x01def", 401, b"The session is not valid."),
    "cookie-empty": (b"Cookie", b"SO_SESSION=", 401, b"The session is not valid."),
    "cookie-too-long": (b"Cookie", b"SO_SESSION=" + b"s" * 600, 401, b"Authentication required"),
}


@pytest.mark.parametrize("case", list(REFUSED_AT_THE_DOOR.values()), ids=list(REFUSED_AT_THE_DOOR))
def test_what_cannot_be_valid_never_reaches_the_database(stack, case):
    name, value, status, message = case
    log = stack.dir / "log" / "webhookd.log"
    pg_log = stack.dir / "log" / "postgresql.log"
    skip, pg_skip = len(log.read_bytes()), len(pg_log.read_bytes())
    # While the tables are locked, a request that read any of them would wait (and end in a 503 at
    # statement_timeout, 2 s): an answer within 1.5 s was given without the database.
    locker = psycopg2.connect(stack.dsn())
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE" % LOGIN_TABLES)
            r = raw_post(stack, [(name, value)], timeout=1.5)
    finally:
        locker.rollback()
        locker.close()
    assert r.status == status, r
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert message in r.body, r
    # Nothing about it in any log: no database error, no echo of the bytes.
    assert b"database" not in log.read_bytes()[skip:]
    assert b"ERROR" not in pg_log.read_bytes()[pg_skip:]


def test_the_lock_would_catch_a_database_read(stack):
    """The method above, checked: a well-formed unknown ticket must be looked up, so it waits for
    the lock, and answers once the lock is gone."""
    locker = psycopg2.connect(stack.dsn())
    answers = []
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE" % LOGIN_TABLES)
            t = threading.Thread(target=lambda: answers.append(
                raw_post(stack, [(b"Authorization", b"SOTicket 7T:never-issued==")])))
            t.start()
            deadline = time.monotonic() + 5
            while True:
                waiting = stack.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'webhookd' "
                                    "AND wait_event_type = 'Lock'")[0][0]
                if waiting:
                    break
                assert time.monotonic() < deadline, "the lookup never waited for the lock"
                time.sleep(0.02)
            assert not answers
    finally:
        locker.rollback()
        locker.close()
    t.join(10)
    assert answers and answers[0].status == 401 and b"The ticket is not valid." in answers[0].body


def test_application_token_that_cannot_be_valid(stack):
    """SO-AppToken is checked after the login: with a cached Basic login, nothing else is read."""
    assert stack.post().status == 200  # the login is cached from here on
    for value in (b"\xff" * 10, b"a b", b"tok\x01en", b"t" * 513, b"caf\xc3\xa9"):
        locker = psycopg2.connect(stack.dsn())
        try:
            with locker.cursor() as cur:
                cur.execute("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE" % LOGIN_TABLES)
                r = raw_post(stack, [(b"Authorization", basic(stack.user, stack.password).encode()),
                                     (b"SO-AppToken", value)], timeout=1.5)
        finally:
            locker.rollback()
            locker.close()
        assert r.status == 403 and b"The application token in SO-AppToken is not valid." in r.body, (value, r)


# Bytes that a header value may carry through nginx: controls, DEL, bytes that are never UTF-8,
# overlong and surrogate forms, a lone continuation byte, a truncated sequence, and fine UTF-8.
ODD_BYTES = [b"\x01", b"\x08", b"\x1b", b"\x7f", b"\x80", b"\xc0\x80", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80",
             b"\xff", b"\xe2\x82", b"\xc3\xa5"]
HEADERS = [b"Authorization", b"Cookie", b"X-XSRF-TOKEN", b"SO-AppToken", b"Accept", b"Accept-Language",
           b"SO-Language", b"SO-Culture", b"SO-TimeZone", b"If-Match", b"If-Unmodified-Since", b"Content-Type"]


@pytest.mark.parametrize("header", HEADERS, ids=[h.decode() for h in HEADERS])
def test_odd_bytes_in_any_header_are_a_4xx_or_harmless(stack, header):
    """Every header value the daemon reads, with odd bytes at its start, middle and end, alone or
    around a plausible value: a 4xx, or the 200 of a request that did not need the header, never
    a 5xx. With Basic credentials (except when the header is Authorization itself)."""
    log = stack.dir / "log" / "webhookd.log"
    skip = len(log.read_bytes())
    plausible = {b"Authorization": b"Basic " + b64(b"alice:x"), b"Cookie": b"SO_SESSION=abc",
                 b"Accept": b"application/json", b"Accept-Language": b"en", b"SO-Language": b"en",
                 b"SO-Culture": b"en", b"SO-TimeZone": b"UTC", b"If-Unmodified-Since":
                 b"Sat, 28 Nov 2026 10:00:00 GMT", b"Content-Type": b"application/json"}.get(header, b"abc")
    auth = [] if header == b"Authorization" else [(b"Authorization", basic(stack.user, stack.password).encode())]
    for odd in ODD_BYTES:
        for value in (odd, odd + plausible, plausible + odd, plausible[:3] + odd + plausible[3:]):
            r = raw_post(stack, auth + [(header, value)])
            assert r.status < 500, (header, value, r)
            if r.status >= 400:
                assert r.body.startswith((b'{"Error":true', b"<?xml")), (header, value, r)
    assert b"database" not in log.read_bytes()[skip:]
