"""A webhook receiver for the tests: a real HTTP/1.1 server on loopback that records every
request it gets (method, path, headers in order, body bytes as sent) and answers as each test
tells it to, per path. Tests wait for requests with wait_for(), never with sleeps.

    rx = Receiver()                     # listens on 127.0.0.1, a free port
    rx.respond("/hook", status=500, body=b"down")
    url = rx.url("/hook")
    ... save a webhook with TargetUrl url ...
    [req] = rx.wait_for(1, "/hook")
    rx.close()
"""
import http.server
import socket
import threading
import time


class Request:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers  # [(name, value)] in the order sent
        self.body = body

    def header(self, name):
        """The value of a header (None when absent); names match in any case."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None

    def __repr__(self):
        return "Request(%s %s, %r, %r)" % (self.method, self.path, self.headers, self.body[:200])


class _Answer:
    def __init__(self, status=200, headers=None, body=b"", delay=0.0, close=False):
        self.status = status
        self.headers = list(headers or [])
        self.body = body
        self.delay = delay
        self.close = close  # close the connection without answering


class Receiver:
    def __init__(self, host="127.0.0.1"):
        self._lock = threading.Condition()
        self._requests = []
        self._answers = {}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                request = Request(self.command, self.path, list(self.headers.items()), body)
                with receiver._lock:
                    receiver._requests.append(request)
                    answer = receiver._answers.get(path, _Answer())
                    if callable(answer):
                        answer = _Answer(**answer(request))
                    receiver._lock.notify_all()
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.close:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_POST = do_GET = do_PUT = _handle

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            # The default backlog of 5 makes a burst of deliveries wait for SYN retransmits.
            request_queue_size = 128

        self._server = Server((host, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.host = host
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path="/hook"):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def respond(self, path, status=200, headers=None, body=b"", delay=0.0, close=False):
        """How requests to path are answered from now on (default: 200, empty body)."""
        with self._lock:
            self._answers[path] = _Answer(status, headers, body, delay, close)

    def respond_with(self, path, decide):
        """Requests to path are answered as decide(request) says: a dict of respond()'s keywords.
        It runs under the receiver's lock, in arrival order."""
        with self._lock:
            self._answers[path] = decide

    def requests(self, path=None):
        with self._lock:
            return [r for r in self._requests if path is None or r.path.split("?", 1)[0] == path]

    def wait_for(self, n, path=None, timeout=10.0):
        """Waits until at least n requests (to path) have arrived; returns them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [r for r in self._requests if path is None or r.path.split("?", 1)[0] == path]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                assert left > 0, "only %d of %d requests to %s arrived in %ss" % (len(got), n, path, timeout)
                self._lock.wait(left)

    def clear(self):
        with self._lock:
            self._requests = []
            self._answers = {}

    def close(self):
        self._server.shutdown()
        self._server.server_close()
