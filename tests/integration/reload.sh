#!/bin/sh
# PLECS keeps models loaded across a restart of simq's server: a model of the same name from
# another file, loaded before this server started, is closed and the right one loaded, not a
# permanent failure of the whole sweep.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
plan 4

export SIMQ_HOME="$TMP/state"
start_emu --speed 0
trap '"$SIMQ" shutdown --no-start >/dev/null 2>&1; kill $emu_pid 2>/dev/null' EXIT
mkdir -p "$TMP/ma" "$TMP/mb" "$XDG_CONFIG_HOME/simq"
cp "$SRC/share/models/buck.plecs" "$TMP/ma/buck.plecs"
cp "$SRC/share/models/buck.plecs" "$TMP/mb/buck.plecs"
printf '[backend emu]\nurl = %s\n' "$url" >"$XDG_CONFIG_HOME/simq/simq.ini"

a=$("$SIMQ" submit "$TMP/ma/buck.plecs" -v D=0.4)
expect_status "a/buck.plecs completes (PLECS now holds a model named buck)" 0 "$SIMQ" wait "$a" --timeout 30
server_ran_clean
"$SIMQ" sweep "$TMP/mb/buck.plecs" D=0.1:0.6:0.1 >"$TMP/sweep" 2>&1
ids=$(sed -n 's/.*: \([0-9]*\)-\([0-9]*\)$/\1 \2/p' "$TMP/sweep")
expect_status "after a restart, a sweep of b/buck.plecs completes" 0 "$SIMQ" wait $(seq $ids) --timeout 30
"$SIMQ" stats --json >"$TMP/stats"
expect_in "nothing failed" "$TMP/stats" '"failed": 0'
