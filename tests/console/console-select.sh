#!/bin/sh
# The console acts on the task it names (issue 15, Done-when 1-3), against a
# real server and plecs-emu, each scene on a server of its own:
# * the task a cancel question names is dispatched, or completes, before y:
#   y cancels that task, or says why it could not, and no other task changes;
#   the same for a batch marked in the Running pane;
# * the cursor stays on its task while the tasks above it leave the queue,
#   while it is raised to the top and lowered four times;
# * + on a failed task shows the server's refusal, and the task keeps its
#   priority.
# Every wait polls the screen or the server; none sleeps for a fixed time.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux python3
plan 51

RC=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
start_emu --speed 1 --concurrent 16 --cores 4
homes=
cleanup() {
	$TM kill-server >/dev/null 2>&1
	for h in $homes; do SIMQ_HOME=$h "$SIMQ" shutdown --no-start >/dev/null 2>&1; done
	kill "$emu_pid" 2>/dev/null
}
trap cleanup EXIT

# scene NAME SLOTS MAX_BATCH: a paused server of its own on the emu, and a console on it in window NAME.
scene() {
	export SIMQ_HOME="$TMP/$1"
	homes="$homes $SIMQ_HOME"
	mkdir -p -m 700 "$SIMQ_HOME"
	printf '[backend emu]\nurl = %s\nslots = %s\nmax_batch = %s\n[scheduler]\nstart_paused = true\n' \
		"$url" "$2" "$3" >"$TMP/$1.ini"
	"$SIMQ" server -c "$TMP/$1.ini" >/dev/null 2>"$TMP/err" || fail "the server for $1 starts" "$(cat "$TMP/err")"
	W=$1
}
console() {
	if $TM has-session -t simq 2>/dev/null; then
		$TM new-window -t simq -n "$W" "env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' --no-start 2>>'$TMP/console.err'; sleep 60"
	else
		$TM new-session -d -s simq -n "$W" -x 120 -y 34 \
			"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' --no-start 2>>'$TMP/console.err'; sleep 60"
	fi
}
submit() { "$SIMQ" submit "$RC" --no-cache "$@" >/dev/null 2>"$TMP/err" || fail "submitted $*" "$(cat "$TMP/err")"; }
# tasks: "id state priority" for every task of the server, one a line.
tasks() {
	"$SIMQ" ls --json --limit 1000 | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    print(t["id"], t["state"], t["priority"])'
}
# except ID...: the lines of tasks for every other task.
except() {
	pattern=$(printf '^%s \\|' "$@")
	grep -v "${pattern%\\|}" "$TMP/tasks.now"
}
state_of() { tasks | awk -v id="$1" '$1 == id { print $2 }'; }
priority_of() { tasks | awk -v id="$1" '$1 == id { print $3 }'; }
# until_state ID STATE: polls the server, up to 30 s.
until_state() {
	i=0
	while [ "$(state_of "$1")" != "$2" ] && [ $i -lt 600 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	[ "$(state_of "$1")" = "$2" ]
}
# same_others NAME ID...: no task but ID... changed state or priority since $TMP/tasks.before.
same_others() {
	local name=$1
	shift
	tasks >"$TMP/tasks.now"
	cp "$TMP/tasks.now" "$TMP/tasks.after"
	except "$@" >"$TMP/others.after"
	cp "$TMP/tasks.before" "$TMP/tasks.now"
	except "$@" >"$TMP/others.before"
	if cmp -s "$TMP/others.before" "$TMP/others.after"; then ok "$name"; else
		fail "$name" "before:" "$(cat "$TMP/others.before")" "after:" "$(cat "$TMP/others.after")"; fi
}
# cursor_id: the id in the row the queue's cursor (▶) is on.
cursor_id() { screen "simq:$W"; sed -n 's/^▶ *[^ ]* *\([0-9]*\) .*/\1/p' "$TMP/screen" | head -1; }
# until_cursor ID: polls the screen until the cursor is on task ID (up to 15 s).
until_cursor() {
	i=0
	while [ "$(cursor_id)" != "$1" ] && [ $i -lt 300 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	[ "$(cursor_id)" = "$1" ]
}
check_cursor() {
	if until_cursor "$2"; then ok "$1"; else fail "$1" "the cursor is on $(cursor_id), not $2:" "$(cat "$TMP/screen")"; fi
}

# ---- 1. The task the question names completes before y: the console says it could not be cancelled.
scene done 1 1
submit --solver TimeSpan=0.05 --name quick -p high
submit --solver TimeSpan=60 --name long -p high
for n in 3 4 5 6; do submit --name "wait$n" -p low; done
console
expect_screen "the queue shows the six tasks" "Queue 6" "simq:$W"
$TM send-keys -t "simq:$W" c
expect_screen "c asks about the task under the cursor, by id" "Cancel task 1? y/N" "simq:$W"
tasks >"$TMP/tasks.before"
"$SIMQ" resume >/dev/null
until_state 1 completed && until_state 2 running &&
	ok "meanwhile task 1 completed and task 2 was dispatched" || fail "meanwhile task 1 completed and task 2 was dispatched" "$(tasks)"
check_cursor "the cursor went from the finished task to its neighbour" 3
$TM send-keys -t "simq:$W" y
expect_screen "y says task 1 could not be cancelled, and why" \
	"task 1 is completed; only queued or running tasks can be cancelled" "simq:$W"
same_others "no other task changed" 1 2
[ "$(state_of 2)" = running ] && ok "task 2, now first in the Running pane, still runs" ||
	fail "task 2, now first in the Running pane, still runs" "$(tasks)"

# ---- 2. The task the question names is dispatched before y: y cancels it, not the row's new task.
scene dispatched 1 1
submit --solver TimeSpan=60 --name long -p high
for n in 2 3 4 5; do submit --name "wait$n" -p low; done
console
expect_screen "the queue shows the five tasks" "Queue 5" "simq:$W"
$TM send-keys -t "simq:$W" c
expect_screen "c asks about task 1" "Cancel task 1? y/N" "simq:$W"
tasks >"$TMP/tasks.before"
"$SIMQ" resume >/dev/null
until_state 1 running && ok "meanwhile task 1 was dispatched" || fail "meanwhile task 1 was dispatched" "$(tasks)"
expect_screen "the queue's first row is task 2 now" "Queue 4" "simq:$W"
$TM send-keys -t "simq:$W" y
expect_screen "y says which task it cancelled" "cancelled task 1" "simq:$W"
[ "$(state_of 1)" = cancelled ] && ok "the server cancelled task 1, the one named" ||
	fail "the server cancelled task 1, the one named" "$(tasks)"
same_others "task 2, under the cursor when y was pressed, and every other task are as they were" 1

# ---- 3. The Running pane: a batch marked, finished before y; then a batch under the cursor.
scene running 1 4
for n in 1 2 3 4; do submit --solver TimeSpan=1 --name "first$n"; done
for n in 5 6 7 8; do submit --solver TimeSpan=60 --name "second$n"; done
console
expect_screen "the queue shows the eight tasks" "Queue 8" "simq:$W"
"$SIMQ" resume >/dev/null
expect_screen "the first batch runs" "1-4" "simq:$W"
$TM send-keys -t "simq:$W" Tab Space
expect_screen "Space in the Running pane marks the whole batch" "4 marked" "simq:$W"
$TM send-keys -t "simq:$W" c
expect_screen "the question lists the marked batch's ids" "Cancel 4 tasks: 1-4? y/N" "simq:$W"
until_state 4 completed && until_state 8 running &&
	ok "meanwhile the batch completed and the next one took its row" ||
	fail "meanwhile the batch completed and the next one took its row" "$(tasks)"
tasks >"$TMP/tasks.before"
$TM send-keys -t "simq:$W" y
expect_screen "y says the marked tasks could not be cancelled" \
	"1-4 are completed: only queued or running tasks can be cancelled" "simq:$W"
same_others "the batch now on that row still runs, untouched" 1 2 3 4
$TM send-keys -t "simq:$W" g c
expect_screen "c on a running batch names its four tasks" "Cancel 4 tasks: 5-8? y/N" "simq:$W"
$TM send-keys -t "simq:$W" y
expect_screen "y cancels those four" "cancelled 4 tasks: 5-8" "simq:$W"
[ "$(tasks | grep -c ' cancelled ')" -eq 4 ] && [ "$(state_of 8)" = cancelled ] &&
	ok "the server has exactly tasks 5-8 cancelled" || fail "the server has exactly tasks 5-8 cancelled" "$(tasks)"

# ---- 4. The cursor stays on task 9 while the five tasks above it leave the queue and finish,
# while 0 raises it to the top, and while - lowers it four times.
scene follow 5 1
for n in 1 2 3 4 5; do submit --solver TimeSpan=1 --name "above$n" -p high; done
for n in 6 7 8 9 10 11 12; do submit --solver TimeSpan=0.05 --name "row$n" -p low; done
console
expect_screen "the queue shows twelve tasks" "Queue 12" "simq:$W"
$TM send-keys -t "simq:$W" j j j j j j j j
check_cursor "the cursor is on task 9, the ninth row" 9
tasks >"$TMP/tasks.before"
"$SIMQ" resume >/dev/null
i=0
until [ "$("$SIMQ" stats --json | sed -n 's/^  "running": \([0-9]*\).*/\1/p')" = 5 ] || [ $i -gt 300 ]; do
	i=$((i + 1))
	sleep 0.05
done
"$SIMQ" pause >/dev/null
expect_screen "the five tasks above it left the queue" "Queue 7" "simq:$W"
check_cursor "the cursor is still on task 9" 9
until_state 5 completed && ok "the five tasks completed" || fail "the five tasks completed" "$(tasks)"
check_cursor "and still on task 9 once they completed" 9
$TM send-keys -t "simq:$W" 0
expect_screen "0 makes task 9 critical" "task 9 now critical" "simq:$W"
check_cursor "the cursor went with task 9 to the top" 9
screen "simq:$W"
grep -q "^▶ *1 *9 " "$TMP/screen" && ok "task 9 is first in the queue, under the cursor" ||
	fail "task 9 is first in the queue, under the cursor" "$(cat "$TMP/screen")"
$TM send-keys -t "simq:$W" -- - - - -
expect_screen "- four times lowers task 9 to low: the fourth finds it low already, as the server says" "task 9 was low already" "simq:$W"
check_cursor "the cursor stayed on task 9 through the four" 9
[ "$(priority_of 9)" = low ] && ok "the server has task 9 at low" || fail "the server has task 9 at low" "$(tasks)"
tasks | awk '$1 >= 6 && $1 != 9' >"$TMP/rows.after"
awk '$1 >= 6 && $1 != 9' "$TMP/tasks.before" >"$TMP/rows.before"
cmp -s "$TMP/rows.before" "$TMP/rows.after" && ok "no other row changed priority or state" ||
	fail "no other row changed priority or state" "$(cat "$TMP/rows.after")"

# ---- 5. + on a failed task: the server refuses, and the console says so in its words.
scene failed 1 1
python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject('fault', 1)" "$url"
submit --solver TimeSpan=0.05 --name doomed -p high
"$SIMQ" resume >/dev/null
until_state 1 failed || fail "task 1 failed" "$(tasks)"
console
expect_screen "the console is up" "Queue 0" "simq:$W"
$TM send-keys -t "simq:$W" / "state:failed" Enter
expect_screen "the filter shows the failed task" 'Filter "state:failed" 1 match' "simq:$W"
$TM send-keys -t "simq:$W" +
expect_screen "+ shows the server's refusal" \
	"task 1 is failed; only queued or running tasks can be given another priority" "simq:$W"
[ "$(priority_of 1)" = high ] && ok "the failed task keeps its priority" || fail "the failed task keeps its priority" "$(tasks)"

# ---- 6. The queue shrinks under the last page by more than a page: the page follows it to its new end.
scene tail 1 1
"$SIMQ" sweep "$RC" R=1:120:1 --no-cache >/dev/null 2>"$TMP/err" || fail "a sweep of 120 was submitted" "$(cat "$TMP/err")"
console
expect_screen "the queue shows the sweep" "Queue 120" "simq:$W"
$TM send-keys -t "simq:$W" G
check_cursor "G puts the cursor on the last task" 120
"$SIMQ" cancel 21-120 --yes >/dev/null 2>"$TMP/err" || fail "the last 100 tasks were cancelled" "$(cat "$TMP/err")"
expect_screen "the page went with the queue: its header says 20" "Queue 20" "simq:$W"
check_cursor "the cursor is on the queue's new last task, on screen" 20
# ... on a full page: the rows above it show (the page does not start at the cursor with blank rows below).
screen "simq:$W"
grep -q "^  *11 *11 " "$TMP/screen" && ok "the page is full: task 11 shows above the cursor" ||
	fail "the page is full: task 11 shows above the cursor" "$(cat "$TMP/screen")"
$TM send-keys -t "simq:$W" G
"$SIMQ" cancel 11-20 --yes >/dev/null 2>&1
"$SIMQ" submit "$RC" --no-cache >/dev/null 2>&1
check_cursor "with the next changes too (never a blank page under a queue)" 10
# A marked task cancelled from elsewhere before y: the answer says it was so already, not that y did it.
$TM send-keys -t "simq:$W" Space
expect_screen "Space marks task 10" "1 marked" "simq:$W"
"$SIMQ" cancel 10 >/dev/null 2>&1
$TM send-keys -t "simq:$W" c
expect_screen "c names the marked task" "Cancel task 10? y/N" "simq:$W"
$TM send-keys -t "simq:$W" y
expect_screen "y says task 10 was cancelled already, as the server answered" "task 10 was cancelled already" "simq:$W"

[ ! -s "$TMP/console.err" ] && ok "the consoles wrote nothing to stderr" || fail "the consoles wrote nothing to stderr" "$(cat "$TMP/console.err")"
