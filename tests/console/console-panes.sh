#!/bin/sh
# The History and Backends panes (issue 15, Done-when 6) against a real
# server and plecs-emu with a second backend that refuses: h shows the
# finished tasks newest first with the failure's error in red, o sorts them,
# the filter keys filter them (/ and Esc), Enter shows a failure whole, r runs
# it again, A marks what they list, a click and the wheel move the cursor and y copies
# an id to tmux's buffer; b shows each backend with its state in its
# colour.  Every wait polls the screen or the server.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux python3
plan 38

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)
start_emu
cleanup() {
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
}
trap cleanup EXIT
mkdir -p -m 700 "$SIMQ_HOME"
printf '[backend emu]\nurl = %s\nslots = 1\nmax_batch = 1\n[backend ws2]\nurl = http://127.0.0.1:1/RPC2\n[scheduler]\nstart_paused = true\n' \
	"$url" >"$TMP/simq.ini"
"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"
python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject('fault', 1)" "$url"
submit() { "$SIMQ" submit "$@" >/dev/null 2>"$TMP/err" || fail "submitted $*" "$(cat "$TMP/err")"; }
submit "$M/rc.plecs" --solver TimeSpan=0.01 --name alpha -p low
submit "$M/buck.plecs" --solver TimeSpan=0.01 --name beta -p normal
submit "$M/rc.plecs" --solver TimeSpan=0.01 --name gamma -p critical
submit "$M/rlc.plecs" --solver TimeSpan=0.01 --name delta -p high
submit "$M/rc.plecs" --name omega -p low
"$SIMQ" cancel 5 >/dev/null
"$SIMQ" resume >/dev/null
"$SIMQ" wait 1 2 3 4 --timeout 30 >/dev/null
# gamma (critical) ran first and met the fault; then delta, beta, alpha.
"$SIMQ" show 3 --json | grep -q '"state": "failed"' && ok "the critical task met the injected fault" ||
	fail "the critical task met the injected fault" "$("$SIMQ" ls)"

$TM new-session -d -s simq -x 120 -y 34 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' --no-start 2>'$TMP/console.err'; sleep 60"
expect_screen "the console is up" "Queue 0"
$TM send-keys -t simq h
expect_screen "h shows the history in the queue's place" "History 5, newest first · 1 of 5 failed"
# The view thread's long poll, asked before h, comes back without the history: it must not blank the
# pane until the next change (it did, for the 5 s of a poll).  A change makes it come back at once.
"$SIMQ" pause >/dev/null
blanked=
for i in $(seq 1 30); do
	screen
	grep -q "History 0\|nothing finished yet" "$TMP/screen" && blanked=1 && break
	sleep 0.1
done
[ -z "$blanked" ] && grep -q "History 5, newest first" "$TMP/screen" && ok "the history stays while an older answer comes in" ||
	fail "the history stays while an older answer comes in" "$(cat "$TMP/screen")"
"$SIMQ" resume >/dev/null
# first_rows: the ids of the history's rows, top down.
first_rows() { screen; sed -n 's/^[▶ ][* ][0-9:]\{8\} *\([0-9]*\) .*/\1/p' "$TMP/screen" | tr '\n' ' '; }
rows=$(first_rows)
[ "$rows" = "1 2 4 3 5 " ] && ok "newest first: alpha, beta, delta, gamma (they ran in priority order), the cancelled one" ||
	fail "newest first: alpha, beta, delta, gamma (they ran in priority order), the cancelled one" "rows: $rows" "$(cat "$TMP/screen")"
grep -q "failed *gamma rc.plecs  Simulation error: the s" "$TMP/screen" &&
	ok "the failure's row carries its error" || fail "the failure's row carries its error" "$(cat "$TMP/screen")"
$TM capture-pane -e -p -t simq >"$TMP/screen-e"
esc=$(printf '\033')
grep "gamma" "$TMP/screen-e" | grep -q "${esc}\[[0-9;]*31m[^$esc]*failed" && ok "a failure is red" ||
	fail "a failure is red" "$(grep gamma "$TMP/screen-e" | cat -v)"

$TM send-keys -t simq o
expect_screen "o sorts the history by priority" "History 5, by priority"
rows=$(first_rows)
[ "$rows" = "3 4 2 1 5 " ] && ok "by priority: critical, high, normal, then the two low ones newest first" ||
	fail "by priority: critical, high, normal, then the two low ones newest first" "rows: $rows"
$TM send-keys -t simq o
expect_screen "o again: by model" "History 5, by model"
rows=$(first_rows)
[ "$rows" = "2 1 3 5 4 " ] && ok "by model: buck, rc (newest first among them), rlc" || fail "by model: buck, rc (newest first among them), rlc" "rows: $rows"
$TM send-keys -t simq o
expect_screen "o again: by name" "History 5, by name"
rows=$(first_rows)
[ "$rows" = "1 2 4 3 5 " ] && ok "by name: alpha, beta, delta, gamma, omega" || fail "by name: alpha, beta, delta, gamma, omega" "rows: $rows"
$TM send-keys -t simq o
expect_screen "o again: newest first" "History 5, newest first"

