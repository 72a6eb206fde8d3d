#!/bin/sh
# What simq prints for people, against a real server on plecs-emu: show's attempt list (a task
# retried after an injected licence fault), result's summary table (checked against the file),
# times in local ISO 8601 with the offset (TZ set), plurals, and no text that names DESIGN.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"

requires python3 groff
plan 18

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)
cleanup() {
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
}
trap cleanup EXIT
# pycheck NAME FILE... <<'PY': the Python on stdin, given the files, must succeed.
pycheck() {
	local name=$1
	shift
	python3 - "$@" >"$TMP/py" 2>&1 && ok "$name" || fail "$name" "$(cat "$TMP/py")"
}

start_emu --speed 0
"$SIMQ" server --plecs "$url" >/dev/null
# The first call meets "no free licence" (transient): the task completes on its second attempt.
python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject('license', 1)" "$url"
id=$("$SIMQ" submit "$M/buck.plecs" -v D=0.4 --name retried)
"$SIMQ" wait "$id" --timeout 60 >/dev/null

# ---- show: the attempts ------------------------------------------------------------------------------
expect_status "simq show ID" 0 "$SIMQ" show "$id"
expect_line "it says the task took two attempts" "$TMP/out" "attempts   2"
"$SIMQ" show "$id" --json >"$TMP/json"
pycheck "it lists both attempts, as --json has them: number, start, end, backend, batch, outcome, error" "$TMP/out" "$TMP/json" <<'PY'
import json, sys, datetime
lines = open(sys.argv[1]).read().split("\n")
t = json.load(open(sys.argv[2]))
head = [l for l in lines if l.startswith("ATTEMPT")]
assert head and head[0].split() == ["ATTEMPT", "STARTED", "ENDED", "BACKEND", "BATCH", "OUTCOME", "ERROR"], head
rows = lines[lines.index(head[0]) + 1:]
rows = [r for r in rows if r.strip()]
assert len(rows) == len(t["attempt_list"]) == 2, (rows, t["attempt_list"])
def local(iso):  # TZ is UTC here: the same instant with +00:00, to the second
    return iso[:19] + "+00:00"
for row, a in zip(rows, t["attempt_list"]):
    f = row.split(None, 6)
    assert f[:6] == [str(a["n"]), local(a["started"]), local(a["ended"]), a["backend"], str(a["batch"]), a["outcome"]], (f, a)
    assert (f[6] if len(f) > 6 else "") == a["error"], (f, a["error"])
assert [a["outcome"] for a in t["attempt_list"]] == ["transient", "ok"], t["attempt_list"]
assert "No free license" in rows[0], rows[0]
PY
pycheck "show --json is as before: times in UTC with Z, attempt_list and result members" "$TMP/json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
assert t["submitted"].endswith("Z") and t["finished"].endswith("Z"), t
assert t["attempt_list"][0]["started"].endswith("Z") and t["result"]["signals"] == 2, t
PY
TZ=IST-5:30 "$SIMQ" show "$id" >"$TMP/ist"
pycheck "with TZ=IST-5:30 every time is local with +05:30 (submitted, finished, the attempts)" "$TMP/ist" "$TMP/json" <<'PY'
import json, sys, datetime
out = open(sys.argv[1]).read()
t = json.load(open(sys.argv[2]))
def local(iso):
    d = datetime.datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S") + datetime.timedelta(hours=5, minutes=30)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + "+05:30"
assert "submitted  %s\n" % local(t["submitted"]) in out, out
assert "finished   %s\n" % local(t["finished"]) in out, out
for a in t["attempt_list"]:
    assert local(a["started"]) in out and local(a["ended"]) in out, (a, out)
assert "Z\n" not in out and "Z " not in out, out
PY
TZ=IST-5:30 "$SIMQ" ls >"$TMP/ls"
grep -q "^$id .*+05:30" "$TMP/ls" && ok "ls prints SUBMITTED local with the offset" || fail "ls prints SUBMITTED local with the offset" "$(cat "$TMP/ls")"
TZ=IST-5:30 "$SIMQ" log >"$TMP/log"
grep -q "^[0-9-]*T[0-9:]*\.[0-9][0-9][0-9]+05:30 $id submitted normal retried" "$TMP/log" &&
	ok "log prints each line's time local with the offset (and milliseconds)" || fail "log prints each line's time local with the offset" "$(tail -5 "$TMP/log")"
