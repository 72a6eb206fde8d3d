#!/bin/sh
# Idempotent submits (DESIGN 20, issue 14): a request key stores a submit once however often its
# answer is lost.  Over the API: a repeat gets the first request's ids, also after a restart, and
# a key used for another request is a fault.  Through the CLI: a server that dies after storing
# and before answering, one that stops answering, and kill -9 at random moments during 50 sweeps:
# every sweep is stored exactly once, and no sweep the CLI reported as failed was stored.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"

requires python3 awk
plan 21
export SIMQ_HOME="$TMP/state"
paused_config
M=$SRC/share/models/buck.plecs
stop_server() {
	[ -n "${stuck:-}" ] && kill -CONT "$stuck" 2>/dev/null
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
}
trap stop_server EXIT
killed=0

# py [ARG...]: runs the Python on stdin with `simq` (the API over the socket), `model`, fault()
# and by_name(); sys.argv[3:] are the ARGs.
py() {
	{
		cat <<'PY'
import sys
from api import proxy, fault
simq, model = proxy(sys.argv[1]).simq, sys.argv[2]
def by_name():
    """Every task, page by page: {name: [task, ...]}."""
    out, offset = {}, 0
    while True:
        page = simq.list({}, offset, 1000)
        for t in page["tasks"]:
            out.setdefault(t["name"], []).append(t)
        offset += 1000
        if offset >= page["total"]:
            return out
PY
		cat
	} >"$TMP/test.py"
	PYTHONPATH="$SRC/tests/lib" python3 "$TMP/test.py" "$SIMQ_HOME/simq.sock" "$M" "$@"
}

expect_status "a server starts" 0 "$SIMQ" server
expect_status "over the API, a repeated key answers the first ids and stores nothing" 0 py <<'PY'
tasks = [{"model": model, "name": "api", "vars": {"D": d / 10}} for d in range(1, 6)]
first = simq.submit_many(tasks, "sweep-key-1")
queued = simq.stats()["queued"]
assert simq.submit_many(tasks, "sweep-key-1") == first, "a repeat got other ids"
one = simq.submit({"model": model, "name": "api-one"}, "one-key")
assert simq.submit({"model": model, "name": "api-one"}, "one-key") == one
assert simq.stats()["queued"] == queued + 1, "a repeat stored something"
# The same request written differently (member order, a number as 0.5 or 5e-1) is the same request.
assert simq.submit({"name": "api-one", "model": model}, "one-key") == one
print(first[0], first[-1], one)
PY
read -r first last one <"$TMP/out"
expect_status "a key used for another request is a fault that says so, and nothing is stored" 0 py <<'PY'
queued = simq.stats()["queued"]
f = fault(simq.submit_many, [{"model": model, "name": "other"}], "sweep-key-1")
assert f.faultCode == 1 and 'request_key "sweep-key-1" was used for another request (simq.submit_many of tasks' in f.faultString, f.faultString
f = fault(simq.submit, {"model": model, "name": "api", "vars": {"D": 0.1}}, "sweep-key-1")
assert "was used for another request" in f.faultString, f.faultString
assert simq.stats()["queued"] == queued
PY
expect_status "a request key that is not one is a fault naming it and its value" 0 py <<'PY'
for key, words in [("", 'request_key "": allowed: text of 1 to 128 bytes'),
                   ("k" * 129, "129 bytes; at most 128 are allowed"),
                   ("a\u202eb", 'request_key "a\\u202eb": holds a bidirectional formatting character'),
                   ("a\nb", "holds a control character (U+000A"),
                   (7, "request_key 7: allowed: text")]:
    f = fault(simq.submit, {"model": model}, key)
    assert f.faultCode == 1 and f.faultString.startswith("simq.submit: request_key") and words in f.faultString, (key, f.faultString)
f = fault(simq.submit_many, [{"model": model}], "k", "extra")
assert "takes one array of task structs and an optional request key; it got 3 arguments" in f.faultString, f.faultString
PY
"$SIMQ" shutdown >/dev/null 2>&1
"$SIMQ" server >/dev/null
expect_status "after a restart, a repeated key still answers the first ids" 0 py "$first" "$last" "$one" <<'PY'
tasks = [{"model": model, "name": "api", "vars": {"D": d / 10}} for d in range(1, 6)]
ids = simq.submit_many(tasks, "sweep-key-1")
assert ids == list(range(int(sys.argv[3]), int(sys.argv[4]) + 1)), ids
assert simq.submit({"model": model, "name": "api-one"}, "one-key") == int(sys.argv[5])
assert len(by_name()["api"]) == 5
PY

# A server that dies after storing a sweep and before answering it.
"$SIMQ" shutdown >/dev/null 2>&1
SIMQ_TEST_DIE_AFTER_SUBMIT=1 "$SIMQ" server >/dev/null 2>&1
killed=$((killed + 1))
expect_status "the server dies after storing a sweep: the CLI asks again and succeeds" 0 \
	"$SIMQ" sweep "$M" D=1:100:1 --name dies
expect_in "it says the answer was lost" "$TMP/err" "closed the connection before answering"
expect_in "it says it asks again with the same key" "$TMP/err" "asking again with the same request key, so nothing is stored twice"
expect_in "it says the second answer came" "$TMP/err" "answered the second time: what follows is stored once"
expect_in "it prints the ids" "$TMP/out" "submitted 100 tasks:"
expect_status "the sweep is stored once" 0 py <<'PY'
assert len(by_name()["dies"]) == 100, len(by_name()["dies"])
PY
expect_in "the server logged that the key came again" "$SIMQ_HOME/simulation.log" "came again: answered with the first request's 100 tasks"

