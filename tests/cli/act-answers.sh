#!/bin/sh
# What cancel, prio and retry answer when the work is done already, when the tasks move between
# the read and the act, and when the server goes away: against a real server on plecs-emu.  A retry
# of a retried task answers its copy (three retries, or two at once, make one copy); cancel
# --state queued leaves a task that started running meanwhile alone; what is so already counts as
# done; a confirmation counts what can be acted on; ids are digits; wait takes ranges.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"

requires python3 script mkfifo
plan 76

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)
cleanup() {
	exec 7>&- 2>/dev/null
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
}
trap cleanup EXIT

# tasks 'PYTHON EXPRESSION' NAME: the expression over t(id) (a task's record) must be true.
tasks() {
	PYTHONPATH="$SRC/tests/lib" python3 - "$SIMQ_HOME/simq.sock" "$1" <<'PY' >"$TMP/py" 2>&1 && ok "$2" || fail "$2" "$(cat "$TMP/py")"
import sys
from api import proxy
simq = proxy(sys.argv[1]).simq
t = simq.get
if not eval(sys.argv[2]):
    raise SystemExit("false: " + sys.argv[2])
PY
}
lines() { tr '\n' '|' <"$1"; }
inject() { python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject(sys.argv[2], int(sys.argv[3]))" "$url" "$1" "$2"; }
total() { PYTHONPATH="$SRC/tests/lib" python3 -c "import sys; from api import proxy; print(proxy(sys.argv[1]).simq.list({}, 0, 0)['total'])" "$SIMQ_HOME/simq.sock"; }
# ask ANSWER-WHEN COMMAND...: runs COMMAND on a terminal (script) reading its answer from a fifo;
# the caller waits for the question in $TMP/tty, does what it must, then answers with `answer TEXT`.
ask() {
	rm -f "$TMP/fifo" "$TMP/tty"
	mkfifo "$TMP/fifo"
	script -qec "$*" /dev/null <"$TMP/fifo" >"$TMP/tty" 2>&1 &
	ask_pid=$!
	exec 7>"$TMP/fifo"
}
answer() {
	printf '%s\n' "$1" >&7
	exec 7>&-
	wait "$ask_pid"
	ask_status=$?
}

start_emu --speed 0
"$SIMQ" server --plecs "$url" >/dev/null
# 1-3 fail (an injected simulation error each); 4 completes.
for v in 1 2 3; do
	inject fault 1
	id=$("$SIMQ" submit "$M/rc.plecs" -v Vin=$v --name broken)
	"$SIMQ" wait "$id" --timeout 60 >/dev/null
done
"$SIMQ" submit "$M/rc.plecs" -v Vin=4 --name fine >/dev/null
"$SIMQ" wait 1-4 --timeout 60 >/dev/null
tasks '[t(i)["state"] for i in (1, 2, 3, 4)] == ["failed"] * 3 + ["completed"]' "set-up: 1-3 failed, 4 completed"
"$SIMQ" pause >/dev/null

# ---- retry is idempotent ----------------------------------------------------------------------
expect_status "retry 1: a copy" 0 "$SIMQ" retry 1
expect_line "1 retried as 5" "$TMP/out" "1 retried as 5"
expect_status "retry 1 again: no second copy, exit 0" 0 "$SIMQ" retry 1
expect_line "it answers the copy" "$TMP/out" "1 was retried as 5 already; 5 is queued"
expect_status "and a third time" 0 "$SIMQ" retry 1
[ "$(total)" = 5 ] && ok "three retries made one copy (5 tasks)" || fail "three retries made one copy" "$(total) tasks"
expect_status "show 1 names its copy" 0 "$SIMQ" show 1
expect_line "retried as 5" "$TMP/out" "retried as 5"
expect_status "show 5 names its origin" 0 "$SIMQ" show 5
expect_line "origin 1" "$TMP/out" "origin     1 (this task is its retry copy)"
COLUMNS=200 "$SIMQ" ls --state failed >"$TMP/out"
grep -q '^1 .* failed (retried as 5) ' "$TMP/out" && ok "ls --state failed marks 1 as retried" || fail "ls marks 1 as retried" "$(cat "$TMP/out")"
# Two retries of every failed task at once: one copy each.
"$SIMQ" retry --state failed >"$TMP/r1" 2>&1 &
r1=$!
"$SIMQ" retry --state failed >"$TMP/r2" 2>&1
wait $r1
tasks 'sorted(t(i)["origin"] for i in range(6, 8)) == [2, 3] and simq.list({}, 0, 0)["total"] == 7' \
	"two concurrent retry --state failed made one copy of 2 and of 3 (7 tasks)"
expect_status "retry --state failed a third time: every failed task was retried (exit 1)" 1 "$SIMQ" retry --state failed
expect_in "it says why nothing matches" "$TMP/err" "tasks retried before are passed over"
# The copy cancelled: retrying the original points at the copy.
"$SIMQ" cancel 5 >/dev/null
expect_status "retry 1 when its copy was cancelled: refused (exit 1)" 1 "$SIMQ" retry 1
expect_line "it points at the copy" "$TMP/err" "simq retry: task 1 was retried as 5, which was cancelled; to run it again, retry 5"
expect_status "retry 5: the copy's copy" 0 "$SIMQ" retry 5
expect_line "5 retried as 8" "$TMP/out" "5 retried as 8"
expect_status "retry 1 now answers the end of the chain" 0 "$SIMQ" retry 1
expect_line "8, via 5" "$TMP/out" "1 was retried as 8 already; 8 is queued"
expect_status "retry 4 --dry-run marks what would be refused" 0 "$SIMQ" retry 4 1 --dry-run
expect_line "4 is completed" "$TMP/out" "4 completed (would be refused: only failed or cancelled tasks can be)"

# ---- idempotent answers of cancel and prio ----------------------------------------------------
expect_status "cancel 5: cancelled already (exit 0)" 0 "$SIMQ" cancel 5
expect_line "it says so" "$TMP/out" "1 task was cancelled already: 5"
expect_status "cancel 4: completed (exit 1)" 1 "$SIMQ" cancel 4
expect_line "with the reason" "$TMP/err" "simq cancel: task 4 is completed; only queued or running tasks can be cancelled"
expect_status "prio 8 normal: the priority it has" 0 "$SIMQ" prio 8 normal
expect_line "already normal, not now normal" "$TMP/out" "1 task was normal already: 8"
expect_status "prio 8 6 critical -v: a line per id" 0 "$SIMQ" prio 8 6 critical -v
[ "$(lines "$TMP/out")" = "6 now critical|8 now critical|" ] && ok "-v: one line per id" || fail "-v: one line per id" "$(cat "$TMP/out")"
"$SIMQ" cancel 6-8 >/dev/null
expect_status "cancel --state completed: refused up front" 64 "$SIMQ" cancel --state completed
expect_in "saying which states can" "$TMP/err" "--state completed: completed tasks cannot be cancelled; only queued or running ones can (--state queued or --state running)"

# ---- the confirmation counts what can be acted on; final tasks a filter picked: one line ------
"$SIMQ" sweep "$M/rc.plecs" Vin=1:150:1 --name mix --no-cache >/dev/null   # 9-158
"$SIMQ" cancel 9-10 >/dev/null
expect_status "cancel --name mix (148 queued, 2 cancelled), no terminal" 64 "$SIMQ" cancel --name mix
expect_in "it counts the 148, and the 2 that stay" "$TMP/err" "the selection holds 148 tasks to act on (11-158); 2 others stay as they are."
ask "$SIMQ cancel --name mix"
until_in "$TMP/tty" "y/N"
answer "yep"
[ $ask_status -eq 1 ] && grep -q "Cancel 148 tasks (11-158)? 2 others stay as they are. \[y/N\]" "$TMP/tty" &&
	grep -q "nothing was done" "$TMP/tty" && ok "only y or yes is a yes: yep does nothing" || fail "yep does nothing" "exit $ask_status" "$(cat "$TMP/tty")"
tasks 't(11)["state"] == "queued"' "nothing was cancelled"
# Between the question and the answer, tasks start running (the first batch hangs in PLECS).
ask "$SIMQ cancel --name mix --state queued"
until_in "$TMP/tty" "y/N"
inject hang 1
"$SIMQ" resume >/dev/null
i=0
while [ "$(PYTHONPATH="$SRC/tests/lib" python3 -c "import sys; from api import proxy; print(proxy(sys.argv[1]).simq.stats()['running'])" "$SIMQ_HOME/simq.sock")" = 0 ] && [ $i -lt 300 ]; do
	i=$((i + 1))
	sleep 0.05
done
"$SIMQ" pause >/dev/null
running=$(PYTHONPATH="$SRC/tests/lib" python3 -c "import sys; from api import proxy; print(' '.join(str(x['id']) for x in proxy(sys.argv[1]).simq.list({'state': 'running'}, 0, 1000)['tasks']))" "$SIMQ_HOME/simq.sock")
[ -n "$running" ] && ok "tasks are running now: $running" || fail "tasks are running now" "none"
answer "YES"
[ $ask_status -eq 0 ] && ok "YES (any case) is a yes; exit 0" || fail "YES is a yes; exit 0" "exit $ask_status" "$(cat "$TMP/tty")"
grep -q " running now; not cancelled (--state queued --name 'mix'): " "$TMP/tty" &&
	ok "it says which are running now and were not cancelled" || fail "it says which are running now" "$(cat "$TMP/tty")"
first=${running%% *}
tasks "t($first)['state'] == 'running'" "task $first, running since the question, was not cancelled"
tasks "simq.stats()['queued'] == 0" "the others were"

# ---- an interrupted cancel: what is confirmed, and the same command again is safe -------------
"$SIMQ" sweep "$M/rc.plecs" Vin=1:120:1 --name late --no-cache >/dev/null
ask "$SIMQ cancel --name late --no-start"
until_in "$TMP/tty" "y/N"
"$SIMQ" shutdown >/dev/null
answer "y"
[ $ask_status -eq 69 ] && ok "the server gone before the act: exit 69" || fail "the server gone: exit 69" "exit $ask_status" "$(cat "$TMP/tty")"
grep -q "no task is confirmed done; the others may or may not be: running the same command again is safe" "$TMP/tty" &&
	ok "it says nothing is confirmed, and that running it again is safe" || fail "it says running again is safe" "$(cat "$TMP/tty")"
"$SIMQ" server --plecs "$url" >/dev/null
expect_status "the same command again" 0 "$SIMQ" cancel --name late --yes
expect_in "it cancels them" "$TMP/out" "cancelled 120 tasks: "
expect_status "and once more: all cancelled already (exit 0)" 0 "$SIMQ" cancel --name late --yes
expect_in "said so" "$TMP/out" "120 tasks were cancelled already: "

# ---- a filter given twice matches either; wait takes ranges ----------------------------------
expect_status "cancel --dry-run --name broken --name fine" 0 "$SIMQ" cancel --dry-run --name broken --name fine
[ "$(cut -d' ' -f1 "$TMP/out" | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ] && ok "both names (the copies keep theirs), each task once" || fail "both names" "$(cat "$TMP/out")"
expect_status "retry --dry-run --state failed --state cancelled: both states" 0 "$SIMQ" retry --dry-run --state failed --state cancelled --name mix
grep -q '^9 cancelled$' "$TMP/out" && ok "cancelled ones are listed" || fail "cancelled ones are listed" "$(cat "$TMP/out")"
expect_status "wait 1-4 2,3: ranges and lists" 1 "$SIMQ" wait 1-4 2,3 --timeout 0
[ "$(lines "$TMP/out")" = "1 failed|2 failed|3 failed|4 completed|" ] && ok "each id once" || fail "each id once" "$(cat "$TMP/out")"
expect_status "wait 4-99999: past the last id (exit 1: some failed)" 1 "$SIMQ" wait 4-99999 --timeout 0 --json
expect_in "it says how many do not exist" "$TMP/err" "of the ids named do not exist"
expect_status "wait 99999: an id named alone must exist" 65 "$SIMQ" wait 99999 --timeout 0

# ---- what an id is ---------------------------------------------------------------------------------
for bad in '+5' ' 5' "$(printf '\t5')" '1- 5' '+1-+2' '5 '; do
	expect_status "cancel '$bad': not an id (64)" 64 "$SIMQ" cancel "$bad"
done
expect_in "it says what is allowed" "$TMP/err" "ids of decimal digits (45), ranges (45-60) and lists (3,7,45-60), without signs or spaces"
"$SIMQ" cancel '1- 5' 2>"$TMP/err"
grep -A1 -xF "  1- 5" "$TMP/err" | tail -n 1 | grep -qxF "    ^" && ok "the caret points at ' 5', after the dash" || fail "the caret points at ' 5'" "$(cat "$TMP/err")"
expect_status "cancel 1-900000 1-900000 --dry-run: distinct ids are counted" 0 "$SIMQ" cancel 1-900000 1-900000 --dry-run
expect_status "--name with invalid UTF-8: a usage error naming the option" 64 "$SIMQ" cancel --name "$(printf 'a\377b')"
expect_in "it names --name" "$TMP/err" "simq cancel: --name a\\xffb: not valid UTF-8 (byte 2)"
expect_status "--model with a control character" 64 "$SIMQ" prio --model "$(printf 'a\001b')" low
expect_in "it names --model" "$TMP/err" "simq prio: --model"

# ---- a pause survives a restart; a CLI that starts a server says so ---------------------------
"$SIMQ" pause >/dev/null
"$SIMQ" shutdown >/dev/null
expect_status "stats with no server running: one is started" 0 "$SIMQ" stats --json
expect_in "and it says so on stderr" "$TMP/err" "simq: no server was running for $SIMQ_HOME; started one"
tasks 'simq.stats()["paused"] is True' "the new server is paused, as the last one was"
grep -q "Z dispatch paused (since [0-9T:.-]*Z, by simq pause); simq resume starts it$" "$SIMQ_HOME/simulation.log" &&
	ok "its log says since when and by what" || fail "its log says since when" "$(tail -5 "$SIMQ_HOME/simulation.log")"
"$SIMQ" resume >/dev/null
"$SIMQ" shutdown >/dev/null
"$SIMQ" server --plecs "$url" >/dev/null
tasks 'simq.stats()["paused"] is False' "resumed, the next server is not paused"
server_ran_clean
done_testing
