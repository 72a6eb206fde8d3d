#!/bin/sh
# A queued task keeps only its place in the queue in the server's memory; its record stays in the
# task database until dispatch reads its batch (DESIGN 3, 7).  What PLECS receives must still be
# what was submitted: a real server sends a paused queue to a real plecs-emu, whose emu.calls shows
# each case's optStruct as it arrived, for tasks queued before a restart too; and the views
# (simq ls, simq.view's queue page) show queued rows as they were submitted.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 5
trap stop_all EXIT

# What each case's optStruct must be for its K.  The numbers are halves, which XML-RPC carries
# exactly: xmlrpc-c writes most other decimals (1e-6, 0.03125) a few units off in the last digit.
PY_EXPECT='
def expected(i, k):
    return {"ModelVars": {"Vin": k + 0.5, "R": 1000.0 + k, "C": float(k)},
            "SolverOpts": {"TimeSpan": k / 2, "Refine": 2.0, "Timeout": 30.0},
            "Name": "task %d" % i}
def sent():
    out = {}
    for c in emu(url).emu.calls():
        if c["method"] == "plecs.simulate":
            for o in c["opts"]:
                i = int(o["Name"].split()[1])
                assert i not in out, ("sent twice", i)
                out[i] = {k: v for k, v in o.items() if k != "OutputFormat"}
    return out
'

# submit_group FROM TO: a task for each K in FROM..TO with its own ModelVars and SolverOpts; prints their ids.
submit_group() {
	for k in $(seq "$1" "$2"); do
		"$SIMQ" submit "$M" -v Vin="$k.5" -v R=$((1000 + k)) -v C="$k" --solver TimeSpan="$(python3 -c "print($k / 2)")" \
			--solver Refine=2 --timeout 30 --name "case-$k" --tag night --tag "k$k" || return 1
	done
}

emu_up --speed 0
serve records <<EOF
[backend emu]
url = $url
max_batch = 4
[scheduler]
start_paused = true
EOF
first=$(submit_group 1 6 | tr '\n' ' ')

pycheck "simq ls and simq.view show the queued tasks as submitted, read from the store" "$first" <<'PY'
ids = [int(x) for x in sys.argv[1].split()]
listed = cli("ls", "--state", "queued")
rows = listed if isinstance(listed, list) else listed["tasks"]
assert [t["id"] for t in rows] == ids, rows
for k, t in enumerate(rows, 1):
    assert t["name"] == "case-%d" % k and t["tags"] == ["night", "k%d" % k], t
    assert t["vars"] == {"Vin": k + 0.5, "R": 1000 + k, "C": k}, t["vars"]
page = api().simq.view({"queue_offset": 2, "queue_limit": 3})["queue"]
assert [(r["id"], r["position"], r["vars"]["Vin"]) for r in page] == [(ids[2], 2, 3.5), (ids[3], 3, 4.5), (ids[4], 4, 5.5)], page
PY

"$SIMQ" resume >/dev/null
"$SIMQ" wait $first --timeout 60 >/dev/null
pycheck "plecs-emu received each case's ModelVars, SolverOpts and Timeout exactly as submitted" "$first" "$url" <<PY
$PY_EXPECT
ids = [int(x) for x in sys.argv[1].split()]
url = sys.argv[2]
got = sent()
assert sorted(got) == ids, (sorted(got), ids)
for k, i in enumerate(ids, 1):
    assert got[i] == expected(i, k), (i, got[i], expected(i, k))
assert [c["cases"] for c in emu(url).emu.calls() if c["method"] == "plecs.simulate"] == [4, 2]
PY

# Tasks queued when the server stops: the next server reads them from the store alone.
"$SIMQ" pause >/dev/null
second=$(submit_group 7 9 | tr '\n' ' ')
"$SIMQ" shutdown >/dev/null
"$SIMQ" server -c "$TMP/records.ini" >/dev/null 2>"$TMP/err" || fail "the server starts again" "$(cat "$TMP/err")"
pycheck "after a restart the queued tasks are listed as submitted" "$second" <<'PY'
ids = [int(x) for x in sys.argv[1].split()]
listed = cli("ls", "--state", "queued")
rows = listed if isinstance(listed, list) else listed["tasks"]
assert [(t["id"], t["vars"]["Vin"], t["name"]) for t in rows] == [(i, k + 0.5, "case-%d" % k) for k, i in zip((7, 8, 9), ids)], rows
PY
"$SIMQ" resume >/dev/null
"$SIMQ" wait $second --timeout 60 >/dev/null
pycheck "after a restart plecs-emu receives them exactly as submitted" "$second" "$url" <<PY
$PY_EXPECT
ids = [int(x) for x in sys.argv[1].split()]
url = sys.argv[2]
got = sent()
for k, i in zip((7, 8, 9), ids):
    assert got[i] == expected(i, k), (i, got[i], expected(i, k))
PY
pycheck "every task completed, none retried" "$first $second" <<'PY'
ids = sorted(int(x) for x in sys.argv[1].split())
assert by_state(tasks())["completed"] == ids, by_state(tasks())
assert stats()["retries"] == 0, stats()
PY
