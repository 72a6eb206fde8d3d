#!/bin/sh
# The result cache (DESIGN 7, issue 17) against a real server and a real plecs-emu, counting the
# plecs.simulate cases plecs-emu received (emu.calls): a sweep run twice costs nothing the second
# time and gives the same results; the model's bytes count, not its path; every text of one
# double is one value; another OutputFormat misses; simq cache why names what differs; no_cache
# runs; two identical tasks queued at once make one call, and a waiter whose twin failed runs; a
# model edited with its size and mtime kept is loaded again and its result keyed by its new bytes.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 34
trap stop_all EXIT

mkdir -p "$TMP/models" "$TMP/elsewhere"
cp "$SRC/share/models/rc.plecs" "$TMP/models/rc.plecs"
M=$TMP/models/rc.plecs
emu_up
config() {
	printf '[backend emu]\nurl = %s\nmax_batch = 16\noutput_format = %s\n[scheduler]\nstart_paused = true\n' "$url" "$1"
}
config plain >"$TMP/plain.ini"
serve cache <"$TMP/plain.ini"

# cases: how many cases plecs-emu was asked to simulate so far.
cases() {
	python3 -c "import sys, xmlrpc.client
print(sum(c['cases'] for c in xmlrpc.client.ServerProxy(sys.argv[1]).emu.calls() if c['method'] == 'plecs.simulate'))" "$url"
}
# field ID KEY: a field of simq show ID --json.
field() {
	"$SIMQ" show "$1" --json | python3 -c "import json, sys; t = json.load(sys.stdin); print(t.get('result', {}).get('source', 0) if sys.argv[1] == 'source' else t[sys.argv[1]])" "$2"
}
# ran NAME ID BEFORE: passes when task ID ran (one more case than BEFORE) and is not cached.
ran() {
	[ "$(cases)" = $(($3 + 1)) ] && [ "$(field "$2" cached)" = False ] && ok "$1" ||
		fail "$1" "$(cases) cases after $3" "$("$SIMQ" show "$2")"
}
# run_all ID...: resume, wait for the tasks, pause again.
run_all() {
	"$SIMQ" resume >/dev/null
	"$SIMQ" wait "$@" --timeout 60 >/dev/null
	"$SIMQ" pause >/dev/null
}

# ---- 1. a sweep twice ---------------------------------------------------------------------------
"$SIMQ" sweep "$M" R=500:2000:500 >/dev/null
run_all 1 2 3 4
before=$(cases)
"$SIMQ" sweep "$M" R=500:2000:500 >/dev/null
"$SIMQ" wait 5 6 7 8 --timeout 30 >"$TMP/wait" 2>&1
[ "$(cases)" = "$before" ] && [ "$before" -ge 4 ] && [ "$(grep -c completed "$TMP/wait")" = 4 ] &&
	ok "the second sweep completes with no PLECS call (paused, even)" ||
	fail "the second sweep completes with no PLECS call (paused, even)" "cases $before -> $(cases)" "$(cat "$TMP/wait")"
same=yes
for i in 1 2 3 4; do
	"$SIMQ" result "$i" --csv >"$TMP/a.csv" && "$SIMQ" result $((i + 4)) --csv >"$TMP/b.csv" && [ -s "$TMP/a.csv" ] &&
		cmp -s "$TMP/a.csv" "$TMP/b.csv" || same="no: task $i and $((i + 4))"
done
[ "$same" = yes ] && ok "simq result --csv of each cached task is its source's" || fail "simq result --csv of each cached task is its source's" "$same"
[ "$(field 5 cached)" = True ] && [ "$(field 5 attempts)" = 0 ] && [ "$(field 5 source)" = 1 ] &&
	ok "a cached task: cached, no attempt, its result names task 1" ||
	fail "a cached task: cached, no attempt, its result names task 1" "$("$SIMQ" show 5 --json)"
"$SIMQ" show 6 >"$TMP/show"
expect_in "simq show says whose result it reused" "$TMP/show" "result reused from task 2 (cached)"
expect_in "simq show: a cached task's attempts are none, and will be none" "$TMP/show" \
	"no attempts: completed from the cache, no PLECS call"
