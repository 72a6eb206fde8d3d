#!/bin/sh
# [notify] hooks against a real server on plecs-emu: every event reaches its
# hook with the right environment and the same data as JSON on stdin; a task
# name full of shell syntax runs nothing; a hook that hangs is killed and
# logged; a failing hook is logged and leaves its task alone.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"

requires python3 pgrep
plan 16

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
start_emu
cleanup() {
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
	[ -z "${pw:-}" ] || rm -f "${pw}1" "${pw}2" "${pw}3" "${pw}4"
}
trap cleanup EXIT

# The hook: one line of its environment per run, and its stdin as one JSON line.
cat >"$TMP/hook.sh" <<EOF
printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "\$SIMQ_EVENT" "\$SIMQ_TASK_ID" "\$SIMQ_TASK_NAME" "\$SIMQ_PRIORITY" \
	"\$SIMQ_STATE" "\$SIMQ_ATTEMPT" "\$SIMQ_ERROR" "\$SIMQ_RESULT" "\$SIMQ_BACKEND" >>"$TMP/env.log"
cat >>"$TMP/stdin.log"
echo >>"$TMP/stdin.log"
EOF
{
	printf '[backend emu]\nurl = %s\nslots = 1\nmax_batch = 1\n' "$url"
	printf '[scheduler]\nbackoff_base = 0.2s\nbackoff_max = 1s\ndown_after = 1\nstart_paused = true\n'
	# One at a time, so their lines do not interleave (and the rest wait in order).
	printf '[notify]\nhook_timeout = 1s\nhook_max_running = 1\n'
	for e in submitted started completed failed attempt_failed cancelled backend_down backend_up queue_drained; do
		printf 'on_%s = sh %s/hook.sh\n' "$e" "$TMP"
	done
} >"$TMP/simq.ini"
"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"

# has LINE-PATTERN: polls env.log for a line matching the basic regex.
has() { until_in "$TMP/env.log" "$1"; }
expect_hook() {
	if has "$2"; then ok "$1"; else fail "$1" "no line matching $2 in:" "$(cat "$TMP/env.log" 2>/dev/null)"; fi
}
inject() {
	python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject(sys.argv[2], 1)" "$url" "$1"
}

# Short paths: a name holds at most 200 bytes, and make distcheck's $TMP is long.
pw=/tmp/simq-pw.$$
# With a' ... 'b, a command that wraps the data in '...' is broken out of, and still parses.
evil='$(touch '"$pw"'1) `touch '"$pw"'2` "quoted" '"'"'single'"'"'; touch '"$pw"'3; a'"'"' $(touch '"$pw"'4) '"'"'b'
"$SIMQ" submit "$M" --no-cache --name flaky -p critical >/dev/null        # 1: a licence fault, then completes
"$SIMQ" submit "$M" --no-cache --name poisoned -p high >/dev/null         # 2: a solver fault: fails
"$SIMQ" submit "$M" --no-cache --name "$evil" -p normal >/dev/null 2>"$TMP/err" || fail "the name was accepted" "$(cat "$TMP/err")"   # 3: completes
"$SIMQ" submit "$M" --no-cache --name unwanted -p low >/dev/null          # 4: cancelled while queued
rm -f /tmp/simq-pwned
"$SIMQ" submit "$M" --no-cache --name '$(touch /tmp/simq-pwned)' -p low >/dev/null   # 5: the issue's own example
expect_hook "submitted: the event, id, name, priority and state" '^submitted|4|unwanted|low|queued|'
"$SIMQ" cancel 4 >/dev/null
expect_hook "cancelled" '^cancelled|4|unwanted|low|cancelled|'
# The next two calls meet, in order, a licence fault (transient) and a solver fault (permanent).
inject license
inject fault
"$SIMQ" resume >/dev/null
expect_hook "started: with the attempt and the backend" '^started|1|flaky|critical|running|1|||emu$'
expect_hook "attempt_failed: with PLECS's words" '^attempt_failed|1|flaky|critical|running|1|No free license available'
expect_hook "failed: with PLECS's words" '^failed|2|poisoned|high|failed|1|Simulation error: the solver failed'
expect_hook "completed: with the result file" "^completed|3|.*|normal|completed|1||$SIMQ_HOME/results/0/3.mat|"
expect_hook "queue_drained, once the last task is out" '^queue_drained|'

