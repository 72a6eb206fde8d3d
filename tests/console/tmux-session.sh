#!/bin/sh
# simq tmux against a real tmux server of its own (-L): the session simq with
# the console, a pane following the log and a shell, laid out as [ui]
# tmux_layout says (stacked, side, windows); run again it makes no second
# one; from a terminal it attaches; run inside tmux it opens a window in the
# current session instead of nesting; and share/tmux/simq.conf's prefix + S
# (simq tmux -j) takes the client to a running console.  The terminal that
# attaches is a pane of the tests' own tmux.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux python3
plan 17

export SIMQ_HOME="$TMP/state/simq"
export PATH="$SIMQ_BUILDDIR/src:$PATH" TMUX_TMPDIR="$TMP"
unset TMUX TMUX_PANE
paused_config
OT="tmux -L session -f /dev/null"
cleanup() {
	$OT kill-server >/dev/null 2>&1
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
}
trap cleanup EXIT

# poll_for TEXT COMMAND...: runs COMMAND every 50 ms until its output holds TEXT (up to 15 s).
poll_for() {
	local want=$1 i=0
	shift
	while ! "$@" 2>/dev/null | grep -qF -- "$want" && [ $i -lt 300 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	"$@" 2>/dev/null | grep -qF -- "$want"
}
panes() { $OT list-panes -t "$1" -F '#{pane_index} #{pane_left},#{pane_top} #{pane_width}x#{pane_height} #{pane_start_command}'; }

# ---- outside tmux: the session ------------------------------------------------------------
"$SIMQ" tmux -L session -d >"$TMP/out" 2>"$TMP/err" && $OT has-session -t =simq 2>/dev/null &&
	ok "simq tmux -d makes the session simq" || fail "simq tmux -d makes the session simq" "$(cat "$TMP/out" "$TMP/err")"
panes simq:0 >"$TMP/panes"
[ "$(wc -l <"$TMP/panes")" -eq 3 ] && grep -q "^0 .* $SIMQ console --home $SIMQ_HOME$" "$TMP/panes" &&
	grep -q "^1 .* $SIMQ log -f --home $SIMQ_HOME$" "$TMP/panes" && grep -q "^2 [0-9,]* [0-9x]* *$" "$TMP/panes" &&
	ok "its window has three panes: the console, simq log -f and a shell, for this state dir" ||
	fail "its window has three panes: the console, simq log -f and a shell, for this state dir" "$(cat "$TMP/panes")"
poll_for "simq " $OT display -p -t simq:0.0 '#{pane_title}' && poll_for "Queue" $OT capture-pane -p -t simq:0.0 &&
	ok "the console runs in the first pane and names it" ||
	fail "the console runs in the first pane and names it" "$($OT capture-pane -p -t simq:0.0)"
poll_for "server started" $OT capture-pane -p -J -S - -t simq:0.1 && ok "the second pane follows the log" ||
	fail "the second pane follows the log" "$($OT capture-pane -p -J -S - -t simq:0.1)"
# stacked (the default): the console across the top, the log and the shell side by side below it.
w=$($OT display -p -t simq:0 '#{window_width}')
read -r _ pos0 size0 _ <"$TMP/panes"
top1=$(sed -n '2s/^1 [0-9]*,\([0-9]*\) .*/\1/p' "$TMP/panes")
top2=$(sed -n '3s/^2 [0-9]*,\([0-9]*\) .*/\1/p' "$TMP/panes")
[ "$pos0" = "0,0" ] && [ "${size0%x*}" = "$w" ] && [ "$top1" -gt 0 ] && [ "$top1" = "$top2" ] &&
	ok "stacked: the console across the top, the log and the shell side by side below" ||
	fail "stacked: the console across the top, the log and the shell side by side below" "window width $w" "$(cat "$TMP/panes")"
[ "$($OT display -p -t simq:0 '#{pane_index}')" = 0 ] && ok "the console's pane is the active one" ||
	fail "the console's pane is the active one" "$($OT display -p -t simq:0 '#{pane_index}')"
"$SIMQ" tmux -L session -d >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && grep -q "the session simq is there already" "$TMP/err" && [ "$($OT list-sessions | wc -l)" -eq 1 ] &&
	[ "$(panes simq:0 | wc -l)" -eq 3 ] && ok "run again, it makes no second session and no more panes" ||
	fail "run again, it makes no second session and no more panes" "$(cat "$TMP/err")" "$($OT list-sessions)"

run_capture 64 "$SIMQ" tmux -L session </dev/null && grep -q "attaching needs a terminal; -d makes the session" "$TMP/err" &&
	ok "with no terminal to attach, it says so (64) rather than leave tmux to fail" ||
	fail "with no terminal to attach, it says so (64) rather than leave tmux to fail" "$(cat "$TMP/err")"
# From a terminal (a pane of the tests' tmux), simq tmux attaches to the session that is there.
$TM new-session -d -s term -x 110 -y 30 "env -u TMUX '$SIMQ' tmux -L session; sleep 60"
poll_for "simq" $OT list-clients -F '#{client_session}' && ok "from a terminal, simq tmux attaches to the session" ||
	fail "from a terminal, simq tmux attaches to the session" "$($OT list-clients)"
expect_screen "the terminal shows the console" "Queue" term

# ---- inside tmux: a window in the current session --------------------------------------------
$OT new-session -d -s work -x 110 -y 30
$OT new-window -t work -n launcher "'$SIMQ' tmux; echo \$? >'$TMP/inside.rc'; sleep 60"
poll_for "simq 3" $OT list-windows -t work -F '#{window_name} #{window_panes}' &&
	ok "inside tmux it opens a window, with the three panes, in the current session" ||
	fail "inside tmux it opens a window, with the three panes, in the current session" "$($OT list-windows -a)"
[ "$(cat "$TMP/inside.rc" 2>/dev/null)" = 0 ] && [ "$($OT list-sessions | wc -l)" -eq 2 ] &&
	! $OT list-sessions -F '#{session_name}' | grep -qv '^simq$\|^work$' &&
	ok "and nests nothing: no new session, exit 0" || fail "and nests nothing: no new session, exit 0" "$($OT list-sessions)"
poll_for "simq " $OT display -p -t work:simq.0 '#{pane_title}' && ok "the console runs in that window" ||
	fail "the console runs in that window" "$($OT capture-pane -p -t work:simq.0)"

# ---- prefix + S (share/tmux/simq.conf): go to the console ---------------------------------------
$OT source-file "$SRC/share/tmux/simq.conf"
client=$($OT list-clients -F '#{client_name}' | head -1)
$OT switch-client -c "$client" -t work:launcher
poll_for "work" $OT list-clients -F '#{client_session}'
console=$($OT display -p -t simq:0.0 '#{pane_id}')
$TM send-keys -t term C-b S
poll_for "simq $console" $OT list-clients -F '#{client_session} #{pane_id}' &&
	ok "prefix + S takes the client from another session to the console's pane" ||
	fail "prefix + S takes the client from another session to the console's pane" \
		"$($OT list-clients -F '#{client_session} #{pane_id}'), console $console"

# ---- [ui] tmux_layout ----------------------------------------------------------------------------
printf '[scheduler]\nstart_paused = true\n[ui]\ntmux_layout = side\n' >"$TMP/side.ini"
"$SIMQ" tmux -L session -d -s side -c "$TMP/side.ini" 2>"$TMP/err"
panes side:0 >"$TMP/panes"
h=$($OT display -p -t side:0 '#{window_height}')
read -r _ pos0 size0 _ <"$TMP/panes"
left1=$(sed -n '2s/^1 \([0-9]*\),.*/\1/p' "$TMP/panes")
left2=$(sed -n '3s/^2 \([0-9]*\),.*/\1/p' "$TMP/panes")
[ "$pos0" = "0,0" ] && [ "${size0#*x}" = "$h" ] && [ "$left1" -gt 0 ] && [ "$left1" = "$left2" ] &&
	grep -q "^0 .* console --home $SIMQ_HOME -c $TMP/side.ini$" "$TMP/panes" &&
	ok "side: the console down the left, the log over the shell on the right; -c is passed on" ||
	fail "side: the console down the left, the log over the shell on the right; -c is passed on" "window height $h" "$(cat "$TMP/panes")"
printf '[scheduler]\nstart_paused = true\n[ui]\ntmux_layout = windows\n' >"$TMP/windows.ini"
"$SIMQ" tmux -L session -d -s windows -c "$TMP/windows.ini" 2>"$TMP/err"
[ "$($OT list-windows -t windows -F '#{window_name}:#{window_panes}' | tr '\n' ' ')" = "simq:1 simq-log:1 simq-shell:1 " ] &&
	[ "$($OT display -p -t windows '#{window_name}')" = simq ] &&
	ok "windows: the console, the log and the shell each in a window, the console's current" ||
	fail "windows: the console, the log and the shell each in a window, the console's current" "$($OT list-windows -t windows)" "$(cat "$TMP/err")"
printf '[ui]\ntmux_layout = tiles\n' >"$TMP/bad.ini"
run_capture 78 "$SIMQ" tmux -L session -d -s bad -c "$TMP/bad.ini" && grep -q "tmux_layout" "$TMP/err" &&
	! $OT has-session -t =bad 2>/dev/null && ok "an unknown layout is a configuration error (78), and nothing is made" ||
	fail "an unknown layout is a configuration error (78), and nothing is made" "$(cat "$TMP/err")"
