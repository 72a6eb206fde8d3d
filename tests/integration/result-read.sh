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

requires python3 strace
plan 21
cleanup() {
	[ -n "${tracer:-}" ] && kill "$tracer" 2>/dev/null
	stop_all
}
trap cleanup EXIT
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
s["sig2"]["rms"] = "inf"
db.execute("UPDATE results SET summary = ? WHERE task_id = 2", (json.dumps(s),))
db.commit()
PY
"$SIMQ" result 2 >"$TMP/out" 2>&1
pycheck "simq result: a summary without final prints - in FINAL (sig1), the number where it has one (sig2), inf as inf" \
	"$TMP/out" <<'PY'
rows = {l.split()[0]: l.split()[1:] for l in open(sys.argv[1]) if l.startswith("sig")}
assert rows["sig1"][4] == "-" and all(float(x) == float(x) for x in rows["sig1"][:4]), rows
assert float(rows["sig2"][4]) == float(rows["sig2"][4]) and abs(float(rows["sig2"][4])) < 1e6, rows
assert rows["sig2"][3] == "inf", rows
PY
"$SIMQ" result 2 --json >"$TMP/json" 2>&1
pycheck "simq result --json: the summary as stored, sig1 without final" "$TMP/json" <<'PY'
s = json.load(open(sys.argv[1]))["summary"]
assert "final" not in s["sig1"] and "final" in s["sig2"] and s["sig2"]["rms"] == "inf", s
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
for n in 4 5 6 7; do "$SIMQ" submit "$M" --name "plant$n" --no-cache >/dev/null; done
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

# ---- a big result: its CSV made off the loop; past the API's bound, a clear fault ------------------
server_ran_clean
serve big <<EOF2
[backend emu]
url = $url
output_format = matfile
EOF2
# 500,001 points: about 20 MB of CSV.
"$SIMQ" submit "$M" --solver MaxStep=1e-8 --name big >/dev/null && "$SIMQ" submit "$M" --name small --no-cache >/dev/null &&
	"$SIMQ" wait 1 2 --timeout 120 >"$TMP/wait" 2>&1 || fail "tasks 1 and 2 complete" "$(cat "$TMP/wait")"
pid=$(cat "$SIMQ_HOME/simq.pid")
threads=$(ls "/proc/$pid/task" | wc -l)
strace -f -e trace=openat -o "$TMP/big.trace" -p "$pid" 2>"$TMP/strace.err" &
tracer=$!
n=0
attached() {
	local c
	c=$(grep -c attached "$TMP/strace.err" 2>/dev/null)
	echo "${c:-0}"
}
while [ "$(attached)" -lt "$threads" ] && [ $n -lt 300 ]; do
	n=$((n + 1))
	sleep 0.05
done
pycheck "simq.result(2, \"csv\") answers; the file is converted on the connection's thread, not the loop's" \
	"$TMP/big.trace" "$pid" "$SIMQ_HOME/results/0/2.mat" "$tracer" <<'PY'
import time
assert api().simq.result(2, "csv")["csv"].startswith("Time,sig1\n")
os.kill(int(sys.argv[4]), 15)
time.sleep(0.5)
lines = open(sys.argv[1]).read().splitlines()
opened = [l for l in lines if '"%s"' % os.path.basename(sys.argv[3]) in l]
read = [l for l in lines if '"/proc/self/fd/' in l]
# Checked (open, fstat) on the loop; opened again and read, for the CSV, on another thread only.
assert read and [l for l in opened if l.split()[0] == sys.argv[2]], lines[-20:]
assert all(l.split()[0] != sys.argv[2] for l in read), read
PY
wait "$tracer" 2>/dev/null
# While clients pull 20 MB of CSV each, another's calls are answered at once.
pycheck "while two clients pull the 20 MB CSV, simq.status answers another in well under the pull's time" <<'PY'
import threading, time
pulls = []
def pull():
    t = time.monotonic()
    try:
        api().simq.result(1, "csv")
    except xmlrpc.client.Fault:
        pass
    pulls.append(time.monotonic() - t)
