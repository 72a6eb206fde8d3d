#!/bin/sh
# simq wait over thousands of unfinished tasks (issue 17, adversary's F7): the server answers a
# simq.wait within 10 s, finished or not, and simq wait asks again until its own --timeout, so a
# wait that outlives [server] client_timeout (here 2 s, for the default 30 s) neither fails with
# "did not answer" nor looks like a stuck server; it ends when the tasks do, or at --timeout with 75.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"
. "$SIMQ_SRCDIR/tests/lib/api.sh"

requires python3
plan 7
trap stop_all EXIT
emu_up --speed 0

# The CLI's own configuration: it waits 2 s for an answer (client_timeout).
mkdir -p "$XDG_CONFIG_HOME/simq"
printf '[server]\nclient_timeout = 2\n' >"$XDG_CONFIG_HOME/simq/simq.ini"
serve wait <<EOF2
[backend emu]
url = $url
max_batch = 64
[scheduler]
start_paused = true
EOF2
"$SIMQ" sweep "$M" R=1:3000:1 --no-cache >"$TMP/sweep" 2>&1 || fail "3,000 tasks are queued" "$(tail -3 "$TMP/sweep")"

t0=$(now_ms)
"$SIMQ" wait 1-3000 --timeout 6 >"$TMP/out" 2>"$TMP/err"
status=$? took=$(($(now_ms) - t0))
check "paused, simq wait 1-3000 --timeout 6 (client_timeout 2 s) ends with 75 when its own timeout runs out" \
	[ "$status" = 75 -a "$took" -ge 6000 -a "$took" -lt 20000 ]
if grep -q "did not answer" "$TMP/err"; then fail "and never says the server did not answer" "$(cat "$TMP/err")"; else
	ok "and never says the server did not answer"; fi
check "its last line says it gave up, and on how many" \
	grep -qx "simq wait: gave up after --timeout 6 s with 3000 of 3000 tasks not finished (they go on; simq wait again to wait more)" "$TMP/err"
check "it lists the 3,000 tasks as still queued" [ "$(grep -c " queued$" "$TMP/out")" = 3000 ]

pycheck "simq.wait(ids, 600) on 3,000 queued tasks answers within 10 s (and not at once), every task queued" <<'PY'
import socket, time
socket.setdefaulttimeout(30)
t0 = time.monotonic()
r = api().simq.wait(list(range(1, 3001)), 600)
took = time.monotonic() - t0
assert 9 <= took <= 15, took
assert len(r) == 3000 and all(t["state"] == "queued" for t in r), r[:3]
PY

# A wait that outlives client_timeout by far, and ends when the 3,000 finish.
t0=$(now_ms)
"$SIMQ" wait 1-3000 --timeout 300 >"$TMP/out" 2>"$TMP/err" &
waiter=$!
sleep 5 # the wait must have lasted longer than client_timeout (2 s) before anything finishes
"$SIMQ" resume >/dev/null
wait "$waiter"
status=$? took=$(($(now_ms) - t0))
check "resumed after 5 s, simq wait 1-3000 ends with 0 when all 3,000 completed ($took ms)" \
	[ "$status" = 0 -a "$took" -ge 5000 ]
pycheck "and they all completed" <<'PY'
r = api().simq.wait(list(range(1, 3001)), 0)
assert all(t["state"] == "completed" for t in r), [t for t in r if t["state"] != "completed"][:3]
PY
done_testing
