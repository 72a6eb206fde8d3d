#!/bin/sh
# simq's API from Python's standard library: the example over the Unix socket and over
# TCP with the token, a wrong token refused, and 4 clients submitting 10,000 tasks at once.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"

requires python3
plan 13
export SIMQ_HOME="$TMP/state"
M=$SRC/share/models/buck.plecs
EX=$SRC/share/examples/submit_sweep.py
# A free TCP port for the API: ask the kernel for one.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '[server]\nlisten = 127.0.0.1\nport = %s\n[scheduler]\nstart_paused = true\n' "$port" >"$TMP/simq.ini"
stop_server() { "$SIMQ" shutdown >/dev/null 2>&1; }
trap stop_server EXIT

expect_status "the server starts with a TCP listener" 0 "$SIMQ" server -c "$TMP/simq.ini"
expect_status "submit_sweep.py over the Unix socket" 0 python3 "$EX" --socket "$SIMQ_HOME/simq.sock" "$M"
expect_in "it submits 9 tasks" "$TMP/out" "submitted 9 tasks: 1-9"
token=$(cat "$SIMQ_HOME/token")
expect_status "submit_sweep.py over TCP with the token" 0 python3 "$EX" --tcp "127.0.0.1:$port" --token "$token" "$M"
expect_status "a wrong token is refused" 0 python3 -c "
import sys, xmlrpc.client
try:
    xmlrpc.client.ServerProxy('http://simq:not-the-token-at-all@127.0.0.1:$port/RPC2').simq.stats()
except xmlrpc.client.ProtocolError as e:
    sys.exit(0 if e.errcode == 401 else 1)
sys.exit(1)"
# The token exactly: none, the right one cut short, the right one with more after it, another
# user: each is refused with 401; the right one passes.
expect_status "only the exact token passes (none, cut short, longer, another user: 401)" 0 python3 - "$port" "$token" <<'PY'
import base64, http.client, sys
port, token = int(sys.argv[1]), sys.argv[2]
def basic(user, password): return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
right = basic("simq", token)
body = "<?xml version='1.0'?><methodCall><methodName>simq.echo</methodName><params><param><value><int>7</int></value></param></params></methodCall>"
def status(auth):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "text/xml"}
    if auth is not None:
        headers["Authorization"] = auth
    c.request("POST", "/RPC2", body=body, headers=headers)
    r = c.getresponse(); r.read(); c.close()
    return r.status
for what, auth in [("none", None), ("empty", ""), ("cut short", right[:-1]), ("longer", right + "x"),
                   ("token with more", basic("simq", token + "x")), ("another user", basic("root", token)),
                   ("the token's prefix", basic("simq", token[:-1]))]:
    got = status(auth)
    assert got == 401, "%s: HTTP %d, expected 401" % (what, got)
assert status(right) == 200, "the right token was refused"
PY

# 4 clients at once, 10,000 tasks in batches of 250: none lost, none twice.
expect_status "4 clients submit 10,000 tasks at once" 0 python3 - "$SIMQ_HOME/simq.sock" "$M" <<'PY'
import sys, threading, http.client, socket, xmlrpc.client
path, model = sys.argv[1], sys.argv[2]
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(path)
class T(xmlrpc.client.Transport):
    def make_connection(self, host): return C("localhost")
def proxy(): return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=T())
ids, errors = [], []
def client(n):
    s = proxy()
    try:
        for b in range(10):
            ids.extend(s.simq.submit_many([{"model": model, "vars": {"D": 0.5, "K": n * 10000 + b * 250 + i}} for i in range(250)]))
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
for t in threads: t.start()
for t in threads: t.join()
assert not errors, errors
assert len(ids) == 10000 and len(set(ids)) == 10000, (len(ids), len(set(ids)))
# Read every queued task back: each K exactly once.
s, seen, offset = proxy(), [], 0
while True:
    page = s.simq.list({"state": "queued"}, offset, 1000)
    seen += [t["vars"]["K"] for t in page["tasks"] if "K" in t["vars"]]
    offset += 1000
    if offset >= page["total"]: break
assert len(seen) == 10000 and len(set(seen)) == 10000, (len(seen), len(set(seen)))
print("10000 submitted, 10000 stored, no duplicates")
PY
expect_in "every task is stored once" "$TMP/out" "10000 submitted, 10000 stored, no duplicates"

expect_status "bad input is a fault naming the field, and nothing is stored" 0 python3 - "$SIMQ_HOME/simq.sock" "$M" <<'PY'
import sys, http.client, socket, xmlrpc.client
path, model = sys.argv[1], sys.argv[2]
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(path)
class T(xmlrpc.client.Transport):
    def make_connection(self, host): return C("localhost")
