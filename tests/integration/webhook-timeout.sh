#!/bin/sh
# [webhook NAME] timeout, against a local receiver that reads each POST and never answers: with
# timeout = 1s simq closes the connection about 1 s after the POST, tries again (after 1 s more),
# and after 5 tries logs that it gave up on a timeout (some 20 s); with timeout = 6s the same POST
# is held for about 6 s.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"

requires python3
plan 5

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)/rc.plecs

# The receiver: one JSON line when a POST has arrived ("arrived") and one when simq closed its
# connection ("closed", with the seconds it was held), answering nothing.
cat >"$TMP/receiver.py" <<'PY'
import http.server, json, select, sys, threading, time
log, portfile = sys.argv[1], sys.argv[2]
lock = threading.Lock()
def note(**kw):
    with lock, open(log, "a") as f:
        f.write(json.dumps(kw) + "\n")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        t0 = time.time()
        note(path=self.path, event="arrived", time=t0)
        while time.time() - t0 < 30:
            r, _, _ = select.select([self.connection], [], [], 0.02)
            if r and not self.connection.recv(1):
                note(path=self.path, event="closed", time=time.time(), held=time.time() - t0)
                break
        self.close_connection = True
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
open(portfile, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$TMP/receiver.py" "$TMP/received.jsonl" "$TMP/receiver.port" &
receiver_pid=$!
cleanup() {
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$receiver_pid" 2>/dev/null
}
trap cleanup EXIT
until_in "$TMP/receiver.port" "[0-9]"
rport=$(cat "$TMP/receiver.port")
cat >"$TMP/simq.ini" <<EOF
[scheduler]
start_paused = true
[webhook short]
url = http://127.0.0.1:$rport/short
format = json
events = submitted
timeout = 1s
[webhook long]
url = http://127.0.0.1:$rport/long
format = json
events = submitted
timeout = 6s
EOF
"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"
"$SIMQ" submit "$M" --name slow-receiver >/dev/null

# seen PYTHON-CONDITION [SECONDS]: polls the receiver's log (up to 15 s, or SECONDS) until the
# condition holds; lines(PATH, EVENT) are its lines for that path and event, in order.
seen() {
	python3 - "$TMP/received.jsonl" "$1" "${2:-15}" <<'PY'
import json, sys, time
log, cond, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.time() + limit
def lines(path, event): return [e for e in ev if e["path"] == path and e["event"] == event]
while True:
    try:
        ev = [json.loads(l) for l in open(log)]
    except FileNotFoundError:
        ev = []
    if eval(cond):
        sys.exit(0)
    if time.time() > end:
        print("\n".join(json.dumps(e) for e in ev))
        sys.exit(1)
    time.sleep(0.05)
PY
}
expect() {
	if seen "$2" "${3:-15}" >"$TMP/seen.out"; then ok "$1"; else fail "$1" "not seen: $2" "$(cat "$TMP/seen.out")"; fi
}

# Generous margins for a loaded machine: "about 1 s" is 0.8 to 4 s, "about 6 s" is 5.5 to 12 s.
expect "both webhooks received the submitted event's POST" \
	'lines("/short", "arrived") and lines("/long", "arrived")'
expect "timeout = 1s: simq closes the POST's connection after about 1 s" \
	'lines("/short", "closed") and 0.8 <= lines("/short", "closed")[0]["held"] < 4'
expect "timeout = 1s: simq posts again after the timeout (1 s later)" \
	'len(lines("/short", "arrived")) >= 2 and 1.5 <= lines("/short", "arrived")[1]["time"] - lines("/short", "arrived")[0]["time"] < 8'
expect "timeout = 6s: the same POST is held for about 6 s, then closed" \
	'lines("/long", "closed") and 5.5 <= lines("/long", "closed")[0]["held"] < 12'

# After the first POST and 4 retries (1, 2, 4 and 8 s apart, each held 1 s) simq gives up and says why.
i=0
while ! "$SIMQ" log --no-start >"$TMP/log" 2>&1 || ! grep -q "webhook short: gave up on a message after 5 tries" "$TMP/log"; do
	[ $i -ge 600 ] && break
	i=$((i + 1))
	sleep 0.05
done
grep "webhook short: gave up on a message after 5 tries" "$TMP/log" | grep -q "timed out after [123][0-9][0-9][0-9] milliseconds" &&
	ok "the log says simq gave up on short after 5 tries, the last timed out after 1 s" ||
	fail "the log says simq gave up on short after 5 tries, the last timed out after 1 s" "$(cat "$TMP/log")"

done_testing
