#!/bin/sh
# simq cancel, prio and retry on selections (ids, ranges, lists, --state, --model, --name), against
# a real server on plecs-emu: what each id got is printed, a final task is refused with the
# server's reason and exit 1, a selection that matches nothing exits 1, a large one needs --yes
# (or a yes on a terminal) and goes in chunks, never a call per id; and the options every command
# shares before the command word (simq -c FILE stats).
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"

requires python3 strace script
plan 88

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)
cleanup() {
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
# lines FILE: FILE's lines, joined by "|", for exact comparisons.
lines() { tr '\n' '|' <"$1"; }

start_emu --speed 0
"$SIMQ" server --plecs "$url" >/dev/null
# 1, 2 complete; 3 meets an injected simulation error and fails for good.
"$SIMQ" submit "$M/rc.plecs" -v Vin=1 --name done-1 >/dev/null
"$SIMQ" submit "$M/rc.plecs" -v Vin=2 --name done-2 >/dev/null
"$SIMQ" wait 1 2 --timeout 60 >/dev/null
python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject('fault', 1)" "$url"
"$SIMQ" submit "$M/rc.plecs" -v Vin=3 --name broken >/dev/null
"$SIMQ" wait 3 --timeout 60 >/dev/null
tasks 't(1)["state"] == t(2)["state"] == "completed" and t(3)["state"] == "failed"' "set-up: 1 and 2 completed, 3 failed"
# Dispatch paused: 4-13 sweep-a (rc), 14-16 other (buck), 17 keep (rc) stay queued.
"$SIMQ" pause >/dev/null
"$SIMQ" sweep "$M/rc.plecs" Vin=1:10:1 --name sweep-a --no-cache >/dev/null
"$SIMQ" sweep "$M/buck.plecs" D=0.1,0.2,0.3 --name other >/dev/null
"$SIMQ" submit "$M/rc.plecs" --name keep >/dev/null

# ---- options before the command ------------------------------------------------------------------
# A configuration that names another state directory, where no server runs: read, it makes exit 69.
printf '[server]\nstate_dir = %s\n' "$TMP/nowhere" >"$TMP/other.ini"
expect_status "simq -c FILE --no-start stats: -c before the command is read" 69 "$SIMQ" -c "$TMP/other.ini" --no-start stats
expect_in "it looked in the state dir the file names" "$TMP/err" "$TMP/nowhere"
expect_status "simq stats -c FILE --no-start: the same after it" 69 "$SIMQ" stats -c "$TMP/other.ini" --no-start
expect_status "simq --config=FILE stats --no-start" 69 "$SIMQ" --config="$TMP/other.ini" stats --no-start
expect_status "simq stats without it: this state dir's server answers" 0 "$SIMQ" stats --no-start
expect_status "simq --home DIR --no-start stats: both are read (no server there: exit 69)" 69 "$SIMQ" --home "$TMP/nowhere" --no-start stats
expect_status "simq --home DIR --json ls: the state dir of DIR, as JSON" 0 "$SIMQ" --home "$SIMQ_HOME" --json ls --state failed
python3 -c 'import json, sys; t = json.load(open(sys.argv[1])); assert [x["id"] for x in t] == [3], t' "$TMP/out" 2>"$TMP/py" &&
	ok "it lists the failed task as JSON" || fail "it lists the failed task as JSON" "$(cat "$TMP/out" "$TMP/py")"
expect_status "simq -c (no value) is a usage error" 64 "$SIMQ" -c
expect_in "it says -c needs a value" "$TMP/err" "simq: -c needs a value"
expect_status "simq --json server: an option the command does not take" 64 "$SIMQ" --json server
expect_in "it says so, naming the command" "$TMP/err" "simq server: --json is not an option of simq server"
expect_status "simq --state queued ls: a command's own option may not come first" 64 "$SIMQ" --state queued ls
expect_in "it says which may" "$TMP/err" "only --home DIR, -c FILE, --no-start and --json may come first"
expect_status "simq ls --frob: unknown option" 64 "$SIMQ" ls --frob
expect_in "it names it" "$TMP/err" "simq ls: --frob is not an option of simq ls"
expect_status "simq stats --config (no value)" 64 "$SIMQ" stats --config
expect_in "it says --config needs a value" "$TMP/err" "simq stats: --config needs a value"

# ---- ids, ranges, lists ---------------------------------------------------------------------------
expect_status "prio 4-6 critical: a range" 0 "$SIMQ" prio 4-6 critical
[ "$(lines "$TMP/out")" = "set 3 tasks to critical: 4-6|" ] && ok "it prints a total with the ids as ranges" ||
	fail "it prints a total with the ids as ranges" "$(cat "$TMP/out")"
tasks 'all(t(i)["priority"] == "critical" for i in (4, 5, 6)) and t(7)["priority"] == "normal" and t(3)["priority"] == "normal"' \
	"4, 5 and 6 are critical; 3 and 7 are not"
expect_status "prio 7,9 11 high: a list and an id" 0 "$SIMQ" prio 7,9 11 high
[ "$(lines "$TMP/out")" = "set 3 tasks to high: 7, 9, 11|" ] && ok "7, 9 and 11, in order" || fail "7, 9 and 11, in order" "$(cat "$TMP/out")"
tasks '[t(i)["priority"] for i in range(7, 13)] == ["high", "normal", "high", "normal", "high", "normal"]' \
	"exactly 7, 9 and 11 are high"
expect_status "cancel 13 13 12-13: each id once" 0 "$SIMQ" cancel 13 13 12-13
[ "$(lines "$TMP/out")" = "cancelled 2 tasks: 12, 13|" ] && ok "12 and 13 cancelled, once each" || fail "12 and 13 cancelled, once each" "$(cat "$TMP/out")"

# ---- filters ----------------------------------------------------------------------------------------
expect_status "cancel --model 'b*.plecs': a shell pattern of the model's file name" 0 "$SIMQ" cancel --model 'b*.plecs'
[ "$(lines "$TMP/out")" = "cancelled 3 tasks: 14-16|" ] && ok "the three buck tasks, and only they" ||
	fail "the three buck tasks, and only they" "$(cat "$TMP/out")"
expect_status "prio --name 'sweep-*' --state queued low --dry-run" 0 "$SIMQ" prio --name 'sweep-*' --state queued low --dry-run
[ "$(lines "$TMP/out")" = "4 queued|5 queued|6 queued|7 queued|8 queued|9 queued|10 queued|11 queued|" ] &&
	ok "--dry-run lists the queued sweep-* tasks" || fail "--dry-run lists the queued sweep-* tasks" "$(cat "$TMP/out")"
expect_in "and says nothing was done" "$TMP/err" "simq prio: --dry-run: 8 tasks selected; nothing was done"
tasks 't(4)["priority"] == "critical" and t(8)["priority"] == "normal"' "nothing was changed"
expect_status "prio 1-8 --name sweep low: ids and a filter together" 0 "$SIMQ" prio 1-8 --name sweep low
[ "$(lines "$TMP/out")" = "set 5 tasks to low: 4-8|" ] && ok "the ids among 1-8 named *sweep*" ||
	fail "the ids among 1-8 named *sweep*" "$(cat "$TMP/out")"
tasks 't(9)["priority"] == "high" and t(1)["priority"] == "normal"' "9 (outside the ids) and 1 (another name) keep theirs"
expect_status "cancel --name 'nomatch-*': nothing matches (exit 1)" 1 "$SIMQ" cancel --name 'nomatch-*'
expect_line "it says so" "$TMP/err" "simq cancel: no task matches --name 'nomatch-*'"
expect_status "cancel 1-3 --state queued: none of the ids matches" 1 "$SIMQ" cancel 1-3 --state queued
expect_line "it says so, naming the ids" "$TMP/err" "simq cancel: no task among 1-3 matches --state queued"
expect_status "cancel --state nosuch: a usage error" 64 "$SIMQ" cancel --state nosuch
expect_in "it lists the states" "$TMP/err" "--state nosuch: allowed: queued, running, completed, failed, cancelled"

# ---- final tasks are refused, by id, with the server's reason ------------------------------------
expect_status "prio 3 critical on a failed task: exit 1" 1 "$SIMQ" prio 3 critical
expect_line "with the server's reason" "$TMP/err" "simq prio: task 3 is failed; only queued or running tasks can be given another priority"
[ ! -s "$TMP/out" ] && ok "and no line says it was done" || fail "and no line says it was done" "$(cat "$TMP/out")"
tasks 't(3)["priority"] == "normal"' "task 3 keeps its priority"
expect_status "cancel 1 17: a completed task and a queued one" 1 "$SIMQ" cancel 1 17
expect_line "17 is cancelled" "$TMP/out" "cancelled 1 task: 17"
expect_in "1 is refused with the reason" "$TMP/err" "simq cancel: task 1 is completed; only queued or running tasks can be cancelled"
expect_in "and the count is told" "$TMP/err" "simq cancel: 1 of 2 tasks refused"
tasks 't(17)["state"] == "cancelled" and t(1)["state"] == "completed"' "17 is cancelled, 1 still completed"
expect_status "cancel 2 --json: the answer for scripts, exit 1" 1 "$SIMQ" cancel 2 --json
python3 -c 'import json, sys; a = json.load(open(sys.argv[1])); assert a == [{"id": 2, "state": "completed", "done": False, "changed": False, "reason": "task 2 is completed; only queued or running tasks can be cancelled"}], a' "$TMP/out" 2>"$TMP/py" &&
	ok "its JSON holds the id, its state, done false and the reason" || fail "its JSON holds the id, its state, done false and the reason" "$(cat "$TMP/out" "$TMP/py")"
expect_status "retry 3 17 2: two can be, one cannot (exit 1)" 1 "$SIMQ" retry 3 17 2
expect_line "3 is retried as 18" "$TMP/out" "3 retried as 18"
expect_line "17 is retried as 19" "$TMP/out" "17 retried as 19"
expect_in "2 is refused, saying why" "$TMP/err" "simq retry: task 2 is completed; only failed or cancelled tasks can be retried"
tasks 't(18)["origin"] == 3 and t(19)["origin"] == 17 and t(18)["state"] == "queued"' "the copies are queued, each naming its origin"
expect_status "retry --state failed: 3 was retried before, so nothing matches (exit 1)" 1 "$SIMQ" retry --state failed
expect_in "it says why" "$TMP/err" "tasks retried before are passed over: their copies are what to retry"
expect_status "retry 3 again: no second copy, exit 0" 0 "$SIMQ" retry 3
expect_line "it answers with the copy" "$TMP/out" "3 was retried as 18 already; 18 is queued"
tasks 'simq.list({}, 0, 0)["total"] == 19' "still 19 tasks: nothing was copied twice"

# ---- ids the server does not know; command lines that are wrong -----------------------------------
expect_status "cancel 10-9999: a range past the last id acts on the ids that exist" 0 "$SIMQ" cancel 10-9999
expect_line "it says how many did not exist" "$TMP/err" "simq cancel: 9980 of the ids named do not exist (the last task is 19)"
[ "$(lines "$TMP/out")" = "cancelled 4 tasks: 10, 11, 18, 19|6 tasks were cancelled already: 12-17|" ] &&
	ok "what it did, and what was so already (exit 0: the goal holds)" || fail "what it did, and what was so already" "$(cat "$TMP/out")"
tasks 't(10)["state"] == t(19)["state"] == "cancelled" and t(9)["state"] == "queued"' "10, 11, 18 and 19 are cancelled; 9 is not"
expect_status "cancel 9999: an id named alone must exist (exit 65)" 65 "$SIMQ" cancel 9999
expect_line "it names it" "$TMP/err" "simq cancel: no task 9999"
expect_status "cancel 60-45: a range backwards" 64 "$SIMQ" cancel 60-45
expect_in "it says how a range goes" "$TMP/err" "a range goes from the lower id to the higher: 45-60"
expect_status "cancel 4,x: not an id" 64 "$SIMQ" cancel 4,x
grep -A1 -xF "  4,x" "$TMP/err" | tail -n 1 | grep -qxF "    ^" && ok "it points at the item" || fail "it points at the item" "$(cat "$TMP/err")"
expect_status "cancel alone: say which tasks" 64 "$SIMQ" cancel
expect_in "it says what a selection is" "$TMP/err" "give task ids (45, 45-60, 3,7,45-60) or a filter (--state, --model, --name)"
expect_status "prio 4 urgent: the level is checked" 64 "$SIMQ" prio 4 urgent
expect_in "it lists the levels" "$TMP/err" "LEVEL urgent: allowed: critical, high, normal, low (any case) or 0-3"

# ---- large selections ---------------------------------------------------------------------------------
"$SIMQ" sweep "$M/rc.plecs" Vin=1:1500:1 --name big --no-cache >/dev/null
expect_status "cancel --name big (1,500 tasks) without --yes and no terminal: refused" 64 "$SIMQ" cancel --name big
expect_in "it says why and what to do" "$TMP/err" "the selection holds 1500 tasks to act on (20-1519); acting on more than 100 needs --yes"
tasks 'simq.stats()["queued"] == 1500 + 6' "nothing was cancelled"
# On a terminal it asks; No is the default.
printf 'n\n' >"$TMP/no"
script -qec "\"$SIMQ\" cancel --name big" /dev/null <"$TMP/no" >"$TMP/tty" 2>&1
status=$?
[ $status -eq 1 ] && grep -q "Cancel 1500 tasks (20-1519)? \[y/N\]" "$TMP/tty" && grep -q "nothing was done" "$TMP/tty" &&
	ok "on a terminal it asks, naming the ids; n: nothing done, exit 1" || fail "on a terminal it asks; n: nothing done, exit 1" "exit $status" "$(cat "$TMP/tty")"
tasks 'simq.stats()["queued"] == 1500 + 6' "still nothing cancelled"
# LeakSanitizer cannot run under ptrace (CI's ASan build): the traced command goes without it.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=connect -o "$TMP/strace" "$SIMQ" cancel --name big --state queued --yes >"$TMP/out" 2>"$TMP/err"
status=$?
[ $status -eq 0 ] && [ "$(lines "$TMP/out")" = "cancelled 1500 tasks: 20-1519|" ] && ok "--yes: 1,500 tasks cancelled, in one total" ||
	fail "--yes: 1,500 tasks cancelled, in one total" "exit $status" "$(tail -n 3 "$TMP/out")" "$(tail -n 3 "$TMP/err")"
calls=$(grep -c 'simq.sock' "$TMP/strace")
# simq.list reads 1,000 a page (2 pages, twice if they changed), simq.cancel takes 1,000 ids a call (2).
[ "$calls" -ge 4 ] && [ "$calls" -le 8 ] && ok "in pages and chunks of 1,000: $calls calls, not one per id" ||
	fail "in pages and chunks of 1,000, not one per id" "$calls connections to the socket"
tasks 'simq.stats()["queued"] == 6 and t(20)["state"] == t(1519)["state"] == "cancelled"' "all 1,500 are cancelled, the 6 others queued"
expect_status "retry 20-1519 --yes: 1,500 ids named, read and acted on a chunk at a time" 0 "$SIMQ" retry 20-1519 --yes
[ "$(grep -c ' retried as ' "$TMP/out")" -eq 1500 ] && grep -qx "20 retried as 1520" "$TMP/out" && grep -qx "1519 retried as 3019" "$TMP/out" &&
	ok "each of the 1,500 is retried once, the second chunk's too" || fail "each of the 1,500 is retried once, the second chunk's too" "$(tail -3 "$TMP/out")"
server_ran_clean
done_testing
