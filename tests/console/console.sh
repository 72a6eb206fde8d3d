#!/bin/sh
# The console in a real tmux (fixed TERM, size and TZ) against a real server:
# the queue pane, cancel with its question, reprioritize, marks, the filter,
# details, help, resizing to 80x24, and quitting without stopping the server.
# Every step is checked on screen (capture-pane) and, where it changes
# anything, in the server's state through the CLI.  Last, against a stand-in
# for simq.view, the log pane's colours follow each line's severity.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux python3
plan 52

export SIMQ_HOME="$TMP/state"
paused_config
M=$(cd "$SRC/share/models" && pwd -P)/buck.plecs
cleanup() {
	[ -n "${stuck:-}" ] && kill -CONT "$stuck" 2>/dev/null
	[ -n "${fake:-}" ] && kill "$fake" 2>/dev/null
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
}
trap cleanup EXIT

"$SIMQ" sweep "$M" D=0.1:0.6:0.1 --name sweep-7 -p low >/dev/null 2>"$TMP/err" || fail "the sweep was submitted" "$(cat "$TMP/err")"
"$SIMQ" submit "$M" -v Vin=400 --name design-verify -p critical >/dev/null

state_of() { "$SIMQ" show "$1" --json | sed -n 's/.*"state": "\([a-z]*\)".*/\1/p'; }
priority_of() { "$SIMQ" show "$1" --json | sed -n 's/.*"priority": "\([a-z]*\)".*/\1/p'; }

$TM new-session -d -s simq -x 120 -y 34 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' 2>'$TMP/console.err'; sleep 30"

top=$(echo "$SIMQ_HOME" | cut -d/ -f2)
expect_screen "the status bar names the state dir, shortened, last" "PAUSED · /$top/…/state"
expect_screen "the queue pane counts the queue by priority" "Queue 7 ─ C:1 H:0 N:0 L:6"
screen
first=$(grep -n "design-verify" "$TMP/screen" | head -1 | cut -d: -f1)
sweep=$(grep -n "sweep-7" "$TMP/screen" | head -1 | cut -d: -f1)
[ -n "$first" ] && [ -n "$sweep" ] && [ "$first" -lt "$sweep" ] &&
	ok "the CRITICAL task is first, ahead of the earlier LOW sweep" ||
	fail "the CRITICAL task is first, ahead of the earlier LOW sweep" "$(cat "$TMP/screen")"
grep -q "CRIT" "$TMP/screen" && grep -q "LOW" "$TMP/screen" &&
	ok "rows show their priority" || fail "rows show their priority" "$(cat "$TMP/screen")"
expect_screen "the statistics panel is there" "Statistics · since start"

# Cancel asks first, and No is the default.
$TM send-keys -t simq j c
expect_screen "cancel asks, with No as the default" "Cancel task 1? y/N"
$TM send-keys -t simq n
expect_screen "anything but y cancels nothing" "nothing cancelled"
[ "$(state_of 1)" = queued ] && ok "task 1 is still queued" || fail "task 1 is still queued" "$(state_of 1)"
$TM send-keys -t simq c y
expect_screen "y cancels, and says which task" "cancelled task 1"
[ "$(state_of 1)" = cancelled ] && ok "the server has task 1 cancelled" || fail "the server has task 1 cancelled" "$(state_of 1)"

# Reprioritize the selected row (task 2) with 1 (HIGH), then with + (one more urgent: CRITICAL).
$TM send-keys -t simq g j 1
expect_screen "1 sets HIGH" "task 2 now high"
[ "$(priority_of 2)" = high ] && ok "the server has task 2 at high" || fail "the server has task 2 at high" "$(priority_of 2)"
$TM send-keys -t simq +
expect_screen "+ raises it one level" "task 2 now critical"
[ "$(priority_of 2)" = critical ] && ok "the server has task 2 at critical" || fail "the server has task 2 at critical" "$(priority_of 2)"

# - lowers one level; 0-3 set the level outright.
$TM send-keys -t simq -- -
expect_screen "- lowers it one level" "task 2 now high"
$TM send-keys -t simq 3
expect_screen "3 sets LOW" "task 2 now low"
$TM send-keys -t simq 0
expect_screen "0 sets CRITICAL" "task 2 now critical"
[ "$(priority_of 2)" = critical ] && ok "the server has task 2 back at critical" || fail "the server has task 2 back at critical" "$(priority_of 2)"

# Help and details open over the panes and close with Esc.
$TM send-keys -t simq "?"
expect_screen "? shows the keys from the keymap" "Keys (change them in [keys] of simq.ini)"
expect_screen "at 120x34 each key has its action's name and whole help" "q         quit               Quit the console (the server keeps running)."
$TM send-keys -t simq Escape g Enter
expect_screen "Enter shows the task's details" "model     $M"
$TM send-keys -t simq Escape

