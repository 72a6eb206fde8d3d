# cdp.py — a headless Chromium driven over the DevTools protocol (python3-websocket), for tests of
# the web dashboard.  Browser(out_dir) starts Debian's chromium with a profile of its own under
# out_dir, opens one page and records what the page does: console messages, uncaught exceptions,
# browser log entries (CSP violations, failed loads) and every network request and WebSocket.
# Commands are synchronous; events that arrive meanwhile are kept.  Close it with close().
import base64, json, os, shutil, subprocess, time
import urllib.request
import websocket


class CdpError(Exception):
    pass


class Browser:
    def __init__(self, out_dir, width=1280, height=800, program=None):
        self.out_dir = out_dir
        self.profile = os.path.join(out_dir, "chromium-profile")
        shutil.rmtree(self.profile, ignore_errors=True)
        os.makedirs(self.profile)
        program = program or shutil.which("chromium") or "chromium"
        args = [program, "--headless", "--remote-debugging-port=0", "--user-data-dir=" + self.profile,
                "--window-size=%d,%d" % (width, height), "--hide-scrollbars", "--no-first-run",
                "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--disable-default-apps", "--disable-dev-shm-usage",
                "--disable-gpu", "--mute-audio", "--lang=en-US", "about:blank"]
        if os.geteuid() == 0:  # CI runs as root, where Chromium's sandbox cannot start
            args.insert(1, "--no-sandbox")
        self.log = open(os.path.join(out_dir, "chromium.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, close_fds=True)
        port = self._devtools_port(30)
        page = None
        for _ in range(100):
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5) as r:
                page = next((t for t in json.load(r) if t["type"] == "page"), None)
            if page:
                break
            time.sleep(0.05)
        if page is None:
            raise CdpError("chromium opened no page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.console, self.exceptions, self.entries, self.requests, self.sockets = [], [], [], [], []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def _devtools_port(self, timeout):
        """The port Chromium chose, from the file it writes into its profile."""
        path = os.path.join(self.profile, "DevToolsActivePort")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise CdpError("chromium exited with %d (see %s)" % (self.proc.returncode, self.log.name))
            try:
                with open(path) as f:
                    first = f.readline().strip()
                if first:
                    return int(first)
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise CdpError("chromium wrote no DevToolsActivePort within %g s" % timeout)

    def _note(self, m):
        method, p = m.get("method"), m.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append((p["type"], text))
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.exceptions.append(d.get("exception", {}).get("description") or d.get("text"))
        elif method == "Log.entryAdded":
            e = p["entry"]
            self.entries.append((e["level"], e.get("source"), e["text"], e.get("url", "")))
        elif method == "Network.requestWillBeSent":
            self.requests.append(p["request"]["url"])
        elif method == "Network.webSocketCreated":
            self.sockets.append(p["url"])
        self.events.append(m)

    def call(self, method, timeout=30, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise CdpError("%s: no answer within %g s" % (method, timeout))
            self.ws.settimeout(left)
            m = json.loads(self.ws.recv())
            if m.get("id") == mid:
                if "error" in m:
                    raise CdpError("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            self._note(m)

    def pump(self, seconds):
        """Reads events for a while (the page runs on its own meanwhile)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.ws.settimeout(max(0.01, end - time.monotonic()))
            try:
                self._note(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break

    def goto(self, url):
        self.call("Page.navigate", url=url)
        self.wait("document.readyState === 'complete'", 15, "the page to load")

    def js(self, expression):
        """The value of a JavaScript expression in the page (awaited when it is a promise)."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CdpError("%s: %s" % (expression, d.get("exception", {}).get("description") or d.get("text")))
        return r["result"].get("value")

    def wait(self, expression, timeout, what, every=0.02):
        """Polls expression until it is truthy; its value.  Raises saying what did not happen."""
        end = time.monotonic() + timeout
        while True:
            v = self.js(expression)
            if v:
                return v
            if time.monotonic() > end:
                raise AssertionError("%s did not happen within %g s (%s)" % (what, timeout, expression))
            time.sleep(every)

    def click(self, selector):
        """A real mouse click in the middle of the first element selector matches."""
        box = self.js("(() => { const e = document.querySelector(%s); if (!e) return null; e.scrollIntoView({block: 'center'});"
                      " const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 ? [r.x + r.width / 2, r.y + r.height / 2] : null; })()"
                      % json.dumps(selector))
        if not box:
            raise AssertionError("nothing visible to click at %s" % selector)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type_into(self, selector, text):
        """Focuses the element and types text as keystrokes."""
        self.js("document.querySelector(%s).focus()" % json.dumps(selector))
        self.call("Input.insertText", text=text)

    def select(self, selector, value):
        """Picks an option of a <select> as a user would (the change event fires)."""
        self.js("(() => { const s = document.querySelector(%s); s.value = %s; s.dispatchEvent(new Event('change')); })()"
                % (json.dumps(selector), json.dumps(value)))

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def screenshot_full(self, path):
        """The whole page, past the window's bottom."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def problems(self):
        """Console errors and warnings, exceptions and browser log errors and warnings, as text."""
        out = ["console.%s: %s" % (t, text) for t, text in self.console if t in ("error", "warning", "assert")]
        out += ["exception: %s" % e for e in self.exceptions]
        out += ["%s (%s): %s %s" % (lvl, src, text, url) for lvl, src, text, url in self.entries
                if lvl in ("error", "warning")]
        return out

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