"$SIMQ" pause >/dev/null
"$SIMQ" show "$("$SIMQ" submit "$M/rc.plecs" --name waits)" >"$TMP/queued"
grep -qx "no attempts yet" "$TMP/queued" && ok "a task not run yet says it has no attempts" || fail "a task not run yet says it has no attempts" "$(cat "$TMP/queued")"
"$SIMQ" resume >/dev/null

# ---- result: the summary as a table ---------------------------------------------------------------
expect_status "simq result ID" 0 "$SIMQ" result "$id"
"$SIMQ" result "$id" --json >"$TMP/rjson"
"$SIMQ" result "$id" --csv >"$TMP/rcsv"
pycheck "a table of each signal's min, max, mean, RMS and final value, as --json and the data have them" "$TMP/out" "$TMP/rjson" "$TMP/rcsv" <<'PY'
import csv, json, sys
lines = open(sys.argv[1]).read().split("\n")
r = json.load(open(sys.argv[2]))
assert lines[0] == r["path"], lines[0]
assert lines[1] == "%d points, 2 signals (mat)" % r["points"], lines[1]
assert lines[2] == "" and lines[3].split() == ["SIGNAL", "MIN", "MAX", "MEAN", "RMS", "FINAL"], lines[2:4]
rows = list(csv.reader(open(sys.argv[3])))
last = dict(zip(rows[0], rows[-1]))
body = [l.split() for l in lines[4:] if l]
assert [b[0] for b in body] == list(r["summary"]) == rows[0][1:], (body, r["summary"], rows[0])
def close(text, value):
    return abs(float(text) - value) <= 5e-6 * max(1.0, abs(value))
for b in body:
    s = r["summary"][b[0]]
    for text, key in zip(b[1:6], ("min", "max", "mean", "rms", "final")):
        assert close(text, s[key]), (b, key, s)
    assert close(b[5], float(last[b[0]])), (b, last)
PY
pycheck "result --json keeps the summary as the API has it" "$TMP/rjson" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert set(r["summary"]["sig1"]) == {"min", "max", "mean", "rms", "final"}, r
PY

# ---- words ---------------------------------------------------------------------------------------------
expect_status "sweep of one task --dry-run" 0 "$SIMQ" sweep "$M/rc.plecs" Vin=1 --dry-run
expect_line "says 1 task, not 1 tasks" "$TMP/err" "simq sweep: 1 task would be submitted (--dry-run)"
one=$("$SIMQ" sweep "$M/rc.plecs" Vin=2)
[ "$one" = "submitted 1 task: $(($id + 2))" ] && ok "a sweep of one task: \"submitted 1 task: ID\"" || fail "a sweep of one task" "$one"
: >"$TMP/texts"
for cmd in $("$SIMQ" --help | sed -n 's/^  \([a-z]*\)  .*/\1/p'); do
	"$SIMQ" help "$cmd" >>"$TMP/texts"
done
"$SIMQ" --help >>"$TMP/texts"
[ "$(grep -c '^Usage: simq' "$TMP/texts")" -ge 20 ] && ! grep -n 'DESIGN' "$TMP/texts" "$SRC/share/simq.ini" "$SRC/doc/"*.[15] "$SRC/doc/api.md" "$SRC/README" &&
	ok "no help text, simq.ini, man page, api.md or README names DESIGN, which users do not have" ||
	fail "no help text, simq.ini, man page, api.md or README names DESIGN" "$(grep -n DESIGN "$TMP/texts" "$SRC/share/simq.ini" "$SRC/doc/"* "$SRC/README")"
for page in "$SRC/doc/"*.[15]; do
	LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$page" 2>>"$TMP/groff"
done
[ ! -s "$TMP/groff" ] && ok "the man pages render without a warning" || fail "the man pages render without a warning" "$(cat "$TMP/groff")"
LC_ALL=C.UTF-8 groff -man -Tutf8 "$SRC/doc/plecs-emu.1" 2>/dev/null | sed 's/.\x08//g' >"$TMP/emu.txt"
grep -q "4K / D²" "$TMP/emu.txt" && grep -q "(R/2L)²" "$TMP/emu.txt" && ok "plecs-emu(1) shows D² and (R/2L)²" ||
	fail "plecs-emu(1) shows D² and (R/2L)²" "$(grep -n 'K / D\|R/2L' "$TMP/emu.txt")"
server_ran_clean
done_testing
