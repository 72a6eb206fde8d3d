#!/bin/sh
# Whose fault is it (issue 13, DESIGN 6): a backend DOWN for 40 s, probed with the default backoff
# (backoff_base 5 s, doubling, capped by probe_max, 30 s by default), is UP and working within
# probe_max of its return.  Before issue 13 the probes backed off up to backoff_max (5 min): the
# probes came 5, 15, 35 and 75 s after the DOWN, so a PLECS back at 40 s waited 35 s.  This test
# takes about 70 s; make -j runs it beside the others.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 7
trap stop_all EXIT

emu_up
serve probe <<EOF2
[backend emu]
url = $url
EOF2
poll 10 backend_up && ok "the server's first probe finds the backend UP" ||
	fail "the server's first probe finds the backend UP" "$(cat "$SIMQ_HOME/simulation.log")"
emu_gone
"$SIMQ" submit "$M" --name waits-out-the-outage >/dev/null
until_in "$SIMQ_HOME/simulation.log" "emu DOWN after 3 failed calls: " &&
	ok "the backend is DOWN after down_after refused calls" ||
	fail "the backend is DOWN after down_after refused calls" "$(tail -5 "$SIMQ_HOME/simulation.log")"
t_down=$(date +%s.%N)
# The outage: 40 s from the DOWN, watched through simq.view twice a second.  Probes come 5, 15, 35
# and 65 s after the DOWN (before issue 13: 5, 15, 35 and 75 s).
pycheck "for 40 s it stays DOWN, the next probe never more than probe_max (30 s) away" "$t_down" <<'PY'
import time
down, longest = float(sys.argv[1]), 0.0
while time.time() < down + 40:
    b = api().simq.view({})["backends"][0]
    assert not b["up"], b
    longest = max(longest, b["probe_in"])
    time.sleep(0.5)
assert 20 < longest <= 30.001, longest
PY
EMU_PORT=$port emu_up
t_back=$(date +%s.%N)
"$SIMQ" wait 1 --timeout 60 >/dev/null 2>&1
pycheck "back on the same port: UP within probe_max (30 s) + 3 s of its return" "$t_back" "$SIMQ_HOME/simulation.log" <<'PY'
import datetime
back = float(sys.argv[1])
ups = [l for l in open(sys.argv[2]) if " emu UP again after " in l]
assert len(ups) == 1, ups
up = datetime.datetime.strptime(ups[0].split(" ")[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
assert 0 <= up - back <= 33, "UP %.1f s after its return" % (up - back)
PY
pycheck "and working: the task COMPLETED, no retry spent" <<'PY'
t = show(1)
assert t["state"] == "completed" and t["retries"] == 0, t
assert [a["outcome"] for a in t["attempt_list"]] == ["backend"] * 3 + ["ok"], t["attempt_list"]
PY
check "simq stats: retries 0, completed after retry 0" sh -c '"$SIMQ" stats --json | grep -q "^  \"retries\": 0," && "$SIMQ" stats --json | grep -q "^  \"completed_retry\": 0,"'
server_ran_clean
done_testing