workers = [threading.Thread(target=pull) for _ in range(2)]
for w in workers: w.start()
worst = 0
while any(w.is_alive() for w in workers):
    t = time.monotonic()
    api().simq.status()
    worst = max(worst, time.monotonic() - t)
for w in workers: w.join()
print("# pulls %s s; the slowest simq.status meanwhile %.3f s" % (["%.2f" % p for p in pulls], worst), file=sys.stderr)
assert worst < 0.5, (pulls, worst)
PY
grep pulls "$TMP/py.out"
start=$(date +%s%N)
"$SIMQ" result 1 --csv >"$TMP/big.csv" 2>"$TMP/err"
echo "# simq result 1 --csv of 500,001 points (read by the CLI): $(( ($(date +%s%N) - start) / 1000000 )) ms, $(wc -c <"$TMP/big.csv") bytes"
[ "$(wc -l <"$TMP/big.csv")" -eq 500002 ] && ok "simq result 1 --csv reads the big file itself: 500,001 lines and the header" ||
	fail "simq result 1 --csv reads the big file itself" "$(wc -l <"$TMP/big.csv") lines" "$(cat "$TMP/err")"
server_ran_clean

# ---- CSV results: as stored, or refused; the API's bound (lowered by the test hook) ---------------
SIMQ_TEST_RESULT_CSV_MAX=100000 serve csv <<EOF2
[backend emu]
url = $url
[store]
results_format = csv
EOF2
for n in 1 2 3; do "$SIMQ" submit "$M" --name "csv$n" --no-cache >/dev/null; done
# 5,001 points: about 200 KB of CSV, more than the 100,000 bytes this server's API serves.
"$SIMQ" submit "$M" --solver MaxStep=1e-6 --name longer >/dev/null
"$SIMQ" wait 1 2 3 4 --timeout 60 >"$TMP/wait" 2>&1 || fail "tasks 1 to 4 complete" "$(cat "$TMP/wait")"
d=$SIMQ_HOME/results/0
sed -i '1s/.*/Time,Vout/' "$d/1.csv"
head -c 20000 "$d/2.csv" >"$d/2.tmp" && mv "$d/2.tmp" "$d/2.csv"
python3 - "$d/3.csv" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[40], b[400] = 0x1b, 0xff
open(sys.argv[1], "wb").write(bytes(b))
PY
"$SIMQ" result 1 --csv >"$TMP/1.csv" 2>"$TMP/err"
cmp -s "$TMP/1.csv" "$d/1.csv" && ok "a CSV whose header names other signals is printed as stored" ||
	fail "a CSV whose header names other signals is printed as stored" "$(cat "$TMP/err")"
expect_refusal "a CSV cut short: refused, exit 74" 74 "$d/2.csv: it holds" "$SIMQ" result 2 --csv
expect_refusal "a CSV with bytes simq never writes: refused, exit 74" 74 "holds the byte 0x1b" "$SIMQ" result 3 --csv
pycheck "through the API: the renamed header served; cut short, bad bytes and past the bound, fault 8 (no client error)" \
	"$d" <<'PY'
d = sys.argv[1]
assert api().simq.result(1, "csv")["csv"] == open(d + "/1.csv").read()
for i, words in ((2, "cut short"), (3, "holds the byte 0x1b"), (4, "more than 100000 bytes as CSV")):
    try:
        api().simq.result(i, "csv")
        raise SystemExit("task %d: served" % i)
    except xmlrpc.client.Fault as f:
        assert f.faultCode == 8 and words in f.faultString and "%s/%d.csv" % (d, i) in f.faultString, (i, f.faultString)
        if i == 4:
            assert "read %s/4.csv directly" % d in f.faultString and "simq result 4 --csv" in f.faultString, f.faultString
PY
expect_refusal "simq result 4 --csv --json (the server's CSV): past the bound, exit 74" 74 "more than 100000 bytes as CSV" \
	"$SIMQ" result 4 --csv --json
"$SIMQ" result 4 --csv >"$TMP/4.csv" 2>"$TMP/err"
cmp -s "$TMP/4.csv" "$d/4.csv" && ok "simq result 4 --csv reads the file itself: no bound" ||
	fail "simq result 4 --csv reads the file itself: no bound" "$(cat "$TMP/err")"
server_ran_clean
done_testing
