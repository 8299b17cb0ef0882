"""Routing errors (daemon), nginx's own errors, and database trouble: all in the one JSON shape."""
import json
import threading
import time

import psycopg2
import pytest

from e2e_support import DEFAULT_BODY, ENDPOINT, JSON_CT, basic, connect_all_workers, error_body, parse_raw_response

NOT_ALLOWED = error_body("MethodNotAllowed", "This endpoint accepts POST only.", "webhookd/router")
NOT_FOUND = error_body("NotFound", "There is no API endpoint at this path.", "webhookd/router")
NGINX_NOT_FOUND = error_body("NotFound", "There is no API endpoint at this path.", "nginx")
TOO_LARGE = error_body("PayloadTooLarge", "The request body exceeds the limit of 65536 bytes.", "nginx")
BAD_REQUEST = error_body("BadRequest", "The request is malformed or its headers are too large.", "nginx")
URI_TOO_LONG = error_body("UriTooLong", "The request URI is too long.", "nginx")
DB_UNAVAILABLE = error_body("ServiceUnavailable", "The database is unavailable; try again shortly.",
                            "webhookd/database")


def assert_error(r, status, body):
    assert r.status == status, r
    assert r.headers["content-type"] == JSON_CT
    assert r.headers["content-length"] == str(len(body))
    assert r.body == body
    doc = json.loads(r.body)
    assert list(doc) == ["Error", "ErrorType", "ErrorMessage", "ErrorSource"]
    assert doc["Error"] is True


# -- 405 --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO"])
@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "authenticated"])
@pytest.mark.parametrize("path", [ENDPOINT, ENDPOINT.lower() + "/"])
def test_other_methods_are_405(stack, method, authenticated, path):
    headers = {"Authorization": basic(stack.user, stack.password)} if authenticated else {}
    r = stack.request(method, path, headers=headers, body=b"{}" if method in ("PUT", "PATCH") else None)
    assert_error(r, 405, NOT_ALLOWED)
    assert r.headers["allow"] == "POST"
    assert "www-authenticate" not in r.headers


def test_head_is_405_without_body(stack):
    r = stack.request("HEAD", ENDPOINT)
    assert r.status == 405
    assert r.headers["allow"] == "POST"
    assert r.headers["content-type"] == JSON_CT
    assert r.body == b""


# -- 404 --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/v1/Agents/Webhook/Nope",
    "/api/",
    "/api/v1/",
    "/api/v1/Agents/Webhook",
    "/api/v1/Agents/Webhook/",
    "/api/v1/Agents/Webhook/CreateDefaultWebhookX",
    "/api/v1/Agents/Webhook/CreateDefaultWebhoo",
    "/api/v1/Agents/Webhook/CreateDefaultWebhook/x",
    "/api/v2/Agents/Webhook/CreateDefaultWebhook",
    "/api/v1/Agent/Webhook/CreateDefaultWebhook",
    "/API/",  # the API prefix matches in any case, as NetServer's routes do
])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_unknown_api_paths_are_404_from_the_daemon(stack, path, method):
    r = stack.request(method, path)
    assert_error(r, 404, NOT_FOUND)
    assert "allow" not in r.headers
    assert "www-authenticate" not in r.headers


@pytest.mark.parametrize("path", [
    "/", "/v1/Agents/Webhook/CreateDefaultWebhook", "/apix/v1", "/.env", "/robots.txt",
])
@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
def test_paths_outside_api_are_404_from_nginx(stack, path, method):
    assert_error(stack.request(method, path), 404, NGINX_NOT_FOUND)


@pytest.mark.parametrize("path", ["/index.html", "/favicon.gif", "/x.jpg"])
def test_paths_with_an_extension_are_404_json(stack, path):
    assert_error(stack.request("GET", path), 404, NGINX_NOT_FOUND)


def test_api_without_slash_is_404_json(stack):
    assert_error(stack.post("/api", auth=None), 404, NGINX_NOT_FOUND)


# -- request size limits (nginx) ---------------------------------------------------------------------

@pytest.mark.parametrize("size", [65537, 70_000, 300_000])
def test_body_over_64k_is_413_json(stack, size):
    r = stack.post(body=b"x" * size, headers={"Content-Type": "application/json"})
    assert_error(r, 413, TOO_LARGE)
    assert json.loads(r.body)["ErrorType"] == "PayloadTooLarge"


