# The dashboard's protocol, case by case, against a real server: python3 dashboard_cases.py CASE.
# Environment: DASH_PORT (the dashboard), SIMQ_HOME (the server's state dir), SIMQ (the program),
# MODEL (a .plecs file).  Debian's python3-websocket is the client.  Each case exits 0 when it holds.
import http.client, json, os, re, socket, subprocess, sys, threading, time
import websocket
import xmlrpc.client

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
                         r"is not the page's own \(http://localhost:%d\)\)" % (PORT, PORT))
    end = time.monotonic() + 10
    while not counted.search(simq_log()) and time.monotonic() < end:
        time.sleep(0.1)
    log = simq_log()
    assert first in log and "Origin http://evil.example:%d is not the page's own" % PORT in log, log[-2000:]
    assert counted.search(log), log[-2000:]
    assert "TCP client" not in log, log[-2000:]
    print("ok")


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
    assert min(gaps) >= 0.195, "two updates built %.3f s apart" % min(gaps)
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


def case_actions():
    api().pause()
    a, b = api().submit_many([{"model": MODEL, "name": "act-a"}, {"model": MODEL, "name": "act-b", "priority": "low"}])
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
    # The limit is 150 here: 50 more are taken, the next is refused.
    more = [connect() for _ in range(50)]
    try:
        extra = connect()
        extra.send("{}")
        recv(extra)
        raise SystemExit("a viewer past max_viewers was accepted")
    except (websocket.WebSocketException, ConnectionError):
        pass
    for ws in more:
        ws.close()
    tid = api().submit({"model": MODEL, "name": "for-all", "priority": "critical", "no_cache": True})
    t0 = time.monotonic()
    for ws in viewers:
        until(ws, lambda m: m["type"] == "update" and "queue" in m and tid in queued_ids(m), 10, "the update")
    print("ok: 100 viewers had the task within %.2f s" % (time.monotonic() - t0))


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
    # Big updates: ten critical tasks with a 300-number vector each lead the queue, replaced by ten
    # new ones each round, so that every update carries ten fresh rows (and the log its lines).
    vector = [i / 7 for i in range(300)]
    held = []

    def churn(rounds=None, volume=None):
        end = time.monotonic() + 60
        while (rounds is None or rounds > 0) and (volume is None or got["bytes"] - volume0 < volume):
            ids = s.submit_many([{"model": MODEL, "name": long_name, "priority": "critical", "vars": {"v": vector}}] * 10)
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


if __name__ == "__main__":
    globals()["case_" + sys.argv[1]]()
