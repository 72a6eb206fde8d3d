#!/bin/sh
# [webhook NAME] against a small HTTP receiver on 127.0.0.1: every event
# reaches its webhook with the right fields; a receiver that answers 500 twice
# then 200 gets the message exactly once; a burst of 500 failures makes at most
# 5 posts; the digest arrives on drain with the figures simq stats gives, and
# at its clock time (digest = HH:MM, the next whole minute at least 15 s away).
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"

requires python3
plan 14

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)/rc.plecs

# The receiver: /flaky answers 500 twice, then 200; everything else 200.  One JSON line per request.
cat >"$TMP/receiver.py" <<'PY'
import http.server, json, sys, threading, time
log, portfile = sys.argv[1], sys.argv[2]
seen = {}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with lock:
            n = seen[self.path] = seen.get(self.path, 0) + 1
            status = 500 if self.path == "/flaky" and n <= 2 else 200
            with open(log, "a") as f:
                f.write(json.dumps({"path": self.path, "status": status, "time": time.time(), "body": body}) + "\n")
        self.send_response(status); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(portfile, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$TMP/receiver.py" "$TMP/received.jsonl" "$TMP/receiver.port" &
receiver_pid=$!
start_emu
cleanup() {
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" "$receiver_pid" 2>/dev/null
}
trap cleanup EXIT
until_in "$TMP/receiver.port" "[0-9]"
rport=$(cat "$TMP/receiver.port")
eport=$port
# The timed digest's minute: the next whole minute, or the one after when the next is under 15 s away.
now=$(date +%s)
digest_at=$(((now + 15) / 60 * 60 + 60))
digest_clock=$(date -d "@$digest_at" +%H:%M)
cat >"$TMP/simq.ini" <<EOF
[backend emu]
url = $url
max_batch = 1
[scheduler]
backoff_base = 0.2s
backoff_max = 1s
down_after = 1
start_paused = true
[webhook all]
url = http://127.0.0.1:$rport/all
format = json
events = submitted,started,completed,failed,attempt_failed,cancelled,backend_down,backend_up,queue_drained
min_priority = normal
max_per_minute = 600
[webhook flaky]
url = http://127.0.0.1:$rport/flaky
format = slack
events = failed
min_priority = critical
digest_on_drain = false
[webhook burst]
url = http://127.0.0.1:$rport/burst
format = slack
events = failed
max_per_minute = 4
digest_on_drain = false
[webhook daily]
url = http://127.0.0.1:$rport/daily
format = json
events = backend_up
digest = $digest_clock
digest_on_drain = false
EOF
"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"

# received PATH PYTHON-CONDITION: polls until a request to PATH satisfies the condition on r (its body, parsed).
received() {
	python3 - "$TMP/received.jsonl" "$1" "$2" <<'PY'
import json, sys, time
log, path, cond = sys.argv[1], sys.argv[2], sys.argv[3]
for _ in range(300):
    try:
        for line in open(log):
            q = json.loads(line)
            if q["path"] == path:
                r = json.loads(q["body"])
                if eval(cond):
                    sys.exit(0)
    except FileNotFoundError:
        pass
    time.sleep(0.05)
sys.exit(1)
PY
}
expect_post() {
	if received "$2" "$3"; then ok "$1"; else fail "$1" "no POST to $2 with $3 in:" "$(cut -c1-300 "$TMP/received.jsonl" 2>/dev/null)"; fi
}
inject() {
	python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject(sys.argv[2], int(sys.argv[3]))" "$url" "$1" "$2"
}

"$SIMQ" submit "$M" --no-cache --name poisoned -p critical >/dev/null      # 1: a solver fault
"$SIMQ" submit "$M" --no-cache --name flaky -p high >/dev/null             # 2: a licence fault, then completes
"$SIMQ" submit "$M" --no-cache --name fine -p normal >/dev/null            # 3: completes
"$SIMQ" submit "$M" --no-cache --name unwanted -p normal >/dev/null        # 4: cancelled
"$SIMQ" cancel 4 >/dev/null
inject fault 1
inject license 1
"$SIMQ" resume >/dev/null
expect_post "submitted, as JSON with the task's fields" /all 'r["event"] == "submitted" and r["task_id"] == 3 and r["task_name"] == "fine" and r["priority"] == "normal"'
expect_post "started, with the backend" /all 'r["event"] == "started" and r["backend"] == "emu"'
expect_post "attempt_failed, with PLECS's words" /all 'r["event"] == "attempt_failed" and r["task_id"] == 2 and "No free license" in r["error"]'
expect_post "failed, with PLECS's words" /all 'r["event"] == "failed" and r["task_id"] == 1 and "solver failed" in r["error"]'
expect_post "completed" /all 'r["event"] == "completed" and r["task_id"] == 3'
expect_post "cancelled" /all 'r["event"] == "cancelled" and r["task_id"] == 4 and r["state"] == "cancelled"'
expect_post "queue_drained" /all 'r["event"] == "queue_drained"'
"$SIMQ" stats --json >"$TMP/stats.json"
expect_post "the digest arrives on drain with the figures simq stats gives" /all "r['event'] == 'digest' and r['completed'] == $(python3 -c "import json,sys; w=json.load(open(sys.argv[1]))['windows']['since_start']; print(w['completed_first'] + w['completed_retry'])" "$TMP/stats.json") and r['failed'] == 1 and r['completed_retry'] == 1 and r['failures'][0]['id'] == 1 and 'solver failed' in r['failures'][0]['error']"

# 500, 500, 200: the message arrives once, and is not sent again after the 200.
received /flaky 'True' >/dev/null
i=0
while [ "$(grep -c '"path": "/flaky"' "$TMP/received.jsonl")" -lt 3 ] && [ $i -lt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
python3 - "$TMP/received.jsonl" <<'PY' && ok "500, 500, then 200: the same message three times, accepted once" || fail "500, 500, then 200: the same message three times, accepted once" "$(grep /flaky "$TMP/received.jsonl")"
import json, sys
qs = [json.loads(l) for l in open(sys.argv[1]) if '"/flaky"' in l]
assert [q["status"] for q in qs] == [500, 500, 200], qs
assert len({q["body"] for q in qs}) == 1
r = json.loads(qs[0]["body"])
assert "FAILED critical" in r["text"] and r["attachments"][0]["fields"], r
PY

# The outage reaches the webhook as backend_down and backend_up.
kill "$emu_pid"
wait "$emu_pid" 2>/dev/null
"$SIMQ" submit "$M" --no-cache --name during-outage -p normal >/dev/null
expect_post "backend_down" /all 'r["event"] == "backend_down" and r["backend"] == "emu"'
EMU_PORT=$eport start_emu
expect_post "backend_up" /all 'r["event"] == "backend_up" and r["backend"] == "emu"'

# A burst of 500 failures (low priority: only the burst webhook wants them): at most 5 posts.
n0=$(grep -c '"path": "/burst"' "$TMP/received.jsonl")
inject fault 500
python3 - "$SIMQ_HOME/simq.sock" "$M" <<'PY'
import http.client, socket, sys, xmlrpc.client
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sys.argv[1])
class T(xmlrpc.client.Transport):
    def make_connection(self, host): return C("localhost")
s = xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=T())
s.simq.submit_many([{"model": sys.argv[2], "priority": "low", "name": "burst", "no_cache": True} for _ in range(500)])
PY
i=0
until "$SIMQ" stats --json | grep -q '"failed": 501' || [ $i -gt 600 ]; do
	i=$((i + 1))
	sleep 0.1
