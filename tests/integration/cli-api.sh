#!/bin/sh
# The CLI through the API against a real server: submit, sweep, ls, show, prio,
# cancel, retry, wait, stats, bad input, one server per state dir, kill -9, shutdown.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
plan 40

export SIMQ_HOME="$TMP/state"
paused_config
M=$SRC/share/models/buck.plecs
stop_server() {
	[ -n "${stuck:-}" ] && kill -CONT "$stuck" 2>/dev/null
	"$SIMQ" shutdown >/dev/null 2>&1
}
trap stop_server EXIT

expect_status "submit starts a server and prints the id" 0 "$SIMQ" submit "$M" -p high -v Vin=400 -v D=0.42 --name design-verify
expect_line "the first id is 1" "$TMP/out" "1"
[ -S "$SIMQ_HOME/simq.sock" ] && ok "the server listens on \$SIMQ_HOME/simq.sock" || fail "the server listens on \$SIMQ_HOME/simq.sock"
mode=$(stat -c %a "$SIMQ_HOME/simq.sock")
[ "$mode" = 600 ] && ok "the socket is mode 0600" || fail "the socket is mode 0600" "mode $mode"
mode=$(stat -c %a "$SIMQ_HOME")
[ "$mode" = 700 ] && ok "the state dir is mode 0700" || fail "the state dir is mode 0700" "mode $mode"

expect_status "sweep submits a cartesian product" 0 "$SIMQ" sweep "$M" D=0.1:0.5:0.1 L=1e-3,2e-3 --name sweep-7 --tag night
expect_in "sweep prints the count and the id range" "$TMP/out" "submitted 10 tasks: 2-11"
expect_status "sweep --dry-run submits nothing" 0 "$SIMQ" sweep "$M" D=0.1:0.2:0.1 --dry-run
expect_in "--dry-run shows the tasks" "$TMP/out" '"D": 0.2'

expect_status "show --json" 0 "$SIMQ" show 1 --json
expect_in "show carries the priority name" "$TMP/out" '"priority": "high"'
expect_in "show carries the vars as given" "$TMP/out" '"D": 0.42'

expect_status "prio moves tasks up" 0 "$SIMQ" prio 5 6 critical
"$SIMQ" ls --state queued --limit 3 >"$TMP/ls"
first=$(sed -n '2p' "$TMP/ls" | awk '{print $1, $2}')
[ "$first" = "5 critical" ] && ok "the queue starts with the reprioritized task" || fail "the queue starts with the reprioritized task" "$(cat "$TMP/ls")"

expect_status "cancel" 0 "$SIMQ" cancel 4
expect_line "cancel reports the new state" "$TMP/out" "cancelled 1 task: 4"
expect_status "wait for a cancelled task exits 1" 1 "$SIMQ" wait 4 --timeout 1
expect_status "a wait that runs out before the task finishes exits 75" 75 "$SIMQ" wait 5 --timeout 1
expect_line "it prints the state it saw" "$TMP/out" "5 queued"
expect_status "retry a cancelled task" 0 "$SIMQ" retry 4
expect_line "retry prints the new id" "$TMP/out" "4 retried as 12"

expect_status "stats --json" 0 "$SIMQ" stats --json
for key in queued running completed_first completed_retry failed cancelled success_rate retry_effectiveness avg_retries_per_failed; do
	grep -q "\"$key\":" "$TMP/out" || missing="$missing $key"
done
[ -z "${missing:-}" ] && ok "stats --json carries every figure" || fail "stats --json carries every figure" "missing:$missing"
expect_in "stats counts the queue" "$TMP/out" '"queued": 11'

# Bad input: exit 65 with the field named, and nothing stored.
expect_status "a missing model is refused" 65 "$SIMQ" submit "$TMP/none.plecs"
expect_in "the message names the model and the rule" "$TMP/err" 'none.plecs": No such file or directory; a model is an existing file'
expect_status "a variable name that is not an identifier is refused" 65 "$SIMQ" submit "$M" -v 2D=1
expect_status "an unknown priority is refused" 65 "$SIMQ" submit "$M" -p urgent
expect_in "the message says what is allowed" "$TMP/err" "allowed: critical, high, normal, low"
expect_status "a ragged matrix is refused" 65 "$SIMQ" submit "$M" -v "K=[[1,2],[3]]"
expect_status "-v without = is a usage error" 64 "$SIMQ" submit "$M" -v D
"$SIMQ" stats --json | grep -q '"queued": 11' && ok "nothing bad was stored" || fail "nothing bad was stored"

# One server per state dir; a killed one is replaced and its queue survives.
expect_status "a second server on the same state dir refuses" 1 "$SIMQ" server -f
expect_in "it says another one is running" "$TMP/err" "another simq server (pid"
kill -9 "$(cat "$SIMQ_HOME/simq.pid")"
"$SIMQ" ls --state queued --limit 1000 >"$TMP/ls" 2>"$TMP/err"
count=$(($(wc -l <"$TMP/ls") - 1))
[ "$count" -eq 11 ] && ok "after kill -9, ls starts a server that shows the same 11 queued tasks" || fail "after kill -9, ls starts a server that shows the same queue" "$(cat "$TMP/ls" "$TMP/err")"
# A server that is stopped or stuck: a command waits [server] client_timeout, then says so (exit 69).
printf '[server]\nclient_timeout = 1s\n' >"$TMP/timeout.ini"
stuck=$(cat "$SIMQ_HOME/simq.pid")
kill -STOP "$stuck"
expect_status "a stuck server: the command gives up after client_timeout" 69 "$SIMQ" cancel 1 -c "$TMP/timeout.ini"
expect_in "it says the server is stopped or stuck, and that the cancel may still happen" "$TMP/err" \
	"did not answer within 1 s: it is stopped or stuck; what was asked may still be done when it answers"
kill -CONT "$stuck"
stuck=
state=$("$SIMQ" show 1 --json | sed -n 's/.*"state": "\([a-z]*\)".*/\1/p')
[ "$state" = cancelled ] && ok "once it answers again, the cancel it was sent has taken effect" ||
	fail "once it answers again, the cancel it was sent has taken effect" "task 1 is $state"
# shutdown returns once the server's process has ended (a zombie left for PID 1 to reap has ended).
pid=$(cat "$SIMQ_HOME/simq.pid")
"$SIMQ" shutdown >/dev/null 2>"$TMP/err"
state=$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null)
{ [ -z "$state" ] || [ "$state" = Z ]; } && ok "shutdown returns once the server's process has ended" ||
	fail "shutdown returns once the server's process has ended" "pid $pid is in state $state" "$(cat "$TMP/err")"
server_ran_clean 1
done_testing
