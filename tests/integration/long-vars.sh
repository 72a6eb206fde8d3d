#!/bin/sh
# Tasks whose vars carry long vectors (a waveform table of 50,000 points): a page of simq.list ends
# before the task that would take it past 8 MiB of vars, instead of growing past what the server or
# a client can write or read (it was HTTP 500 "Memory block too large"); paging on from where a page
# ended gives every task once and whole; rows (brief: simq.list with brief, simq.view's queue and
# history, the CLI's table) carry a long vector as its size.  Real server, Python's xmlrpc.client,
# the CLI.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 8
trap stop_all EXIT

# The CLI reads this config too: a page of 400,000 numbers takes its xmlrpc-c a while under the sanitizers.
serve long <<EOF2
[scheduler]
start_paused = true
[server]
client_timeout = 600
EOF2
MODEL=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
WANT='
import random
def vectors():
    random.seed(7)
    return [[random.random() for _ in range(50000)] for _ in range(12)]
'

pycheck "12 tasks of 50,000 numbers and a short one are accepted" "$MODEL" <<PY
$WANT
s, v = api().simq, vectors()
ids = []
for k in range(3):
    ids += s.submit_many([{"model": sys.argv[1], "vars": {"V": v[4 * k + i], "k": 4 * k + i}} for i in range(4)])
ids.append(s.submit({"model": sys.argv[1], "vars": {"R": 1.5, "W": [1, 2, 3]}}))
assert ids == list(range(1, 14)), ids
PY

pycheck "a page of whole records ends before 8 MiB of vars; paging on gives each task once, whole" <<PY
$WANT
s, v = api().simq, vectors()
for f in ({}, {"state": "queued"}):
    seen, offset, pages = [], 0, 0
    while offset < 13:
        r = s.list(f, offset, 100)
        n, pages = len(r["tasks"]), pages + 1
        assert r["total"] == 13 and r["offset"] == offset and n > 0, (f, r["total"], r["offset"], n)
        size = sum(len(json.dumps(t["vars"], separators=(",", ":"))) + 2 for t in r["tasks"])
        assert size <= 8 * 1024 * 1024, (f, offset, n, size)
        seen += r["tasks"]
        offset += n
    assert pages >= 2, (f, pages)
    assert [t["id"] for t in seen] == list(range(1, 14)), (f, [t["id"] for t in seen])
    for t in seen[:12]:
        assert t["vars"]["V"] == v[t["vars"]["k"]], (f, t["id"])
    assert seen[12]["vars"] == {"R": 1.5, "W": [1, 2, 3]}, seen[12]["vars"]
PY

pycheck "brief records and the console's queue rows carry a long vector as its size" <<'PY'
s = api().simq
r = s.list({"brief": True}, 0, 100)
assert r["total"] == 13 and len(r["tasks"]) == 13, (r["total"], len(r["tasks"]))
rows = s.view({"queue_limit": 50})["queue"]
assert len(rows) == 13, len(rows)
for got in (r["tasks"], rows):
    assert [t["vars"] for t in got[:12]] == [{"V": "[50000 numbers]", "k": k} for k in range(12)], got[0]["vars"]
    assert got[12]["vars"] == {"R": 1.5, "W": [1, 2, 3]}, got[12]["vars"]
try:
    s.list({"brief": "yes"})
    raise SystemExit("brief: \"yes\" was taken")
except xmlrpc.client.Fault as f:
    assert f.faultCode == 1 and "filter.brief" in f.faultString and "a boolean" in f.faultString, f.faultString
PY

pycheck "brief rows cut long strings to their first 48 bytes or so and ..., whole characters; records keep them whole" \
	"$MODEL" <<'PY'
s = api().simq
text = ("&\u00e9<" * 1000)[:3000]  # 4,000 bytes of UTF-8, 11,000 as XML: 256 of them a task
big = {"s%03d" % i: text for i in range(256)}
ids = s.submit_many([dict(model=sys.argv[1], vars=big, name="strings")] * 3)
rows = [r for r in s.view({"queue_limit": 50})["queue"] if r["id"] in ids]
assert len(rows) == 3, len(rows)
for r in rows:
    for k, v in r["vars"].items():
        assert v.endswith("\u2026") and big[k].startswith(v[:-1]) and 40 <= len(v[:-1].encode()) <= 54, (k, v)
listed = s.list({"brief": True, "name": "strings"}, 0, 10)["tasks"]
assert [t["vars"] for t in listed] == [r["vars"] for r in rows]
assert s.get(ids[0])["vars"] == big
s.cancel(ids)
PY

"$SIMQ" show 1 >"$TMP/show" 2>&1
grep -qxF 'vars       {"V":"[50000 numbers]","k":0}' "$TMP/show" &&
	grep -qxF '           (long values shortened: simq show --json 1 has them whole)' "$TMP/show" &&
	ok "simq show gives a long vector's size and says where every number is" ||
	fail "simq show gives a long vector's size and says where every number is" "$(head -c 2000 "$TMP/show")"

"$SIMQ" ls >"$TMP/ls" 2>"$TMP/ls.err"
rows=$(grep -c ' queued ' "$TMP/ls")
[ "$rows" = 13 ] && ok "simq ls lists all 13 in its table" || fail "simq ls lists all 13 in its table" "$rows rows: $(cat "$TMP/ls.err")"

pycheck "simq ls --json pages on to its --limit from its --offset" "$TMP/long.ini" <<PY
$WANT
v = vectors()
got = cli("ls", "-c", sys.argv[1], "--offset", "2", "--limit", "10")
assert [t["id"] for t in got] == list(range(3, 13)), [t["id"] for t in got]
assert all(t["vars"]["V"] == v[t["vars"]["k"]] for t in got)
PY

"$SIMQ" cancel --state queued >"$TMP/cancel" 2>&1
pycheck "simq cancel --state queued takes all 13; the history's rows carry a long vector as its size" "$TMP/cancel" <<'PY'
said = open(sys.argv[1]).read()
assert said.startswith("cancelled 13 tasks: 1-13"), said
s = api().simq
rows = s.view({"queue_limit": 0, "history": 50})["history"]
rows = [t for t in rows if t["id"] <= 13]
assert sorted(t["id"] for t in rows) == list(range(1, 14)), [t["id"] for t in rows]
for t in rows:
    assert t["state"] == "cancelled", t["state"]
    assert t["vars"] in ({"V": "[50000 numbers]", "k": t["id"] - 1}, {"R": 1.5, "W": [1, 2, 3]}), t["vars"]
PY
done_testing