"$SIMQ" ls >"$TMP/ls"
"$SIMQ" result 6 >"$TMP/result"
grep -q "^ *6 .*completed (cached from 2)" "$TMP/ls" && grep -q "^ *2 .*completed  " "$TMP/ls" &&
	grep -qx "cached: the result of task 2, reused with no PLECS call" "$TMP/result" &&
	ok "simq ls and simq result mark a cached task and its source" ||
	fail "simq ls and simq result mark a cached task and its source" "$(cat "$TMP/ls" "$TMP/result")"
pycheck "statistics: 4 cached, never first-try successes; the rates stay over PLECS runs" <<'PY'
s = stats()
for w in ("since_start", "day", "all"):
    c = s["windows"][w]
    assert (c["cached"], c["completed_first"], c["completed_retry"]) == (4, 4, 0), (w, c)
assert s["success_rate"] == 1.0, s
PY
pycheck "throughput and the ETA count PLECS's completions; the cache's are on their own" <<'PY'
t = api().simq.view({})["throughput"]
assert (sum(t["per_minute"]), sum(t["cached_per_minute"])) == (4, 4), t
assert t["per_hour"] > 0 and t["cached_per_hour"] > 0, t
PY
"$SIMQ" stats >"$TMP/stats"
expect_line "simq stats has the cached line" "$TMP/stats" "cached                 4 completed from the cache, no PLECS call"
expect_in "simulation.log: a completed event that says cached" "$SIMQ_HOME/simulation.log" \
	" 5 completed from the cache (result of task 1)"
paths=$(for i in 1 5; do "$SIMQ" result "$i" --json | python3 -c "import json, sys; print(json.load(sys.stdin)['path'])"; done | sort -u | wc -l)
files=$(find "$SIMQ_HOME/results" -type f | wc -l)
[ "$paths" = 1 ] && [ "$files" = 4 ] && ok "no copy of a result file: 4 files for 8 tasks" ||
	fail "no copy of a result file: 4 files for 8 tasks" "$paths paths, $files files"

# ---- 2. what counts -----------------------------------------------------------------------------
cp "$M" "$TMP/elsewhere/rc.plecs"
before=$(cases)
id=$("$SIMQ" submit "$TMP/elsewhere/rc.plecs" -v R=500)
"$SIMQ" wait "$id" --timeout 30 >/dev/null
[ "$(cases)" = "$before" ] && [ "$(field "$id" cached)" = True ] && ok "the same bytes at another path hit" ||
	fail "the same bytes at another path hit" "$("$SIMQ" show "$id")"

printf '%% edited\n' >>"$M"
id=$("$SIMQ" submit "$M" -v R=500)
run_all "$id"
ran "the model edited in place (same path) misses" "$id" "$before"
"$SIMQ" cache why "$id" >"$TMP/why"
expect_in "cache why: the model file changed" "$TMP/why" "model file changed (bytes differ from task 1's run, "

# Typed 0.42 runs; the same double written as xmlrpc-c alone misreads it ("0.42", which it would
# take as 0.42000000000000004) and as %.17g prints it hits; the next double up is another value.
typed=$("$SIMQ" submit "$M" -v R=0.42)
run_all "$typed"
pycheck "every text of the double 0.42 hits the typed 0.42; 0.42000000000000004 does not" "$M" "$typed" <<'PY'
model, typed = sys.argv[1], int(sys.argv[2])
def submit(text):
    body = ("<?xml version='1.0'?><methodCall><methodName>simq.submit</methodName><params><param><value><struct>"
            "<member><name>model</name><value><string>%s</string></value></member>"
            "<member><name>vars</name><value><struct><member><name>R</name><value><double>%s</double></value>"
            "</member></struct></value></member></struct></value></param></params></methodCall>" % (model, text))
    c = _Conn("localhost")
    c.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
    return xmlrpc.client.loads(c.getresponse().read())[0][0]
for text in ("0.42", "0.41999999999999998", "4.2e-1", "0.420"):
    t = show(submit(text))
    assert t["state"] == "completed" and t["cached"] and t["result"]["source"] == typed, (text, t)
