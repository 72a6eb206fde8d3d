#!/bin/sh
# The console under valgrind (memcheck) in a real tmux against a paused server:
# every pane and mode is used (queue, running, log, history, backends, help,
# details, the filter, the submit form, a cancel question, marks, a resize to
# 80x24), then q.  valgrind must report no error and nothing definitely or
# indirectly lost.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux valgrind
# valgrind cannot run a binary built with AddressSanitizer (CI's build); there ASan itself checks
# the console's memory in every console test, so this one has nothing to add.
if nm "$SIMQ" 2>/dev/null | grep -q __asan_init; then
	echo "1..0 # SKIP an ASan build: valgrind cannot run it, and ASan checks the console's memory in every console test"
	exit 0
fi
plan 5

export SIMQ_HOME="$TMP/state"
paused_config
M=$(cd "$SRC/share/models" && pwd -P)/buck.plecs
cleanup() {
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
}
trap cleanup EXIT
"$SIMQ" sweep "$M" D=0.1:0.6:0.1 --name sweep -p low >/dev/null 2>"$TMP/err" || fail "submitted" "$(cat "$TMP/err")"
"$SIMQ" cancel 6 >/dev/null

$TM new-session -d -s simq -x 120 -y 34 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --log-file='$TMP/valgrind.log' '$SIMQ' --no-start; echo exited >'$TMP/exited'; sleep 60"
# Valgrind is slow to start: up to 60 s.
i=0
until wait_for "Queue 5" || [ $i -ge 4 ]; do i=$((i + 1)); done
screen
grep -q "Queue 5" "$TMP/screen" && ok "the console runs under valgrind" || fail "the console runs under valgrind" "$(cat "$TMP/screen")"
# keys KEY... then TEXT: sends the keys and polls until TEXT shows.
keys() {
	local want
	for k in "$@"; do
		[ "$k" = "--" ] && break
		$TM send-keys -t simq "$k"
		shift
	done
	shift
	want=$1
	wait_for "$want" || { missed="$missed \"$want\""; sed 's/^/# /' "$TMP/screen" >&2; }
}
missed=
keys j Space Space -- "2 marked"
keys c -- "? y/N"
keys n -- "nothing cancelled"
keys Escape 1 -- "now high"
keys Enter -- "model     $M"
keys Escape "?" -- "Keys (change them"
keys Escape / "state:cancelled" Enter -- 'Filter "state:cancelled" 1 match'
keys Escape h -- "History 1"
keys o -- "by priority"
keys Enter -- "Details"
keys Escape h b -- "Backends 1"
keys b Tab Tab -- "Log · following"
keys Enter -- "Log, whole lines"
keys Escape s -- "Submit"
keys "$M" Tab Tab "D=0.1,0.2" -- "2 tasks to submit"
keys Escape -- "Queue 5"
$TM resize-window -t simq -x 80 -y 24
keys Tab g c -- "? y/N"
keys y -- "cancelled task"
keys A -- "marked 4 tasks"
[ -z "$missed" ] && ok "every step showed what it should" || fail "every step showed what it should" "missed:$missed"
$TM send-keys -t simq q
i=0
until [ -f "$TMP/exited" ] || [ $i -gt 600 ]; do
	i=$((i + 1))
	sleep 0.05
done
[ -f "$TMP/exited" ] && ok "q quits" || fail "q quits" "$(cat "$TMP/valgrind.log")"
grep -q "ERROR SUMMARY: 0 errors" "$TMP/valgrind.log" && ok "valgrind: no memory error" ||
	fail "valgrind: no memory error" "$(cat "$TMP/valgrind.log")"
grep -q "definitely lost: 0 bytes" "$TMP/valgrind.log" && grep -q "indirectly lost: 0 bytes" "$TMP/valgrind.log" ||
	grep -q "All heap blocks were freed" "$TMP/valgrind.log" &&
	ok "valgrind: nothing lost" || fail "valgrind: nothing lost" "$(cat "$TMP/valgrind.log")"