# Marks: two rows marked, then one question for both.
$TM send-keys -t simq G Space k k Space
expect_screen "marked rows are counted in the title" "2 marked"
$TM send-keys -t simq c
expect_screen "cancel asks once for the marked rows, naming them" "Cancel 2 tasks: 4, 6? y/N"
$TM send-keys -t simq y
wait_for "cancelled 2 tasks: 4, 6" >/dev/null
n=$("$SIMQ" ls --state cancelled --json | grep -c '"id"')
[ "$n" -eq 3 ] && ok "the server has 3 cancelled tasks" || fail "the server has 3 cancelled tasks" "$("$SIMQ" ls --state cancelled)"

# Marks also take a priority key: both marked rows move at once.
$TM send-keys -t simq g Space Space 2
expect_screen "a priority key applies to every marked row" "2 tasks: 2, 7 now normal"
n=$("$SIMQ" ls --state queued --json | grep -c '"priority": "normal"')
[ "$n" -eq 2 ] && ok "the server has both marked tasks at normal" || fail "the server has both marked tasks at normal" "$("$SIMQ" ls --state queued)"
$TM send-keys -t simq Escape

# The filter shows finished tasks too; Esc-free Enter on an empty line shows the queue again.
$TM send-keys -t simq / "state:cancelled" Enter
expect_screen "the filter lists the cancelled tasks" 'Filter "state:cancelled" 3 matches'
$TM send-keys -t simq Escape
expect_screen "Esc clears the filter: the queue again" "Queue 4 ─"
$TM send-keys -t simq / "name:sweep-*" Enter
expect_screen "name: takes a shell pattern" 'Filter "name:sweep-*" 6 matches'
$TM send-keys -t simq / Escape
expect_screen "Esc on the filter line clears the filter too" "Queue 4 ─"
$TM send-keys -t simq / "state:cancelled" Enter
expect_screen "the filter again, for what follows" 'Filter "state:cancelled" 3 matches'

# Resizing: the layout follows the window.
$TM resize-window -t simq -x 80 -y 24
expect_screen "at 80x24 the statistics fold into a strip" "(0 after retry) · failed 0"
# The help at 80x24: two columns, the longest lines wrapped rather than cut.
$TM send-keys -t simq "?"
expect_screen "at 80x24 the help wraps its longest line instead of cutting it" "server keeps running)."
grep -q "Quit the console (the" "$TMP/screen" && grep -q "last 24 h, all time." "$TMP/screen" &&
	ok "at 80x24 every help line is whole" || fail "at 80x24 every help line is whole" "$(cat "$TMP/screen")"
$TM send-keys -t simq Escape

