#!/bin/sh
# [scheduler] options whose timing the engine's unit tests check on the fake clock, here read from
# simq.ini by a real server and checked by their effect on a real plecs-emu: batch_linger_ms holds
# a short batch for its model's next task, max_batch_seconds caps a batch by the model's measured
# call time, and jitter spreads the retries of one failed batch.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 6
trap stop_all EXIT

# simulates: plecs-emu's simulate calls as "cases" numbers, oldest first.
simulates() {
	python3 -c "import sys, xmlrpc.client
print(' '.join(str(c['cases']) for c in xmlrpc.client.ServerProxy(sys.argv[1]).emu.calls() if c['method'] == 'plecs.simulate'))" "$url"
}

# ---- batch_linger_ms --------------------------------------------------------------------------------
emu_up --speed 0
serve linger <<EOF
[backend emu]
url = $url
max_batch = 8
[scheduler]
batch_linger_ms = 4000
EOF
a=$("$SIMQ" submit "$M" -v Vin=1)
b=$("$SIMQ" submit "$M" -v Vin=2)
"$SIMQ" wait "$a" "$b" --timeout 60 >/dev/null
got=$(simulates)
[ "$got" = 2 ] && ok "batch_linger_ms: the first task waits for the second, and one call takes both" ||
	fail "batch_linger_ms: the first task waits for the second, and one call takes both" "calls of $got cases"
pycheck "it waited the linger (4 s) from the first submit, not more than a few seconds past it" "$a" <<'PY'
import datetime
t = show(int(sys.argv[1]))
def ms(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
waited = ms(t["started"]) - ms(t["submitted"])
assert 3.9 <= waited < 30, waited
PY
"$SIMQ" shutdown >/dev/null
emu_gone

# ---- max_batch_seconds -------------------------------------------------------------------------------
# At --speed 1 a TimeSpan of 0.5 takes 0.5 wall s a case: after one call, the model's estimate is
# at least 0.5 s, so max_batch_seconds = 1 lets at most 2 cases into a call (without it: all 6).
emu_up --speed 1
serve cap <<EOF
[backend emu]
url = $url
max_batch = 8
[scheduler]
max_batch_seconds = 1
EOF
first=$("$SIMQ" submit "$M" --solver TimeSpan=0.5)
"$SIMQ" wait "$first" --timeout 60 >/dev/null
"$SIMQ" pause >/dev/null
"$SIMQ" sweep "$M" Vin=1:6:1 --solver TimeSpan=0.5 >/dev/null
"$SIMQ" resume >/dev/null
"$SIMQ" wait $(seq $((first + 1)) $((first + 6))) --timeout 120 >/dev/null
got=$(simulates)
python3 -c "import sys; c = [int(x) for x in sys.argv[1].split()]; assert c[0] == 1 and sum(c[1:]) == 6 and max(c[1:]) <= 2, c" "$got" &&
	ok "max_batch_seconds = 1: calls of at most 2 cases once a call took 0.5 s" ||
	fail "max_batch_seconds = 1: calls of at most 2 cases once a call took 0.5 s" "calls of $got cases"
"$SIMQ" shutdown >/dev/null
emu_gone

# ---- jitter ------------------------------------------------------------------------------------------
# One batch of 8 meets a licence fault: each task's retry is due 1 s after, stretched by up to 100 %.
emu_up --speed 0
serve jitter <<EOF
[backend emu]
url = $url
max_batch = 8
[scheduler]
start_paused = true
backoff_base = 1s
backoff_max = 1s
jitter = 1
EOF
"$SIMQ" sweep "$M" Vin=1:8:1 >/dev/null
inject license 1
"$SIMQ" resume >/dev/null
"$SIMQ" wait $(seq 1 8) --timeout 60 >/dev/null
pycheck "jitter = 1: the 8 retries fall due 1 to 2 s after the failure, spread, not all at once" <<'PY'
import datetime
def ms(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
delays = []
for i in range(1, 9):
    a = show(i)["attempt_list"]
    assert [x["outcome"] for x in a] == ["transient", "ok"], a
    delays.append(ms(a[1]["started"]) - ms(a[0]["ended"]))
# A retry starts when due or later (a loaded machine, one slot): never before 1 s.
assert min(delays) >= 0.999, delays
# Without jitter all eight would be due at the same millisecond and go in one call again.
assert max(delays) - min(delays) >= 0.1, delays
PY
got=$(simulates)
# (plecs-emu records the faulted call first, with the cases it did not run as 0.)
python3 -c "import sys; c = [int(x) for x in sys.argv[1].split()]; assert sum(c[1:]) == 8 and len(c) >= 3, c" "$got" &&
	ok "so they came back in several calls, not one" || fail "so they came back in several calls, not one" "calls of $got cases"
server_ran_clean
done_testing
