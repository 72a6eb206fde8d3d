#!/bin/sh
# [store] durability, by its effect on a real server traced with strace: with full, the task's
# result file is fsynced (as .1.mat.tmp, before its rename) and SQLite syncs its write-ahead log as the task completes; with normal
# (the default), neither is synced while a task runs.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3 strace
plan 5
cleanup() {
	[ -n "${tracer:-}" ] && kill "$tracer" 2>/dev/null
	stop_all
}
trap cleanup EXIT
emu_up

# traced NAME DURABILITY: a server with that durability runs one task to completion under strace
# (fsync and fdatasync of every thread, each fd named by its path); the trace goes to $TMP/NAME.trace.
traced() {
	serve "$1" <<INI
[backend emu]
url = $url
[scheduler]
start_paused = true
[store]
durability = $2
INI
	pid=$(cat "$SIMQ_HOME/simq.pid")
	threads=$(ls "/proc/$pid/task" | wc -l)
	strace -f -y -e trace=fsync,fdatasync -o "$TMP/$1.trace" -p "$pid" 2>"$TMP/$1.strace-err" &
	tracer=$!
	# Every thread is attached before the task is submitted (strace says so once per thread).
	n=0
	while [ "$(cat "$TMP/$1.strace-err" 2>/dev/null | grep -c attached)" -lt "$threads" ] && [ $n -lt 300 ]; do
		n=$((n + 1))
		sleep 0.05
	done
	"$SIMQ" submit "$M" >/dev/null && "$SIMQ" resume >/dev/null && "$SIMQ" wait 1 --timeout 60 >"$TMP/$1.wait" 2>&1 ||
		fail "$1: the task completes" "$(cat "$TMP/$1.wait")"
	result=$("$SIMQ" show 1 --json | sed -n 's/^ *"path": "\([^"]*\)".*/\1/p')
	kill "$tracer"
	wait "$tracer" 2>/dev/null
	tracer=
}

traced full full
[ -n "$result" ] && [ -f "$result" ] && ok "full: the task's result file is there" ||
	fail "full: the task's result file is there" "$("$SIMQ" show 1 --json)"
grep -q "fsync([0-9]*<$SIMQ_HOME/results/0/\.1\.mat\.tmp>" "$TMP/full.trace" && ok "full: the result file is fsynced" ||
	fail "full: the result file is fsynced" "result: $result" "$(cat "$TMP/full.trace")"
grep -Eq "f(data)?sync\([0-9]*<$SIMQ_HOME/simq.db-wal>" "$TMP/full.trace" && ok "full: SQLite syncs the write-ahead log" ||
	fail "full: SQLite syncs the write-ahead log" "$(cat "$TMP/full.trace")"

traced normal normal
! grep -q "sync([0-9]*<$SIMQ_HOME/results/" "$TMP/normal.trace" && grep -q "attached" "$TMP/normal.strace-err" &&
	ok "normal: the result file is not fsynced" || fail "normal: the result file is not fsynced" "$(cat "$TMP/normal.trace" "$TMP/normal.strace-err")"
! grep -q "sync([0-9]*<$SIMQ_HOME/simq.db" "$TMP/normal.trace" && ok "normal: SQLite does not sync while the task runs" ||
	fail "normal: SQLite does not sync while the task runs" "$(cat "$TMP/normal.trace")"

done_testing
