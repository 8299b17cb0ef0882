"""End-to-end support: a private stack (PostgreSQL, webhookd, nginx) started by deploy/dev/stack.

Run as root with the Debian interpreter:

    cd <repo> && /usr/bin/python3 -m pytest -q tests/e2e

The session stack lives in a fresh folder under /tmp on a free loopback port, so several people
(and several runs) can test on one machine at once. Nothing here hard-codes the checkout's path.
"""
import base64
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "deploy" / "dev" / "stack"

ENDPOINT = "/api/v1/Agents/Webhook/CreateDefaultWebhook"
JSON_CT = "application/json; charset=utf-8"
WWW_AUTHENTICATE = 'Basic realm="SuperOffice Username or Ticket", charset="UTF-8"'
# An onsite installation (the stack's default) accepts Basic, SOTicket and Bearer, and its 401s
# carry one WWW-Authenticate challenge for each, in this order.
WWW_AUTHENTICATE_ALL = [
    WWW_AUTHENTICATE,
    'SOTicket realm="SuperOffice Username or Ticket"',
    'Bearer realm="SuperOffice Username or Ticket"',
]

# The documented NetServer defaults, byte for byte, as the migrations install them.
DEFAULT_BODY = (
    b'{"WebhookId":0,"Name":null,"Events":["contact.created","contact.deleted"],"TargetUrl":null,'
    b'"Secret":null,"State":"Active","Type":"webhook","Headers":null,"Properties":null,'
    b'"Registered":"0001-01-01T00:00:00","RegisteredAssociate":null,'
    b'"Updated":"0001-01-01T00:00:00","UpdatedAssociate":null}'
)


def error_body(error_type, message, source):
    """The exact bytes of an error body (daemon or nginx): one compact object, fixed member order."""
    return json.dumps(
        {"Error": True, "ErrorType": error_type, "ErrorMessage": message, "ErrorSource": source},
        separators=(",", ":"), ensure_ascii=False).encode()


def jstr(value):
    """A JSON string (or null) as the daemon writes it: compact, UTF-8, '/' not escaped."""
    return json.dumps(value, ensure_ascii=False)


def webhook_body(name=None, events=("contact.created", "contact.deleted"), target_url=None, secret=None,
                 state="Active", type_="webhook", headers="null", properties="null"):
    """Expected CreateDefaultWebhook bytes; headers and properties are raw JSON text."""
    events_json = "null" if events is None else "[" + ",".join(jstr(e) for e in events) + "]"
    text = (
        '{"WebhookId":0,"Name":%s,"Events":%s,"TargetUrl":%s,"Secret":%s,"State":%s,"Type":%s,'
        '"Headers":%s,"Properties":%s,"Registered":"0001-01-01T00:00:00","RegisteredAssociate":null,'
        '"Updated":"0001-01-01T00:00:00","UpdatedAssociate":null}'
        % (jstr(name), events_json, jstr(target_url), jstr(secret), jstr(state), jstr(type_),
           headers, properties))
    return text.encode()


def basic(user, password):
    """An Authorization header value for Basic; user and password may be str or bytes."""
    if isinstance(user, str):
        user = user.encode()
    if isinstance(password, str):
        password = password.encode()
    return "Basic " + base64.b64encode(user + b":" + password).decode("ascii")


class Response:
    def __init__(self, status, headers, body, header_list=None):
        self.status = status
        self.headers = headers  # lower-cased names; the last value of a repeated header
        self.body = body
        self.header_list = header_list if header_list is not None else list(headers.items())

    def header_values(self, name):
        """Every value of a header, in order (WWW-Authenticate may come several times)."""
        return [v for k, v in self.header_list if k == name.lower()]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Response(%d, %r, %r)" % (self.status, self.headers, self.body[:300])


