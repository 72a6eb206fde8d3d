#!/bin/sh
# simq log and simq log -f: the follower prints each new line once, in order;
# a burst of more lines than the server keeps (2,000) is reported as a gap on
# stderr with where the lines are, not skipped in silence.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
plan 6

export SIMQ_HOME="$TMP/state"
paused_config
M=$(cd "$SRC/share/models" && pwd -P)/buck.plecs
cleanup() {
	[ -n "${follower:-}" ] && kill "$follower" 2>/dev/null
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
}
trap cleanup EXIT

"$SIMQ" stats >/dev/null 2>"$TMP/err" || fail "a server starts" "$(cat "$TMP/err")"
"$SIMQ" log -f >"$TMP/out" 2>"$TMP/follow.err" &
follower=$!
until_in "$TMP/out" "server started" -F && ok "log -f prints what the server kept" || fail "log -f prints what the server kept" "$(cat "$TMP/out" "$TMP/follow.err")"

"$SIMQ" submit "$M" --name one >/dev/null
until_in "$TMP/out" "1 submitted normal one" -F && ok "log -f prints a new line as it comes" ||
	fail "log -f prints a new line as it comes" "$(cat "$TMP/out")"

# 2,100 lines at once: the server keeps the last 2,000.
"$SIMQ" sweep "$M" D=1:2100:1 >/dev/null
until_in "$TMP/out" "2101 submitted normal" -F && until_in "$TMP/follow.err" "lines not shown" -F &&
	grep -q "^simq log: 100 lines not shown: more came at once than the server keeps; simulation.log in the state directory has them$" "$TMP/follow.err" &&
	ok "a burst past what the server keeps is reported as a gap of 100 lines on stderr" ||
	fail "a burst past what the server keeps is reported as a gap of 100 lines on stderr" "$(cat "$TMP/follow.err")"
[ "$(grep -c " submitted normal" "$TMP/out")" -eq 2001 ] && [ "$(grep " submitted normal" "$TMP/out" | sort | uniq -d | wc -l)" -eq 0 ] &&
	ok "every line after the gap is printed once" || fail "every line after the gap is printed once" "$(grep -c " submitted normal" "$TMP/out") lines"
[ "$(grep -c " submitted normal" "$SIMQ_HOME/simulation.log")" -eq 2101 ] && ok "simulation.log has all 2,101" ||
	fail "simulation.log has all 2,101" "$(grep -c " submitted normal" "$SIMQ_HOME/simulation.log")"
[ "$("$SIMQ" log | wc -l)" -eq 2000 ] && ok "simq log prints the 2,000 lines the server keeps" ||
	fail "simq log prints the 2,000 lines the server keeps" "$("$SIMQ" log | wc -l) lines"
