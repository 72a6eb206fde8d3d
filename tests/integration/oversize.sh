#!/bin/sh
# Answers too large to read (DESIGN 6, issue 13): a batch whose answer passes [backend] max_response
# is split and later batches of the model are sized to fit, the backend stays UP; one case whose own
# answer is too large fails at once, naming the limit.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
plan 9

export SIMQ_HOME="$TMP/state"
M=$SRC/share/models/buck.plecs
start_emu --speed 0 --cores 4
trap '"$SIMQ" shutdown --no-start >/dev/null 2>&1; kill $emu_pid 2>/dev/null' EXIT
mkdir -p "$XDG_CONFIG_HOME/simq"
cat >"$XDG_CONFIG_HOME/simq/simq.ini" <<INI
[scheduler]
start_paused = true
down_after = 1
[backend emu]
url = $url
max_batch = 8
max_response = 1M
INI

# 2,000 points a case: some 300 kB of XML each, so 8 of them (2.4 MB) do not fit in 1M; 2 do.
"$SIMQ" sweep "$M" D=0.1:0.8:0.1 --solver TimeSpan=0.002 --solver MaxStep=1e-6 >/dev/null 2>&1
"$SIMQ" resume >/dev/null
expect_status "every case whose own answer fits completes" 0 "$SIMQ" wait 1 2 3 4 5 6 7 8 --timeout 60
"$SIMQ" stats --json >"$TMP/stats"
expect_in "no task failed" "$TMP/stats" '"failed": 0'
expect_in "no retry was spent" "$TMP/stats" '"retries": 0'
if grep -q "DOWN" "$SIMQ_HOME/simulation.log"; then
	fail "the backend was never DOWN (it answered every time)" "$(grep DOWN "$SIMQ_HOME/simulation.log")"
else
	ok "the backend was never DOWN (it answered every time)"
fi
# Batch sizes from the attempts: the first call held 8, the last ones at most 2.
sizes=$(python3 - "$SIMQ_HOME/simq.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT batch_id, COUNT(*) FROM attempts GROUP BY batch_id ORDER BY batch_id").fetchall()
print(" ".join(str(n) for _, n in rows))
PY
)
first=${sizes%% *}
last=${sizes##* }
[ "$first" = 8 ] && [ "$last" -le 2 ] && ok "later batches are smaller ($sizes)" ||
	fail "later batches are smaller" "batch sizes in order: $sizes"
expect_in "the split is logged with the limit" "$SIMQ_HOME/simulation.log" "larger than [backend emu] max_response = 1M"

# 20,000 points: some 3 MB for one case, more than the limit can ever hold.
id=$("$SIMQ" submit "$M" --solver TimeSpan=0.02 --solver MaxStep=1e-6)
"$SIMQ" wait "$id" --timeout 60 >/dev/null 2>&1
"$SIMQ" show "$id" >"$TMP/show"
if grep -q "state *failed" "$TMP/show" && grep -q "attempts *1 that PLECS ran$" "$TMP/show"; then
	ok "one case too large fails after one attempt"
else
	fail "one case too large fails after one attempt" "$(cat "$TMP/show")"
fi
expect_in "its error names the limit and the option" "$TMP/show" "max_response = 1M"
server_ran_clean
done_testing
