#!/bin/sh
# Whose fault is it, simq's own side (DESIGN 6): the disk under simq.db fills while PLECS runs, so
# the start and end of attempts cannot be saved, though their results can (results/ is a mount of
# its own).  Through the CLI, a real server, a real SQLite file on a full tmpfs and a real plecs-emu:
# nothing is dropped, dispatch pauses and says why, no change to a task lands before the kept ones,
# a resume or a shutdown meanwhile says why it cannot, and once there is room the kept changes are
# saved and dispatch resumes by itself; the sweep ends with every case run once, and a restart runs
# nothing again.
# Before this test the changes were dropped: the tasks stayed RUNNING in simq.db, simq wait hung, and
# a restart ran them again.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires python3 tmux
CHECKS=15
plan $CHECKS
mounts=
cleanup() {
	$TM kill-server 2>/dev/null
	stop_all
	for m in $mounts; do umount "$m" 2>/dev/null || umount -l "$m"; done
}
trap cleanup EXIT
emu_up

home=$TMP/dbfull
mkdir -p -m 700 "$home"
if mount -t tmpfs -o size=8m,mode=0700 simq-test "$home" 2>"$TMP/mount.err"; then
	mounts=$home
	mkdir -m 700 "$home/results"
	mount -t tmpfs -o size=64m,mode=0700 simq-test "$home/results" 2>>"$TMP/mount.err" && mounts="$home/results $mounts"
fi
case $mounts in
*results*) ;;
*)
	if in_ci; then
		fail "tmpfs mounts for the state dir and results/ (CI is set: this must run)" "$(cat "$TMP/mount.err")"
		skip_n $((CHECKS - 1)) "no tmpfs"
	else
		skip_n $CHECKS "cannot mount a tmpfs here (not root?): $(cat "$TMP/mount.err")"
	fi
	exit 0
	;;
esac

serve dbfull <<EOF
[backend emu]
url = $url
max_batch = 2
[scheduler]
start_paused = true
EOF
"$SIMQ" sweep "$M" R=100:600:100 --no-cache >/dev/null
# Every byte of the state dir's filesystem taken: simq.db's write-ahead log cannot grow.
dd if=/dev/zero of="$SIMQ_HOME/filler" bs=64k >/dev/null 2>&1
"$SIMQ" resume >/dev/null 2>&1

paused_for_store() { "$SIMQ" stats --json | grep -q '"pause_reason": "cannot save to simq.db: its disk is full; .*dispatch resumes by itself (.*is full'; }
poll 20 paused_for_store && ok "dispatch pauses by itself and says the task database cannot save" ||
	fail "dispatch pauses by itself and says the task database cannot save" "$("$SIMQ" stats --json)"
# The console at 80x24, as in a tmux pane: the status bar says why, not only PAUSED.
$TM new-session -d -s simq -x 80 -y 24 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' 2>'$TMP/console.err'; sleep 60"
expect_screen "the console at 80x24 says why: PAUSED: cannot save to simq.db: its disk is full" \
	"PAUSED: cannot save to simq.db: its disk is full"