# The mouse (X10 reports, as tmux-256color's kmous reads them): a click on the history's fourth
# row (screen row 6, counting from 0) puts the cursor there; y copies its id to tmux's buffer.
$TM send-keys -t simq -l "$(printf '\033[M +\047')"
$TM send-keys -t simq -l "$(printf '\033[M#+\047')"
i=0
until screen && grep -q "^▶ [0-9:]\{8\} *3 " "$TMP/screen" || [ $i -gt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
grep -q "^▶ [0-9:]\{8\} *3 " "$TMP/screen" && ok "a click puts the cursor on the row under it" ||
	fail "a click puts the cursor on the row under it" "$(cat "$TMP/screen")"
$TM send-keys -t simq y
expect_screen "y copies the task's id" "copied task 3 to tmux's paste buffer"
[ "$($TM show-buffer)" = 3 ] && ok "tmux's paste buffer holds 3" || fail "tmux's paste buffer holds 3" "$($TM show-buffer)"
# The wheel moves the cursor of the pane under it three rows.
$TM send-keys -t simq -l "$(printf '\033[Ma+\047')"
i=0
until screen && grep -q "^▶ [0-9:]\{8\} *5 " "$TMP/screen" || [ $i -gt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
grep -q "^▶ [0-9:]\{8\} *5 " "$TMP/screen" && ok "the wheel moves the cursor down (to the last row)" ||
	fail "the wheel moves the cursor down (to the last row)" "$(cat "$TMP/screen")"

$TM send-keys -t simq / "state:failed" Enter
expect_screen "the filter applies to the history" 'History 1 · "state:failed", newest first · 1 of 1 failed'
$TM send-keys -t simq Enter
expect_screen "Enter shows the failure whole" "permanent: Simulation error: the solver failed to converge"
$TM send-keys -t simq Escape r
expect_screen "r runs the failed task again, and says as which task" "task 3 submitted again as 6"
$TM send-keys -t simq r
expect_screen "r again makes no second copy and says so, as the server answered" "task 3 was retried as 6 already"
$TM send-keys -t simq Escape
expect_screen "Esc clears the filter (the new run of task 3 is there)" "History 6, newest first"
$TM send-keys -t simq / "name:*ta" Enter
expect_screen "a name pattern filters the history" 'History 2 · "name:*ta"'
$TM send-keys -t simq A
expect_screen "A marks every task the history lists" "marked 2 tasks of the history"
$TM send-keys -t simq Escape Escape

$TM send-keys -t simq b
expect_screen "b shows the backends in the statistics' place" "Backends 2 · 1 DOWN  [b]"
expect_screen "the refusing backend is DOWN, with its next probe" "○ DOWN      probe in"
screen
grep -q "emu *● UP *0/1 busy\|emu *● UP *1/1 busy" "$TMP/screen" && ok "the emu backend is UP with its slots" ||
	fail "the emu backend is UP with its slots" "$(cat "$TMP/screen")"
$TM capture-pane -e -p -t simq >"$TMP/screen-e"
grep -q "$(printf '\033')\[[0-9;]*31m○ DOWN *$(printf '\033')" "$TMP/screen-e" || grep "ws2" "$TMP/screen-e" | grep -q "31m○ DOWN" &&
	ok "DOWN is red in the backends pane" || fail "DOWN is red in the backends pane" "$(grep ws2 "$TMP/screen-e" | cat -v)"
$TM send-keys -t simq b h
expect_screen "b and h again: the statistics and the queue" "Statistics · since start"
# A night's failure stays findable after 200 more tasks finished (the view's history keeps the last
# 200): the filter state:failed lists every failed task, from the store.
"$SIMQ" sweep "$M/rc.plecs" "Vin=1:210:1" --solver TimeSpan=0.001 --name later -p low >/dev/null
last=$("$SIMQ" ls --json --name later | python3 -c "import json, sys; print(max(t['id'] for t in json.load(sys.stdin)['tasks']))")
"$SIMQ" wait "$last" --timeout 120 >/dev/null
$TM send-keys -t simq h
expect_screen "the history shows the last 200" "History 200, newest first"
$TM send-keys -t simq / "state:failed" Enter
expect_screen "state:failed still lists the night's failure" 'History 1 · "state:failed", newest first · 1 of 1 failed'
screen
grep -q "failed *gamma" "$TMP/screen" && ok "its row is there" || fail "its row is there" "$(cat "$TMP/screen")"
$TM send-keys -t simq Escape
# With the cursor on the newest row the pane follows the newest task (its title says so); one row down,
# the cursor stays on its task while newer ones come in above it.  First every task of the sweep is done.
i=0
until "$SIMQ" status --format '{queued} {running}' | grep -qx '0 0' || [ $i -gt 1200 ]; do
	i=$((i + 1))
	sleep 0.05
done
$TM send-keys -t simq g
expect_screen "g on the history: it follows the newest" "failed · following"
id=$("$SIMQ" submit "$M/rc.plecs" --solver TimeSpan=0.001 --name newest) && "$SIMQ" wait "$id" --timeout 60 >/dev/null
expect_re "a task that finishes comes in on top, under the cursor" "^▶ [0-9:]\{8\} *$id "
$TM send-keys -t simq j
expect_re "j leaves the top: the pane no longer follows" "History 200, newest first · [0-9]* of 200 failed  \["
below=$(sed -n 's/^▶ [0-9:]\{8\} *\([0-9]*\) .*/\1/p' "$TMP/screen")
id2=$("$SIMQ" submit "$M/rc.plecs" --solver TimeSpan=0.001 --name newer) && "$SIMQ" wait "$id2" --timeout 60 >/dev/null
wait_re "^  [0-9:]\{8\} *$id2 "
grep -q "^▶ [0-9:]\{8\} *$below " "$TMP/screen" && grep -q "^  [0-9:]\{8\} *$id2 " "$TMP/screen" &&
	ok "off the top, the cursor stays on its task as a newer one comes in" ||
	fail "off the top, the cursor stays on its task as a newer one comes in" "cursor was on $below:" "$(cat "$TMP/screen")"
$TM send-keys -t simq h
[ ! -s "$TMP/console.err" ] && ok "the console wrote nothing to stderr" || fail "the console wrote nothing to stderr" "$(cat "$TMP/console.err")"