t = show(submit("0.42000000000000004"))
assert t["state"] == "queued" and not t["cached"], t
PY
"$SIMQ" cache why $((typed + 5)) >"$TMP/why"
expect_in "cache why: the variable that differs" "$TMP/why" "variable R: 0.42000000000000004 here, 0.42 in task $typed"

before=$(cases)
id=$("$SIMQ" submit "$M" -v R=500 --no-cache)
run_all "$id"
[ "$(cases)" = $((before + 2)) ] && [ "$(field "$id" cached)" = False ] && [ "$(field "$id" attempts)" = 1 ] &&
	ok "--no-cache runs though the result is stored" || fail "--no-cache runs though the result is stored" "$(cases) cases after $before"
"$SIMQ" cache why "$id" >"$TMP/why"
expect_in "cache why: the same key, and no_cache" "$TMP/why" "this task asked for no_cache, so it ran"
# --no-cache refreshes the entry: the next submit reuses that newest run, not the one before it.
fresh=$("$SIMQ" submit "$M" -v R=500)
"$SIMQ" wait "$fresh" --timeout 30 >/dev/null
[ "$(field "$fresh" cached)" = True ] && [ "$(field "$fresh" source)" = "$id" ] &&
	ok "a --no-cache run refreshes the cache: the next submit reuses it" ||
	fail "a --no-cache run refreshes the cache: the next submit reuses it" "$("$SIMQ" show "$fresh")"

# Another OutputFormat: the same server's state with a MatFile backend.
"$SIMQ" shutdown >/dev/null
config matfile >"$TMP/matfile.ini"
serve cache <"$TMP/matfile.ini"
before=$(cases)
id=$("$SIMQ" submit "$M" -v R=500)
run_all "$id"
ran "another OutputFormat misses" "$id" "$before"
"$SIMQ" cache why "$id" >"$TMP/why"
expect_in "cache why: the output format" "$TMP/why" "output format matfile here, plain in task"
"$SIMQ" cache why 5 >"$TMP/why"
expect_in "cache why of a cached task names its source" "$TMP/why" "result reused from task 1 (cached)"

# ---- 3. twins in the queue --------------------------------------------------------------------------
before=$(cases)
a=$("$SIMQ" submit "$M" -v R=777)
b=$("$SIMQ" submit "$M" -v R=777)
run_all "$a" "$b"
[ "$(cases)" = $((before + 1)) ] && [ "$(field "$a" attempts)" = 1 ] && [ "$(field "$b" cached)" = True ] &&
	[ "$(field "$b" source)" = "$a" ] && ok "two identical tasks queued at once: one PLECS call, both completed" ||
	fail "two identical tasks queued at once: one PLECS call, both completed" "$(cases) cases after $before" "$("$SIMQ" ls)"
expect_in "the log says the second waits for the first" "$SIMQ_HOME/simulation.log" "task $b waits for task $a, which runs the same case"

inject fault 1
a=$("$SIMQ" submit "$M" -v R=778)
b=$("$SIMQ" submit "$M" -v R=778)
run_all "$a" "$b"
[ "$(field "$a" state)" = failed ] && [ "$(field "$b" state)" = completed ] && [ "$(field "$b" attempts)" = 1 ] &&
	[ "$(field "$b" cached)" = False ] && ok "a twin that failed: the one that waited runs itself and completes" ||
	fail "a twin that failed: the one that waited runs itself and completes" "$("$SIMQ" show "$a")" "$("$SIMQ" show "$b")"
# The first of two twins cancelled while queued, and a --no-cache copy of the case queued too: the
# copy runs anyway, so the waiting twin waits for it; one PLECS case for the three.
before=$(cases)
a=$("$SIMQ" submit "$M" -v R=901)
b=$("$SIMQ" submit "$M" -v R=901)
c=$("$SIMQ" submit "$M" -v R=901 --no-cache)
"$SIMQ" cancel "$a" >/dev/null
run_all "$b" "$c"
[ "$(cases)" = $((before + 1)) ] && [ "$(field "$c" cached)" = False ] && [ "$(field "$b" cached)" = True ] &&
	[ "$(field "$b" source)" = "$c" ] && ok "a no_cache copy queued with a waiting twin is its runner: one PLECS case" ||
	fail "a no_cache copy queued with a waiting twin is its runner: one PLECS case" "$(cases) cases after $before" \
		"$("$SIMQ" ls)"

