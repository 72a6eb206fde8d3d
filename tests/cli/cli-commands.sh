#!/bin/sh
# The commands and options of simq(1) that no other test drives, each checked by its effect against
# a real server on plecs-emu: version, server --plecs, wait on a success, result (the summary
# recomputed from the CSV --csv prints of the MAT file), ls --model/--name/--tag/--offset, a task's own --timeout,
# pause and resume of one backend, SIGHUP reopening simulation.log, SIGTERM, and exit statuses 70
# and 74.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"

requires python3
plan 39

export SIMQ_HOME="$TMP/state"
MODELS=$(cd "$SRC/share/models" && pwd -P)
cleanup() {
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
	[ -z "${fake_pid:-}" ] || kill "$fake_pid" 2>/dev/null
}
trap cleanup EXIT

# ---- version ---------------------------------------------------------------------------------
version=$(sed -n 's/^AC_INIT(\[simq\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
expect_status "simq version" 0 "$SIMQ" version
expect_line "it prints the version configure.ac gives" "$TMP/out" "simq $version"
expect_status "simq --version" 0 "$SIMQ" --version
expect_line "the same" "$TMP/out" "simq $version"

# ---- server --plecs URL; wait on a success; result ------------------------------------------
start_emu --speed 0
expect_status "simq server --plecs URL" 0 "$SIMQ" server --plecs "$url"
expect_in "it says where its state is" "$TMP/out" "state in $SIMQ_HOME"
a=$("$SIMQ" submit "$MODELS/rc.plecs" -v Vin=5 --name alpha --tag night --tag rc)
expect_status "wait on a task that completes exits 0" 0 "$SIMQ" wait "$a" --timeout 60
expect_line "and prints its state" "$TMP/out" "$a completed"
"$SIMQ" show "$a" --json >"$TMP/show"
python3 - "$TMP/show" "$url" <<'PY' >"$TMP/py" 2>&1 && ok "it ran on the --plecs backend" || fail "it ran on the --plecs backend" "$(cat "$TMP/py")"
import json, sys, xmlrpc.client
t = json.load(open(sys.argv[1]))
assert t["attempt_list"][0]["backend"] == "plecs", t["attempt_list"]
calls = [c for c in xmlrpc.client.ServerProxy(sys.argv[2]).emu.calls() if c["method"] == "plecs.simulate"]
assert len(calls) == 1, calls
PY

"$SIMQ" result "$a" --json >"$TMP/result.json"
expect_status "simq result --csv" 0 "$SIMQ" result "$a" --csv
mv "$TMP/out" "$TMP/result.csv"
expect_status "simq result ID" 0 "$SIMQ" result "$a"
expect_line "the first line is the result file (MAT, the default)" "$TMP/out" "$SIMQ_HOME/results/0/$a.mat"
python3 - "$TMP/out" "$TMP/result.csv" "$TMP/result.json" <<'PY' >"$TMP/py" 2>&1 &&
import csv, json, math, sys
lines = open(sys.argv[1]).read().splitlines()
rows = list(csv.reader(open(sys.argv[2])))
head, data = rows[0], [[float(x) for x in r] for r in rows[1:]]
assert head == ["Time", "sig1"], head
assert lines[1] == "%d points, %d signal%s (mat)" % (len(data), len(head) - 1, "" if len(head) == 2 else "s"), lines[1]
summary = json.loads(open(sys.argv[3]).read())["summary"]
for k, name in enumerate(head[1:], 1):
    v = [r[k] for r in data]
    want = {"min": min(v), "max": max(v), "mean": sum(v) / len(v), "rms": math.sqrt(sum(x * x for x in v) / len(v)),
            "final": v[-1]}
    for key, value in want.items():
        assert abs(summary[name][key] - value) <= 1e-9 * max(1, abs(value)), (name, key, summary[name][key], value)
# The RC charges towards Vin = 5.
assert 4.9 < summary["sig1"]["max"] <= 5, summary
PY
	ok "its points, signals, min, max, mean, rms and final value are those of the data --csv prints" ||
	fail "its points, signals, min, max, mean, rms and final value are those of the data --csv prints" "$(cat "$TMP/py")"

# --no-cache: accepted, and (the result cache is not built yet) the task runs on PLECS all the same.
n=$("$SIMQ" submit "$MODELS/rc.plecs" -v Vin=6 --no-cache --name no-cache)
expect_status "submit --no-cache is accepted and the task runs" 0 "$SIMQ" wait "$n" --timeout 60
"$SIMQ" show "$n" --json >"$TMP/show"
grep -q '"cached": false' "$TMP/show" && grep -q '"outcome": "ok"' "$TMP/show" &&
	ok "it ran on PLECS and is not marked cached" || fail "it ran on PLECS and is not marked cached" "$(cat "$TMP/show")"

# ---- ls filters --------------------------------------------------------------------------------
b=$("$SIMQ" submit "$MODELS/buck.plecs" -v D=0.4 --name beta --tag night)
c=$("$SIMQ" submit "$MODELS/rc.plecs" -v Vin=2 --name alphabet)
d=$("$SIMQ" submit "$MODELS/buck.plecs" -v D=0.5 --name gamma --tag day)
"$SIMQ" wait "$b" "$c" "$d" --timeout 60 >/dev/null
# ids NAME OPTION...: ls --json with the options must list exactly the ids after --.
ids() {
	local name=$1 want got
	shift
	want=
	while [ "$1" != -- ]; do
		shift
	done
	shift
	want="$*"
	got=$(python3 -c 'import json, sys; print(" ".join(str(t["id"]) for t in json.load(sys.stdin)))' <"$TMP/ls")
	[ "$got" = "$want" ] && ok "$name" || fail "$name" "got ids \"$got\", expected \"$want\""
}
"$SIMQ" ls --json --model buck >"$TMP/ls"
ids "ls --model matches part of the model path" -- "$b" "$d"
"$SIMQ" ls --json --name alpha >"$TMP/ls"
ids "ls --name matches part of the name" -- "$a" "$c"
"$SIMQ" ls --json --tag night >"$TMP/ls"
ids "ls --tag matches a whole tag" -- "$a" "$b"
"$SIMQ" ls --json --offset 1 --limit 2 >"$TMP/ls"
ids "ls --offset 1 --limit 2 skips one and shows two" -- "$n" "$b"
"$SIMQ" ls --json --model rc --tag night >"$TMP/ls"
ids "filters combine" -- "$a"
# Columns line up under names with accents: a character is a column, not a byte.
e=$("$SIMQ" submit "$MODELS/rc.plecs" -v Vin=3 --name "été-à" -p low)
COLUMNS=200 "$SIMQ" ls >"$TMP/ls.txt"
at=$(python3 -c '
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
print(sorted({re.search(r"\d{4}-\d\d-\d\dT", l).start() for l in lines[1:]} | {lines[0].index("SUBMITTED")}))' "$TMP/ls.txt")
[ "$(echo "$at" | tr -cd , | wc -c)" -eq 0 ] && grep -q "été-à" "$TMP/ls.txt" &&
	ok "ls: the SUBMITTED column starts at one place on every row, accents or not" ||
	fail "ls: the SUBMITTED column starts at one place on every row, accents or not" "$at" "$(cat "$TMP/ls.txt")"
"$SIMQ" cancel "$e" >/dev/null

# ---- a task's own --timeout reaches PLECS ---------------------------------------------------------
"$SIMQ" shutdown >/dev/null
kill "$emu_pid"
wait "$emu_pid" 2>/dev/null
# At --speed 1 a TimeSpan of 30 s takes 30 wall seconds; a Timeout of 0.2 s ends it.
start_emu --speed 1
"$SIMQ" server --plecs "$url" >/dev/null
e=$("$SIMQ" submit "$MODELS/rc.plecs" --solver TimeSpan=30 --timeout 0.2 --name short)
"$SIMQ" wait "$e" --timeout 60 >/dev/null
"$SIMQ" show "$e" --json >"$TMP/show"
python3 - "$TMP/show" <<'PY' >"$TMP/py" 2>&1 && ok "--timeout 0.2 is PLECS's Timeout: the run ends after 0.2 s, FAILED saying so" ||
import json, sys
t = json.load(open(sys.argv[1]))
assert t["state"] == "failed" and t["timeout"] == 0.2, t
assert "timed out after 0.2 s" in t["error"], t["error"]
PY
	fail "--timeout 0.2 is PLECS's Timeout: the run ends after 0.2 s, FAILED saying so" "$(cat "$TMP/py")"

# ---- pause BACKEND / resume BACKEND -------------------------------------------------------------------
expect_status "simq pause plecs" 0 "$SIMQ" pause plecs
expect_line "simq pause plecs says what it did" "$TMP/out" \
	"backend plecs paused: its running calls finish, nothing new goes to it (simq resume plecs)"
"$SIMQ" pause plecs >"$TMP/again" 2>&1
expect_line "again, it says the backend was paused already" "$TMP/again" "backend plecs was paused already (simq resume plecs)"
backend_paused() {
	PYTHONPATH="$SRC/tests/lib" python3 -c "import sys
from api import proxy
v = proxy(sys.argv[1]).simq.view({})
assert v['backends'][0]['paused'] is $1 and v['paused'] is False, v['backends']" "$SIMQ_HOME/simq.sock" >"$TMP/out" 2>&1
}
backend_paused True && ok "the backend is paused, dispatch as a whole is not" || fail "the backend is paused, dispatch as a whole is not" "$(cat "$TMP/out")"
f=$("$SIMQ" submit "$MODELS/rc.plecs" -v Vin=1 --name while-paused)
expect_status "a task submitted meanwhile does not run (wait gives up: 75)" 75 "$SIMQ" wait "$f" --timeout 2
expect_line "it is still queued" "$TMP/out" "$f queued"
expect_status "simq resume plecs" 0 "$SIMQ" resume plecs
expect_line "simq resume plecs says what it did" "$TMP/out" "backend plecs resumed"
"$SIMQ" resume >"$TMP/again" 2>&1
expect_line "a resume with nothing paused says so" "$TMP/again" "nothing was paused: dispatch goes on"
expect_status "then it runs and completes" 0 "$SIMQ" wait "$f" --timeout 60
expect_status "pause of a backend that does not exist is refused" 65 "$SIMQ" pause nosuch

# ---- signals -------------------------------------------------------------------------------------
pid=$(cat "$SIMQ_HOME/simq.pid")
mv "$SIMQ_HOME/simulation.log" "$SIMQ_HOME/simulation.log.1"
kill -HUP "$pid"
"$SIMQ" submit "$MODELS/rc.plecs" -v Vin=3 --name after-hup >/dev/null
until_in "$SIMQ_HOME/simulation.log" "after-hup" && ! grep -q after-hup "$SIMQ_HOME/simulation.log.1" &&
	ok "SIGHUP: the server reopens simulation.log (a rotated log is left alone)" ||
	fail "SIGHUP: the server reopens simulation.log" "$(ls -l "$SIMQ_HOME")"
"$SIMQ" pause >/dev/null
g=$("$SIMQ" submit "$MODELS/rc.plecs" -v Vin=4 --name queued-at-term)
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do
	i=$((i + 1))
	sleep 0.05
done
! kill -0 "$pid" 2>/dev/null && grep -q "SIGTERM: stopping" "$SIMQ_HOME/simulation.log" && grep -q "Z server stopped$" "$SIMQ_HOME/simulation.log" &&
	ok "SIGTERM: the server stops, saying so" || fail "SIGTERM: the server stops, saying so" "$(tail -n 5 "$SIMQ_HOME/simulation.log")"
"$SIMQ" show "$g" --json >"$TMP/show" 2>&1
grep -q '"state": "queued"' "$TMP/show" && ok "its queued task is still queued for the next server" ||
	fail "its queued task is still queued for the next server" "$(cat "$TMP/show")"
"$SIMQ" shutdown >/dev/null 2>&1

# ---- exit statuses 74 and 70 ----------------------------------------------------------------------------
if [ -w /dev/full ]; then
	expect_status "a file that cannot be written: exit 74 (config --defaults into a full disk)" 74 \
		sh -c 'exec "$0" config --defaults >/dev/full' "$SIMQ"
else
	skip "a file that cannot be written: exit 74" "/dev/full is not there"
fi
# A stand-in server whose every answer is fault 4 (the server could not save): exit 70 with its words.
mkdir -p -m 700 "$TMP/fake"
python3 - "$TMP/fake/simq.sock" <<'PY' >"$TMP/fake.log" 2>&1 &
import os, socketserver, sys, xmlrpc.client
from http.server import BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = xmlrpc.client.dumps(xmlrpc.client.Fault(4, "cannot save: database or disk is full"), methodresponse=True).encode()
        self.send_response(200); self.send_header("Content-Type", "text/xml"); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    def get_request(self):
        r, _ = super().get_request(); return r, ("local", 0)
s = S(sys.argv[1], H)
s.serve_forever()
PY
fake_pid=$!
until_exists() { i=0; while [ ! -S "$1" ] && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done; }
until_exists "$TMP/fake/simq.sock"
expect_status "the server could not save (fault 4): exit 70" 70 "$SIMQ" stats --home "$TMP/fake" --no-start
expect_in "with the server's words" "$TMP/err" "cannot save: database or disk is full"
done_testing
