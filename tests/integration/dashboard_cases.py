# The dashboard's protocol, case by case, against a real server: python3 dashboard_cases.py CASE.
# Environment: DASH_PORT (the dashboard), SIMQ_HOME (the server's state dir), SIMQ (the program),
# MODEL (a .plecs file).  Debian's python3-websocket is the client.  Each case exits 0 when it holds.
import http.client, json, os, re, socket, subprocess, sys, threading, time
import websocket
import websocket._abnf
import xmlrpc.client

# 1013 (try again later) is in RFC 6455's registry and browsers take it; python3-websocket 1.2's list predates it.
websocket._abnf.VALID_CLOSE_STATUS += (1013,)

PORT = int(os.environ["DASH_PORT"])
HOME = os.environ["SIMQ_HOME"]
SIMQ = os.environ["SIMQ"]
MODEL = os.environ["MODEL"]
ORIGIN = "http://127.0.0.1:%d" % PORT


def token():
    with open(os.path.join(HOME, "token")) as f:
        return f.read().strip()


def connect(origin=ORIGIN, path="/ws", **kw):
    return websocket.create_connection("ws://127.0.0.1:%d%s" % (PORT, path), origin=origin, timeout=15, **kw)


def recv(ws):
    return json.loads(ws.recv())


def until(ws, pred, timeout=10, what="a message"):
    """The first message that satisfies pred, within timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ws.settimeout(max(0.01, end - time.monotonic()))
        try:
            m = recv(ws)
        except websocket.WebSocketTimeoutException:
            break
        if pred(m):
            return m
    raise AssertionError("no %s within %g s" % (what, timeout))


def hello(ws, **first):
    """Sends the first message; returns the welcome and the snapshot (or whatever follows)."""
    ws.send(json.dumps(first))
    welcome = recv(ws)
    assert welcome["type"] == "welcome", welcome
    return welcome, recv(ws)


def simq(*args):
    return subprocess.run([SIMQ] + list(args), check=True, capture_output=True, text=True).stdout


def api():
    class C(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(os.path.join(HOME, "simq.sock"))

    class T(xmlrpc.client.Transport):
        def make_connection(self, host):
            return C("localhost")

    return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=T()).simq


def queued_ids(m):
    return [r["id"] for rows in m["queue"]["rows"].values() for r in rows]


def closed_with(ws, code, timeout=15):
    """Reads until the server closes; the close code it gave must be code."""
    ws.settimeout(timeout)
    try:
        while True:
            op, frame = ws.recv_data_frame(True)
            if op == websocket.ABNF.OPCODE_CLOSE:
                got = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else None
                assert got == code, "closed with %s, expected %d (%r)" % (got, code, frame.data[2:])
                return frame.data[2:].decode()
    except websocket.WebSocketConnectionClosedException:
        raise AssertionError("the connection dropped without a close frame; expected code %d" % code)


def case_files():
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    for path, kind in [("/", "text/html"), ("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css"),
                       ("/chart.js", "text/javascript")]:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        assert r.status == 200 and r.getheader("Content-Type").startswith(kind), (path, r.status)
        csp = r.getheader("Content-Security-Policy")
        for rule in ("default-src 'none'", "script-src 'self'", "connect-src 'self'", "style-src 'self'"):
            assert rule in csp, (path, csp)
        assert r.getheader("X-Content-Type-Options") == "nosniff", path
    assert b"Chart" in body, "/chart.js is not Chart.js"
    for path in ("/nope", "/../../etc/passwd", "/index.html/x", "/chart.js.map"):
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        assert r.status == 404, (path, r.status)
    print("ok")


def case_bound():
    """listen = 127.0.0.1 listens there only: no socket of the port on another address (IPv4 or IPv6)."""
    port = int(os.environ["DASH_PORT"])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, st = line.split()[1], line.split()[3]
                addr, p = local.rsplit(":", 1)
                if st == "0A" and int(p, 16) == port:
                    found.append(addr)
    assert found == ["0100007F"], "listening on %s, not only 127.0.0.1 (0100007F)" % found
    print("ok: one listening socket, 127.0.0.1:%d" % port)


def case_paths():
    """Only / and the page's own files are served: /index.html and the like are 404; any method
    but GET is 405 (HEAD too, with no file in the answer)."""
    for path in (b"/index.html", b"/index.html/", b"/dashboard.js/x", b"/Dashboard.js", b"/dashboard.js.",
                 b"/share/dashboard/index.html", b"/ws"):
        got = raw_status(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % PORT)
        assert got == 404, (path, got)
    for method in (b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS"):
        got = raw_status(method + b" / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 0\r\n\r\n" % PORT)
        assert got == 405, (method, got)
    # Methods libwebsockets does not take are answered by it, 403, and closed (api.md says so).
    for method in (b"TRACE", b"BREW"):
        got = raw_status(method + b" / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % PORT)
        assert got == 403, (method, got)
    # A NUL inside a path (raw or %00): closed at once, unanswered; /%00 alone is / (api.md).
    for path in (b"/dashboard.js%00.html", b"/dashboard.js\0.html"):
        t0 = time.monotonic()
        got = raw_status(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % PORT)
        assert got is None and time.monotonic() - t0 < 2, (path, got)
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request("HEAD", "/")
    r = c.getresponse()
    assert r.status == 405 and b"<html" not in r.read().lower(), r.status
    print("ok")


def case_origin():
    for origin, why in [("http://evil.example:%d" % PORT, "another host"), ("http://127.0.0.1:1", "another port"),
                        ("https://127.0.0.1:%d" % PORT, "another scheme"), (None, "none")]:
        try:
            kw = {"suppress_origin": True} if origin is None else {"origin": origin}
            ws = websocket.create_connection("ws://127.0.0.1:%d/ws" % PORT, timeout=10, **kw)
            ws.send("{}")
            recv(ws)
            raise SystemExit("a WebSocket with Origin %s (%s) was accepted" % (origin, why))
        except (websocket.WebSocketException, ConnectionError):
            pass
    try:
        connect(path="/other").send("{}")
        raise SystemExit("a WebSocket on /other was accepted")
    except (websocket.WebSocketException, ConnectionError):
        pass
    welcome, snap = hello(connect())
    assert welcome["read_only"] is True and snap["type"] == "snapshot", (welcome, snap["type"])
    print("ok")


def get_status(host, path="/"):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.putrequest("GET", path, skip_host=True)
    c.putheader("Host", host)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def simq_log():
    with open(os.path.join(HOME, "simulation.log")) as f:
        return f.read()


def case_hosts():
    """A page reaches the dashboard by the listen address, localhost or [dashboard] allowed_hosts;
    a name of an attacker's pointed at this machine (DNS rebinding) is refused, page and WebSocket,
    even with the Origin that matches it; refusals are logged as the dashboard's."""
    for host, want in [("127.0.0.1:%d" % PORT, 200), ("localhost:%d" % PORT, 200), ("LocalHost", 200),
                       ("simq.lab.example:%d" % PORT, 200), ("DASH.example:%d" % PORT, 200),
                       ("evil.example:%d" % PORT, 403), ("127.0.0.1.evil.example", 403),
                       ("lab.example:%d" % PORT, 403), ("10.0.0.1:%d" % PORT, 403), ("", 403)]:
        status, body = get_status(host)
        assert status == want, (host, status, body[:200])
        if want == 403:
            assert b"allowed_hosts" in body, body
    for host in ("localhost:%d" % PORT, "simq.lab.example:%d" % PORT):
        ws = websocket.create_connection("ws://127.0.0.1:%d/ws" % PORT, host=host, origin="http://" + host, timeout=10)
        welcome, snap = hello(ws)
        assert snap["type"] == "snapshot", snap["type"]
        ws.close()
    for host, origin in [("evil.example:%d" % PORT, "http://evil.example:%d" % PORT),
                         ("localhost:%d" % PORT, "http://simq.lab.example:%d" % PORT)]:
        try:
            ws = websocket.create_connection("ws://127.0.0.1:%d/ws" % PORT, host=host, origin=origin, timeout=10)
            ws.send("{}")
            recv(ws)
            raise SystemExit("a WebSocket with Host %s, Origin %s was accepted" % (host, origin))
        except (websocket.WebSocketException, ConnectionError):
            pass
    # The first refusal of this server (case origin's) is a line of its own; these are counted in one.
    first = "refused a dashboard page from"
    counted = re.compile(r"refused \d+ more dashboard requests? \(the last from \S+: Origin http://simq\.lab\.example:%d "
                         r"is not the page's own \(http://localhost:%d(, or one of \[dashboard\] allowed_origins)?\)\)"
                         % (PORT, PORT))
    end = time.monotonic() + 10
    while not counted.search(simq_log()) and time.monotonic() < end:
        time.sleep(0.1)
    log = simq_log()
    assert first in log and "Origin http://evil.example:%d is not the page's own" % PORT in log, log[-2000:]
    assert counted.search(log), log[-2000:]
    assert "TCP client" not in log, log[-2000:]
    print("ok")