$TM kill-server 2>/dev/null
line=$("$SIMQ" status --ascii)
case $line in
*" - paused: cannot save to simq.db") ok "simq status (tmux's status line) says what stopped dispatch: $line" ;;
*) fail "simq status (tmux's status line) says what stopped dispatch" "$line" ;;
esac
idle() { "$SIMQ" stats --json | grep -q '^  "running": 0,'; }
poll 20 idle && ok "the calls in flight end, and no more start" || fail "the calls in flight end, and no more start" "$("$SIMQ" stats)"
ran=$(python3 -c "$PY_PRELUDE
print(sum(c['cases'] for c in emu(sys.argv[1]).emu.calls() if c['method'] == 'plecs.simulate'))" "$url")
[ "${ran:-0}" -ge 1 ] && [ "$ran" -lt 6 ] && ok "PLECS ran some cases ($ran), not the whole sweep" ||
	fail "PLECS ran some cases ($ran), not the whole sweep"

# A cancel now would land before the kept ends: refused, and it says why.
"$SIMQ" cancel 6 >"$TMP/cancel.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "nothing was changed: .* changes of running tasks wait to be saved" "$TMP/cancel.out" &&
	ok "simq cancel meanwhile is refused: nothing was changed, and why" ||
	fail "simq cancel meanwhile is refused: nothing was changed, and why" "exit $rc" "$(cat "$TMP/cancel.out")"
# A resume cannot help yet, and says so; a shutdown would lose the kept changes: refused, and why.
"$SIMQ" resume >"$TMP/resume.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "dispatch is paused again at once: cannot save to simq.db: its disk is full" "$TMP/resume.out" &&
	ok "simq resume while the disk is full: exit 1, paused again at once, and why" ||
	fail "simq resume while the disk is full: exit 1, paused again at once, and why" "exit $rc" "$(cat "$TMP/resume.out")"
"$SIMQ" shutdown >"$TMP/shutdown.out" 2>&1
rc=$?
pid=$(cat "$SIMQ_HOME/simq.pid")
[ $rc -ne 0 ] && kill -0 "$pid" && grep -q "the server keeps running: .* wait to be saved.*simq shutdown --force" "$TMP/shutdown.out" &&
	ok "simq shutdown while changes wait is refused: the server keeps running, and says what --force costs" ||
	fail "simq shutdown while changes wait is refused: the server keeps running, and says what --force costs" \
		"exit $rc" "$(cat "$TMP/shutdown.out")"

rm "$SIMQ_HOME/filler"
# Room again: the kept changes are saved by the server's own retry, no resume needed for that.
saved() {
	python3 -c "$PY_PRELUDE
n = int(sys.argv[1])
done = [t['id'] for t in tasks() if t['state'] == 'completed']
assert done[:n] == list(range(1, n + 1)), (n, [(t['id'], t['state']) for t in tasks()])" "$ran"
}
poll 20 saved && ok "with room again, the $ran kept ends are saved: simq ls says completed" ||
	fail "with room again, the $ran kept ends are saved: simq ls says completed" "$("$SIMQ" ls)"
until_in "$SIMQ_HOME/simulation.log" "the task database takes changes again: the [0-9]* kept in memory for [0-9]* s are saved" &&
	ok "the log says the kept changes were saved" || fail "the log says the kept changes were saved" "$(tail -5 "$SIMQ_HOME/simulation.log")"
"$SIMQ" wait 1-6 --timeout 60 >"$TMP/wait.out" 2>&1 && ok "dispatch resumes by itself: simq wait returns, all 6 finished" ||
	fail "dispatch resumes by itself: simq wait returns, all 6 finished" "$(cat "$TMP/wait.out")"
# (Lines the full disk did not take are cut off whole, and counted: test_events, on /dev/full.)
pycheck "no pause is left; simulation.log says dispatch resumed, and holds whole lines only" \
	"$SIMQ_HOME/simulation.log" <<'PY'
import re
s = stats()
assert not s["paused"] and s["pause_reason"] == "", s
log = open(sys.argv[1]).read()
assert "dispatch resumed: the task database takes changes again" in log
bad = [l for l in log.splitlines() if not re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z ", l) or l.count("Z ") > 3]
assert not bad, repr(bad)
PY
pycheck "every task COMPLETED on its first attempt, every case ran once on PLECS, stats agree" "$url" <<'PY'
ts = tasks(); s = stats()
assert by_state(ts)["completed"] == list(range(1, 7)), by_state(ts)
assert all(t["attempts"] == 1 and t["retries"] == 0 for t in ts), [(t["id"], t["attempts"]) for t in ts]
for t in ts:
    a = show(t["id"])["attempt_list"]
    assert [x["outcome"] for x in a] == ["ok"], (t["id"], a)
ran = sum(c["cases"] for c in emu(sys.argv[1]).emu.calls() if c["method"] == "plecs.simulate")
assert ran == 6, ran
assert s["completed_first"] == 6 and s["failed"] == 0 and s["running"] == 0 and s["queued"] == 0, s
PY
# A restart finds nothing to run again (--force: with nothing kept it stops as a plain shutdown does).
"$SIMQ" shutdown --force >/dev/null 2>&1
"$SIMQ" server -c "$TMP/dbfull.ini" >/dev/null 2>"$TMP/err" || fail "the server starts again" "$(cat "$TMP/err")"
pycheck "after a restart nothing runs again: 6 completed, PLECS ran 6 cases" "$url" <<'PY'
s = stats()
assert s["completed_first"] == 6 and s["queued"] == 0 and s["running"] == 0, s
ran = sum(c["cases"] for c in emu(sys.argv[1]).emu.calls() if c["method"] == "plecs.simulate")
assert ran == 6, ran
PY
server_ran_clean
done_testing