simq = xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=T()).simq
before = simq.stats()["queued"]
cases = [
    ({"model": "relative/buck.plecs"}, 'model "relative/buck.plecs": not an absolute path'),
    ({"model": "/nonexistent/buck.plecs"}, 'model "/nonexistent/buck.plecs": No such file or directory'),
    ({"model": "/tmp"}, 'model "/tmp": not a .plecs file'),
    ({"model": model, "vars": {"x": {"a": 1}}}, 'vars.x {"a":1}: allowed: a number, a string, a vector or a matrix'),
    ({"model": model, "vars": {"v": [1, "two"]}}, 'vars.v [1,"two"]: a vector holds numbers only (item 2 is not one)'),
    ({"model": model, "vars": {"bad name": 1}}, "vars.bad name: not a variable name"),
    ({"model": model, "vars": {"v%d" % i: i for i in range(300)}}, "300 members; at most 256 are allowed"),
    ({"model": model, "name": "n" * 201}, "name \"" + "n" * 80 + "... (201 bytes)\": 201 bytes; at most 200"),
    ({"model": model, "priority": 7}, "priority 7: allowed"),
    ({"model": model, "solver": {"Tolerance": 1}}, "solver.Tolerance: not a solver option"),
    ({"model": model, "timeout": -1}, "timeout -1: allowed"),
    ({"model": model, "colour": "red"}, "unknown field \"colour\""),
    ({"vars": {}}, "model: required: the absolute path of a .plecs model file"),
    ({"model": model, "vars": {"D": float("nan")}}, "vars.D nan: NaN is not a number PLECS takes"),
    ({"model": model, "tags": "a,b"}, 'tags "a,b": allowed: an array of at most 32 strings'),
]
for task, words in cases:
    try:
        simq.submit(task)
        raise SystemExit("accepted: %r" % task)
    except xmlrpc.client.Fault as f:
        assert f.faultCode == 1 and words in f.faultString, (words, f.faultString)
try:
    simq.submit_many([{"model": model}] * 5 + [{"model": model, "priority": "urgent"}])
    raise SystemExit("a batch with a bad task was accepted")
except xmlrpc.client.Fault as f:
    assert f.faultString.startswith('task 6: priority "urgent": allowed'), f.faultString
assert simq.stats()["queued"] == before, "something was stored"
print("ok")
PY
expect_status "simq.view answers at once when stale, waits when current, and wakes on a change" 0 python3 - "$SIMQ_HOME/simq.sock" "$M" <<'PY'
import sys, time, threading, http.client, socket, xmlrpc.client
path, model = sys.argv[1], sys.argv[2]
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(path)
class T(xmlrpc.client.Transport):
    def make_connection(self, host): return C("localhost")
def proxy(): return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=T()).simq
simq = proxy()
# Ratios of wait_ms with room for a loaded machine: a wait is a floor that load cannot shorten; "at
# once" and "woke on the change" are a small part of a long wait_ms.
v = simq.view({"queue_limit": 5})
t = time.monotonic(); simq.view({"version": v["version"] - 1, "wait_ms": 60000})
assert time.monotonic() - t < 20, "a stale version must be answered at once, not after wait_ms"
t = time.monotonic(); w = simq.view({"version": v["version"], "wait_ms": 1000})
elapsed = time.monotonic() - t
assert 0.9 < elapsed < 20 and w["version"] == v["version"], elapsed
threading.Timer(0.5, lambda: proxy().submit({"model": model, "name": "wake"})).start()
t = time.monotonic(); w = simq.view({"version": v["version"], "wait_ms": 60000, "log_since": v["log_seq"]})
elapsed = time.monotonic() - t
assert 0.4 < elapsed < 20 and w["version"] > v["version"], elapsed
assert any("wake" in line["text"] for line in w["log"]), w["log"]
print("ok")
PY
expect_status "cancel, reprioritize, retry, stats and shutdown from xmlrpc.client" 0 python3 - "$SIMQ_HOME/simq.sock" "$M" <<'PY'
import sys, http.client, socket, xmlrpc.client
path, model = sys.argv[1], sys.argv[2]
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(path)
class T(xmlrpc.client.Transport):
    def make_connection(self, host): return C("localhost")
simq = xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=T()).simq
a, b = simq.submit_many([{"model": model, "name": "a"}, {"model": model, "name": "b", "priority": "low"}])
assert simq.reprioritize([b], "CRITICAL") == [{"id": b, "state": "queued", "done": True, "changed": True, "reason": ""}]
assert simq.reprioritize([b], "CRITICAL") == [{"id": b, "state": "queued", "done": True, "changed": False, "reason": ""}]
assert simq.list({"state": "queued"}, 0, 1)["tasks"][0]["id"] == b
# Only the states asked for, when the server acts: b is queued, so {states: ["running"]} leaves it.
assert simq.cancel(b, {"states": ["running"]}) == [{"id": b, "state": "queued", "done": False, "changed": False,
    "reason": "task %d is queued now; not cancelled: only running tasks were asked for" % b}]
assert simq.cancel(a) == [{"id": a, "state": "cancelled", "done": True, "changed": True, "reason": ""}]
# Cancelled already: the goal holds, nothing changed.
assert simq.cancel(a) == [{"id": a, "state": "cancelled", "done": True, "changed": False, "reason": ""}]
(c,) = simq.retry([a])
assert simq.get(c)["origin"] == a and simq.get(c)["state"] == "queued"
# A second retry answers the same copy; with each, it says it is not new.
assert simq.retry([a]) == [c] and simq.get(a)["copies"] == [c] and simq.get(a)["retried_as"] == c
(e,) = simq.retry(a, {"each": True})
assert e == {"id": a, "state": "cancelled", "done": True, "reason": "", "copy": c, "copy_state": "queued", "new": False}, e
try:
    simq.retry([b])
    raise SystemExit("retrying a queued task was accepted")
except xmlrpc.client.Fault as f:
    assert f.faultCode == 3 and "only failed or cancelled" in f.faultString, f.faultString
stats = simq.stats()
assert stats["cancelled"] >= 1 and stats["queued"] == 10000 + 9 + 9 + 1 + 2, stats["queued"]
assert simq.shutdown() is True
print("ok")
PY
expect_in "the server stopped" "$TMP/out" "ok"
server_ran_clean
done_testing