def pg_bin(name=None):
    """The newest PostgreSQL server's bin folder (or a program in it), as Debian installs it."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                   key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parent.name.split(".")])
    assert found, "no PostgreSQL server binaries under /usr/lib/postgresql"
    return found[-1] / name if name else found[-1]


def token_digest(text):
    """The SHA-256 of a ticket, token, session or XSRF value, as the database stores it (bytea)."""
    import hashlib
    return hashlib.sha256(text.encode()).digest()


def wrk(stack, seconds, connections=64, during=None, timeout_s=10):
    """Runs wrk (2 threads) with tests/load/basic.lua as the stack's user; `during` runs meanwhile.
    Returns the RESULT fields tests/load/common.lua prints, as numbers."""
    import re
    env = dict(os.environ, WRK_USER=stack.user, WRK_PASSWORD=stack.password)
    proc = subprocess.Popen(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "%ds" % timeout_s,
                             "-s", str(REPO / "tests" / "load" / "basic.lua"), stack.base_url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        if during is not None:
            during()
        out = proc.communicate(timeout=seconds + 60)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    m = re.search(r"^RESULT (.*)$", out, re.M)
    assert m, out
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie counts as dead: the stack script's shell is its parent and may not have reaped it.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Stack:
    """One folder holding PostgreSQL, webhookd and nginx, driven through deploy/dev/stack."""

    def __init__(self, directory, port):
        self.dir = Path(directory)
        self.port = port
        self.host = "127.0.0.1"
        self.base_url = "http://%s:%d" % (self.host, port)
        self.user = None
        self.password = None
        self._db = None

    # -- lifecycle -------------------------------------------------------------------------
    def _run(self, *args, check=True, timeout=120, input_=None):
        env = dict(os.environ, HTTP_PORT=str(self.port))
        env.pop("WORKERS", None)
        proc = subprocess.run([str(STACK), *args], env=env, cwd=str(REPO), input=input_,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError("deploy/dev/stack %s failed (%d):\n%s\n%s" % (
                " ".join(args), proc.returncode, proc.stdout.decode(errors="replace"), self.logs()))
        return proc

    def start(self):
        """Starts (or restarts: the script is idempotent) the whole stack."""
        self.close_db()
        self._run("start", str(self.dir))
        self.wait_ready()

    def stop(self):
        self.close_db()
        self._run("stop", str(self.dir), check=False)

    def seed(self, user, password):
        """Adds or updates an associate; the password goes on the script's standard input, as
        deploy/dev/stack takes it (never on a command line)."""
        if isinstance(password, str):
            password = password.encode()
        self._run("seed", str(self.dir), user, input_=password + b"\n")

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            try:
                r = self.post()
                if r.status in (200, 401):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the stack did not answer in %ss\n%s" % (timeout, self.logs()))
            time.sleep(0.1)

    def logs(self):
        out = []
        for f in sorted((self.dir / "log").glob("*")):
            try:
                out.append("----- %s -----\n%s" % (f, f.read_text(errors="replace")[-8000:]))
            except OSError as e:
                out.append("----- %s: %s" % (f, e))
        return "\n".join(out)

    # -- daemon ----------------------------------------------------------------------------
    @property
    def pid_file(self):
        return self.dir / "webhookd.pid"

    def daemon_pid(self):
        return int(self.pid_file.read_text().strip())

    def daemon_alive(self):
        return pid_alive(self.daemon_pid())

    @property
    def fcgi_socket(self):
        return str(self.dir / "sock" / "webhookd.sock")

    def kill_daemon(self, sig=signal.SIGTERM, timeout=15):
        pid = self.daemon_pid()
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while pid_alive(pid):
            if time.monotonic() > deadline:
                raise RuntimeError("webhookd %d survived signal %d" % (pid, sig))
            time.sleep(0.05)

    # -- database --------------------------------------------------------------------------
    def dsn(self):
        return "host=%s user=postgres dbname=webhookd" % (self.dir / "pg" / "sock")

    def db(self):
        """An autocommit superuser connection (peer authentication maps root to postgres). It
        LISTENs on the change feed's channel too, to know when a write announced a change."""
        if self._db is None or self._db.closed:
            self._db = psycopg2.connect(self.dsn())
            self._db.autocommit = True
            with self._db.cursor() as cur:
                cur.execute("LISTEN webhookd_cache")
        return self._db

    # -- the change feed ---------------------------------------------------------------------
    def invalidations(self):
        """How many announcements the daemon's change feed has acted on (its metrics), or None
        when the daemon does not answer (then nothing is cached either)."""
        try:
            r = self.request("GET", "/_webhookd/metrics")
        except OSError:
            return None
        if r.status != 200:
            return None
        for line in r.body.decode().splitlines():
            if line.startswith("webhookd_cache_invalidations_total "):
                return int(line.split()[1])
        return None

    def _settle(self, conn, before, timeout=3):
        """After a write: when it announced changes (this session hears its own NOTIFYs), waits
        until the daemon's feed has acted on as many, so the next request cannot be served from
        what the write made stale: an event, instead of a sleep that races the feed. A feed that
        is not listening (its connection was cut, and it reconnects) hears nothing, but then the
        daemon caches nothing either: after the timeout the test goes on."""
        conn.poll()
        announced = len(conn.notifies)
        del conn.notifies[:]
        if not announced or before is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.invalidations()
            if now is None or now >= before + announced:
                return
            time.sleep(0.005)

    @staticmethod
    def _drain(conn):
        """Drops what earlier commits announced (the API's own saves, say): the daemon heard those
        as they committed, so they must not count as this write's announcements."""
        conn.poll()
        del conn.notifies[:]

    def close_db(self):
        if self._db is not None and not self._db.closed:
            self._db.close()
        self._db = None

    @staticmethod
    def _may_announce(query):
        """Whether a statement may announce a change. Reads must not ask the daemon for its
        metrics: a test may be holding every worker on a lock while it reads."""
        q = query.lstrip().upper()
        return not q.startswith(("SELECT", "SHOW", "WITH", "LISTEN", "SET ")) or "PG_NOTIFY" in q

    def sql(self, query, params=None):
        """Runs one statement; returns all rows when it yields any, else None. A write that
        announces a change returns once the daemon has acted on it."""
        conn = self.db()
        self._drain(conn)
        before = self.invalidations() if self._may_announce(query) else None
        with conn.cursor() as cur:
            cur.execute(query, params)
            rows = cur.fetchall() if cur.description is not None else None
        self._settle(conn, before)
        return rows

    def transaction(self, *statements):
        """Runs (query, params) pairs in one transaction; rolls back if any fails. Returns once
        the daemon has acted on what the commit announced."""
        conn = self.db()
        self._drain(conn)
        before = self.invalidations() if any(self._may_announce(q) for q, _ in statements) else None
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            try:
                for query, params in statements:
                    cur.execute(query, params)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
        self._settle(conn, before)

    def flush_caches(self):
        """The daemon answers from memory while nothing changes. Announcing a change, as the
        triggers do, makes the next requests read the database (and wait on a lock there);
        sql() returns once the daemon has heard it."""
        self.sql("SELECT pg_notify('webhookd_cache', 'e2e')")

    def psql(self, *args):
        """psql through the stack script (superuser, database webhookd); returns its output."""
        return self._run("psql", str(self.dir), *args).stdout.decode()

    # -- HTTP ------------------------------------------------------------------------------
    def connection(self, timeout=20):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, headers=None, body=None, conn=None):
        """One HTTP request; returns Response(status, lower-cased headers, body bytes).

        Without conn a fresh connection is used and closed."""
        own = conn is None
        if own:
            conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            resp = conn.getresponse()
            data = resp.read()
            pairs = [(k.lower(), v) for k, v in resp.getheaders()]
            return Response(resp.status, dict(pairs), data, pairs)
        finally:
            if own:
                conn.close()

    def post(self, path=ENDPOINT, auth=True, headers=None, body=None, conn=None):
        """POST with the session's credentials (auth=True), none (None/False) or a header value."""
        h = dict(headers or {})
        if auth is True:
            if self.user is not None:
                h["Authorization"] = basic(self.user, self.password)
        elif auth:
            h["Authorization"] = auth
        return self.request("POST", path, headers=h, body=body, conn=conn)

    def raw(self, data, read=True, timeout=10, source="127.0.0.1"):
        """Sends raw bytes on a fresh TCP connection from the source address; returns the first
        response (or b"" when the server closed without one). Stops at the end of the body that
        Content-Length announces."""
        with socket.create_connection((self.host, self.port), timeout=timeout, source_address=(source, 0)) as s:
            try:
                s.sendall(data)
            except OSError:
                pass  # nginx may answer (413) and close before it has read everything
            if not read:
                return b""
            return read_response(s)


