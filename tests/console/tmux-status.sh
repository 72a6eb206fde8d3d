#!/bin/sh
# simq in tmux's status line, as an operator sees it: a real tmux server with
# share/tmux/simq.conf sourced (status-right #(simq status --tmux)), its
# client attached inside a pane of the tests' own tmux, which serves as the
# terminal whose screen is captured with its colours.  A real simq server runs
# tasks on a real plecs-emu (lab); a second backend's plecs-emu was killed
# (lab2, DOWN).  Failures come from emu.inject.  Checked on the captured status
# line: DOWN and new failures in red, a failure no longer new after
# simq status --seen and after the console was opened, the console marking
# nothing while its window is in the background and marking once it is back;
# and the console's pane title, which changes when a task fails.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux python3
plan 14

export SIMQ_HOME="$TMP/state"
# The status line's tmux runs simq from the build, with this test's environment.
export PATH="$SIMQ_BUILDDIR/src:$PATH" TMUX_TMPDIR="$TMP"
unset TMUX TMUX_PANE
INNER="tmux -L status -f $SRC/share/tmux/simq.conf"
M=$(cd "$SRC/share/models" && pwd -P)/rc.plecs

start_emu
lab_pid=$emu_pid lab_url=$url
# lab2's plecs-emu is killed before the server starts: the server finds it not answering, DOWN.
start_emu
gone_port=$port
kill -KILL "$emu_pid"
wait "$emu_pid" 2>/dev/null
emu_pid=
cleanup() {
	$INNER kill-server >/dev/null 2>&1
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$lab_pid" ${emu_pid:-} 2>/dev/null
}
trap cleanup EXIT

mkdir -p "$XDG_CONFIG_HOME/simq"
cat >"$XDG_CONFIG_HOME/simq/simq.ini" <<EOF
[backend lab]
url = $lab_url
slots = 1
max_batch = 1
[backend lab2]
url = http://127.0.0.1:$gone_port/RPC2
[scheduler]
backoff_base = 200ms
probe_max = 1s
EOF
"$SIMQ" server >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"

# fail_one: the next call on lab fails for good (a solver error), on a task submitted for it.
fail_one() {
	python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject('fault', 1)" "$lab_url"
	id=$("$SIMQ" submit "$M" --name doomed -p normal 2>>"$TMP/err")
	"$SIMQ" wait "$id" --timeout 20 >/dev/null 2>&1
}

# The tmux the operator uses; its status line is checked every second here (the snippet says 5).
$INNER new-session -d -s work -x 100 -y 12
$INNER set -g status-interval 1
# Its client, attached in a pane of the tests' tmux: that pane's screen is what the operator sees.
$TM new-session -d -s term -x 100 -y 12 "env -u TMUX TMUX_TMPDIR='$TMP' $INNER attach -t work"

# colour TEXT: the colour TEXT has on the status line (the screen's last line): red, plain, or absent.
cat >"$TMP/colour.py" <<'EOF'
import re, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l.strip()]
line, fg, cells, i = lines[-1] if lines else "", None, [], 0
while i < len(line):
    m = re.match(r"\x1b\[([0-9;]*)m", line[i:])
    if not m:
        cells.append((line[i], fg))
        i += 1
        continue
    ps = [int(p) if p else 0 for p in m.group(1).split(";")]
    j = 0
    while j < len(ps):
        if ps[j] in (0, 39):
            fg = None
        elif 30 <= ps[j] <= 37 or 90 <= ps[j] <= 97:
            fg = ps[j] % 10 + (8 if ps[j] >= 90 else 0)
        elif ps[j] in (38, 48) and j + 1 < len(ps):
            if ps[j] == 38 and ps[j + 1] == 5 and j + 2 < len(ps):
                fg = ps[j + 2]
            j += 2 if ps[j + 1] == 5 else 4
        j += 1
    i += m.end()
text = "".join(c for c, _ in cells)
at = text.find(sys.argv[2])
if at < 0:
    print("absent")
else:
    colours = {f for _, f in cells[at:at + len(sys.argv[2])]}
    print("red" if colours <= {1, 9} else "plain" if not colours & {1, 9} else "mixed")
EOF
colour() {
	$TM capture-pane -e -p -t term >"$TMP/status-line" 2>/dev/null
	python3 "$TMP/colour.py" "$TMP/status-line" "$1"
}
# until_colour TEXT COLOUR: polls the status line (up to 15 s) until TEXT has COLOUR; true when it did.
until_colour() {
	i=0
	while [ "$(colour "$1")" != "$2" ] && [ $i -lt 300 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	[ "$(colour "$1")" = "$2" ]
}
expect_colour() {
	if until_colour "$2" "$3"; then ok "$1"; else fail "$1" "expected \"$2\" $3 on the status line:" "$(cat -v "$TMP/status-line" | tail -2)"; fi
}
# title_has TEXT: polls the console's pane title until it holds TEXT (up to 15 s).
title_has() {
	i=0
	while ! $INNER display -p -t work:console '#{pane_title}' 2>/dev/null | grep -qF -- "$1" && [ $i -lt 300 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	$INNER display -p -t work:console '#{pane_title}' 2>/dev/null | grep -qF -- "$1"
}

expect_colour "the status line shows the DOWN backend, in red" "lab2 DOWN" red
expect_colour "with no failure, the failed count is not red" "0✗" plain

fail_one
expect_colour "a failure: the count shows it, red while nobody has seen it" "1✗" red
colour "lab2 DOWN" | grep -qx red && ok "the DOWN backend stays red beside it" ||
	fail "the DOWN backend stays red beside it" "$(cat -v "$TMP/status-line" | tail -1)"

"$SIMQ" status --seen >"$TMP/out"
expect_colour "after simq status --seen the failure is no longer new: not red" "1✗" plain

fail_one
expect_colour "a second failure is red again" "2✗" red

# The operator opens the console (new-window makes it the window on screen).
$INNER new-window -t work -n console "env TERM=screen LANG=C.UTF-8 '$SIMQ' 2>'$TMP/console.err'; sleep 60"
title_has "2✗" && ok "the console names its pane with the summary (#{pane_title})" ||
	fail "the console names its pane with the summary (#{pane_title})" "$($INNER display -p -t work:console '#{pane_title}')"
expect_colour "after the console was opened the failure is no longer new: not red" "2✗" plain

# The operator goes to another window: the console, out of sight, marks nothing seen.
$INNER select-window -t work:0
fail_one
title_has "3✗" && ok "the console's pane title changes when a task fails" ||
	fail "the console's pane title changes when a task fails" "$($INNER display -p -t work:console '#{pane_title}')"
"$SIMQ" status --json >"$TMP/json"
grep -q '"failures": 3' "$TMP/json" && grep -q '"failures_seen": 2' "$TMP/json" &&
	ok "a console in a window out of sight has not marked the new failure seen" ||
	fail "a console in a window out of sight has not marked the new failure seen" "$(cat "$TMP/json")"
expect_colour "so the status line shows it red" "3✗" red

# Back to the console's window: the focus comes back, and with it the failure is seen.
$INNER select-window -t work:console
expect_colour "once the console's pane has the focus again, the failure is not red" "3✗" plain

# lab2's plecs-emu back on its port: lab2 is UP and drops out of the status line.
EMU_PORT=$gone_port start_emu
expect_colour "a backend back UP leaves the status line" "DOWN" absent
[ ! -s "$TMP/console.err" ] && ok "the console wrote nothing to stderr" || fail "the console wrote nothing to stderr" "$(cat "$TMP/console.err")"
