#!/bin/sh
# Large answers are decoded while PLECS runs the next call (issue 16, src/plecs/feed.c), through a
# real server and a real plecs-emu: batches of 16 rc cases (answers of 1.6 MB) complete with their
# numbers exact, the next batch starts before the last one's tasks complete, an answer broken at
# its end fails its batch's attempt (a retry, as any garbled answer) and the retry completes, an
# HTTP error is told with PLECS's reason, and a server stopped mid-sweep loses no task.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 8
trap stop_all EXIT
emu_up --speed 0 --cores 1

serve overlap <<EOF
[backend emu]
url = $url
max_batch = 16
[scheduler]
start_paused = true
backoff_base = 200ms
EOF
"$SIMQ" sweep "$M" Vin=1:64:1 --no-cache >/dev/null
"$SIMQ" resume >/dev/null
"$SIMQ" wait 1-64 --timeout 120 >"$TMP/wait" 2>&1 && ok "64 tasks of 1,001-point answers, in batches of 16, complete" ||
	fail "64 tasks of 1,001-point answers, in batches of 16, complete" "$(tail -5 "$TMP/wait")"

# The log says when each batch started and when each task completed: a batch whose successor started
# before its own tasks completed was decoded while PLECS ran the next one.  Four batches, three
# chances; the decoding of 1.6 MB takes some 15 ms against well under 1 ms to start the next call.
pycheck "the next batch starts before the last one's tasks complete" "$SIMQ_HOME/simulation.log" <<'PY'
import re
batch_of, first_start, completed = {}, {}, {}
for n, line in enumerate(open(sys.argv[1])):
    m = re.search(r"Z (\d+) attempt 1 started on emu in batch (\d+)", line)
    if m:
        batch_of[int(m[1])] = int(m[2])
        first_start.setdefault(int(m[2]), n)
    m = re.search(r"Z (\d+) completed", line)
    if m:
        completed[int(m[1])] = n
batches = sorted(first_start)
assert len(batches) == 4, batches
last_done = {b: max(completed[t] for t, bb in batch_of.items() if bb == b) for b in batches}
overlaps = [b for b, nxt in zip(batches, batches[1:]) if first_start[nxt] < last_done[b]]
assert overlaps, ("no batch overlapped its successor", first_start, last_done)
PY

# The numbers decoded on the feed's thread are PLECS's own, bit for bit: case Vin = 7 asked of
# plecs-emu directly, against simq result 7 --csv (written with 17 digits, read back exactly).
"$SIMQ" result 7 --csv >"$TMP/r7.csv" 2>"$TMP/r7.err"
pycheck "a result decoded while the next call ran equals PLECS's answer bit for bit" "$url" "$M" "$TMP/r7.csv" <<'PY'
plecs = emu(sys.argv[1]).plecs
name = os.path.splitext(os.path.basename(sys.argv[2]))[0]
try:
    plecs.load(sys.argv[2])
except xmlrpc.client.Fault:
    pass  # simq loaded it
r = plecs.simulate(name, {"ModelVars": {"Vin": 7}})
rows = [l.split(",") for l in open(sys.argv[3]).read().splitlines()[1:]]
assert len(rows) == len(r["Time"]) == 1001, (len(rows), len(r["Time"]))
for i, row in enumerate(rows):
    assert float(row[0]) == r["Time"][i], (i, row[0], r["Time"][i])
    assert float(row[1]) == r["Values"][0][i], (i, row[1], r["Values"][0][i])
PY

# An answer that arrives whole and breaks only at its end: refused after the worker handed it on,
# so its batch's attempt fails as a garbled answer does, and the retry completes.
"$SIMQ" pause >/dev/null
"$SIMQ" sweep "$M" Vin=101:116:1 --no-cache >/dev/null
inject malformed 1
"$SIMQ" resume >/dev/null
"$SIMQ" wait 65-80 --timeout 120 >"$TMP/wait" 2>&1 && ok "after an answer broken at its end, every task completes" ||
	fail "after an answer broken at its end, every task completes" "$(tail -5 "$TMP/wait")" "$(tail -20 "$SIMQ_HOME/simulation.log")"
pycheck "each of its tasks spent one attempt on it, told why" <<'PY'
for i in range(65, 81):
    a = show(i)["attempt_list"]
    assert len(a) == 2, (i, a)
    assert [x["outcome"] for x in a] == ["transient", "ok"], (i, a)
    assert "PLECS's answer is not XML-RPC" in a[0]["error"], (i, a[0])
PY

# An HTTP error says PLECS's reason (its body's start, shown safely), not only its status.
"$SIMQ" pause >/dev/null
"$SIMQ" submit "$M" -v Vin=999 --no-cache >/dev/null
inject http500 1
"$SIMQ" resume >/dev/null
"$SIMQ" wait 81 --timeout 60 >/dev/null 2>&1
pycheck "an HTTP error's message carries the start of its body" <<'PY'
a = show(81)["attempt_list"]
assert a[0]["error"] == "PLECS answered HTTP 500: Internal Server Error", a
assert a[-1]["outcome"] == "ok", a
PY

# Stopped while batches run and decode: every task is completed or back in the queue, none lost
# or failed; the next server finishes them.
"$SIMQ" sweep "$M" Vin=201:296:1 --no-cache >/dev/null
until_in "$SIMQ_HOME/simulation.log" "Z 101 completed"
"$SIMQ" shutdown >/dev/null 2>&1
"$SIMQ" server -c "$TMP/overlap.ini" >/dev/null 2>"$TMP/err" || fail "the server starts again" "$(cat "$TMP/err")"
"$SIMQ" resume >/dev/null
"$SIMQ" wait 82-177 --timeout 120 >"$TMP/wait" 2>&1 && ok "a server stopped mid-sweep (calls running, answers decoding) loses no task: the next completes them" ||
	fail "a server stopped mid-sweep (calls running, answers decoding) loses no task: the next completes them" "$(tail -5 "$TMP/wait")"
server_ran_clean
done_testing