def read_response(sock):
    out = b""
    try:
        while True:
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length" and len(body) >= int(value):
                        return out
            chunk = sock.recv(65536)
            if not chunk:
                return out
            out += chunk
    except (ConnectionResetError, socket.timeout):
        return out


def parse_raw_response(data):
    """Splits a raw HTTP/1.1 response into (status, lower-cased headers, body)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1])
    pairs = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        pairs.append((name.strip().lower(), value.strip()))
    return Response(status, dict(pairs), body, pairs)


def new_stack(prefix):
    """Creates and starts a stack in a fresh folder on a free port (a few tries if it is taken)."""
    directory = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(directory, 0o755)
    last = None
    for _ in range(3):
        stack = Stack(directory, free_port())
        try:
            stack.start()
            return stack
        except Exception as e:  # noqa: BLE001 - reported below with the logs
            last = e
            stack.stop()
    sys.stderr.write("webhookd e2e: the stack in %s did not start\n%s\n" % (directory, last))
    shutil.rmtree(directory, ignore_errors=True)
    raise RuntimeError("the stack did not start: %s" % last)


@contextlib.contextmanager
def private_stack(prefix, user, settings=None):
    """A stack of the caller's own (for a test module), with one associate `user` whose password
    is random, and daemon settings given as WEBHOOKD_<KEY> variables for its start only."""
    saved = {k: os.environ.get(k) for k in (settings or {})}
    os.environ.update(settings or {})
    try:
        stack = new_stack(prefix)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        stack.user, stack.password = user, secrets.token_urlsafe(16)
        stack.secrets = {stack.password}
        stack.seed(stack.user, stack.password)
        yield stack
    finally:
        destroy_stack(stack)


def destroy_stack(stack):
    stack.stop()
    shutil.rmtree(str(stack.dir), ignore_errors=True)


# -- FastCGI, spoken directly to the daemon's socket ---------------------------------------------------

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6


def fcgi_record(rtype, content=b"", request_id=1, version=1):
    return struct.pack(">BBHHBx", version, rtype, request_id, len(content), 0) + content


def fcgi_pair(name, value):
    def length(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return length(len(name)) + length(len(value)) + name + value


def fcgi_begin(role=1, request_id=1):
    return fcgi_record(FCGI_BEGIN_REQUEST, struct.pack(">HB5x", role, 0), request_id)


def fcgi_request(method="POST", path=ENDPOINT, authorization=None, body=b"", request_id=1, content_length=None):
    """The records nginx would send for one request (without keep-conn)."""
    if content_length is None:
        content_length = str(len(body)) if body else ""
    params = {
        b"REQUEST_METHOD": method.encode(), b"DOCUMENT_URI": path.encode(), b"REQUEST_URI": path.encode(),
        b"QUERY_STRING": b"", b"CONTENT_LENGTH": content_length.encode(),
        b"SERVER_PROTOCOL": b"HTTP/1.1", b"GATEWAY_INTERFACE": b"CGI/1.1",
    }
    if authorization is not None:
        params[b"HTTP_AUTHORIZATION"] = authorization.encode()
    blob = b"".join(fcgi_pair(k, v) for k, v in params.items())
    out = fcgi_begin(request_id=request_id) + fcgi_record(FCGI_PARAMS, blob, request_id)
    out += fcgi_record(FCGI_PARAMS, b"", request_id)
    for i in range(0, len(body), 32768):
        out += fcgi_record(FCGI_STDIN, body[i:i + 32768], request_id)
    return out + fcgi_record(FCGI_STDIN, b"", request_id)


def fcgi_exchange(path, data, timeout=10):
    """Sends records to the daemon's unix socket; returns (stdout bytes, app status or None)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(data)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    stdout, status, pos = b"", None, 0
    while pos + 8 <= len(buf):
        _, rtype, _, clen, plen = struct.unpack(">BBHHBx", buf[pos:pos + 8])
        content = buf[pos + 8:pos + 8 + clen]
        pos += 8 + clen + plen
        if rtype == FCGI_STDOUT:
            stdout += content
        elif rtype == FCGI_END_REQUEST:
            status = struct.unpack(">IB3x", content)[0]
    return stdout, status


