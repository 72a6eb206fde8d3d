#!/bin/sh
# Reading stored results (issue 15's adversary), through real servers on a real plecs-emu: a summary
# without a final value prints "-"; a summary that overflows a double is computed scaled and shown;
# a result file that is gone is exit 74; files planted in results/ (a FIFO, a symlink to another
# task's file, a file too large, another task's data, a CSV cut short or with bytes simq never
# writes) are refused with a message that names the path; a CSV through the API is made off the
# loop (a big one does not stall other clients) and one past the API's bound is a clear fault.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 11
trap stop_all EXIT
emu_up --speed 0

# MatFile answers: PLECS's XML writes 1e200 with all its 201 digits, which simq refuses as a number.
serve mat <<EOF2
[backend emu]
url = $url
output_format = matfile
EOF2
R=$(dirname "$M")
"$SIMQ" submit "$M" --name rc >/dev/null && "$SIMQ" submit "$R/buck.plecs" --name buck >/dev/null &&
	"$SIMQ" wait 1 2 --timeout 60 >"$TMP/wait" 2>&1 || fail "tasks 1 and 2 complete" "$(cat "$TMP/wait")"

# ---- a summary stored before simq kept final values --------------------------------------------
python3 - "$SIMQ_HOME/simq.db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
s = json.loads(db.execute("SELECT summary FROM results WHERE task_id = 2").fetchone()[0])
del s["sig1"]["final"]
db.execute("UPDATE results SET summary = ? WHERE task_id = 2", (json.dumps(s),))
db.commit()
PY
"$SIMQ" result 2 >"$TMP/out" 2>&1
pycheck "simq result: a summary without final prints - in FINAL (sig1), the number where it has one (sig2)" "$TMP/out" <<'PY'
rows = {l.split()[0]: l.split()[1:] for l in open(sys.argv[1]) if l.startswith("sig")}
assert rows["sig1"][4] == "-" and all(float(x) == float(x) for x in rows["sig1"][:4]), rows
assert float(rows["sig2"][4]) == float(rows["sig2"][4]) and abs(float(rows["sig2"][4])) < 1e6, rows
PY
"$SIMQ" result 2 --json >"$TMP/json" 2>&1
pycheck "simq result --json: the summary as stored, sig1 without final" "$TMP/json" <<'PY'
s = json.load(open(sys.argv[1]))["summary"]
assert "final" not in s["sig1"] and "final" in s["sig2"], s
PY
# ---- a summary whose plain sums overflow a double ------------------------------------------------
"$SIMQ" submit "$M" -v Vin=1e200 --name huge >/dev/null && "$SIMQ" wait 3 --timeout 60 >"$TMP/wait" 2>&1 ||
	fail "task 3 (Vin = 1e200) completes" "$(cat "$TMP/wait")"
"$SIMQ" result 3 >"$TMP/out" 2>&1
"$SIMQ" result 3 --csv >"$TMP/3.csv" 2>&1
pycheck "Vin = 1e200: the summary is there, its mean and RMS those of the data (no overflow to an empty summary)" \
	"$TMP/out" "$TMP/3.csv" <<'PY'
import math
rows = {l.split()[0]: l.split()[1:] for l in open(sys.argv[1]) if l.startswith("sig")}
v = [float(l.split(",")[1]) for l in open(sys.argv[2]).read().splitlines()[1:]]
m = max(abs(x) for x in v)
mean, rms = math.fsum(x / m for x in v) / len(v) * m, math.sqrt(math.fsum((x / m) ** 2 for x in v) / len(v)) * m
got = [float(x) for x in rows["sig1"]]
want = [min(v), max(v), mean, rms, v[-1]]
assert all(abs(g - w) <= 1e-5 * abs(w) for g, w in zip(got, want)), (got, want)
s = api().simq.result(3)["summary"]["sig1"]
assert abs(s["rms"] - rms) <= 1e-12 * rms and abs(s["mean"] - mean) <= 1e-12 * mean, (s, mean, rms)
PY
# ---- files gone or planted in results/ ------------------------------------------------------------
for n in 4 5 6 7; do "$SIMQ" submit "$M" --name "plant$n" >/dev/null; done
"$SIMQ" wait 4 5 6 7 --timeout 60 >"$TMP/wait" 2>&1 || fail "tasks 4 to 7 complete" "$(cat "$TMP/wait")"
d=$SIMQ_HOME/results/0
rm "$d/4.mat"
ln -s "$d/1.mat" "$d/5.mat.new" && mv -f "$d/5.mat.new" "$d/5.mat"
rm "$d/6.mat" && mkfifo "$d/6.mat"
cp "$d/2.mat" "$d/7.mat"
# expect_refusal NAME STATUS TEXT COMMAND...: COMMAND exits STATUS within 10 s, saying TEXT on stderr.
expect_refusal() {
	local name=$1 want=$2 text=$3 got
	shift 3
	timeout 10 "$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	[ "$got" -eq "$want" ] && grep -qF -- "$text" "$TMP/err" && ok "$name" ||
		fail "$name" "exit $got (want $want), stderr:" "$(cat "$TMP/err")"
}
expect_refusal "simq result of a result whose file is gone: exit 74, saying so" 74 "$d/4.mat: it is gone" \
	"$SIMQ" result 4
expect_refusal "simq result --csv of it: exit 74 (was 70)" 74 "$d/4.mat: it is gone" "$SIMQ" result 4 --csv
expect_refusal "a symlink to another task's file: refused (O_NOFOLLOW), exit 74" 74 \
	"$d/5.mat: it is a symlink, which simq did not write" "$SIMQ" result 5 --csv
expect_refusal "a FIFO: refused at once, not waited on, exit 74" 74 "$d/6.mat: it is a FIFO, which simq did not write" \
	"$SIMQ" result 6 --csv
expect_refusal "another task's data (2 signals for a 1-signal task): refused, exit 74" 74 \
	"not the 1001 points of 1 signals simq stored for it" "$SIMQ" result 7 --csv
pycheck "simq.result(ID, \"csv\") of each: fault 8 naming the file; the server still answers" "$d" <<'PY'
d = sys.argv[1]
socket.setdefaulttimeout(20)
for i, words in ((4, "it is gone"), (5, "it is a symlink"), (6, "it is a FIFO"), (7, "not the 1001 points")):
    try:
        api().simq.result(i, "csv")
        raise SystemExit("task %d: served" % i)
    except xmlrpc.client.Fault as f:
        assert f.faultCode == 8 and words in f.faultString and "%s/%d.mat" % (d, i) in f.faultString, (i, f.faultString)
assert api().simq.result(1, "csv")["csv"].startswith("Time,sig1\n")
PY

server_ran_clean
done_testing