# ---- 4. a model edited in place with its size and mtime kept ----------------------------------------
# cp -p, rsync -a and touch -d put the mtime back: the bytes decide what PLECS loads, and the result
# is stored under the key of the bytes PLECS ran.  rc: Vc(end) = Vin (1 - e^(-TimeSpan / RC)), RC 1 ms.
E=$TMP/models/e1.plecs
sed 's/^  Name          "rc"/  Name          "e1"/' "$SRC/share/models/rc.plecs" >"$E"
a=$("$SIMQ" submit "$E" -v Vin=10)
run_all "$a"
cp -p "$E" "$TMP/e1.bak"
sed -i 's/TimeSpan      "5e-3"/TimeSpan      "2e-3"/' "$E"
touch -r "$TMP/e1.bak" "$E"
[ "$(stat -c %s.%Y "$E")" = "$(stat -c %s.%Y "$TMP/e1.bak")" ] && ! cmp -s "$E" "$TMP/e1.bak" ||
	fail "the edit keeps size and mtime" "$(stat -c %s.%Y "$E" "$TMP/e1.bak")"
b=$("$SIMQ" submit "$E" -v Vin=10)
run_all "$b"
c=$("$SIMQ" submit "$E" -v Vin=10)
"$SIMQ" wait "$c" --timeout 30 >/dev/null
pycheck "same size and mtime, other bytes: PLECS loads them again and runs them; the cache serves that result" \
	"$url" "$a" "$b" "$c" <<'PY'
url, a, b, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def final(t): return t["result"]["summary"]["sig1"]["final"]
ta, tb, tc = show(a), show(b), show(c)
assert abs(final(ta) - 10 * (1 - 2.718281828459045 ** -5)) < 1e-3, ta["result"]
assert abs(final(tb) - 10 * (1 - 2.718281828459045 ** -2)) < 1e-3, ("the old model ran", tb["result"])
loads = [x for x in emu(url).emu.calls() if x["method"] == "plecs.load" and "e1" in x["model"]]
assert len(loads) == 2, loads
assert tc["cached"] and tc["result"]["source"] == b and final(tc) == final(tb), tc
PY

# ---- 5. a damaged result file is no hit ------------------------------------------------------------
# Task b's file cut short (a full disk, a stray > file): the next submit runs, the entry leaves the
# cache (logged once), and the submit after it reuses the new run.
f=$("$SIMQ" result "$b" --json | python3 -c "import json, sys; print(json.load(sys.stdin)['path'])")
truncate -s $(($(stat -c %s "$f") / 2)) "$f"
before=$(cases)
d=$("$SIMQ" submit "$E" -v Vin=10)
run_all "$d"
ran "a result file cut short is no hit: the case runs" "$d" "$before"
e=$("$SIMQ" submit "$E" -v Vin=10)
"$SIMQ" wait "$e" --timeout 30 >/dev/null
[ "$(field "$e" source)" = "$d" ] && [ "$(grep -c "leaves the cache: $f holds" "$SIMQ_HOME/simulation.log")" = 1 ] &&
	ok "the damaged entry leaves the cache, logged once; the next submit reuses the new run" ||
	fail "the damaged entry leaves the cache, logged once; the next submit reuses the new run" \
		"$("$SIMQ" show "$e")" "$(grep 'leaves the cache' "$SIMQ_HOME/simulation.log")"

# ---- 6. the task that ran is cleaned, the one that reused its file is kept ---------------------------
# The same bytes at another path reuse x's file; cleaning x's model path keeps the file for y, and the
# cache entry goes with it to y's row: the next submit still hits, and cache why finds the entry.
mkdir -p "$TMP/copy"
cp "$E" "$TMP/copy/e1.plecs"
x=$("$SIMQ" submit "$E" -v Vin=42)
run_all "$x"
y=$("$SIMQ" submit "$TMP/copy/e1.plecs" -v Vin=42)
"$SIMQ" wait "$y" --timeout 30 >/dev/null
"$SIMQ" clean --model "$E" --yes >"$TMP/clean" 2>&1
before=$(cases)
z=$("$SIMQ" submit "$E" -v Vin=42)
"$SIMQ" wait "$z" --timeout 30 >/dev/null
[ "$(field "$y" source)" = "$x" ] && ! "$SIMQ" show "$x" >/dev/null 2>&1 && [ "$(field "$z" cached)" = True ] &&
	[ "$(cases)" = "$before" ] && "$SIMQ" result "$z" --csv >/dev/null &&
	ok "the task that ran cleaned, its file kept for another: a new submit still hits" ||
	fail "the task that ran cleaned, its file kept for another: a new submit still hits" "$(cat "$TMP/clean")" \
		"$("$SIMQ" show "$z")"

