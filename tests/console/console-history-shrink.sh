#!/bin/sh
# The console's History pane left on an older page while simq clean shrinks the history (issue 17,
# operator's 6, adversary's F6): it goes back to a page that exists, and shows the tasks that are
# left, never "History 0 (newest 201-200) ... nothing finished yet".  Real tmux, server, plecs-emu.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux python3
plan 5

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)
start_emu --speed 0
cleanup() {
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
}
trap cleanup EXIT
mkdir -p -m 700 "$SIMQ_HOME"
printf '[backend emu]\nurl = %s\nmax_batch = 64\n' "$url" >"$TMP/simq.ini"
"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"
"$SIMQ" sweep "$M/rc.plecs" R=1:250:1 --no-cache >/dev/null 2>"$TMP/err" || fail "250 tasks submitted" "$(cat "$TMP/err")"
"$SIMQ" wait 1-250 --timeout 120 >/dev/null 2>&1
for v in 1 2 3; do "$SIMQ" submit "$M/buck.plecs" -v D=0.$v --no-cache >/dev/null; done
"$SIMQ" wait 251-253 --timeout 60 >/dev/null 2>&1 && ok "253 tasks finished" || fail "253 tasks finished" "$("$SIMQ" ls | tail -3)"

$TM new-session -d -s simq -x 120 -y 34 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' --no-start 2>'$TMP/console.err'; sleep 60"
wait_for "Queue 0" >/dev/null
$TM send-keys -t simq h
expect_screen "h shows the history's first page" "History 200, newest first"
$TM send-keys -t simq G j
expect_screen "past its last row, the older page" "History 53 (newest 201-253)"
"$SIMQ" clean --model rc.plecs --yes >"$TMP/clean" 2>&1 || fail "simq clean --model rc.plecs" "$(cat "$TMP/clean")"
expect_screen "simq clean leaves 3 tasks: the pane goes back to the page that has them" "History 3, newest first"
if grep -q "nothing finished yet\|newest 201-" "$TMP/screen"; then
	fail "and says neither \"nothing finished yet\" nor the page that is gone" "$(cat "$TMP/screen")"
else
	ok "and says neither \"nothing finished yet\" nor the page that is gone"
fi
done_testing
