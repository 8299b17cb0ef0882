"""The delivery benchmark's stack (tests/bench/delivery): PostgreSQL, webhookd and nginx from
deploy/dev/stack, plus what only this benchmark needs: nginx receivers (one `return 200` that logs
each receipt's time, and a slow one), delivery daemons it starts and stops itself, a second
webhookd behind the same nginx upstream, and readers of the receiver's log and the daemons'
memory. The stack itself is e2e_support.Stack, so the tests and the benchmark start it alike.
"""
import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_support import REPO, Stack, free_port, pid_alive  # noqa: E402

# Settings recommended for production as well (README, "Performance"): durability stays whole
# (fsync, synchronous_commit and full_page_writes on); what changes is memory and how often
# checkpoints come, which a queue with a high turnover writes a lot of WAL for.
PG_OPTIONS = " ".join("-c %s" % s for s in (
    "shared_buffers=1GB", "effective_cache_size=4GB", "max_wal_size=8GB", "checkpoint_timeout=15min",
    "wal_compression=lz4", "random_page_cost=1.1", "autovacuum_naptime=10s", "synchronous_commit=on", "fsync=on",
    "shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all"))

# What the receiver logs of each request: when it arrived (epoch seconds, ms resolution), the
# path (one per webhook), the delivery's webhook-id (its cycle's EventId), the status, and the
# bytes of the request and of the answer.
RECEIVER_LOG_FORMAT = "$msec $uri $http_webhook_id $status $request_length $bytes_sent"


class SlowReceiver:
    """A target that answers 200 only after `delay` seconds, on a thread of its own (asyncio, so
    that hundreds of waiting requests cost nothing)."""

    def __init__(self, delay):
        self.delay = delay
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    async def _serve(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m:
                    await reader.readexactly(int(m.group(1)))
                await asyncio.sleep(self.delay)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=1024))
        self.ready.set()
        self.loop.run_forever()
        server.close()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


