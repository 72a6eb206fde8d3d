#!/bin/sh
# Cached tasks at a glance in the console (issue 17): a task completed from the result cache says
# whose result it reused in its History row and its details, and the Statistics pane gives the
# cache's completions their own rate, apart from PLECS's throughput.  A real server, plecs-emu and
# tmux; every wait polls the screen.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux
plan 4

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
printf '[backend emu]\nurl = %s\n' "$url" >"$TMP/simq.ini"
"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"
"$SIMQ" submit "$M/rc.plecs" -v Vin=11 >/dev/null && "$SIMQ" wait 1 --timeout 30 >/dev/null
"$SIMQ" submit "$M/rc.plecs" -v Vin=11 >/dev/null && "$SIMQ" wait 2 --timeout 30 >/dev/null
[ "$("$SIMQ" show 2 --json | python3 -c "import json, sys; print(json.load(sys.stdin)['cached'])")" = True ] &&
	ok "task 2 completed from task 1's result" || fail "task 2 completed from task 1's result" "$("$SIMQ" show 2)"

$TM new-session -d -s simq -x 120 -y 34 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' --no-start 2>'$TMP/console.err'; sleep 60"
expect_screen "Statistics: the cache's completions with their own rate" "1 from the cache, "
$TM send-keys -t simq h
expect_screen "History: the cached task's row says whose result it reused" "rc.plecs  cached from 1"
$TM send-keys -t simq Enter
expect_screen "Enter: the details say it was cached, from which task" "cached    yes: result reused from task 1, no PLECS call"
$TM send-keys -t simq Escape q
done_testing
