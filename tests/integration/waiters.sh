#!/bin/sh
# Waiting clients never lock the others out (issue 14): with 300 `simq wait` parked on a queued
# task, simq ls, a console and simq shutdown each answer within 2 s; waiters that are killed let go
# of their connections within a second; past the cap on waiting calls the next one gets a fault
# that says so, and the socket still serves everyone else.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"
. "$SIMQ_SRCDIR/tests/lib/api.sh"

requires python3 tmux
plan 13

export SIMQ_HOME="$TMP/state"
paused_config
M=$(cd "$SRC/share/models" && pwd -P)/buck.plecs
waiters=
holder=
cleanup() {
	kill_waiters
	reap_waiters
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
}
trap cleanup EXIT

# start_waiters N: N `simq wait 1` in the background, from a subshell that keeps their pids in
# waiters.pids and, as each ends, its exit status in waiters.status (so the test's shell reports no
# kills).  They are the load, not what is tested: under ASan, 300 of them ending at once (a leak
# check each, on two cores) would measure the machine, not the server, so they run niced and
# without the leak check.
start_waiters() {
	rm -f "$TMP/waiters.pids" "$TMP/waiters.status"
	(
		for i in $(seq "$1"); do
			ASAN_OPTIONS=detect_leaks=0 nice -n 19 "$SIMQ" wait 1 --timeout 600 >/dev/null 2>&1 &
			echo $! >>"$TMP/waiters.pids"
		done
		for pid in $(cat "$TMP/waiters.pids"); do
			wait "$pid"
			echo $? >>"$TMP/waiters.status"
		done
	) 2>/dev/null &
	waiters=$!
}

# kill_waiters: kills every waiter; reap_waiters: waits until the subshell has reaped them.
kill_waiters() {
	# shellcheck disable=SC2046
	[ -n "$waiters" ] && kill -9 $(cat "$TMP/waiters.pids") 2>/dev/null
}
reap_waiters() {
	[ -n "$waiters" ] && wait "$waiters"
	waiters=
}

# timed NAME LIMIT_MS COMMAND...: passes when COMMAND succeeds within LIMIT_MS.
timed() {
	local name=$1 limit=$2 t0 took
	shift 2
	t0=$(now_ms)
	if "$@" >"$TMP/timed.out" 2>&1; then
		took=$(($(now_ms) - t0))
		[ "$took" -le "$limit" ] && ok "$name (${took} ms)" || fail "$name" "took $took ms"
	else
		fail "$name" "command: $*" "$(cat "$TMP/timed.out")"
	fi
}

"$SIMQ" submit "$M" --name held >/dev/null 2>"$TMP/err" || fail "task 1 is queued" "$(cat "$TMP/err")"
start_waiters 300
if took=$(wait_metric simq_api_waiting_calls 300 120); then ok "300 simq wait are parked on the queued task"; else
	fail "300 simq wait are parked on the queued task" "$took"; fi

timed "simq ls answers within 2 s" 2000 "$SIMQ" ls
grep -q "held" "$TMP/timed.out" && ok "and shows the queued task" || fail "and shows the queued task" "$(cat "$TMP/timed.out")"

t0=$(now_ms)
$TM new-session -d -s simq -x 132 -y 40 "env TERM=tmux-256color SIMQ_HOME='$SIMQ_HOME' '$SIMQ' 2>'$TMP/console.err'"
if wait_for "Queue 1"; then
	took=$(($(now_ms) - t0))
	[ "$took" -le 2000 ] && ok "a console shows the queue within 2 s (${took} ms)" ||
		fail "a console shows the queue within 2 s" "took $took ms"
else
	fail "a console shows the queue within 2 s" "$(cat "$TMP/screen" "$TMP/console.err")"
fi
# The console's own simq.view waits too; closing its terminal lets go of it.
wait_metric simq_api_waiting_calls 301 10 >/dev/null
$TM kill-server >/dev/null 2>&1
if took=$(wait_metric simq_api_waiting_calls 300 1); then ok "a closed console's waiting view is let go within a second (${took} ms)"; else
	fail "a closed console's waiting view is let go within a second" "$took"; fi

# Within a second of their end: their processes are gone (reaped) when the clock starts, since a
# killed process closes its sockets only once it is torn down (slow for 300 ASan processes).
t0=$(now_ms)
kill_waiters
reap_waiters
t1=$(now_ms)
if took=$(wait_metric simq_api_waiting_calls 0 1); then
	ok "300 killed waiters are let go within a second of their end ($(($(now_ms) - t1)) ms; $(($(now_ms) - t0)) ms from the kill)"
else
	fail "300 killed waiters are let go within a second of their end" "$took"
fi
if took=$(wait_metric 'simq_api_connections{listener="unix"}' 1 1); then ok "and their connections are closed (only the scrape's is left)"; else
	fail "and their connections are closed (only the scrape's is left)" "$took"; fi

# Past the cap: 769 waiting calls on one process's sockets; one is told the server keeps no more.
python3 - "$SIMQ_HOME/simq.sock" 769 "$TMP/busy" <<'PY' &
import socket, sys, time, xmlrpc.client
path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
body = xmlrpc.client.dumps(([1], 600), "simq.wait").encode()
request = b"POST /RPC2 HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
socks = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(request)
    s.setblocking(False)
    socks.append(s)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    for s in socks:
        try:
            data = s.recv(65536)
        except BlockingIOError:
            continue
        s.setblocking(True)
        while True:
            more = s.recv(65536)
            if not more:
                break
            data += more
        try:
            xmlrpc.client.loads(data.split(b"\r\n\r\n", 1)[1])
            text = "an answer"
        except xmlrpc.client.Fault as f:
            text = "fault %d: %s" % (f.faultCode, f.faultString)
        open(out, "w").write(text + "\n")
        time.sleep(600)
    time.sleep(0.01)
PY
holder=$!
if took=$(wait_metric simq_api_waiting_calls 768 60); then ok "768 calls wait at most"; else fail "768 calls wait at most" "$took"; fi
until_in "$TMP/busy" "fault"
expect_in "the 769th gets fault 7 that says why" "$TMP/busy" \
	"fault 7: simq.wait: the server already holds 768 waiting calls (simq.wait and simq.view), the most it keeps; try again later"
timed "with 768 waiting, simq ls answers within 2 s" 2000 "$SIMQ" ls
kill "$holder"
wait "$holder" 2>/dev/null
holder=
wait_metric simq_api_waiting_calls 0 5 >/dev/null

# shutdown with 300 waiting: every waiter is told, and the server has ended within 2 s.
start_waiters 300
wait_metric simq_api_waiting_calls 300 120 >/dev/null
timed "simq shutdown with 300 waiting returns within 2 s, the server ended" 2000 "$SIMQ" shutdown
reap_waiters
told=$(grep -c '^69$' "$TMP/waiters.status")
[ "$told" -eq 300 ] && ok "every waiter was told the server stopped (exit 69)" ||
	fail "every waiter was told the server stopped (exit 69)" "$told of 300; statuses:" "$(sort "$TMP/waiters.status" | uniq -c)"
server_ran_clean
done_testing