$TM resize-window -t simq -x 200 -y 60
expect_screen "at 200x60 the statistics take a column again" "│─ Statistics"
# An empty filter line shows the queue again: all four queued rows fit.
$TM send-keys -t simq / Enter
# The header comes from the view the console holds, the rows from the page it asks for then: both, polled.
i=0
until wait_for "Queue 4" && [ "$(grep -c " LOW \| CRIT \| NORM \| HIGH " "$TMP/screen")" -eq 4 ] || [ $i -gt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
rows=$(grep -c " LOW \| CRIT \| NORM \| HIGH " "$TMP/screen")
[ "$rows" -eq 4 ] && ok "at 200x60 every queued row shows" || fail "at 200x60 every queued row shows" "$(cat "$TMP/screen")"

# The server goes away: a banner says so; it comes back: the console carries on.
"$SIMQ" shutdown >/dev/null
expect_screen "a banner says the server is gone" "no simq server answers"
"$SIMQ" stats >/dev/null 2>&1
expect_screen "the console reconnects when it is back" "Queue 4"

# A server that stops answering (stuck on a disk, or stopped by mistake): the screen says so and
# from when its rows are, keys still move, and an action gives up after 5 s.  Then it goes on.
stuck=$(cat "$SIMQ_HOME/simq.pid")
kill -STOP "$stuck"
expect_screen "a stuck server: the banner says it does not answer" "did not answer within 8 s: it is stopped or stuck"
expect_screen "the status bar says first that the rows are as of its last answer" " NO ANSWER as of"
$TM send-keys -t simq g c
expect_screen "cancel still asks while the server is stuck" "? y/N"
id=$(sed -n 's/.*Cancel task \([0-9]*\)? y\/N.*/\1/p' "$TMP/screen" | head -1)
$TM send-keys -t simq y
expect_screen "the cancel gives up after 5 s and says it may still happen" \
	"no answer from the server in 5 s (stopped or stuck?); it may still do the cancel when it answers"
kill -CONT "$stuck"
stuck=
expect_screen "once the server answers again the console carries on" "Queue 3"
[ "$(state_of "$id")" = cancelled ] && ok "the cancel sent while it was stuck took effect (task $id)" ||
	fail "the cancel sent while it was stuck took effect (task $id)" "$(state_of "$id")"

# SIMQ_SCRIPT presses keys and SIMQ_SCREEN_DUMP writes each frame: a second console opens the help.
printf 'j\n?\n' >"$TMP/script"
$TM new-window -t simq -n scripted \
	"env TERM=tmux-256color LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' SIMQ_SCRIPT='$TMP/script' SIMQ_SCREEN_DUMP='$TMP/dump' '$SIMQ'; sleep 30"
i=0
until grep -qF "Keys (change them in [keys] of simq.ini)" "$TMP/dump" 2>/dev/null || [ $i -gt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
grep -qF "Keys (change them in [keys] of simq.ini)" "$TMP/dump" 2>/dev/null &&
	ok "SIMQ_SCRIPT's keys reach the console, and the dump shows the help they opened" ||
	fail "SIMQ_SCRIPT's keys reach the console, and the dump shows the help they opened" "$(cat "$TMP/dump" 2>/dev/null)"
$TM kill-window -t simq:scripted

# q quits the console; the server and its queue stay.
$TM send-keys -t simq q
i=0
while [ "$($TM display -p -t simq '#{pane_current_command}')" != sleep ] && [ $i -lt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
"$SIMQ" stats --no-start >"$TMP/stats" 2>&1 && grep -q "queued *3" "$TMP/stats" &&
	[ "$($TM display -p -t simq '#{pane_current_command}')" = sleep ] &&
	ok "q quits the console; the server still runs with its 3 queued tasks" ||
	fail "q quits the console; the server still runs with its 3 queued tasks" "$(cat "$TMP/stats")"
# With no server at all, the console starts one, as the CLI does.
"$SIMQ" shutdown >/dev/null
$TM new-window -t simq -n fresh \
	"env TERM=tmux-256color LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' 2>>'$TMP/console.err'; sleep 30"
expect_screen "with no server, the console starts one and shows its queue" "Queue 3" simq:fresh
"$SIMQ" stats --no-start >/dev/null 2>&1 && ok "that server keeps running for the CLI" || fail "that server keeps running for the CLI"
[ ! -s "$TMP/console.err" ] && ok "the console wrote nothing to stderr" || fail "the console wrote nothing to stderr" "$(cat "$TMP/console.err")"

# The log pane colours a line by its severity member (none: info), never by its words:
# a stand-in for simq.view on its own socket sends four lines.
mkdir -p "$TMP/fake"
cat >"$TMP/fake.py" <<'EOF'
import socketserver, sys, time
from xmlrpc.server import SimpleXMLRPCDispatcher, SimpleXMLRPCRequestHandler

class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ('/RPC2',)
    disable_nagle_algorithm = False  # a Unix socket

class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer, SimpleXMLRPCDispatcher):
    daemon_threads = True
    logRequests = False
    def __init__(self, path):
        SimpleXMLRPCDispatcher.__init__(self, False, None)
        socketserver.UnixStreamServer.__init__(self, path, Handler)

def line(seq, text, severity=None):
    l = {'seq': seq, 'time': '2026-01-01T00:00:0%d.000Z' % seq, 'task': 0, 'text': text}
    if severity:
        l['severity'] = severity
    return l

lines = [line(1, '45 FAILED critical after 1 attempt', 'error'),
         line(2, 'ws2 DOWN after 3 connection failures', 'warning'),
         line(3, 'hook on_failed: done', 'info'),
         line(4, '46 attempt 1 failed: no severity member')]

def view(req):
    if req.get('version') == 1:  # a long poll: nothing changes
        time.sleep(min(req.get('wait_ms', 0), 5000) / 1000)
    return {'version': 1, 'state_dir': sys.argv[1], 'queue': [], 'queue_total': 0, 'running': [], 'alerts': 0,
            'backends': [], 'paused': False, 'log': [l for l in lines if l['seq'] > req.get('log_since', 0)]}

server = Server(sys.argv[1] + '/simq.sock')
server.register_function(view, 'simq.view')
server.serve_forever()
EOF
python3 "$TMP/fake.py" "$TMP/fake" 2>"$TMP/fake.err" &
fake=$!
i=0
until [ -S "$TMP/fake/simq.sock" ] || [ $i -gt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
$TM new-window -t simq -n fake \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$TMP/fake' '$SIMQ' --no-start 2>>'$TMP/console.err'; sleep 30"
wait_for "no severity member" simq:fake >/dev/null
$TM capture-pane -e -p -t simq:fake >"$TMP/fake-e"
esc=$(printf '\033')
grep -q "$esc\[31m 00:00:01 45 FAILED critical" "$TMP/fake-e" && ok "an error line is red, though its words say FAILED" ||
	fail "an error line is red, though its words say FAILED" "$(cat -v "$TMP/fake-e" | grep 00:00:0)"
grep -q "$esc\[33m 00:00:02 ws2 DOWN" "$TMP/fake-e" && ok "a warning line is yellow" ||
	fail "a warning line is yellow" "$(cat -v "$TMP/fake-e" | grep 00:00:0)"
! grep "00:00:0[34] " "$TMP/fake-e" | grep -q "$esc\[\([0-9;]*;\)\?3[0-7]m\|38;5;" &&
	grep -q "00:00:04 46 attempt 1 failed" "$TMP/fake-e" &&
	ok "an info line and a line without severity are not coloured, whatever their words" ||
	fail "an info line and a line without severity are not coloured, whatever their words" "$(cat -v "$TMP/fake-e" | grep 00:00:0)"