done
# The summary comes once the burst has been quiet for 10 s.
received /burst '"more events in the last minute" in r["text"]' >/dev/null
n=$(($(grep -c '"path": "/burst"' "$TMP/received.jsonl") - n0))
[ "$n" -le 5 ] && grep '"path": "/burst"' "$TMP/received.jsonl" | grep -q "more events in the last minute" &&
	ok "a burst of 500 failures: $n posts, the last a summary of the rest" ||
	fail "a burst of 500 failures: at most 5 posts, the last a summary" "$n posts" "$(grep /burst "$TMP/received.jsonl" | cut -c1-300)"

# digest = HH:MM: the summary comes at that minute (the receiver notes when), with the failures in it.
python3 - "$TMP/received.jsonl" "$digest_at" <<'PY' && ok "digest = $digest_clock posts the summary at that minute" || fail "digest = $digest_clock posts the summary at that minute" "$(grep /daily "$TMP/received.jsonl" | cut -c1-300)"
import json, sys, time
log, at = sys.argv[1], int(sys.argv[2])
# Within that minute: the timer fires at its start, and a loaded machine may take seconds to post.
deadline = at + 90
while time.time() < deadline:
    for line in open(log):
        q = json.loads(line)
        if q["path"] == "/daily":
            r = json.loads(q["body"])
            if r["event"] == "digest":
                assert r["why"] == "daily", r
                assert at <= q["time"] < at + 60, (q["time"], at)
                assert r["failed"] >= 1 and "solver failed" in r["failures"][0]["error"], r
                sys.exit(0)
    time.sleep(0.1)
sys.exit("no digest by %d" % deadline)
PY
server_ran_clean
