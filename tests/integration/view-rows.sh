#!/bin/sh
# simq.view's queue and history rows, written as XML by the server (server/view-rows.c) and read by
# the client with expat (proto/xmlin.c): the rows carry what they carried as xmlrpc-c values, text
# that needs escaping survives, and rows a console holds are left out when it sends back their
# hash (queue_since, history_since) -- and sent again the moment anything on them changes.  Real
# server, real plecs-emu, Python's xmlrpc.client as a third-party client, and the CLI's reader.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 7
trap stop_all EXIT

emu_up --speed 0
serve rows <<EOF2
[backend emu]
url = $url
max_batch = 4
[scheduler]
start_paused = true
EOF2
ids=
for k in 1 2 3; do
	id=$("$SIMQ" submit "$M" -v R="$k" -v C=0.42 --name "a<b>&\"c\" \$k é$k" --tag night --tag "k$k" --no-cache) ||
		fail "submit $k"
	ids="$ids $id"
done

pycheck "queue rows carry every member with its type, names and tags exactly as submitted" <<'PY'
v = api().simq.view({"queue_limit": 50})
rows = v["queue"]
assert len(rows) == 3, rows
for k, r in enumerate(rows, 1):
    assert set(r) == {"id", "name", "model", "priority", "state", "attempts", "submitted", "retry_due", "error",
                      "vars", "tags", "position"}, sorted(r)
    assert r["name"] == 'a<b>&"c" $k \u00e9%d' % k, r["name"]
    assert r["tags"] == ["night", "k%d" % k] and r["vars"] == {"R": k, "C": 0.42}, r
    assert r["position"] == k - 1 and r["state"] == "queued" and r["priority"] == "normal", r
    assert r["attempts"] == 0 and r["error"] == "" and r["retry_due"] == "" and r["submitted"].endswith("Z"), r
assert isinstance(v["queue_hash"], str) and len(v["queue_hash"]) == 16, v["queue_hash"]
PY

pycheck "rows the console holds are left out; a change to them sends them again under a new hash" <<'PY'
s = api()
v = s.simq.view({"queue_limit": 50})
h = v["queue_hash"]
again = s.simq.view({"queue_limit": 50, "queue_since": h})
assert "queue" not in again and again["queue_hash"] == h, again.get("queue")
assert again["queue_total"] == 3
# Another page is other rows: sent, under its own hash.
other = s.simq.view({"queue_offset": 1, "queue_limit": 50, "queue_since": h})
assert [r["position"] for r in other["queue"]] == [1, 2] and other["queue_hash"] != h, other
# A priority changed on a row: the page changes.
s.simq.reprioritize([v["queue"][2]["id"]], "high")
moved = s.simq.view({"queue_limit": 50, "queue_since": h})
assert moved["queue_hash"] != h and moved["queue"][0]["id"] == v["queue"][2]["id"], moved
assert moved["queue"][0]["priority"] == "high", moved["queue"][0]
h2 = moved["queue_hash"]
# A cancel takes a row away.
s.simq.cancel([v["queue"][0]["id"]])
gone = s.simq.view({"queue_limit": 50, "queue_since": h2})
assert gone["queue_hash"] != h2 and len(gone["queue"]) == 2, gone
PY

"$SIMQ" resume >/dev/null
# shellcheck disable=SC2086
"$SIMQ" wait $ids --timeout 60 >/dev/null
pycheck "history rows: the same members and when each finished; held ones are left out until another task finishes" <<'PY'
s = api()
v = s.simq.view({"queue_limit": 0, "history": 200})
rows = v["history"]
assert sorted(r["state"] for r in rows) == ["cancelled", "completed", "completed"], rows
assert all(r["vars"]["C"] == 0.42 for r in rows), rows
for r in rows:
    assert set(r) == {"id", "name", "model", "priority", "state", "attempts", "submitted", "retry_due", "error",
                      "vars", "tags", "finished", "archived"}, sorted(r)
    assert r["finished"].endswith("Z") and r["archived"] is False, r
h = v["history_hash"]
held = s.simq.view({"queue_limit": 0, "history": 200, "history_since": h})
assert "history" not in held and held["history_hash"] == h, held
open(os.environ["SIMQ_TEST_TMP"] + "/history_hash", "w").write(h)
PY
id=$("$SIMQ" submit "$M" -v R=9 --no-cache) && "$SIMQ" wait "$id" --timeout 60 >/dev/null
pycheck "a task that finished since: the history is sent again, to a console that held the old one" "$(cat "$TMP/history_hash")" <<'PY'
s = api()
v = s.simq.view({"queue_limit": 0, "history": 200, "history_since": sys.argv[1]})
assert len(v["history"]) == 4 and v["history_hash"] != sys.argv[1], v.get("history")
PY

pycheck "system.multicall gets the rows inside its answers" <<'PY'
import xmlrpc.client
s = api()
one = s.simq.view({"queue_limit": 50, "history": 200})
m = xmlrpc.client.MultiCall(s)
m.simq.view({"queue_limit": 50, "history": 200})
m.simq.view({"queue_limit": 50, "history": 200, "history_since": one["history_hash"]})
a, b = tuple(m())
assert a["history"] == one["history"] and a["history_hash"] == one["history_hash"], (a["history"], one["history"])
assert all(r["vars"]["C"] == 0.42 for r in a["history"] if "C" in r["vars"]), a["history"]
assert "history" not in b, b
PY

pycheck "a since that is not a hash simq gave is refused, naming it and what is allowed" <<'PY'
for req, name in (({"queue_since": "x" * 40}, "queue_since"), ({"history_since": 7}, "history_since")):
    try:
        api().simq.view(req)
        raise SystemExit("accepted: %r" % req)
    except xmlrpc.client.Fault as f:
        m = f.faultString
        assert f.faultCode == 1 and "request." + name in m and "not a hash simq gave" in m and "queue_hash" in m, m
PY

# The CLI reads answers with its own reader (proto/xmlin.c): simq show's name is the one submitted.
"$SIMQ" show 3 >"$TMP/show" 2>&1
expect_in "simq show reads the answer: a name with <, & and \" as submitted" "$TMP/show" 'a<b>&"c" $k é3'
