#!/bin/sh
# One count per task: a retry that came due while dispatch is paused goes back in line for a slot,
# and is RUNNING (its state decides), so simq status, simq stats, simq ls --state queued|running and
# simq.view's queue count it once, as running; the queued and the running add up to the tasks that
# exist.  plecs-emu refuses every licence (a transient fault), the server is paused, retries come due.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"

requires python3
plan 7

export SIMQ_HOME="$TMP/state/retry-counts"
M=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
start_emu
trap '"$SIMQ" shutdown --no-start >/dev/null 2>&1; kill $emu_pid 2>/dev/null' EXIT
python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject('license', 1000)" "$url"
printf '[backend emu]\nurl = %s\nslots = 1\nmax_batch = 4\n[scheduler]\nbackoff_base = 300ms\nmax_retries = 3\n' "$url" \
	>"$TMP/simq.ini"
export SIMQ_INI="$TMP/simq.ini"
"$SIMQ" -c "$TMP/simq.ini" sweep "$M" R=1:6:1 --no-cache >/dev/null 2>"$TMP/err" || fail "6 tasks are submitted" "$(cat "$TMP/err")"

# ls_json STATE: the ids simq ls --state STATE lists, one a line, and their states.
ls_json() { "$SIMQ" -c "$TMP/simq.ini" ls --state "$1" --json; }
# Every task tried once (each failed on the licence), then dispatch paused: their retries come due.
i=0
until [ "$(ls_json running | python3 -c 'import json, sys; t = json.load(sys.stdin); print(sum(x["attempts"] >= 1 for x in t))')" = 6 ] ||
	[ $i -gt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
"$SIMQ" -c "$TMP/simq.ini" pause >/dev/null
# Due: every retry's time has passed (300 ms, at most 1.2 s for the third), so each is back in line for a slot.
i=0
until ls_json running | python3 -c '
import datetime, json, sys, time
t = json.load(sys.stdin)
due = lambda x: x.get("retry_due") and datetime.datetime.fromisoformat(x["retry_due"]).timestamp() < time.time() - 0.5
sys.exit(0 if len(t) == 6 and all(due(x) for x in t) else 1)' ||
	[ $i -gt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
ls_json running >"$TMP/running.json"
ls_json queued >"$TMP/queued.json"
"$SIMQ" -c "$TMP/simq.ini" stats --json >"$TMP/stats.json"
"$SIMQ" -c "$TMP/simq.ini" status --format '{queued} {running}' >"$TMP/status"
python3 - "$TMP" >"$TMP/check" <<'PY'
import json, os, sys
d = sys.argv[1]
running = json.load(open(os.path.join(d, "running.json")))
queued = json.load(open(os.path.join(d, "queued.json")))
stats = json.load(open(os.path.join(d, "stats.json")))
status = open(os.path.join(d, "status")).read().split()
print("running", len(running), "queued", len(queued), "stats", stats["queued"], stats["running"], "status", status)
print("due", sum(1 for x in running if x.get("retry_due")))
PY
cat "$TMP/check" | sed 's/^/# /'
grep -q '^running 6 queued 0 ' "$TMP/check" && ok "simq ls: the 6 tasks, waiting for a slot to retry, are running, none queued" ||
	fail "simq ls: the 6 tasks, waiting for a slot to retry, are running, none queued" "$(cat "$TMP/check")"
grep -q '^due 6$' "$TMP/check" && ok "every one had a retry due" || fail "every one had a retry due" "$(cat "$TMP/check" "$TMP/running.json")"
grep -q ' stats 0 6 ' "$TMP/check" && ok "simq stats: queued 0, running 6" || fail "simq stats: queued 0, running 6" "$(cat "$TMP/check")"
[ "$(cat "$TMP/status")" = "0 6" ] && ok "simq status: 0 queued, 6 running" || fail "simq status: 0 queued, 6 running" "$(cat "$TMP/status")"
# simq.view (what the console draws): the queue's total and its rows, the running pane.
python3 - "$SIMQ_HOME/simq.sock" >"$TMP/view" <<'PY'
import http.client, socket, sys, xmlrpc.client
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
class T(xmlrpc.client.Transport):
    def make_connection(self, host):
        return C("localhost")
s = xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=T()).simq
v = s.view({})
print("queue_total", v["queue_total"], "rows", len(v["queue"]), "stats", s.stats()["queued"], s.stats()["running"])
PY
grep -q '^queue_total 0 rows 0 stats 0 6' "$TMP/view" && ok "simq.view: the console's queue is empty (total and rows)" ||
	fail "simq.view: the console's queue is empty (total and rows)" "$(cat "$TMP/view")"
# Resumed, each retry runs (and fails on the licence again): the counts stay one per task throughout.
"$SIMQ" -c "$TMP/simq.ini" resume >/dev/null
"$SIMQ" -c "$TMP/simq.ini" status --format '{queued} {running}' >"$TMP/status"
set -- $(cat "$TMP/status")
[ $(($1 + $2)) -le 6 ] && ok "resumed: queued and running still add up to at most 6 ($1 + $2)" ||
	fail "resumed: queued and running still add up to at most 6" "$(cat "$TMP/status")"
server_ran_clean
done_testing
