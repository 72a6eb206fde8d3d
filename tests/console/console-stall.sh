#!/bin/sh
# A terminal that stops reading (an ssh link that stalls, a stopped tmux):
# the console blocks writing its frames while the server goes on logging.
# When the terminal reads again, the log pane has every line, in order.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux
plan 2

export SIMQ_HOME="$TMP/state"
paused_config
M=$(cd "$SRC/share/models" && pwd -P)/buck.plecs
cleanup() {
	[ -n "${tmux_pid:-}" ] && kill -CONT "$tmux_pid" 2>/dev/null
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
}
trap cleanup EXIT

"$SIMQ" submit "$M" --name first >/dev/null 2>"$TMP/err" || fail "submitted" "$(cat "$TMP/err")"
# 160 rows: the log pane holds about 40 lines.
$TM new-session -d -s simq -x 132 -y 160 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' 2>'$TMP/console.err'; sleep 60"
wait_for "Queue 1" >/dev/null

# tmux stopped reads nothing: the pty fills and the console's frames block.
# Each submit is a change of its own, with a log line of its own.
tmux_pid=$($TM display -p '#{pid}')
kill -STOP "$tmux_pid"
for n in $(seq 2 150); do
	"$SIMQ" submit "$M" --name "n$n" >/dev/null
done
kill -CONT "$tmux_pid"
tmux_pid=

expect_screen "the console catches up after the stall" "150 submitted"
missing=
for n in $(seq 121 150); do
	grep -q " $n submitted normal" "$TMP/screen" || missing="$missing $n"
done
[ -z "$missing" ] && ok "the log pane lost no line while the terminal was stalled" ||
	fail "the log pane lost no line while the terminal was stalled" "missing:$missing" "$(tail -45 "$TMP/screen")"