def test_chunked_body_over_64k_is_413_json(stack):
    chunks = [b"y" * 8192] * 9  # 73,728 bytes, no Content-Length
    conn = stack.connection()
    try:
        conn.request("POST", ENDPOINT, body=iter(chunks), encode_chunked=True,
                     headers={"Authorization": basic(stack.user, stack.password)})
        resp = conn.getresponse()
        body = resp.read()
    except (BrokenPipeError, ConnectionResetError):
        pytest.fail("nginx closed the connection without a 413 response")
    finally:
        conn.close()
    assert resp.status == 413
    assert resp.getheader("Content-Type") == JSON_CT
    assert body == TOO_LARGE


def test_declared_length_over_64k_is_413_before_the_body(stack):
    raw = stack.raw(("POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" % ENDPOINT).encode())
    r = parse_raw_response(raw)
    assert_error(r, 413, TOO_LARGE)


def test_headers_over_16k_are_400_json(stack):
    r = stack.post(headers={"X-Big": "h" * 20_000})
    assert_error(r, 400, BAD_REQUEST)


def test_headers_within_limits_are_fine(stack):
    r = stack.post(headers={"X-Big": "h" * 12_000, "X-Other": "o" * 3000})
    assert r.status == 200 and r.body == DEFAULT_BODY


def test_uri_over_16k_is_414_json(stack):
    r = parse_raw_response(stack.raw(("POST /api/%s HTTP/1.1\r\nHost: t\r\n\r\n" % ("u" * 20_000)).encode()))
    assert_error(r, 414, URI_TOO_LONG)


@pytest.mark.parametrize("line", [b"GARBAGE", b"GET /../x HTTP/1.1", b"POST /api/../../x HTTP/1.1",
                                  b"POST /api/v1/Agents/Webhook/CreateDefaultWebhook%00 HTTP/1.1"],
                         ids=["garbage", "dot-dot", "api-dot-dot", "nul"])
def test_malformed_request_line_is_400_json(stack, line):
    r = parse_raw_response(stack.raw(line + b"\r\nHost: t\r\n\r\n"))
    assert_error(r, 400, BAD_REQUEST)


# nginx refuses some requests before any location: the method TRACE (405), a Transfer-Encoding
# other than chunked (501), an HTTP version other than 1.x (505). Same JSON shape as the rest.
NGINX_405 = error_body("MethodNotAllowed", "The request method is not allowed.", "nginx")
NGINX_501 = error_body("NotImplemented", "The request uses a transfer coding the server does not implement.",
                       "nginx")
NGINX_505 = error_body("HttpVersionNotSupported", "The HTTP version is not supported: use HTTP/1.1.", "nginx")


@pytest.mark.parametrize("request_bytes,status,body", [
    (b"TRACE %s HTTP/1.1\r\nHost: t\r\n\r\n" % ENDPOINT.encode(), 405, NGINX_405),
    (b"TRACE / HTTP/1.1\r\nHost: t\r\n\r\n", 405, NGINX_405),
    (b"TRACE /_webhookd/health HTTP/1.1\r\nHost: t\r\n\r\n", 405, NGINX_405),
    (b"POST %s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n" % ENDPOINT.encode(), 501, NGINX_501),
    (b"POST %s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" % ENDPOINT.encode(),
     501, NGINX_501),
    (b"POST %s HTTP/2.0\r\nHost: t\r\n\r\n" % ENDPOINT.encode(), 505, NGINX_505),
    (b"GET / HTTP/3.0\r\nHost: t\r\n\r\n", 505, NGINX_505),
    (b"GET /api/x HTTP/9.9\r\nHost: t\r\n\r\n", 505, NGINX_505),
], ids=["trace-api", "trace-root", "trace-monitoring", "gzip", "gzip-chunked", "http2", "http3", "http9"])
def test_nginx_refusals_of_the_protocol_are_json(stack, request_bytes, status, body):
    r = parse_raw_response(stack.raw(request_bytes))
    assert_error(r, status, body)