# -- proving every worker is alive ---------------------------------------------------------------------

WORKERS = 8  # deploy/dev/stack's pool size (the fixtures never pass WORKERS)


def concurrent_posts(stack, n):
    """n POSTs at once, one thread and one connection each; returns the responses (or exceptions)."""
    import threading
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        try:
            barrier.wait(10)
            results[i] = stack.post()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def assert_all_workers_serve(stack, n=16, workers=WORKERS):
    """Sends n (> workers) requests at once while webhook_default is locked, so every request that
    reaches a worker waits in PostgreSQL: exactly `workers` daemon sessions must end up waiting at
    the same moment, which a stuck worker would prevent. Then the lock goes and all n get 200."""
    import threading
    import psycopg2
    stack.flush_caches()  # so that every request reads the table locked below
    locker = psycopg2.connect(stack.dsn())
    results = []
    waiting = 0
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE webhook_default IN ACCESS EXCLUSIVE MODE")
            t = threading.Thread(target=lambda: results.extend(concurrent_posts(stack, n)))
            t.start()
            # statement_timeout is 2 s: release well before it.
            deadline = time.monotonic() + 1.2
            while time.monotonic() < deadline:
                waiting = stack.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'webhookd' "
                                    "AND wait_event_type = 'Lock'")[0][0]
                if waiting >= workers:
                    break
                time.sleep(0.02)
    finally:
        locker.rollback()
        locker.close()
    t.join(60)
    assert waiting == workers, "only %d of %d workers took a request" % (waiting, workers)
    assert len(results) == n
    for r in results:
        assert isinstance(r, Response) and r.status == 200 and r.body == DEFAULT_BODY, r


def daemon_sessions(stack):
    """The workers' sessions (the change feed has one more, named webhookd-changes)."""
    return stack.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'webhookd' "
                     "AND application_name = 'webhookd'")[0][0]


def wait_until(what, predicate, timeout=20.0):
    """Polls predicate until it returns something true and returns that; fails after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.02)

def connect_all_workers(stack, workers=WORKERS, timeout=15):
    """After the daemon's database sessions were cut, each worker reconnects when it next needs the
    database. Sends bursts of requests, each after a cache flush so that they do need it, until
    every worker has its session again and later tests start from a settled daemon."""
    deadline = time.monotonic() + timeout
    while daemon_sessions(stack) < workers:
        assert time.monotonic() < deadline, "only %d of %d workers reconnected" % (daemon_sessions(stack), workers)
        stack.flush_caches()
        concurrent_posts(stack, 2 * workers)