# A server that stops answering: the CLI asks twice, then says that whether anything was stored
# is not known, and how to finish; the command it names stores the sweep once.
printf '[server]\nclient_timeout = 1s\n[scheduler]\nstart_paused = true\n' >"$TMP/timeout.ini"
"$SIMQ" stats >/dev/null
stuck=$(cat "$SIMQ_HOME/simq.pid")
kill -STOP "$stuck"
expect_status "a stopped server: the CLI gives up after asking twice (exit 69)" 69 \
	"$SIMQ" sweep "$M" D=1:10:1 --name stuck -c "$TMP/timeout.ini"
expect_in "it says whether anything was stored is not known" "$TMP/err" "Whether anything was stored is not known."
key=$(sed -n 's/.*--request-key \(cli-[0-9a-f]*\):.*/\1/p' "$TMP/err")
[ -n "$key" ] && ok "it names the request key to finish with" || fail "it names the request key to finish with" "$(cat "$TMP/err")"
kill -CONT "$stuck"
stuck=
expect_status "the same command with --request-key finishes it" 0 \
	"$SIMQ" sweep "$M" D=1:10:1 --name stuck --request-key "$key"
expect_status "the sweep is stored once, though it was sent three times" 0 py <<'PY'
assert len(by_name()["stuck"]) == 10, len(by_name()["stuck"])
PY

# kill -9 at random moments during 50 sweeps of 1,000 tasks: the moment is drawn from the time a
# sweep takes here, so kills land before, during and after the server's work.
"$SIMQ" stats >/dev/null
t0=$(date +%s%N)
"$SIMQ" sweep "$M" D=1:1000:1 --name timing >/dev/null
window=$(( ($(date +%s%N) - t0) * 3 / 2 / 1000000 ))
: >"$TMP/runs"
i=0
while [ $i -lt 50 ]; do
	i=$((i + 1))
	"$SIMQ" stats >/dev/null 2>&1 # a server answers: the last one killed is replaced
	pid=$(cat "$SIMQ_HOME/simq.pid")
	"$SIMQ" sweep "$M" D=1:1000:1 --name "kill-$i" >"$TMP/kill-$i.out" 2>"$TMP/kill-$i.err" &
	cli=$!
	sleep "$(awk -v seed="$i" -v w="$window" 'BEGIN { srand(seed); printf "%.3f", rand() * w / 1000 }')"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$cli"
	echo "$i $?" >>"$TMP/runs"
done
lost=$(grep -l "asking again" "$TMP"/kill-*.err | wc -l)
again=$(grep -c "came again" "$SIMQ_HOME/simulation.log")
echo "# sweep window ${window} ms; $killed kills; $lost CLI runs lost an answer and asked again; the server logged $again repeated keys in all"
# Read from the database itself: what is stored is what counts.
expect_status "every sweep's 1,000 tasks exist exactly once, and every run that failed stored nothing" 0 \
	python3 - "$TMP" "$SIMQ_HOME/simq.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
stored = {name: (n, distinct, lo, hi) for name, n, distinct, lo, hi in db.execute(
    "SELECT name, COUNT(*), COUNT(DISTINCT vars), MIN(id), MAX(id) FROM tasks WHERE name LIKE 'kill-%' GROUP BY name")}
bad = []
for line in open(sys.argv[1] + "/runs"):
    i, status = line.split()
    n, distinct, lo, hi = stored.get("kill-" + i, (0, 0, 0, 0))
    printed = open("%s/kill-%s.out" % (sys.argv[1], i)).read().split()
    if status == "0" and (n, distinct, hi - lo) != (1000, 1000, 999):
        bad.append("sweep %s: %d tasks stored, %d distinct, ids %d-%d" % (i, n, distinct, lo, hi))
    elif status == "0" and printed[-1:] != ["%d-%d" % (lo, hi)]:
        bad.append("sweep %s: printed %s, stored %d-%d" % (i, printed, lo, hi))
    elif status != "0" and n:
        bad.append("sweep %s: the CLI exited %s, yet %d tasks are stored" % (i, status, n))
assert not bad, bad
print("ok")
PY
expect_status "no CLI run reported failure" 0 awk '$2 != 0 { print; bad = 1 } END { exit bad }' "$TMP/runs"
[ "$lost" -ge 1 ] && ok "some kills landed while a sweep was in flight ($lost)" ||
	fail "some kills landed while a sweep was in flight" "window ${window} ms"
# The servers ran clean: no sanitizer report, and no server started that the test cannot account
# for (one that crashed by itself would be replaced by the next command).  Only "at most": a
# kill -9 can take a server's "started" line with it, still in its buffer (DESIGN 8).
"$SIMQ" shutdown --no-start >/dev/null 2>&1 # returns once the server's process has ended
started=$(grep -c "Z server started (pid" "$SIMQ_HOME/simulation.log")
stopped=$(grep -c "Z server stopped$" "$SIMQ_HOME/simulation.log")
if grep -q "Sanitizer\|runtime error" "$SIMQ_HOME/server.err" 2>/dev/null; then
	fail "the servers ran clean (server.err, simulation.log)" "$(cat "$SIMQ_HOME/server.err")"
elif [ "$started" -gt $((stopped + killed)) ]; then
	fail "the servers ran clean (server.err, simulation.log)" "$started started, $stopped stopped, $killed killed by the test"
else
	ok "the servers ran clean (server.err, simulation.log): $started started, $stopped stopped, $killed killed"
fi
done_testing
