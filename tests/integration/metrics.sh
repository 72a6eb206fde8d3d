#!/bin/sh
# GET /metrics scraped mid-run (the first tasks done, dispatch paused with more queued) agrees with
# simq stats; the text parses as Prometheus text format 0.0.4 (promtool when
# Debian's prometheus package provides it, else the parser below); the
# [metrics] TCP listener serves the same and nothing else.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"

requires python3
plan 7

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
start_emu
cleanup() {
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
}
trap cleanup EXIT
mport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '[backend emu]\nurl = %s\nmax_batch = 4\n[scheduler]\nbackoff_base = 0.2s\nstart_paused = true\n[metrics]\nlisten = 127.0.0.1\nport = %s\n' \
	"$url" "$mport" >"$TMP/simq.ini"
"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"

# scrape FILE: GET /metrics on the Unix socket.
scrape() {
	python3 - "$SIMQ_HOME/simq.sock" >"$1" <<'PY'
import http.client, socket, sys
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sys.argv[1])
c = C("localhost"); c.request("GET", "/metrics"); r = c.getresponse()
assert r.status == 200 and r.getheader("Content-Type").startswith("text/plain; version=0.0.4"), (r.status, r.getheader("Content-Type"))
sys.stdout.write(r.read().decode())
PY
}

# The first part of the night runs to the end (a licence fault retried, a solver fault splitting
# its batch); then dispatch is paused and the rest is queued: a scrape in the middle of the run,
# with nothing moving while the two are compared.
"$SIMQ" sweep "$M" R=100:800:100 -p normal >/dev/null       # tasks 1-8
"$SIMQ" submit "$M" --name gone -p low >/dev/null            # 9, cancelled
"$SIMQ" cancel 9 >/dev/null
python3 -c "
import sys, xmlrpc.client
e = xmlrpc.client.ServerProxy(sys.argv[1]).emu
e.inject('license', 1); e.inject('fault', 1)
" "$url"
"$SIMQ" resume >/dev/null
i=0
until "$SIMQ" stats --json >"$TMP/stats.json" && grep -q '^  "queued": 0,' "$TMP/stats.json" &&
	grep -q '^  "running": 0,' "$TMP/stats.json" || [ $i -gt 600 ]; do
	i=$((i + 1))
	sleep 0.05
done
"$SIMQ" pause >/dev/null
"$SIMQ" sweep "$M" R=900:2000:100 -p normal >/dev/null      # tasks 10-21, queued
scrape "$TMP/metrics" && ok "GET /metrics on the Unix socket, text format 0.0.4" || fail "GET /metrics on the Unix socket, text format 0.0.4"
"$SIMQ" stats --json >"$TMP/stats.json"

python3 - "$TMP/metrics" "$TMP/stats.json" <<'PY' && ok "the figures agree with simq stats" || fail "the figures agree with simq stats" "$(cat "$TMP/metrics")" "$(cat "$TMP/stats.json")"
import json, re, sys
m = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    name, value = line.rsplit(" ", 1)
    m[name] = float(value)
s = json.load(open(sys.argv[2]))
assert m['simq_tasks_total{state="completed"}'] == s["completed_first"] + s["completed_retry"], m
assert m['simq_tasks_total{state="failed"}'] == s["failed"]
assert m['simq_tasks_total{state="cancelled"}'] == s["cancelled"] == 1
assert sum(v for k, v in m.items() if k.startswith("simq_queue_depth{")) == s["queued"] > 0
assert m['simq_queue_depth{priority="normal"}'] == s["queued_by_priority"]["normal"]
assert m["simq_running"] == s["running"]
assert abs(m["simq_success_ratio"] - s["success_rate"]) < 1e-12
assert m['simq_attempts_total{outcome="failed",class="transient"}'] >= 1
assert m['simq_attempts_total{outcome="failed",class="permanent"}'] + m['simq_attempts_total{outcome="split",class=""}'] >= 1
assert m['simq_backend_up{backend="emu"}'] == 1
PY

# The format, line by line: what Prometheus's parser accepts.
python3 - "$TMP/metrics" <<'PY' && ok "every line is a HELP, a TYPE or a sample of a declared metric" || fail "every line is a HELP, a TYPE or a sample of a declared metric" "$(cat "$TMP/metrics")"
import re, sys
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r"^(%s)(\{%s(?:,%s)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$" % (name, label, label))
types, seen_help = {}, set()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        seen_help.add(line.split(" ")[2]); continue
    if line.startswith("# TYPE "):
        _, _, n, t = line.split(" ")
        assert t in ("counter", "gauge", "histogram", "summary", "untyped"), line
        assert n not in types, "TYPE twice: " + line
        types[n] = t; continue
    mo = sample.match(line)
    assert mo, "not a sample: " + line
    n = mo.group(1)
    base = re.sub(r"_(bucket|sum|count)$", "", n) if re.sub(r"_(bucket|sum|count)$", "", n) in types and types[re.sub(r"_(bucket|sum|count)$", "", n)] == "histogram" else n
    assert base in types, "no TYPE before " + line
PY

python3 - "$TMP/metrics" <<'PY' && ok "histogram buckets are cumulative and +Inf equals _count" || fail "histogram buckets are cumulative and +Inf equals _count" "$(grep _bucket "$TMP/metrics")"
import re, sys, collections
buckets, counts = collections.defaultdict(list), {}
for line in open(sys.argv[1]):
    mo = re.match(r'^(\w+)_bucket\{(.*)le="([^"]+)"\} (\S+)$', line)
    if mo:
        buckets[(mo.group(1), mo.group(2))].append((mo.group(3), float(mo.group(4))))
    mo = re.match(r'^(\w+)_count(\{.*\})? (\S+)$', line)
    if mo:
        counts[(mo.group(1), (mo.group(2) or "{}")[1:-1] + ("," if mo.group(2) else ""))] = float(mo.group(3))
assert buckets, "no histogram"
for key, bs in buckets.items():
    values = [v for _, v in bs]
    assert values == sorted(values), (key, bs)
    assert bs[-1][0] == "+Inf" and bs[-1][1] == counts[key], (key, bs, counts)
assert any(v > 0 for bs in buckets.values() for _, v in bs), "every histogram is empty"
PY

if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$TMP/metrics" >"$TMP/promtool" 2>&1 && ok "promtool check metrics" || fail "promtool check metrics" "$(cat "$TMP/promtool")"
else
	skip "promtool check metrics" "promtool is not on PATH (./quickstart check unpacks it from Debian's prometheus package); the parser above checked the format"
fi

# The [metrics] TCP listener: the same text, no token, and nothing else.
python3 - "$mport" >"$TMP/tcp" <<'PY' && ok "[metrics] listen serves /metrics over TCP without a token" || fail "[metrics] listen serves /metrics over TCP without a token" "$(cat "$TMP/tcp")"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1])); c.request("GET", "/metrics"); r = c.getresponse()
body = r.read().decode()
assert r.status == 200 and "simq_tasks_total" in body, (r.status, body[:200])
c.request("POST", "/RPC2", body="<methodCall/>"); r = c.getresponse(); r.read()
assert r.status == 404, r.status
PY
server_ran_clean
