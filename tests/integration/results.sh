#!/bin/sh
# Results on disk (issue 16, DESIGN 17) through real servers on a real plecs-emu: a result is
# stored once as a compressed MAT file (Time 1 x n, Values signals x n) that scipy reads back bit
# for bit as the answer simq decoded; it is written by the writer thread, never the loop (strace);
# simq result --csv and simq.result(id, "csv") of a MAT-stored result are, byte for byte, the CSV
# a server with results_format = csv stores for the same case; a state dir holding an old CSV
# result still serves it.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3 strace
# Debian's python3 with python3-scipy (./quickstart installs it): a pyenv python may shadow it on PATH.
SCIPY_PYTHON=/usr/bin/python3
plan 12
cleanup() {
	[ -n "${tracer:-}" ] && kill "$tracer" 2>/dev/null
	stop_all
}
trap cleanup EXIT
emu_up --speed 0

# scicheck NAME [ARG...]: pycheck with Debian's python3 and scipy; skipped (failed in CI) without them.
scicheck() {
	local name=$1 body
	shift
	body=$(cat)
	if ! "$SCIPY_PYTHON" -c "import scipy.io" 2>/dev/null; then
		if in_ci; then fail "$name" "$SCIPY_PYTHON cannot import scipy.io (CI is set: ./quickstart installs python3-scipy)"
		else skip "$name" "no scipy for $SCIPY_PYTHON (./quickstart installs python3-scipy)"; fi
		return
	fi
	if "$SCIPY_PYTHON" -c "$PY_PRELUDE
import numpy, scipy.io
$body" "$@" >"$TMP/py.out" 2>&1; then ok "$name"; else fail "$name" "$(tail -5 "$TMP/py.out")"; fi
}

# ---- the default: MAT, written by the writer thread -----------------------------------------
serve mat <<EOF
[backend emu]
url = $url
[scheduler]
start_paused = true
EOF
mat_home=$SIMQ_HOME
pid=$(cat "$SIMQ_HOME/simq.pid")
threads=$(ls "/proc/$pid/task" | wc -l)
strace -f -y -e trace=openat,write,sendfile,rename,renameat,renameat2 -o "$TMP/mat.trace" -p "$pid" 2>"$TMP/strace.err" &
tracer=$!
n=0
while [ "$(grep -c attached "$TMP/strace.err" 2>/dev/null)" -lt "$threads" ] && [ $n -lt 300 ]; do
	n=$((n + 1))
	sleep 0.05
done
# rc.plecs with its own TimeSpan: 1,001 points of one signal.
"$SIMQ" submit "$M" --name rc >/dev/null && "$SIMQ" resume >/dev/null && "$SIMQ" wait 1 --timeout 60 >"$TMP/wait" 2>&1 ||
	fail "the task completes" "$(cat "$TMP/wait")"
kill "$tracer"
wait "$tracer" 2>/dev/null
tracer=
"$SIMQ" result 1 >"$TMP/result" 2>&1
expect_line "simq result: stored as results/0/1.mat" "$TMP/result" "$SIMQ_HOME/results/0/1.mat"
expect_line "simq result: 1001 points, 1 signal (mat)" "$TMP/result" "1001 points, 1 signal (mat)"
mat_bytes=$(stat -c %s "$SIMQ_HOME/results/0/1.mat")
echo "# a stored 1,001-point, one-signal rc result: $mat_bytes bytes of MAT"

# The writer thread opens, writes and renames the file; the loop thread (the process's own id) does
# none of it.
pycheck "the result file is opened, written and renamed by the writer thread, not the loop" "$TMP/mat.trace" "$pid" \
	"$SIMQ_HOME/results/" <<'PY'
lines = open(sys.argv[1]).read().splitlines()
pid, results = sys.argv[2], sys.argv[3]
mine = [l for l in lines if results in l]
opened = [l for l in mine if "openat(" in l and ".1.mat.tmp" in l]
# A MAT file is copied in from the memfd matio wrote (sendfile); a CSV file is written.
written = [l for l in mine if l.split()[1].startswith(("write(", "sendfile("))]
renamed = [l for l in mine if "rename" in l]
assert opened and written and renamed, mine
tids = {l.split()[0] for l in opened + written + renamed}
assert len(tids) == 1 and pid not in tids, (pid, tids, mine)
assert not [l for l in mine if l.startswith(pid + " ")], [l for l in mine if l.startswith(pid + " ")]
PY

# ---- the same case stored as CSV ----------------------------------------------------------------
serve csv <<EOF
[backend emu]
url = $url
[store]
results_format = csv
EOF
csv_home=$SIMQ_HOME
"$SIMQ" submit "$M" --name rc >/dev/null && "$SIMQ" wait 1 --timeout 60 >"$TMP/wait" 2>&1 ||
	fail "the task completes (csv)" "$(cat "$TMP/wait")"
