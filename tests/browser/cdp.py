"""A headless Chromium (Debian's `chromium` package) driven over the DevTools protocol.

The protocol runs over a pipe (--remote-debugging-pipe: commands on fd 3, answers and events on
fd 4, each a JSON text ended by a NUL byte), so no port is opened and no websocket library is
needed: only the standard library and the browser.

    with Browser() as browser:
        page = browser.new_page(width=1280, height=800)
        page.goto("http://127.0.0.1:8080/operator/")
        page.wait_for("document.querySelector('h1') !== null")
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")


class BrowserError(RuntimeError):
    pass


class Browser:
    def __init__(self, timeout=15.0):
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="webhookd-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The child's ends above fd 9, so that placing them on 3 and 4 cannot overwrite one another.
        to_browser_r, from_browser_w = (_above_9(fd) for fd in (to_browser_r, from_browser_w))
        # The browser reads commands on fd 3 and writes answers to fd 4: bash puts the pipe's ends
        # there (a preexec_fn would not be safe with the reader thread running).
        self._proc = subprocess.Popen(
            ["/bin/bash", "-c", 'exec 3<&%d 4>&%d %d<&- %d>&- && exec "$@"'
             % (to_browser_r, from_browser_w, to_browser_r, from_browser_w), "chromium",
             CHROMIUM, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--mute-audio",
             "--hide-scrollbars", "--force-color-profile=srgb", "--font-render-hinting=none",
             "--user-data-dir=" + self._profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(to_browser_r, from_browser_w))
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._lock = threading.Condition()
        self._answers = {}
        self._events = []
        self._handlers = {}
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- the pipe ----------------------------------------------------------------------------
    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._lock:
                    self._closed = True
                    self._lock.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                self._dispatch(json.loads(raw))

    def _dispatch(self, message):
        if "id" in message:
            with self._lock:
                self._answers[message["id"]] = message
                self._lock.notify_all()
            return
        handler = self._handlers.get(message.get("method"))
        if handler is not None:
            # Handlers answer the browser (Fetch.requestPaused): never from the reader thread,
            # which would wait for its own answer.
            threading.Thread(target=handler, args=(message.get("params", {}), message.get("sessionId")),
                             daemon=True).start()
        with self._lock:
            self._events.append(message)
            self._lock.notify_all()

    def send(self, method, params=None, session=None, timeout=None):
        with self._lock:
            self._next_id += 1
            mid = self._next_id
        message = {"id": mid, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._lock:
            while mid not in self._answers:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise BrowserError("no answer to %s (%s)" % (method, "browser gone" if self._closed else "timeout"))
                self._lock.wait(left)
            answer = self._answers.pop(mid)
        if "error" in answer:
            raise BrowserError("%s: %s" % (method, answer["error"]))
        return answer.get("result", {})

    def on(self, method, handler):
        """Calls handler(params, session) on every event named method, in a thread of its own."""
        self._handlers[method] = handler

    def events(self, method):
        with self._lock:
            return [e for e in self._events if e.get("method") == method]

    # -- pages -------------------------------------------------------------------------------
    def new_page(self, width=1280, height=800, mobile=False):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target)
        for domain in ("Page", "Runtime"):
            page.send(domain + ".enable")
        page.resize(width, height, mobile)
        return page

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except BrowserError:
            pass
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _above_9(fd):
    """fd moved to the lowest free number above 9 (the original is closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Page:
    def __init__(self, browser, session, target):
        self.browser = browser
        self.session = session
        self.target = target

    def send(self, method, params=None, timeout=None):
        return self.browser.send(method, params, self.session, timeout)

    def close(self):
        self.browser.send("Target.closeTarget", {"targetId": self.target})

    def events(self, method):
        """The events of this page named method, in order."""
        return [e["params"] for e in self.browser.events(method) if e.get("sessionId") == self.session]

    def resize(self, width, height, mobile=False):
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def goto(self, url):
        self._load(lambda: self.send("Page.navigate", {"url": url}))

    def reload(self):
        self._load(lambda: self.send("Page.reload"))

    def _load(self, start):
        """Starts a navigation and waits until a new document has loaded (the old one carries a
        mark, so that its own readyState cannot pass for the new one's)."""
        self.js("window.__cdpOldDocument = true")
        start()
        self.wait_for("!window.__cdpOldDocument && document.readyState === 'complete'")

    def js(self, expression):
        """The value of a JavaScript expression (awaited when it is a promise)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError("%s: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def wait_for(self, expression, timeout=10.0):
        """Polls a JavaScript expression until it is truthy (in JavaScript's sense)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.js("!!(%s)" % expression):
                return
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for: %s" % expression)
            time.sleep(0.05)

    # -- input, as a user gives it -------------------------------------------------------------
    def click(self, selector):
        """A real mouse click in the middle of the element (scrolled into view first)."""
        box = self.js("""(() => { const e = document.querySelector(%s); if (!e) return null;
            e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2]; })()""" % json.dumps(selector))
        if box is None:
            raise AssertionError("nothing to click at %s" % selector)
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def focus(self, selector):
        if not self.js("(() => { const e = document.querySelector(%s); if (!e) return false; e.focus(); "
                       "return document.activeElement === e; })()" % json.dumps(selector)):
            raise AssertionError("cannot focus %s" % selector)

    def type(self, text):
        """Types into the focused element."""
        self.send("Input.insertText", {"text": text})

    def fill(self, selector, text):
        """Clears a field and types into it."""
        self.focus(selector)
        self.js("document.activeElement.select && document.activeElement.select()")
        self.press("Delete")
        self.type(text)

    KEYS = {"Tab": 9, "Enter": 13, "Delete": 46, "Escape": 27, "Space": 32}

    def press(self, key, shift=False):
        code = self.KEYS[key]
        params = {"key": " " if key == "Space" else key, "code": key, "windowsVirtualKeyCode": code,
                  "modifiers": 8 if shift else 0}
        if key == "Enter":
            params["text"] = "\r"
        self.send("Input.dispatchKeyEvent", dict(params, type="rawKeyDown" if key != "Enter" else "keyDown"))
        self.send("Input.dispatchKeyEvent", dict(params, type="keyUp"))

    # -- output ------------------------------------------------------------------------------
    def screenshot(self, path):
        """A PNG of what the viewport shows."""
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        png = base64.b64decode(data)
        with open(path, "wb") as f:
            f.write(png)
        return len(png)
