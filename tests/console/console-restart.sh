#!/bin/sh
# Log continuity across a server restart (issue 15, Done-when 4): with tasks
# running on plecs-emu, `simq shutdown` and a new `simq server` under a
# console that follows the log.  Every line simulation.log gained from just
# before the shutdown until the new server is idle shows once in the log pane,
# after "server restarted", which the console says between the two servers.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux python3
plan 9

export SIMQ_HOME="$TMP/state"
RC=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
LOG=$SIMQ_HOME/simulation.log
start_emu --speed 1 --concurrent 8
cleanup() {
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
}
trap cleanup EXIT
mkdir -p -m 700 "$SIMQ_HOME"
printf '[backend emu]\nurl = %s\nslots = 2\nmax_batch = 1\n' "$url" >"$TMP/simq.ini"
"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"
"$SIMQ" pause >/dev/null
"$SIMQ" sweep "$RC" R=1:40:1 --solver TimeSpan=0.4 --name night >/dev/null 2>"$TMP/err" || fail "submitted" "$(cat "$TMP/err")"

# 160 rows: the log pane holds about 40 lines, more than the window below adds.
$TM new-session -d -s simq -x 132 -y 160 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' --no-start 2>'$TMP/console.err'; sleep 60"
expect_screen "the console shows the queue" "Queue 40"
"$SIMQ" resume >/dev/null
until_in "$LOG" " 3 completed$"
running() { "$SIMQ" stats --json --no-start 2>/dev/null | sed -n 's/^  "running": \([0-9]*\).*/\1/p'; }
i=0
until [ "$(running)" = 2 ] || [ $i -gt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
before=$(wc -l <"$LOG")
"$SIMQ" shutdown >/dev/null
expect_screen "the console says the server went away" "no simq server answers"
"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the new server starts" "$(cat "$TMP/err")"
# Let the new server run a few tasks, then hold it, and wait until its calls have returned.
done_before=$(grep -c " completed$" "$LOG")
i=0
until [ "$(grep -c " completed$" "$LOG")" -ge $((done_before + 4)) ] || [ $i -gt 400 ]; do
	i=$((i + 1))
	sleep 0.05
done
"$SIMQ" pause >/dev/null
i=0
until [ "$(running)" = 0 ] || [ $i -gt 400 ]; do
	i=$((i + 1))
	sleep 0.05
done
[ "$(running)" = 0 ] && ok "the new server ran tasks and is idle now" || fail "the new server ran tasks and is idle now" "$(tail -5 "$LOG")"

# The window: every line from just before the shutdown to now, as the pane shows it (local time is UTC here).
tail -n +$((before + 1)) "$LOG" | sed 's/^[0-9-]*T\([0-9:]*\)\.[0-9]*Z /\1 /' >"$TMP/window"
last=$(tail -1 "$TMP/window")
expect_screen "the console caught up with the new server" "$last"
# The log pane: the lines under its rule, down to the key line.
awk '/─ Log/ { on = 1; next } on' "$TMP/screen" | sed '$d; s/^ //; s/ *$//' | grep . >"$TMP/pane"
[ -n "$(grep " server stopped$" "$TMP/window")" ] && [ -n "$(grep " server started (pid" "$TMP/window")" ] &&
	ok "the window holds the old server's last line and the new server's first" ||
	fail "the window holds the old server's last line and the new server's first" "$(cat "$TMP/window")"
# The pane, but for the console's own line, is the tail of simulation.log line for line: each line
# once, in order, nothing else; and that tail covers the whole window.
grep -v " server restarted$" "$TMP/pane" >"$TMP/pane.server"
k=$(wc -l <"$TMP/pane.server")
sed 's/^[0-9-]*T\([0-9:]*\)\.[0-9]*Z /\1 /' "$LOG" | tail -n "$k" >"$TMP/tail"
[ "$(wc -l <"$TMP/window")" -le "$k" ] && ok "the pane is tall enough for the window ($(wc -l <"$TMP/window") lines of $k)" ||
	fail "the pane is tall enough for the window ($(wc -l <"$TMP/window") lines of $k)"
if diff -u "$TMP/tail" "$TMP/pane.server" >"$TMP/pane.diff"; then
	ok "every line simulation.log gained is in the log pane once, in order, and nothing else"
else
	fail "every line simulation.log gained is in the log pane once, in order, and nothing else" "$(cat "$TMP/pane.diff")"
fi
stopped=$(grep -n " server stopped$" "$TMP/pane" | tail -1 | cut -d: -f1)
restarted=$(grep -n " server restarted$" "$TMP/pane" | cut -d: -f1)
started=$(grep -n " server started (pid" "$TMP/pane" | tail -1 | cut -d: -f1)
[ "$(grep -c " server restarted$" "$TMP/pane")" -eq 1 ] && [ -n "$stopped" ] && [ -n "$started" ] &&
	[ "$stopped" -lt "$restarted" ] && [ "$restarted" -lt "$started" ] &&
	ok "\"server restarted\" shows once, between the old server's last line and the new one's first" ||
	fail "\"server restarted\" shows once, between the old server's last line and the new one's first" "$(cat "$TMP/pane")"
[ ! -s "$TMP/console.err" ] && ok "the console wrote nothing to stderr" || fail "the console wrote nothing to stderr" "$(cat "$TMP/console.err")"