# The name reached the hook as a string, byte for byte, and ran nothing.
grep -qF "|$evil|" "$TMP/env.log" && ok "the name arrives in SIMQ_TASK_NAME byte for byte" ||
	fail "the name arrives in SIMQ_TASK_NAME byte for byte" "$(cat "$TMP/env.log")"
[ ! -e "${pw}1" ] && [ ! -e "${pw}2" ] && [ ! -e "${pw}3" ] && [ ! -e "${pw}4" ] && [ ! -e /tmp/simq-pwned ] &&
	ok "and no part of it ran (nor of \$(touch /tmp/simq-pwned))" ||
	fail "and no part of it ran" "$(ls "$TMP")"
python3 - "$TMP/stdin.log" "$evil" <<'PY' && ok "stdin carries the same event as JSON" || fail "stdin carries the same event as JSON" "$(cat "$TMP/stdin.log")"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
done = [e for e in events if e["event"] == "completed" and e["task_id"] == 3]
assert done and done[0]["task_name"] == sys.argv[2] and done[0]["priority"] == "normal", done
assert done[0]["result"].endswith("/results/0/3.mat"), done
assert {e["event"] for e in events} >= {"submitted", "cancelled", "started", "completed", "attempt_failed", "failed", "queue_drained"}
PY

# The backend goes away and comes back.
kill "$emu_pid"
wait "$emu_pid" 2>/dev/null
"$SIMQ" submit "$M" --no-cache --name during-outage >/dev/null
expect_hook "backend_down: with the backend" '^backend_down|.*|emu$'
EMU_PORT=$port start_emu
expect_hook "backend_up: with the backend" '^backend_up|.*|emu$'

# A hook that hangs is killed after hook_timeout, with its whole process group, and logged.
"$SIMQ" shutdown >/dev/null
# The hook's sleep carries this test's pid, so that pgrep finds it and no other test run's.
nap="sleep 300.$$"
printf '[notify]\nhook_timeout = 1s\non_submitted = %s; echo never\non_cancelled = \"echo it said this; exit 3\"\n[scheduler]\nstart_paused = true\n' \
	"$nap" >"$TMP/hang.ini"
"$SIMQ" server -c "$TMP/hang.ini" >/dev/null
"$SIMQ" submit "$M" --no-cache --name slow-hook >/dev/null
i=0
while ! "$SIMQ" log | grep -q "hook on_submitted for task .* killed after 1s" && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
"$SIMQ" log | grep -q "hook on_submitted for task .* killed after 1s" && ok "a hook that hangs is killed and logged" ||
	fail "a hook that hangs is killed and logged" "$("$SIMQ" log | tail -5)"
# Killed means gone within moments (the kernel may still be tearing it down), not in 300 s.
# pgrep exits 1 when it finds nothing; any other status (no pgrep, a bad pattern) proves nothing.
i=0
while pgrep -f "^$nap\$" >/dev/null && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
pgrep -f "^$nap\$" >/dev/null
st=$?
case $st in
1) ok "its process group is gone" ;;
0) fail "its process group is gone" "$(pgrep -af "$nap")" ;;
*) fail "its process group is gone" "pgrep could not look (exit status $st)" ;;
esac
id=$("$SIMQ" ls --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | tail -1)
"$SIMQ" cancel "$id" >/dev/null
i=0
while ! "$SIMQ" log | grep -q "hook on_cancelled for task $id: it said this" && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
"$SIMQ" log >"$TMP/log"
grep -q "hook on_cancelled for task $id failed: exit status 3" "$TMP/log" && grep -q "hook on_cancelled for task $id: it said this" "$TMP/log" &&
	ok "a failing hook's status and output are logged" || fail "a failing hook's status and output are logged" "$(tail -5 "$TMP/log")"
server_ran_clean