# ---- 7. cache why: what the cache held when the task was submitted ---------------------------------
# A second sweep changes C: its R=1000 task ran because C is new, not because of R (a sibling of the
# same sweep, run after it was submitted, differs only in R).
W=$TMP/models/w1.plecs
sed 's/^  Name          "rc"/  Name          "w1"/' "$SRC/share/models/rc.plecs" >"$W"
s1=$("$SIMQ" sweep "$W" R=1000,2000 C=1e-6 | grep -o '[0-9]*-[0-9]*')
run_all $(seq ${s1%-*} ${s1#*-})
s2=$("$SIMQ" sweep "$W" R=1000,2000 C=2e-6 | grep -o '[0-9]*-[0-9]*')
run_all $(seq ${s2%-*} ${s2#*-})
pycheck "cache why compares with the entries there when the task was submitted, and names what differs" \
	"${s1%-*}" "${s1#*-}" "${s2%-*}" "${s2#*-}" <<'PY'
first = range(int(sys.argv[1]), int(sys.argv[2]) + 1)
second = range(int(sys.argv[3]), int(sys.argv[4]) + 1)
r1000 = [i for i in second if show(i)["vars"]["R"] == 1000][0]
before = [i for i in first if show(i)["vars"]["R"] == 1000][0]
w = api().simq.cache_why(r1000)
assert w["nearest"] == before and w["reasons"] == ["variable C: 2e-06 here, 1e-06 in task %d" % before], w
w = api().simq.cache_why(min(first))
assert w["nearest"] == 0 and w["reasons"] == ["no stored result of this model (its path or its bytes) when it was submitted"], w
PY

server_ran_clean

# ---- 8. cache why after an eviction ----------------------------------------------------------------
# results_max_size evicts the least recently used file; the same case then runs, and cache why says
# the entry was evicted (never that a submit reuses it).
export SIMQ_TEST_RETAIN_GRACE_MS=1
printf '[backend emu]\nurl = %s\n' "$url" >"$TMP/cwhy1.ini"
serve cwhy <"$TMP/cwhy1.ini"
first=$("$SIMQ" submit "$E" -v Vin=7)
"$SIMQ" wait "$first" --timeout 30 >/dev/null
size=$(stat -c %s "$("$SIMQ" result "$first" --json | python3 -c "import json, sys; print(json.load(sys.stdin)['path'])")")
"$SIMQ" shutdown >/dev/null 2>&1
printf '[backend emu]\nurl = %s\n[store]\nresults_max_size = %s\n' "$url" $((size * 3 / 2)) >"$TMP/cwhy2.ini"
serve cwhy <"$TMP/cwhy2.ini"
other=$("$SIMQ" submit "$E" -v Vin=8)
"$SIMQ" wait "$other" --timeout 30 >/dev/null
poll 15 grep -q "evicted 1 result files" "$SIMQ_HOME/simulation.log"
again=$("$SIMQ" submit "$E" -v Vin=7)
"$SIMQ" wait "$again" --timeout 30 >/dev/null
"$SIMQ" cache why "$again" >"$TMP/why"
[ "$(field "$again" cached)" = False ] && grep -q "task $first's result was evicted on .* (results_max_size): this case ran again" "$TMP/why" &&
	! grep -q "reuses it" "$TMP/why" && ok "cache why of a case run again after its file was evicted says so" ||
	fail "cache why of a case run again after its file was evicted says so" "$(cat "$TMP/why")" "$("$SIMQ" show "$again")"
unset SIMQ_TEST_RETAIN_GRACE_MS
server_ran_clean
done_testing