def raw_status(request):
    """The status a raw request (bytes) gets."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.sendall(request)
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/") else None


def case_exact_hosts():
    """The Host is NAME or NAME:PORT exactly (the adversary's look-alikes are refused), two Hosts
    are 400, and an https:// origin named in [dashboard] allowed_origins (a TLS proxy's) is taken."""
    for host in (b"localhost:%d.evil.com" % PORT, b"127.0.0.1:%d@evil.com" % PORT, b"localhost:evil",
                 b"127.0.0.1:99999999999999999999", b"localhost\0.evil.com", b"simq.lab.example:1",
                 b"[127.0.0.1]:%d" % PORT):
        got = raw_status(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        assert got == 403, (host, got)
    good, evil = b"Host: 127.0.0.1:%d\r\n" % PORT, b"Host: evil.example\r\n"
    for hosts in (good + evil, evil + good, good + good):
        got = raw_status(b"GET / HTTP/1.1\r\n" + hosts + b"\r\n")
        assert got == 400, (hosts, got)
    assert raw_status(b"GET / HTTP/1.1\r\n" + good + b"\r\n") == 200
    host = "127.0.0.1:%d@evil.com" % PORT
    try:
        ws = websocket.create_connection("ws://127.0.0.1:%d/ws" % PORT, host=host, origin="http://" + host, timeout=10)
        ws.send("{}")
        recv(ws)
        raise SystemExit("a WebSocket with Host %s was accepted" % host)
    except (websocket.WebSocketException, ConnectionError):
        pass
    ws = websocket.create_connection("ws://127.0.0.1:%d/ws" % PORT, host="simq.lab.example",
                                     origin="https://simq.lab.example", timeout=10)
    welcome, snap = hello(ws)
    assert snap["type"] == "snapshot", snap["type"]
    try:
        ws = websocket.create_connection("ws://127.0.0.1:%d/ws" % PORT, host="simq.lab.example",
                                         origin="https://evil.example", timeout=10)
        ws.send("{}")
        recv(ws)
        raise SystemExit("a WebSocket from https://evil.example was accepted")
    except (websocket.WebSocketException, ConnectionError):
        pass
    print("ok")


def forwarder():
    """What ssh -L 8080:127.0.0.1:PORT does: a port of its own whose connections go to the dashboard."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)

    def pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve():
        while True:
            c, _ = lsock.accept()
            d = socket.create_connection(("127.0.0.1", PORT))
            threading.Thread(target=pipe, args=(c, d), daemon=True).start()
            threading.Thread(target=pipe, args=(d, c), daemon=True).start()
    threading.Thread(target=serve, daemon=True).start()
    return lsock.getsockname()[1]


def case_ssh_forward():
    """Through a forward from another port (ssh -L 8080:127.0.0.1:PORT), the page's Host is
    127.0.0.1:8080 or localhost:8080: the dashboard's, listening on loopback; its WebSocket's Origin
    must be http:// and that Host; a name not on loopback keeps its exact port."""
    fwd = forwarder()
    for host in ("127.0.0.1:%d" % fwd, "localhost:%d" % fwd, "[::1]:%d" % fwd):
        c = http.client.HTTPConnection("127.0.0.1", fwd, timeout=10)
        c.putrequest("GET", "/", skip_host=True)
        c.putheader("Host", host)
        c.endheaders()
        r = c.getresponse()
        assert r.status == 200 and b"<html" in r.read().lower(), (host, r.status)
        c.close()
    for host in ("127.0.0.1:%d" % fwd, "localhost:%d" % fwd):
        ws = websocket.create_connection("ws://127.0.0.1:%d/ws" % fwd, host=host, origin="http://" + host, timeout=10)
        welcome, snap = hello(ws)
        assert snap["type"] == "snapshot", (host, snap["type"])
        ws.close()
    for host, origin in [("127.0.0.1:%d" % fwd, "http://127.0.0.1:%d" % PORT),
                         ("localhost:%d" % fwd, "http://evil.example:%d" % fwd)]:
        try:
            ws = websocket.create_connection("ws://127.0.0.1:%d/ws" % fwd, host=host, origin=origin, timeout=10)
            ws.send("{}")
            recv(ws)
            raise SystemExit("a WebSocket with Host %s, Origin %s was accepted" % (host, origin))
        except (websocket.WebSocketException, ConnectionError):
            pass
    assert get_status("simq.lab.example:%d" % fwd)[0] == 403
    print("ok: through port %d" % fwd)


def case_snapshot():
    ws = connect()
    welcome, snap = hello(ws)
    assert snap["seq"] == welcome["seq"] and snap["server"] == welcome["server"], (welcome, snap["seq"])
    for key in ("queue", "running", "backends", "stats", "throughput", "failures", "log"):
        assert key in snap, key
    assert set(snap["stats"]["windows"]) == {"since_start", "day", "all"}, snap["stats"]
    assert len(snap["throughput"]["per_hour"]) == 24
    assert snap["backends"] and "history" in snap["backends"][0], snap["backends"]
    assert all(l["severity"] in ("info", "warning", "error") for l in snap["log"]), snap["log"]
    # A task submitted by the CLI is in an update within a second.
    t0 = time.monotonic()
    tid = int(re.search(r"\d+", simq("submit", MODEL, "-p", "critical", "--name", "seen-live")).group())
    m = until(ws, lambda m: m["type"] == "update" and "queue" in m and tid in queued_ids(m), 5, "update with the task")
    took = time.monotonic() - t0
    assert took < 1.0, "the task reached the page after %.2f s" % took
    assert m["seq"] > snap["seq"], (m["seq"], snap["seq"])
    assert any("seen-live" in l["text"] for l in m["log"]), m["log"]
    print("ok %.3f s" % took)


def case_rate():
    """Many changes in a second reach a viewer as at most five updates a second."""
    ws = connect()
    hello(ws)
    simq_api = api()
    stamps, updates, end = [], [], time.monotonic() + 2.0
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            simq_api.submit({"model": MODEL, "name": "churn-%d" % i, "priority": "low"})
            i += 1

    t = threading.Thread(target=churn)
    t.start()
    try:
        while time.monotonic() < end:
            ws.settimeout(max(0.01, end - time.monotonic()))
            try:
                m = recv(ws)
                if m["type"] == "update":
                    stamps.append(m["time"] / 1000.0)  # when the server built it
                    updates.append(m)
            except websocket.WebSocketTimeoutException:
                break
    finally:
        stop.set()
        t.join()
    assert len(stamps) >= 3, "only %d updates while tasks were submitted for 2 s" % len(stamps)
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert len(stamps) <= 11, "%d updates in 2 s" % len(stamps)
    # The timer runs on the loop's clock, the stamps are wall time taken as the update is built: a
    # busy loop shows a gap a few ms short of 0.2 s (0.194 s in CI's ASan build); the count above holds.
    assert min(gaps) >= 0.18, "two updates built %.3f s apart" % min(gaps)
    # Each carries at most 100 log lines, the latest, and says how many it skipped before them.
    last, skipped = None, 0
    for m in updates:
        seqs = [l["seq"] for l in m["log"]]
        assert len(seqs) <= 100 and seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True, seqs
        if seqs and last is not None:
            assert seqs[0] == last + 1 + m.get("log_skipped", 0), (last, m.get("log_skipped"), seqs[0])
        assert m.get("log_skipped", 0) == 0 or len(seqs) == 100, (len(seqs), m.get("log_skipped"))
        skipped += m.get("log_skipped", 0)
        last = seqs[-1] if seqs else last
    print("ok %d updates in 2 s, %d log lines skipped" % (len(stamps), skipped))


def case_failure():
    """A task PLECS (plecs-emu) faults on shows among the failures with its error, and in the log."""
    queued = api().list({"state": "queued"}, 0, 1000)["tasks"]
    if queued:
        api().cancel([t["id"] for t in queued])
    ws = connect()
    welcome, snap = hello(ws, auth=token())
    xmlrpc.client.ServerProxy(os.environ["EMU_URL"]).emu.inject("fault", 1)
    tid = api().submit({"model": MODEL, "name": "doomed", "priority": "critical"})
    ws.send(json.dumps({"action": "resume"}))
    m = until(ws, lambda m: m["type"] == "update" and any(f["id"] == tid for f in m.get("failures", [])), 30,
              "the failure")
    f = [f for f in m["failures"] if f["id"] == tid][0]
    assert f["name"] == "doomed" and f["error"] and f["priority"] == "critical", f
    assert "injected" in f["error"] or "fault" in f["error"].lower(), f
    logged = [l for l in snap["log"] + m["log"] if l["task"] == tid and l["severity"] == "error"]
    if not logged:
        m = until(ws, lambda m: any(l["task"] == tid and l["severity"] == "error" for l in m.get("log", [])), 5,
                  "the failure's log line")
    ws.send(json.dumps({"action": "pause"}))
    until(ws, lambda m: m["type"] == "reply")
    print("ok: %s" % f["error"])


def case_retries():
    """Every running task is a row: one waiting for its retry is listed with its error and due time,
    and still once it is due but dispatch holds it (waiting for a slot); count is the rows' sum."""
    s = api()
    queued = s.list({"state": "queued"}, 0, 1000)["tasks"]
    if queued:
        s.cancel([t["id"] for t in queued])
    ws = connect()
    hello(ws)
    xmlrpc.client.ServerProxy(os.environ["EMU_URL"]).emu.inject("license", 1)
    tid = s.submit({"model": MODEL, "name": "licence-out", "priority": "critical", "no_cache": True})
    s.resume()

    def row(m, waiting):
        rows = [r for r in m.get("running", {"retries": []})["retries"] if r["id"] == tid]
        return m["type"] == "update" and rows and rows[0]["waiting"] == waiting

    m = until(ws, lambda m: row(m, "backoff"), 30, "the task waiting for its retry")
    s.pause()
    r = m["running"]
    t = [x for x in r["retries"] if x["id"] == tid][0]
    assert t["retry"] == 1 and t["max_retries"] == 3 and t["due"] > m["time"] - 1000, t
    assert t["name"] == "licence-out" and t["priority"] == "critical" and "licen" in t["error"].lower(), t
    # Due while dispatch is paused: back in line for a slot, RUNNING still, and still a row.
    m = until(ws, lambda m: row(m, "slot"), 30, "the retry due and waiting for a slot")
    r = m["running"]
    assert s.get(tid)["state"] == "running", s.get(tid)
    assert r["count"] == r["in_calls"] + r["waiting"] + r["writing"] and r["waiting"] == len(r["retries"]) >= 1, r
    # Counted once, as running: not in the queue's rows nor its total; the two add up to the tasks there are.
    _, snap = hello(connect())
    active = len(s.list({"state": "queued"}, 0, 1000)["tasks"]) + len(s.list({"state": "running"}, 0, 1000)["tasks"])
    assert tid not in queued_ids(snap), snap["queue"]
    assert snap["queue"]["total"] + snap["running"]["count"] == active, (snap["queue"]["total"], snap["running"], active)
    assert sum(snap["queue"]["counts"].values()) == snap["queue"]["total"] == snap["stats"]["queued"], snap["queue"]
    s.cancel([tid])
    m = until(ws, lambda m: m["type"] == "update" and "running" in m and not m["running"]["retries"], 10,
              "the cancelled task leaving the rows")
    assert m["running"]["count"] == m["running"]["in_calls"] + m["running"]["writing"], m["running"]
    print("ok: %s" % t["error"])


def case_bad_frames():
    silent = connect()  # says nothing: closed after the first-message time
    ws = connect()
    hello(ws)
    ws.send("not json")
    m = until(ws, lambda m: m["type"] == "error")
    assert m["error"].startswith("not JSON: "), m
    ws.send("[1, 2]")
    m = until(ws, lambda m: m["type"] == "error")
    assert "not a JSON object" in m["error"], m
    ws.send(json.dumps({"colour": "red"}))
    m = until(ws, lambda m: m["type"] == "error")
    assert 'unknown field "colour"; allowed: auth, resume' in m["error"], m
    ws.send(json.dumps({"action": "explode", "ids": [1]}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["ok"] is False and "not an action; allowed: cancel, reprioritize" in m["error"], m
    ws.send('{"auth": 1, "auth": 2}')
    m = until(ws, lambda m: m["type"] == "error")
    assert "duplicate" in m["error"], m
    # Still served after all that.
    ws.send(json.dumps({"action": "cancel", "ids": [1], "ref": "still"}))
    assert until(ws, lambda m: m["type"] == "reply")["ref"] == "still"
    b = connect()
    hello(b)
    b.send_binary(b"\x00\x01")
    assert "binary" in closed_with(b, 1003)
    big = connect()
    hello(big)
    big.send(json.dumps({"ref": "x" * 70000}))
    closed_with(big, 1009)
    t0 = time.monotonic()
    silent.settimeout(20)
    try:
        while True:
            op, _ = silent.recv_data_frame(True)
            assert op == websocket.ABNF.OPCODE_CLOSE, "a silent viewer got data before saying hello"
            break
    except websocket.WebSocketConnectionClosedException:
        pass
    print("ok (silent viewer closed after %.1f s more)" % (time.monotonic() - t0))


def ws_frame(payload, length=None):
    """A masked text frame carrying payload whose header declares length bytes (default: its own)."""
    import struct
    n = len(payload) if length is None else length
    head = b"\x81" + (bytes([0x80 | n]) if n < 126 else b"\xfe" + struct.pack(">H", n) if n < 65536
                      else b"\xff" + struct.pack(">Q", n))
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def raw_viewer():
    """A viewer on a raw socket, past its hello and the snapshot."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.sendall(UPGRADE)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    s.sendall(ws_frame(b"{}"))
    s.settimeout(0.5)
    try:
        while s.recv(1 << 20):
            pass
    except socket.timeout:
        pass
    return s


def dropped(s, timeout=5):
    """Seconds until the server drops s, and the close code it sent (None: no close frame)."""
    t0, got = time.monotonic(), b""
    s.settimeout(timeout)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError("still open after %g s" % timeout)
    at = got.rfind(b"\x88")
    return time.monotonic() - t0, int.from_bytes(got[at + 2:at + 4], "big") if at >= 0 else None


def case_frames():
    """A frame that declares more than a message may hold is closed with 1009 at its first 4 KiB
    and dropped within 2 s, whatever the client does; one that declares 2^63 bytes is dropped at once."""
    s = raw_viewer()
    s.sendall(ws_frame(b"a" * 4096, length=2**63 - 1))
    took, code = dropped(s)
    assert code == 1009 and took < 3, (code, took)
    s = raw_viewer()
    s.sendall(ws_frame(b"a" * 4096, length=70000))
    took2, code = dropped(s)
    assert code == 1009 and took2 < 3, (code, took2)
    s = raw_viewer()
    s.sendall(ws_frame(b"", length=2**63)[:10])  # the length's top bit set: no frame at all
    took3, code = dropped(s)
    assert took3 < 1, took3
    print("ok: 2^63-1 declared: 1009, dropped after %.1f s; 70000: after %.1f s; 2^63: dropped after %.2f s"
          % (took, took2, took3))


def case_actions():
    api().pause()
    a, b = api().submit_many([{"model": MODEL, "name": "act-a", "no_cache": True}, {"model": MODEL, "name": "act-b", "priority": "low", "no_cache": True}])
    ro = connect()
    hello(ro)
    for action in ({"action": "cancel", "ids": [a]}, {"action": "reprioritize", "ids": [b], "priority": "high"},
                   {"action": "retry", "ids": [a]}, {"action": "pause"}, {"action": "resume"}):
        ro.send(json.dumps(dict(action, ref=action["action"])))
        m = until(ro, lambda m: m["type"] == "reply")
        assert m["ok"] is False and "read-only" in m["error"] and m["ref"] == action["action"], m
    assert api().get(a)["state"] == "queued" and api().get(b)["priority"] == "low", "a refused action changed a task"
    ro.send(json.dumps({"auth": "not-the-token-at-all"}))
    m = until(ro, lambda m: m["type"] == "auth")
    assert m["ok"] is False and "wrong token" in m["error"], m
    ws = connect()
    welcome, _ = hello(ws, auth=token())
    assert welcome["read_only"] is False, welcome
    ws.send(json.dumps({"action": "cancel", "ids": [a], "ref": 1}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["ok"] and m["results"] == [{"id": a, "state": "cancelled", "done": True, "changed": True, "reason": ""}], m
    # Again (a page that sent it twice): done, as the API answers it, but nothing changed.
    ws.send(json.dumps({"action": "cancel", "ids": [a], "ref": 2}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["results"][0]["done"] is True and m["results"][0]["changed"] is False, m
    ws.send(json.dumps({"action": "reprioritize", "ids": [b], "priority": "high", "ref": 3}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["ok"] and m["results"][0]["done"] and api().get(b)["priority"] == "high", m
    ws.send(json.dumps({"action": "retry", "ids": [a, a], "ref": 4}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["ok"] and len(m["results"]) == 1 and api().get(m["results"][0]["new_id"])["origin"] == a, m
    copy = m["results"][0]["new_id"]
    assert m["results"][0]["new"] is True and m["results"][0]["new_state"] == "queued", m
    # Again: the copy answers (the page says "already retried as N"); once the copy is cancelled too,
    # the page is told which state it is in, to say "retry N" rather than parse the reason.
    ws.send(json.dumps({"action": "retry", "ids": [a], "ref": "4b"}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["results"] == [{"id": a, "new_id": copy, "new_state": "queued", "new": False, "done": True, "reason": ""}], m
    api().cancel([copy])
    ws.send(json.dumps({"action": "retry", "ids": [a], "ref": "4c"}))
    m = until(ws, lambda m: m["type"] == "reply")
    r = m["results"][0]
    assert m["ok"] and r["new_id"] == copy and r["new_state"] == "cancelled" and r["done"] is False, m
    assert "retry %d" % copy in r["reason"], r
    ws.send(json.dumps({"action": "cancel", "ids": [a, 99999999], "ref": 5}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["ok"] is False and "99999999" in m["error"], m
    ws.send(json.dumps({"action": "reprioritize", "ids": [b], "priority": "urgent", "ref": 6}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["ok"] is False and "critical, high, normal or low" in m["error"], m
    ws.send(json.dumps({"action": "cancel", "ids": "all", "ref": 7}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["ok"] is False and '"ids"' in m["error"], m
    ws.send(json.dumps({"action": "pause", "ref": 8}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["ok"] and m["results"]["paused"] is True and api().stats()["paused"], m
    m = until(ws, lambda m: m["type"] == "update" and "stats" in m and m["stats"]["paused"], 5, "update saying paused")
    ws.send(json.dumps({"action": "resume", "backend": "nosuch", "ref": 9}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["ok"] is False and "nosuch" in m["error"], m
    ws.send(json.dumps({"action": "resume", "ref": 10}))
    m = until(ws, lambda m: m["type"] == "reply")
    assert m["ok"] and m["results"]["paused"] is False, m
    ws.send(json.dumps({"action": "pause", "ref": 11}))
    until(ws, lambda m: m["type"] == "reply")
    # Three wrong tokens on one connection close it.
    bad = connect()
    hello(bad)
    for i in range(3):
        bad.send(json.dumps({"auth": "wrong-%d" % i}))
    closed_with(bad, 1008)
    print("ok")


def case_replies():
    """Replies as api.md says: a final task is answered per id (ok, done false, the reason), what is
    so already is done; priority as a number 0-3; fields an action does not take are refused."""
    s = api()
    done = s.list({"state": "completed"}, 0, 1)["tasks"]
    if not done:
        s.resume()
        tid = s.submit({"model": MODEL, "name": "to-complete", "no_cache": True})
        s.wait([tid], 60)
        s.pause()
        done = [s.get(tid)]
    final = done[0]["id"]
    queued = s.submit({"model": MODEL, "name": "reply-prio", "priority": "low", "no_cache": True})
    paused = s.stats()["paused"]
    ws = connect()
    hello(ws, auth=token())

    def ask(**m):
        ws.send(json.dumps(dict(m, ref="r")))
        return until(ws, lambda m: m["type"] == "reply")

    for action in ({"action": "retry"}, {"action": "reprioritize", "priority": "high"}, {"action": "cancel"}):
        m = ask(ids=[final, queued] if action["action"] == "reprioritize" else [final], **action)
        assert m["ok"] is True, m
        r = m["results"][0]
        assert r["id"] == final and r["done"] is False and "completed" in r["reason"], m
    assert m["ok"] is True and s.get(queued)["state"] == "queued", m
    m = ask(action="reprioritize", ids=[queued], priority=0)
    assert m["ok"] and s.get(queued)["priority"] == "critical", m
    m = ask(action="reprioritize", ids=[queued], priority=3)
    assert m["ok"] and s.get(queued)["priority"] == "low", m
    m = ask(action="reprioritize", ids=[queued], priority=3)
    assert m["ok"] and m["results"][0]["done"] and not m["results"][0]["changed"], m
    for bad in (4, -1, 1.5, "4", True):
        m = ask(action="reprioritize", ids=[queued], priority=bad)
        assert m["ok"] is False and "0 to 3" in m["error"], (bad, m)
    for msg, words in [({"action": "pause", "ids": [1]}, '"ids" is not a field of pause; allowed: action, ref, backend'),
                       ({"action": "pause", "sweep": {}}, '"sweep" is not a field of pause'),
                       ({"action": "cancel", "ids": [queued], "priority": "high"},
                        '"priority" is not a field of cancel; allowed: action, ref, ids'),
                       ({"action": "cancel", "ids": [queued], "backend": "emu"}, '"backend" is not a field of cancel')]:
        m = ask(**msg)
        assert m["ok"] is False and words in m["error"], (msg, m)
    assert s.get(queued)["state"] == "queued" and s.stats()["paused"] == paused, (s.get(queued), paused)
    s.cancel([queued])
    print("ok")


def case_resume():
    ws = connect()
    welcome, snap = hello(ws)
    last = snap["seq"]
    ws.close()
    api().submit({"model": MODEL, "name": "while-away"})
    probe = connect()
    for _ in range(100):  # the update that carries the task is built within 0.2 s of the change
        welcome, _ = hello(probe)
        if welcome["seq"] > last:
            break
        probe.close()
        time.sleep(0.05)
        probe = connect()
    back = connect()
    welcome, first = hello(back, resume={"server": snap["server"], "seq": last})
    assert first["type"] == "update" and first["seq"] == last + 1, (first["type"], first["seq"], last)
    seen, m = list(first.get("log", [])), first
    while m["seq"] < welcome["seq"]:
        prev, m = m["seq"], recv(back)
        assert m["type"] == "update" and m["seq"] == prev + 1, (m["type"], m["seq"], prev)
        seen += m.get("log", [])
    assert any("while-away" in l["text"] for l in seen), seen
    # An unknown field in resume is refused, as everywhere; nothing is done, and a first message may follow.
    odd = connect()
    odd.send(json.dumps({"resume": {"server": snap["server"], "seq": last, "x": 1}}))
    m = recv(odd)
    assert m["type"] == "error" and 'unknown field "x" in resume; allowed: server, seq' in m["error"], m
    welcome, m = hello(odd, resume={"server": snap["server"], "seq": last})
    assert m["type"] == "update" and m["seq"] == last + 1, m["type"]
    other = connect()
    _, m = hello(other, resume={"server": "another-server", "seq": last})
    assert m["type"] == "snapshot", m["type"]
    far = connect()
    _, m = hello(far, resume={"server": snap["server"], "seq": welcome["seq"] + 1000})
    assert m["type"] == "snapshot", m["type"]
    print("ok")


def case_many():
    viewers = []
    for _ in range(100):
        viewers.append(connect())
    for ws in viewers:
        ws.send("{}")
    for ws in viewers:
        assert recv(ws)["type"] == "welcome" and recv(ws)["type"] == "snapshot"
    # The limit is 150 here: 50 more that say hello are taken, the next is refused.
    more = [connect() for _ in range(50)]
    for ws in more:
        hello(ws)
    extra = connect()
    extra.send("{}")
    m = recv(extra)
    assert m["type"] == "refused" and "max_viewers" in m["error"], ("a viewer past max_viewers", m)
    closed_with(extra, 1013)
    for ws in more:
        ws.close()
    tid = api().submit({"model": MODEL, "name": "for-all", "priority": "critical", "no_cache": True})
    t0 = time.monotonic()
    for ws in viewers:
        until(ws, lambda m: m["type"] == "update" and "queue" in m and tid in queued_ids(m), 10, "the update")
    print("ok: 100 viewers had the task within %.2f s" % (time.monotonic() - t0))


def case_operator():
    """200 read-only pages that connect and keep reading fill the places (150 here): the others are
    refused, told why (a message the page can show, then 1013); a page that brings the token still
    gets its snapshot within a second or two, and the oldest read-only viewer makes room, told why."""
    raise_fd_limit()
    views, refused = [], []
    for _ in range(200):
        ws = connect()
        ws.send("{}")
        m = recv(ws)
        if m["type"] == "welcome":
            views.append(ws)
            continue
        assert m["type"] == "refused" and "max_viewers" in m["error"] and "token" in m["error"], m
        closed_with(ws, 1013)
        refused.append(ws)
    assert 140 <= len(views) <= 150 and len(views) + len(refused) == 200, (len(views), len(refused))
    told = {}

    def read(i, ws):  # every viewer reads all it is sent, as a live page does
        try:
            while True:
                m = recv(ws)
                if m["type"] == "refused":
                    told[i] = m["error"]
        except (websocket.WebSocketException, ConnectionError, ValueError):
            pass
    readers = [threading.Thread(target=read, args=(i, ws), daemon=True) for i, ws in enumerate(views)]
    for r in readers:
        r.start()
    t0 = time.monotonic()
    op = connect()
    welcome, snap = hello(op, auth=token())
    took = time.monotonic() - t0
    assert welcome["read_only"] is False and snap["type"] == "snapshot", (welcome, snap["type"])
    assert took < 2, "the page with the token waited %.2f s for its snapshot" % took
    end = time.monotonic() + 5
    while not told and time.monotonic() < end:
        time.sleep(0.05)
    assert list(told) == [0] and "a page with the token took this place" in told[0], told
    late = connect()
    late.send("{}")
    m = recv(late)
    assert m["type"] == "refused", ("a read-only page while the places are full", m)
    closed_with(late, 1013)
    print("ok: %d read-only viewers, %d refused; the page with the token had its snapshot in %.2f s; "
          "refused: %s" % (len(views), len(refused), took, m["error"]))


def server_pid():
    return int(open(os.path.join(HOME, "simq.pid")).read())


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def timed(*args):
    """Seconds a simq command took (it must succeed within 10 s)."""
    t0 = time.monotonic()
    subprocess.run([SIMQ] + list(args), check=True, capture_output=True, timeout=10)
    return time.monotonic() - t0


def raise_fd_limit():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))


UPGRADE = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
           % (PORT, PORT)).encode()
HOLDS = [b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (PORT, PORT),
         b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % PORT,
         b"BREW / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % PORT,
         b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % PORT,  # headers that never end
         UPGRADE]  # a WebSocket that never sends its first message


class Holder(threading.Thread):
    """Holds n connections of the kinds in kinds.  One the server closes is opened again: at once,
    at most pace a second in all; or, with renew, when renew seconds have passed since it was
    opened, when this side also closes and opens again those the server left open."""

    def __init__(self, n, kinds, pace=300, renew=None):
        super().__init__(daemon=True)
        self.n, self.kinds, self.pace, self.renew = n, kinds, pace, renew
        self.stop, self.opened, self.ready = threading.Event(), 0, threading.Event()

    def open(self, i):
        s = socket.create_connection(("127.0.0.1", PORT))
        s.sendall(self.kinds[i % len(self.kinds)])
        self.opened += 1
        return s

    def run(self):
        import select
        socks, waiting = {}, []  # fd: (socket, kind, opened at); [(kind, opened at)] closed by the server

        def add(i):
            s = self.open(i)
            socks[s.fileno()] = (s, i, time.monotonic())
        for i in range(self.n):
            add(i)
        self.ready.set()
        budget, last = 0.0, time.monotonic()
        while not self.stop.is_set():
            p = select.poll()
            for fd in socks:
                p.register(fd, select.POLLIN)
            for fd, _ in p.poll(50):
                s, i, t = socks[fd]
                try:
                    gone = s.recv(65536) == b""
                except ConnectionError:
                    gone = True
                if gone:
                    del socks[fd]
                    s.close()
                    waiting.append((i, t))
            now = time.monotonic()
            budget, last = min(self.pace, budget + (now - last) * self.pace), now
            if self.renew:
                for fd, (s, i, t) in list(socks.items()):
                    if now - t >= self.renew:
                        del socks[fd]
                        s.close()
                        add(i)
            for i, t in list(waiting):
                if (now - t >= self.renew) if self.renew else budget >= 1:
                    waiting.remove((i, t))
                    budget -= 1
                    add(i)
        for s, _, _ in socks.values():
            s.close()


def snapshot_seconds(asked_again=None):
    """How long a page that says hello at once waits for its snapshot.  With asked_again (a list), a
    connection closed before its request was read is asked again, as the page does, and counted there;
    the time is the whole wait."""
    t0 = time.monotonic()
    tries = 0
    while True:
        try:
            ws = connect()
            welcome, snap = hello(ws)
            break
        except (OSError, websocket.WebSocketException):
            # At most 3 times for one page (the whole wait is bounded by the caller's check).
            tries += 1
            if asked_again is None or tries > 3:
                raise
            asked_again.append(time.monotonic() - t0)
    assert snap["type"] == "snapshot", snap["type"]
    took = time.monotonic() - t0
    ws.close()
    return took


def case_flood():
    """1,100 connections held open that are not viewers (CONNECT, OPTIONS, an unknown method,
    headers that never end, WebSockets that never speak), opened again (300 a second) as the server closes
    them, against a server that may open 1,024 files: the dashboard takes only its share, the CLI
    answers at once, and a page's viewer is served."""
    raise_fd_limit()
    pid = server_pid()
    limit = [l for l in open("/proc/%d/limits" % pid) if l.startswith("Max open files")][0].split()[3]
    assert limit == "1024", "the server may open %s files; this case needs 1024" % limit
    before = fds(pid)
    holder = Holder(1100, HOLDS)
    holder.start()
    holder.ready.wait(60)
    worst_status = worst_submit = worst_snapshot = most = 0
    asked_again = []  # a page's connection taken for the flood's before it spoke: the page asks again
    for _ in range(5):
        most = max(most, fds(pid))
        worst_status = max(worst_status, timed("status"))
        worst_submit = max(worst_submit, timed("submit", MODEL, "--name", "during-flood"))
        worst_snapshot = max(worst_snapshot, snapshot_seconds(asked_again))
        most = max(most, fds(pid))
    holder.stop.set()
    holder.join(10)
    print("# %d connections opened by the attacker; the server held at most %d descriptors (%d before); "
          "status %.2f s, submit %.2f s, a viewer's snapshot %.2f s at worst"
          % (holder.opened, most, before, worst_status, worst_submit, worst_snapshot))
    assert most <= before + 3 * 150 + 10, "the server held %d descriptors (%d before)" % (most, before)
    assert worst_status < 2 and worst_submit < 2, (worst_status, worst_submit)
    assert worst_snapshot < 2, worst_snapshot
    end = time.monotonic() + 15
    while fds(pid) > before + 5 and time.monotonic() < end:
        time.sleep(0.1)
    assert fds(pid) <= before + 5, "%d descriptors 15 s after the flood (%d before)" % (fds(pid), before)
    print("ok: at most %d descriptors held, status %.2f s, submit %.2f s, snapshot %.2f s (%d connections asked again)"
          % (most, worst_status, worst_submit, worst_snapshot, len(asked_again)))


def case_hogs():
    """WebSockets that never send their first message, 250 of them opened again every 4.5 s (just
    under the 5 s deadline): a page that says hello at once still gets its snapshot at once."""
    raise_fd_limit()
    holder = Holder(250, [UPGRADE], renew=4.5)
    holder.start()
    holder.ready.wait(60)
    worst = 0
    for _ in range(10):
        worst = max(worst, snapshot_seconds())
        time.sleep(0.5)
    holder.stop.set()
    holder.join(10)
    assert worst < 1.5, "a page waited %.2f s for its snapshot" % worst
    print("ok: %d hogs opened, a page's snapshot within %.2f s" % (holder.opened, worst))


def churn(seconds, held, counter):
    """Opens connections that send nothing as fast as it can for seconds, holding at most held (the
    oldest closed); adds how many it opened to counter."""
    import collections
    socks, opened, end = collections.deque(), 0, time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            socks.append(socket.create_connection(("127.0.0.1", PORT), timeout=1))
            opened += 1
        except OSError:
            pass
        while len(socks) > held:
            socks.popleft().close()
    with counter.get_lock():
        counter.value += opened


def get_whole(path):
    """GETs path on a new connection: the body and whether it is whole (as long as its Content-Length).
    None when the connection was closed before any answer (a browser sends the request again)."""
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
    except (ConnectionError, socket.timeout):  # RemoteDisconnected and BrokenPipeError among them
        return None
    try:
        body = r.read()
    except http.client.IncompleteRead as e:
        body = e.partial
    finally:
        c.close()
    return r.status, len(body), int(r.getheader("Content-Length", -1))


def case_churn():
    """A churn of connections that send nothing (as fast as two processes open them, the oldest
    closed) while a client GETs the page and its files, each on a new connection, and opens a
    WebSocket: every file comes whole (as long as its Content-Length), every WebSocket has its
    snapshot; only a connection still waiting for its request makes room for a new one."""
    import multiprocessing
    raise_fd_limit()
    counter = multiprocessing.Value("l", 0)
    churners = [multiprocessing.Process(target=churn, args=(12, 300, counter)) for _ in range(2)]
    for p in churners:
        p.start()
    time.sleep(1)  # the churn under way (the files are asked for while it lasts, and it lasts 12 s)
    files, again, sockets, end = {}, 0, 0, time.monotonic() + 8
    while time.monotonic() < end:
        for path in ("/", "/dashboard.js", "/dashboard.css", "/chart.js"):
            got = get_whole(path)
            while got is None:  # closed before it was read: asked again, as a browser does
                again += 1
                got = get_whole(path)
            status, length, declared = got
            assert status == 200 and length == declared, "GET %s: %d, %d bytes of %d" % (path, status, length, declared)
            files[path] = files.get(path, 0) + 1
        while True:
            try:
                ws = connect()
                break
            except (websocket.WebSocketConnectionClosedException, ConnectionError):
                again += 1  # closed before its upgrade was read: the page connects again
        welcome, snap = hello(ws)
        assert snap["type"] == "snapshot", snap["type"]
        ws.close()
        sockets += 1
    for p in churners:
        p.join(30)
    rounds = min(files.values())
    assert rounds >= 5, files
    # A client that has not sent its request 30 ms after connecting looks like the flood; rarely.
    assert again <= max(3, rounds * 5 // 20), "%d of %d connections closed before their request was read" % (again, rounds * 5)
    print("ok: %d connections churned; %d rounds of the page's 4 files, all whole, %d WebSockets with their "
          "snapshot (%d connections asked again: closed before their request was read)"
          % (counter.value, rounds, sockets, again))


def connect_from(src, **kw):
    """A viewer whose connection comes from the address src (any of 127/8 reaches the dashboard)."""
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", PORT))
    return websocket.create_connection("ws://127.0.0.1:%d/ws" % PORT, origin=ORIGIN, timeout=15, socket=s, **kw)


def case_guessing():
    """Wrong tokens are limited server-wide: a guesser that reconnects after every three (as a
    connection allows), over eight connections at once, gets about 10 checked a second; the rest
    are told they were not checked.  A page from another address gets in with the right token at
    once meanwhile; one from the guesser's address is told to try again; the log counts them."""
    stop, counts, lock = threading.Event(), {"wrong": 0, "held": 0, "right": 0}, threading.Lock()

    def guess(n):
        i = 0
        while not stop.is_set():
            ws = connect_from("127.0.0.2")
            hello(ws)
            for _ in range(3):
                ws.send(json.dumps({"auth": "guess-%d-%d" % (n, i)}))
                i += 1
            try:  # the third wrong one closes the connection, its answer unsent
                for _ in range(3):
                    m = until(ws, lambda m: m["type"] == "auth")
                    with lock:
                        counts["right" if m["ok"] else "held" if m.get("held") else "wrong"] += 1
            except (websocket.WebSocketException, ConnectionError, ValueError):
                pass
            ws.close()

    threads = [threading.Thread(target=guess, args=(n,), daemon=True) for n in range(8)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(1)  # the budget is spent by now; the page comes while the guessing goes on
    t1 = time.monotonic()
    page = connect_from("127.0.0.3")
    welcome, _ = hello(page, auth=token())
    in_after = time.monotonic() - t1
    # From the guesser's address the token waits for a free place in the budget: held, told so.
    same = connect_from("127.0.0.2")
    welcome_same, _ = hello(same, auth=token())
    held = {"held": True, "error": "try again"} if not welcome_same["read_only"] else \
        until(same, lambda m: m["type"] == "auth")
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join(20)
    took = time.monotonic() - t0
    rate = counts["wrong"] / took
    print("# %d wrong tokens checked in %.1f s (%.1f a second), %d not checked; the page with the token got in "
          "after %.3f s" % (counts["wrong"], took, rate, counts["held"], in_after))
    assert counts["right"] == 0, counts
    assert welcome["read_only"] is False and in_after < 2, (welcome, in_after)
    assert held.get("held") and "try again" in held["error"], held
    assert counts["held"] > counts["wrong"], counts
    assert rate <= 10 * (1 + 1.5 / took) + 1, "%.1f wrong tokens a second were checked" % rate
    counted = re.compile(r"refused (\d+) more dashboard requests \(the last from \S*127\.0\.0\.2: a (wrong token|token not checked)")
    end = time.monotonic() + 5
    while not counted.search(simq_log()) and time.monotonic() < end:
        time.sleep(0.1)
    assert counted.search(simq_log()), simq_log()[-2000:]
    print("ok: %.1f wrong tokens a second checked; a page with the token in after %.3f s" % (rate, in_after))


def sweep(ws, ref, **q):
    """The answer to a sweep request, asked again while the server's budget is spent."""
    for _ in range(50):
        ws.send(json.dumps({"sweep": q, "ref": ref}))
        m = until(ws, lambda m: m["type"] == "sweep" and m["ref"] == ref, 10, "the sweep answer %s" % ref)
        if not m.get("busy"):
            return m
        time.sleep(0.2)
    raise AssertionError("the server stayed busy for sweep %r" % q)


def case_sweep():
    """A sweep's result summary against a swept variable, from the store's summaries: the listing,
    the points (each the task's stored summary, bit for bit), series by the other variable, errors."""
    s = api()
    s.resume()
    ids = s.submit_many([{"model": MODEL, "name": "rc-sweep", "tags": ["sw"], "vars": {"R": r, "C": c}}
                         for r in (1, 2, 4) for c in (1e-6, 3.3e-6)])
    lone = s.submit({"model": MODEL, "name": "rc-lone", "vars": {"R": 1}})
    s.wait(ids + [lone], 60)
    s.pause()
    assert all(s.get(i)["state"] == "completed" for i in ids), [s.get(i)["state"] for i in ids]
    ws = connect()
    hello(ws)  # read-only: asking is not acting
    m = sweep(ws, "list")
    assert m["ok"], m
    mine = [x for x in m["sweeps"] if x.get("name") == "rc-sweep"]
    assert mine and mine[0]["tasks"] == 6 and sorted(mine[0]["vars"]) == ["C", "R"], m["sweeps"]
    assert any(x.get("tag") == "sw" for x in m["sweeps"]), m["sweeps"]
    assert not any(x.get("name") == "rc-lone" for x in m["sweeps"]), "a single task listed as a sweep"
    for summary in ("final", "mean", "rms", "min", "max"):
        m = sweep(ws, summary, name="rc-sweep", by="R", signal="sig1", summary=summary)
        assert m["ok"] and m["by"] == "R" and m["summary"] == summary and m["signals"] == ["sig1"], m
        assert sorted(p["id"] for p in m["points"]) == sorted(ids), m["points"]
        for p in m["points"]:
            t = s.get(p["id"])
            want = s.result(p["id"])["summary"]["sig1"][summary]
            assert p["x"] == t["vars"]["R"] and p["y"] == want, (p, want)
            assert p["series"] == "C=%s" % json.dumps(t["vars"]["C"]), p
    m = sweep(ws, "tag", tag="sw", by="C", summary="rms")
    assert m["ok"] and m["tag"] == "sw" and len(m["points"]) == 6, m
    assert len({p["y"] for p in m["points"]}) > 1, "RMS the same for every R and C: %s" % m["points"]
    m = sweep(ws, "default", name="rc-sweep")
    assert m["ok"] and m["by"] == "C" and m["signal"] == "sig1" and m["summary"] == "final", m
    for q, words in [({"name": "rc-sweep", "by": "L"}, '"by": L is not swept by name "rc-sweep"; allowed: C, R'),
                     ({"name": "rc-sweep", "signal": "sig7"}, '"signal": sig7 is not a signal of these results; allowed: sig1'),
                     ({"name": "rc-sweep", "summary": "median"}, "allowed: final, mean, rms, min or max"),
                     ({"name": "rc-lone"}, "sweep nothing"), ({"name": "nobody"}, 'no task with name "nobody" completed'),
                     ({"name": "a", "tag": "b"}, "one of them"), ({"hours": 0}, "from 1 to 720"),
                     ({"colour": 1}, 'unknown field "colour"'), ({"name": 5}, 'the field "name" is not text')]:
        m = sweep(ws, "bad", **q)
        assert m["ok"] is False and words in m["error"], (q, m)
    m = sweep(ws, "arr", **{})  # (the listing) then a non-object
    time.sleep(1.1)
    ws.send(json.dumps({"sweep": [1], "ref": "arr"}))
    m = until(ws, lambda m: m["type"] == "sweep")
    assert m["ok"] is False and "not an object" in m["error"], m
    # The budget: 20 pages asking for the same chart at once cost one reading (kept for a second);
    # 20 different requests at once get at most 5 new answers a second (10 if they straddle two
    # seconds), the rest told to ask again.
    time.sleep(1.1)
    pages = [connect() for _ in range(20)]
    for p in pages:
        hello(p)
    for p in pages:
        p.send(json.dumps({"sweep": {"name": "rc-sweep", "by": "R", "summary": "rms"}, "ref": "same"}))
    same = [until(p, lambda m: m["type"] == "sweep") for p in pages]
    assert all(m["ok"] and m["points"] == same[0]["points"] for m in same), [m.get("error") for m in same]
    time.sleep(1.1)
    for h in range(1, 21):
        ws.send(json.dumps({"sweep": {"name": "rc-sweep", "hours": h}, "ref": h}))
    answers = [until(ws, lambda m: m["type"] == "sweep") for _ in range(20)]
    busy = [m for m in answers if m.get("busy")]
    assert 10 <= len(busy) <= 15 and all("at most 5 new sweep requests a second" in m["error"] for m in busy), answers
    assert all(m["ok"] for m in answers if not m.get("busy")), answers
    print("ok: %d of 20 different requests at once told to ask again" % len(busy))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def case_slow():
    """A viewer that never reads: the others keep up, the server's memory stays bounded, and the
    slow one gets a fresh snapshot once it reads again."""
    pid = int(open(os.path.join(HOME, "simq.pid")).read())
    slow = connect(sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    hello(slow)
    reader = connect()
    _, snap = hello(reader)
    got = {"bytes": 0, "seq": snap["seq"], "gaps": 0, "snapshots": 0}
    stop = threading.Event()

    def read():
        while not stop.is_set():
            try:
                reader.settimeout(1)
                text = reader.recv()
            except websocket.WebSocketTimeoutException:
                continue
            got["bytes"] += len(text)
            head = json.loads(text[:200].split(',"time"')[0] + "}")
            if head["type"] == "snapshot":
                got["snapshots"] += 1
            elif head["type"] == "update" and head["seq"] != got["seq"] + 1:
                got["gaps"] += 1
            got["seq"] = head.get("seq", got["seq"])

    t = threading.Thread(target=read, daemon=True)  # a failure below must not leave it holding the exit
    t.start()
    s = api()
    long_name = "slow-viewer-" + "x" * 180
    # Big updates: ten critical tasks with 6 KB of text in their vars each lead the queue, replaced by
    # ten new ones each round, so that every update carries ten fresh rows (and the log its lines).
    # (Text, not a vector: a row carries a vector of more than 16 numbers as its size.)
    notes = {k: k * 1500 for k in ("a", "b", "c", "d")}
    held = []

    def churn(rounds=None, volume=None):
        end = time.monotonic() + 60
        while (rounds is None or rounds > 0) and (volume is None or got["bytes"] - volume0 < volume):
            ids = s.submit_many([{"model": MODEL, "name": long_name, "priority": "critical", "vars": notes}] * 10)
            if held:
                s.cancel(held)
            held[:] = ids
            rounds = rounds - 1 if rounds is not None else None
            if time.monotonic() > end:
                stop.set()
                raise AssertionError("only %.1f MB of updates in 60 s" % ((got["bytes"] - volume0) / 2**20))

    # Warm up until the server's ring of updates for reconnecting pages (4 MiB) is full and its
    # caches are warm; from then on, whatever goes out, it must not grow.
    volume0 = got["bytes"]
    churn(volume=5 << 20)
    before = rss_kib(pid)
    volume0 = got["bytes"]
    churn(volume=5 << 20)
    s.cancel(held)
    after = rss_kib(pid)
    time.sleep(0.5)  # the last update is built within 0.2 s
    final = connect()
    welcome, _ = hello(final)
    end = time.monotonic() + 10
    while got["seq"] < welcome["seq"] and time.monotonic() < end:
        time.sleep(0.05)
    stop.set()
    t.join(timeout=15)
    volume = got["bytes"] - volume0
    grew = (after - before) / 1024
    assert got["seq"] >= welcome["seq"], "the reading viewer stopped at %d of %d" % (got["seq"], welcome["seq"])
    assert got["gaps"] == 0 and got["snapshots"] == 0, got
    print("# %.1f MB of updates went out, the server grew %.1f MB" % (volume / 2**20, grew))
    assert volume > 5 << 20, "only %.1f MB of updates: not enough to fill the slow viewer" % (volume / 2**20)
    assert grew < 3, "the server grew %.1f MB while %.1f MB of updates went out" % (grew, volume / 2**20)
    # Now the slow viewer reads: what it was sent before the drop, then a fresh snapshot.
    m = until(slow, lambda m: m["type"] == "snapshot", 30, "snapshot for the slow viewer")
    assert m["seq"] <= welcome["seq"] + 1, (m["seq"], welcome["seq"])
    print("ok: %.1f MB of updates, the server grew %.1f MB" % (volume / 2**20, grew))


def case_down_reason():
    """A backend that answers with what is not XML-RPC goes DOWN saying so, in the log and in the
    page's backend history: "after 3 failed calls: PLECS's answer is not XML-RPC: …"."""
    s = api()
    s.pause()
    queued = [t["id"] for t in s.list({"state": "queued"}, 0, 1000)["tasks"]]
    if queued:
        s.cancel(queued)
    ws = connect()
    hello(ws)
    xmlrpc.client.ServerProxy(os.environ["EMU_URL"]).emu.inject("malformed", 3)
    models = os.path.dirname(MODEL)
    ids = [s.submit({"model": os.path.join(models, m), "name": "garbled", "priority": "critical", "no_cache": True})
           for m in ("rc.plecs", "buck.plecs", "rlc.plecs")]  # three models: three calls
    s.resume()

    def down(m):
        hist = [h for b in m.get("backends", []) for h in b["history"] if not h["up"]]
        return hist[-1] if hist else None
    m = until(ws, lambda m: m["type"] == "update" and down(m), 60, "the backend DOWN")
    detail = down(m)["detail"]
    assert detail.startswith("after 3 failed calls: ") and "XML-RPC" in detail, detail
    assert "without an answer" not in detail, detail
    s.pause()
    s.cancel(ids)  # waiting for their retries: none completes (a later case counts on rc.plecs never having run bare)
    until(ws, lambda m: m["type"] == "update" and any(b["up"] for b in m.get("backends", [])), 30, "the backend UP again")
    line = [l for l in simq_log().splitlines() if " DOWN " in l][-1]
    assert "DOWN " + detail in line, (line, detail)
    print("ok: %s" % line)


def restart_server():
    subprocess.run([SIMQ, "--no-start", "shutdown"], check=True, capture_output=True)
    subprocess.run([SIMQ, "server", "-c", os.environ["SIMQ_INI"]], check=True, capture_output=True)
    end = time.monotonic() + 15
    while True:
        try:
            return connect()
        except (websocket.WebSocketException, ConnectionError):
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


def case_restart():
    """Failures are read from the store: after hundreds of tasks finished since and a restart, the
    snapshot still lists them, newest first, a retried one with its copy; the 24 h window counts them."""
    s = api()
    s.pause()
    while True:
        queued = [t["id"] for t in s.list({"state": "queued"}, 0, 1000)["tasks"]]
        if not queued:
            break
        s.cancel(queued)
    failed = []
    s.resume()
    for i in range(2):  # one at a time: a fault in a batch of two would split it
        xmlrpc.client.ServerProxy(os.environ["EMU_URL"]).emu.inject("fault", 1)
        failed.append(s.submit({"model": MODEL, "name": "fails-before-restart-%d" % i, "priority": "critical",
                                "no_cache": True}))
        s.wait([failed[-1]], 60)
    s.pause()
    assert [s.get(i)["state"] for i in failed] == ["failed", "failed"], [s.get(i) for i in failed]
    copy = s.retry([failed[0]])[0]
    # 250 tasks finish after them (cancelled here): more than the engine keeps of recent tasks.
    s.cancel(s.submit_many([{"model": MODEL, "name": "after", "priority": "low", "no_cache": True}] * 250))
    ws = restart_server()
    welcome, snap = hello(ws)
    got = {f["id"]: f for f in snap["failures"]}
    assert all(i in got for i in failed), ("failures after the restart", [f["id"] for f in snap["failures"]], failed)
    assert got[failed[0]]["retried_as"] == copy and got[failed[1]]["retried_as"] == 0, (got, copy)
    assert "injected" in got[failed[1]]["error"], got[failed[1]]
    finished = [f["finished"] for f in snap["failures"]]
    assert finished == sorted(finished, reverse=True) and len(finished) <= 20, finished
    w = snap["stats"]["windows"]
    assert w["since_start"]["failed"] == 0 and w["day"]["failed"] >= 2, w
    print("ok: %d failures after the restart, %d retried as %d" % (len(finished), failed[0], copy))


if __name__ == "__main__":
    globals()["case_" + sys.argv[1]]()