csv_file=$csv_home/results/0/1.csv
[ -f "$csv_file" ] && ok "results_format = csv: stored as results/0/1.csv" ||
	fail "results_format = csv: stored as results/0/1.csv" "$(ls -l "$csv_home/results/0")"
csv_bytes=$(stat -c %s "$csv_file")
echo "# the same result as CSV: $csv_bytes bytes; MAT: $mat_bytes bytes"
[ "$((mat_bytes * 3))" -lt "$csv_bytes" ] && ok "the MAT file is less than a third of the CSV ($mat_bytes against $csv_bytes bytes)" ||
	fail "the MAT file is less than a third of the CSV" "MAT $mat_bytes, CSV $csv_bytes"

SIMQ_HOME=$mat_home "$SIMQ" result 1 --csv >"$TMP/converted.csv" 2>"$TMP/err"
cmp -s "$TMP/converted.csv" "$csv_file" && ok "simq result --csv of the MAT result is byte for byte the CSV simq stores" ||
	fail "simq result --csv of the MAT result is byte for byte the CSV simq stores" "$(cat "$TMP/err")" \
		"$(diff "$TMP/converted.csv" "$csv_file" | head -5)"
SIMQ_HOME=$mat_home pycheck "simq.result(1, \"csv\") answers the same CSV, with the path, format and summary" "$csv_file" <<'PY'
r = api().simq.result(1, "csv")
assert r["csv"] == open(sys.argv[1]).read(), r["csv"][:200]
assert r["format"] == "mat" and r["path"].endswith("/results/0/1.mat") and r["points"] == 1001 and r["signals"] == 1, r
assert set(r["summary"]["sig1"]) == {"min", "max", "mean", "rms", "final"}, r["summary"]
assert "csv" not in api().simq.result(1), "csv only when asked"
PY

# scipy reads Time and Values; each number is, bit for bit, the one the CSV (17 digits) holds.
scicheck "scipy.io.loadmat reads Time (1 x 1001) and Values (1 x 1001), bit for bit the decoded answer" \
	"$mat_home/results/0/1.mat" "$csv_file" <<'PY'
m = scipy.io.loadmat(sys.argv[1])
rows = [l.split(",") for l in open(sys.argv[2]).read().splitlines()]
assert rows[0] == ["Time", "sig1"], rows[0]
want = numpy.array([[float(x) for x in r] for r in rows[1:]])
assert m["Time"].shape == (1, 1001) and m["Values"].shape == (1, 1001), (m["Time"].shape, m["Values"].shape)
assert m["Time"].dtype == numpy.float64 and m["Values"].dtype == numpy.float64
assert (m["Time"][0].view(numpy.uint64) == want[:, 0].view(numpy.uint64)).all()
assert (m["Values"][0].view(numpy.uint64) == want[:, 1].view(numpy.uint64)).all()
PY

# ---- an old state dir: a CSV result, and a server that now stores MAT ---------------------------
SIMQ_HOME=$csv_home "$SIMQ" shutdown --no-start >/dev/null 2>&1
poll 10 sh -c "! kill -0 $(cat "$csv_home/simq.pid" 2>/dev/null || echo 0) 2>/dev/null"
serve csv <<EOF
[backend emu]
url = $url
EOF
"$SIMQ" result 1 --csv >"$TMP/old.csv" 2>"$TMP/err"
cmp -s "$TMP/old.csv" "$csv_file" && ok "an old CSV result: simq result --csv prints it as stored" ||
	fail "an old CSV result: simq result --csv prints it as stored" "$(cat "$TMP/err")"
"$SIMQ" submit "$M" --name new --no-cache >/dev/null && "$SIMQ" wait 2 --timeout 60 >/dev/null 2>&1
pycheck "an old CSV result: simq.result(1, \"csv\") serves it; a new task there is stored as MAT" "$csv_file" <<'PY'
r = api().simq.result(1, "csv")
assert r["format"] == "csv" and r["csv"] == open(sys.argv[1]).read(), r["format"]
new = api().simq.result(2, "csv")
assert new["format"] == "mat" and new["path"].endswith("/results/0/2.mat"), new["path"]
assert new["csv"] == r["csv"], "the same case, the same CSV"
PY
pycheck "simq.result with another format: fault 1 saying what is allowed" <<'PY'
try:
    api().simq.result(1, "xml")
    raise SystemExit("accepted")
except xmlrpc.client.Fault as f:
    assert f.faultCode == 1 and '"xml"' in f.faultString and 'allowed: "csv"' in f.faultString, f.faultString
PY
server_ran_clean
done_testing