class Deliverd:
    """One webhook-deliverd of the benchmark's own: the stack's binary and configuration, as the
    webhookd user, with settings given as WEBHOOKD_* variables and a log of its own."""

    def __init__(self, bench, name, **settings):
        self.bench = bench
        self.log = bench.dir / "log" / ("deliverd-%s.log" % name)
        env = dict(os.environ)
        env.update({"WEBHOOKD_" + k.upper(): str(v) for k, v in settings.items()})
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                ["setpriv", "--reuid=webhookd", "--regid=webhookd", "--init-groups", "--inh-caps=-all",
                 str(bench.dir / "bin" / "webhook-deliverd"), "-c", str(bench.dir / "webhookd.conf")],
                env=env, stdout=out, stderr=subprocess.STDOUT, cwd="/")
        ready = re.compile(r"ready: .* as [^/\s]+/%d/" % self.proc.pid)
        deadline = time.monotonic() + 15
        while not ready.search(self.log.read_text(errors="replace")):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("webhook-deliverd did not start:\n" + self.log.read_text()[-2000:])
            time.sleep(0.01)

    @property
    def pid(self):
        return self.proc.pid

    def memory_kib(self):
        """(VmRSS, VmHWM) in KiB."""
        text = Path("/proc/%d/status" % self.pid).read_text()
        return tuple(int(re.search(r"^%s:\s+(\d+) kB" % k, text, re.M).group(1)) for k in ("VmRSS", "VmHWM"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def cpu_seconds(pid):
    """User and system CPU time a process has used so far."""
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bench:
    """The stack with its receivers; `sql` runs as the superuser on a connection of its own."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.receiver_port = free_port()
        self.receiver_log = self.dir / "log" / "receiver.log"
        self.slow = SlowReceiver(10.0)
        self.webhookd_b = None
        self.daemons = []
        (self.dir / "log").mkdir(mode=0o711, exist_ok=True)
        include = self.dir / "receivers.conf"
        # The receiver is nginx as a subscriber would run it; its log is buffered like the site's.
        include.write_text(
            "log_format delivery_bench '%s';\n"
            "server {\n    listen 127.0.0.1:%d backlog=4096;\n"
            "    access_log %s delivery_bench buffer=64k flush=1s;\n"
            "    location / { return 200; }\n}\n" % (RECEIVER_LOG_FORMAT, self.receiver_port, self.receiver_log))
        os.chmod(include, 0o644)
        os.environ["STACK_NGINX_INCLUDE"] = str(include)
        os.environ["STACK_PG_OPTIONS"] = PG_OPTIONS
        self.stack = Stack(self.dir, free_port())
        self.stack.start()
        self.conn = psycopg2.connect(self.stack.dsn())
        self.conn.autocommit = True
        self.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        self.stop_stack_deliverd()

    def sql(self, query, params=None):
        with self.conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description is not None else None

    def one(self, query, params=None):
        return self.sql(query, params)[0][0]

    def stop_stack_deliverd(self):
        """The stack's own daemon makes way for the ones each measurement starts (a clean exit
        ends its supervisor too)."""
        pid = int((self.dir / "deliverd.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while pid_alive(pid):
            if time.monotonic() > deadline:
                raise RuntimeError("the stack's webhook-deliverd did not stop")
            time.sleep(0.05)

    def deliverd_sessions(self):
        """The server processes of the delivery daemons' database sessions."""
        return [r[0] for r in self.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'webhook-deliverd'")]

    def deliverd(self, name, **settings):
        self.daemons.append(Deliverd(self, name, **settings))
        return self.daemons[-1]

    def start_webhookd_b(self):
        """A second webhookd on a socket of its own, listed next to the first in nginx's upstream
        (README, "Scaling out")."""
        sock_a = self.dir / "sock" / "webhookd.sock"
        sock_b = self.dir / "sock" / "webhookd-b.sock"
        conf = self.dir / "webhookd-b.conf"
        conf.write_text(re.sub(r"(?m)^listen = .*$", "listen = %s" % sock_b, (self.dir / "webhookd.conf").read_text()))
        os.chmod(conf, 0o644)
        log = self.dir / "log" / "webhookd-b.log"
        with open(log, "ab") as out:
            self.webhookd_b = subprocess.Popen(
                ["setpriv", "--reuid=webhookd", "--regid=webhookd", "--init-groups", "--inh-caps=-all",
                 str(self.dir / "bin" / "webhookd"), "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT, cwd="/")
        deadline = time.monotonic() + 15
        while b"ready:" not in log.read_bytes():
            if self.webhookd_b.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the second webhookd did not start:\n" + log.read_text()[-2000:])
            time.sleep(0.05)
        site = self.dir / "nginx" / "site.conf"
        one = "server unix:%s;" % sock_a
        site.write_text(site.read_text().replace(one, "%s\n    server unix:%s;" % (one, sock_b)))
        nginx = ["nginx", "-p", str(self.dir / "nginx"), "-c", str(self.dir / "nginx" / "nginx.conf")]
        subprocess.run(nginx + ["-t", "-q"], check=True)
        subprocess.run(nginx + ["-s", "reload"], check=True)
        time.sleep(1)  # the old workers finish; new connections go to the new ones

    def close(self):
        for d in self.daemons:
            d.stop()
        if self.webhookd_b is not None and self.webhookd_b.poll() is None:
            self.webhookd_b.terminate()
            self.webhookd_b.wait(30)
        self.conn.close()
        self.stack.stop()


class ReceiverLog:
    """The receipts logged since a mark: (time, path, webhook-id, status) per request; bytes
    holds (request, answer) bytes of each."""

    def __init__(self, path):
        self.path = Path(path)
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def read(self, prefix=""):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        out = []
        self.bytes = []
        for line in data.decode().splitlines():
            msec, uri, hook_id, status, request, answer = line.split(" ")
            if uri.startswith(prefix):
                out.append((float(msec), uri, hook_id, int(status)))
                self.bytes.append((int(request), int(answer)))
        return out

    def wait(self, prefix, n, timeout=30):
        """The receipts under prefix once there are n, and a flush of nginx's buffer (every
        second) later, so that late duplicates are counted too."""
        deadline = time.monotonic() + timeout
        while len(self.read(prefix)) < n and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)
        return self.read(prefix)


def wrk(url, seconds, connections, request_file):
    """wrk -t2 on tests/load/delivery.lua; the RESULT fields as numbers."""
    env = dict(os.environ, WRK_REQUEST_FILE=str(request_file))
    out = subprocess.run(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "5s",
                          "-s", str(REPO / "tests" / "load" / "delivery.lua"), url],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True).stdout.decode()
    m = re.search(r"^RESULT (.*)$", out, re.M)
    if not m:
        raise RuntimeError("wrk printed no result:\n" + out)
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