def test_missing_host_is_400_json(stack):
    # HTTP/1.1 without Host: nginx rejects it after the request line, so the JSON page applies.
    r = parse_raw_response(stack.raw(("POST %s HTTP/1.1\r\n\r\n" % ENDPOINT).encode()))
    assert_error(r, 400, BAD_REQUEST)


def test_no_error_leaks_internals(stack):
    for r in (stack.request("GET", ENDPOINT), stack.post(auth=None), stack.post("/api/x"),
              stack.post(body=b"z" * 70_000)):
        assert b"nginx/" not in r.body and b"SELECT" not in r.body
        assert r.headers.get("server", "nginx") == "nginx"  # server_tokens off


# -- database trouble (the daemon's own 503) -------------------------------------------------------------

@pytest.fixture
def cut_sessions(stack):
    """Afterwards: the daemon's role may log in again, and the daemon answers normally."""
    try:
        yield stack
    finally:
        stack.sql("ALTER ROLE webhookd LOGIN")
        connect_all_workers(stack)


def _terminate_daemon_sessions(stack):
    return stack.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'webhookd'")[0][0]


def test_lost_database_sessions_are_reestablished(cut_sessions):
    stack = cut_sessions
    for _ in range(16):
        assert stack.post().status == 200
    assert _terminate_daemon_sessions(stack) >= 1
    # Each worker notices its broken session on its next query, reconnects and retries once:
    # no client sees the outage.
    for _ in range(40):
        r = stack.post()
        assert r.status == 200 and r.body == DEFAULT_BODY, r


def test_unreachable_database_is_503_then_recovers(cut_sessions):
    stack = cut_sessions
    stack.sql("ALTER ROLE webhookd NOLOGIN")
    _terminate_daemon_sessions(stack)
    # The change feed notices the cut within milliseconds; until then an answer may still come
    # from memory (nothing changed). From then on every request needs the database.
    deadline = time.monotonic() + 2
    while stack.post().status != 503:
        assert time.monotonic() < deadline, "the daemon did not notice the lost database"
        time.sleep(0.01)
    for _ in range(10):
        r = stack.post()
        assert_error(r, 503, DB_UNAVAILABLE)
    # Wrong credentials need the lookup too: a 503, never a misleading 401.
    r = stack.post(auth=basic("alice", "wrong"))
    assert_error(r, 503, DB_UNAVAILABLE)
    # Requests without any credentials are refused before any lookup.
    assert stack.post(auth=None).status == 401
    stack.sql("ALTER ROLE webhookd LOGIN")
    # While the database was away the daemon tried again at growing intervals (at most a second
    # apart), answering 503 in between: the first 200 comes within that interval.
    deadline = time.monotonic() + 5
    while True:
        r = stack.post()
        if r.status == 200:
            break
        assert_error(r, 503, DB_UNAVAILABLE)
        assert r.headers["retry-after"] == "2"
        assert time.monotonic() < deadline, "the daemon did not reconnect"
        time.sleep(0.05)
    assert r.body == DEFAULT_BODY


def test_slow_database_is_503_within_statement_timeout(stack):
    # A lock held on webhook_default stalls the daemon's read; statement_timeout (2 s) turns it into
    # the daemon's JSON 503 well before nginx's fastcgi_read_timeout (15 s).
    stack.flush_caches()  # so the request reads the table locked below
    locker = psycopg2.connect(stack.dsn())
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE webhook_default IN ACCESS EXCLUSIVE MODE")
            t0 = time.monotonic()
            r = stack.post()
            elapsed = time.monotonic() - t0
        assert_error(r, 503, DB_UNAVAILABLE)
        assert 1.5 <= elapsed < 6, elapsed
    finally:
        locker.rollback()
        locker.close()
    r = stack.post()
    assert r.status == 200 and r.body == DEFAULT_BODY


def test_lock_released_mid_request_gives_200(stack):
    stack.flush_caches()  # so the request reads the table locked below
    locker = psycopg2.connect(stack.dsn())
    result = {}
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE webhook_default IN ACCESS EXCLUSIVE MODE")
            t = threading.Thread(target=lambda: result.setdefault("r", stack.post()))
            t.start()
            time.sleep(0.5)
        locker.rollback()
        t.join(10)
    finally:
        locker.close()
    r = result["r"]
    assert r.status == 200 and r.body == DEFAULT_BODY
