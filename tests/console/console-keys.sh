#!/bin/sh
# The console keys no other test presses, each checked by its effect on a real server and
# plecs-emu: PgDn/PgUp page the queue, p pauses and resumes dispatch, r submits a failed task
# again; [ui] line_drawing, colours and bell; and the statistics' throughput sparkline and ETA once
# tasks have finished.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux python3
plan 18

export SIMQ_HOME="$TMP/state"
RC=$SRC/share/models/rc.plecs
start_emu --speed 0
cleanup() {
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
}
trap cleanup EXIT
mkdir -p "$XDG_CONFIG_HOME/simq"
printf '[backend emu]\nurl = %s\nslots = 1\nmax_batch = 4\n[scheduler]\nstart_paused = true\n' "$url" >"$XDG_CONFIG_HOME/simq/simq.ini"
paused() { "$SIMQ" stats --json | grep -q "\"paused\": $1"; }
until_paused() {
	i=0
	while ! paused "$1" && [ $i -lt 200 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	paused "$1"
}
# The row the cursor is on starts with the marker; POS is its first number.
cursor_at() { wait_for "$(printf '\342\226\266') $(printf '%9s' "$1") "; }

# The first call meets a solver fault: task 1 (CRITICAL, alone in its batch) fails.
python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject('fault', 1)" "$url"
"$SIMQ" submit "$RC" -p critical --name poisoned >/dev/null
"$SIMQ" sweep "$RC" R=1:60:1 -p low --name page >/dev/null
$TM new-session -d -s simq -x 132 -y 40 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' 2>'$TMP/console.err'; sleep 60"
expect_screen "the console shows the queue of 61" "Queue 61"

# 40 lines leave the queue 24 rows: PgDn goes to the page's last row, then a page (23 rows) on.
$TM send-keys -t simq PgDn
cursor_at 24 && ok "PgDn moves to the last row on the page" || fail "PgDn moves to the last row on the page" "$(cat "$TMP/screen")"
$TM send-keys -t simq PgDn
cursor_at 47 && grep -q "^ *25 *25 " "$TMP/screen" && ok "PgDn again shows the next page" || fail "PgDn again shows the next page" "$(cat "$TMP/screen")"
$TM send-keys -t simq PgUp
cursor_at 24 && ok "PgUp goes back a page" || fail "PgUp goes back a page" "$(cat "$TMP/screen")"
$TM send-keys -t simq PgUp
cursor_at 1 && ok "PgUp again reaches the first row" || fail "PgUp again reaches the first row" "$(cat "$TMP/screen")"
# C-f and C-b are bound too ([keys] page_down = PgDn,C-f).
$TM send-keys -t simq C-f
cursor_at 24 && ok "C-f pages down as PgDn does" || fail "C-f pages down as PgDn does" "$(cat "$TMP/screen")"
$TM send-keys -t simq C-b
cursor_at 1 && ok "C-b pages up as PgUp does" || fail "C-b pages up as PgUp does" "$(cat "$TMP/screen")"

# A second console (simq console, the command spelt out) with [ui] set in its own file: ASCII lines
# in a UTF-8 locale, no colours, no bell.
printf '[ui]\nline_drawing = ascii\ncolours = never\nbell = false\n' >"$TMP/ui.ini"
$TM new-window -d -t simq -n plain \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' console -c '$TMP/ui.ini' 2>>'$TMP/console.err'; sleep 60"
wait_for "- Queue" simq:plain >/dev/null
$TM capture-pane -e -p -t simq:plain >"$TMP/plain-e"
grep -q "^- Queue" "$TMP/screen" && ! grep -q "$(printf '\342\224\200')" "$TMP/screen" &&
	ok "[ui] line_drawing = ascii: ASCII lines in a UTF-8 locale" || fail "[ui] line_drawing = ascii: ASCII lines in a UTF-8 locale" "$(cat "$TMP/screen")"
! grep -q "$(printf '\033')\[\([0-9;]*;\)\?3[0-7]m\|38;5;" "$TMP/plain-e" && ok "[ui] colours = never: no colour codes" ||
	fail "[ui] colours = never: no colour codes" "$(cat -v "$TMP/plain-e" | head -20)"

# p resumes what start_paused paused; everything runs; task 1 fails.
wait_for "PAUSED" >/dev/null
$TM send-keys -t simq p
until_paused false && ok "p resumes dispatch (the server says so)" || fail "p resumes dispatch (the server says so)"
"$SIMQ" wait $(seq 1 61) --timeout 120 >/dev/null 2>&1
"$SIMQ" show 1 --json | grep -q '"state": "failed"' && ok "tasks ran: the poisoned one failed" || fail "tasks ran: the poisoned one failed" "$("$SIMQ" show 1)"
# The CRITICAL failure rings the bell of the default console, not of the one with bell = false.
i=0
while [ "$($TM display -p -t simq:0 '#{window_bell_flag}')" != 1 ] && [ $i -lt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
[ "$($TM display -p -t simq:0 '#{window_bell_flag}')" = 1 ] && [ "$($TM display -p -t simq:plain '#{window_bell_flag}')" = 0 ] &&
	ok "[ui] bell = false: no bell where the default console rang" ||
	fail "[ui] bell = false: no bell where the default console rang" \
		"default $($TM display -p -t simq:0 '#{window_bell_flag}'), bell = false $($TM display -p -t simq:plain '#{window_bell_flag}')"
$TM send-keys -t simq p
until_paused true && ok "p pauses dispatch again" || fail "p pauses dispatch again"
expect_screen "the status bar says PAUSED" "PAUSED"

# r on the failed task (found with the filter) submits it again: a new task whose origin is 1.
$TM send-keys -t simq / "state:failed" Enter
wait_for "poisoned" >/dev/null
$TM send-keys -t simq r
i=0
while ! "$SIMQ" ls --json --state queued | grep -q '"origin": 1' && [ $i -lt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
"$SIMQ" ls --json --state queued | grep -q '"origin": 1' && ok "r submits the failed task again (origin 1)" ||
	fail "r submits the failed task again (origin 1)" "$("$SIMQ" ls)"
$TM send-keys -t simq Escape / Enter

# 60 tasks finished this minute or the last: the busiest minute's cell is a full block.  The retry is
# queued and a rate is known, but dispatch is paused: the ETA says so instead of counting down (as
# the dashboard's does).
expect_screen "the throughput sparkline has a full cell for the busiest minute" "$(printf '\342\226\210')"
wait_for "throughput" >/dev/null
# The rate is on the throughput line; the ETA beside the success rate (the first statistics line).
grep "throughput" "$TMP/screen" | grep -q "[1-9][0-9]*/h" && grep -q "ETA \(.\{1,3\}\) paused" "$TMP/screen" &&
	ok "the rate per hour shows; the ETA says dispatch is paused" ||
	fail "the rate per hour shows; the ETA says dispatch is paused" "$(grep "throughput\|ETA" "$TMP/screen")"
# Resumed, the retry runs and nothing is left: the ETA is "-".
$TM send-keys -t simq p
until_paused false
"$SIMQ" wait 62 --timeout 30 >/dev/null 2>&1
expect_re "resumed and drained: ETA -" "ETA -\( \|$\)"
done_testing
