#!/bin/sh
# Archive and retention (issue 17, DESIGN 7) through real servers on a real plecs-emu and a real
# SQLite file: archive_after moves finished tasks out of the hot tables, and show, ls --archived,
# result, retry and the console's history still find them while the statistics windows stay as
# they were (before and after a restart); no hook hears of it; purge_after deletes archived tasks
# and their files; results_max_size evicts the least recently used file first and simq result
# says so; clean --dry-run counts what clean then removes; kill -9 during archiving loses nothing.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 46
trap stop_all EXIT
emu_up --speed 0

# ids_in WHERE...: the sorted ids of `simq ls --json` with those options, one line.
ids_in() {
	"$SIMQ" ls --limit 1000 --json "$@" | python3 -c 'import json, sys; print(sorted(t["id"] for t in json.load(sys.stdin)))'
}
# stats_windows FILE [restart]: the statistics windows and all-time counts, without what time moves
# (uptime); with restart, without the since-start window too (a new server starts it afresh).
stats_windows() {
	"$SIMQ" stats --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
s.pop("uptime")
if len(sys.argv) > 1:
    s["windows"].pop("since_start")
print(json.dumps(s, sort_keys=True))' ${2:-} >"$1"
}

# ---- archive_after -------------------------------------------------------------------------------
serve arch <<EOF2
[backend emu]
url = $url
[store]
archive_after = 2s
[notify]
on_completed = echo "\$SIMQ_TASK_ID completed" >>"$TMP/hooks.log"
on_cancelled = echo "\$SIMQ_TASK_ID cancelled" >>"$TMP/hooks.log"
on_failed = echo "\$SIMQ_TASK_ID failed" >>"$TMP/hooks.log"
EOF2
for v in 1 2 3 4; do "$SIMQ" submit "$M" -v R=$v --name "a$v" >/dev/null; done
"$SIMQ" wait 1 2 3 4 --timeout 60 >"$TMP/wait" 2>&1 || fail "tasks 1-4 complete" "$(cat "$TMP/wait")"
"$SIMQ" pause >/dev/null && "$SIMQ" submit "$M" --name a5 >/dev/null && "$SIMQ" cancel 5 >/dev/null && "$SIMQ" resume >/dev/null
poll 15 grep -q "^5 cancelled" "$TMP/hooks.log" || fail "the hooks ran" "$(cat "$TMP/hooks.log")"
stats_windows "$TMP/stats.before"
hooks_before=$(wc -l <"$TMP/hooks.log")
archived_all() { [ "$(ids_in --archived)" = "[1, 2, 3, 4, 5]" ]; }
if poll 15 archived_all; then ok "archive_after = 2s: the five finished tasks move to the archive"; else
	fail "archive_after = 2s: the five finished tasks move to the archive" "archived: $(ids_in --archived)" "hot: $(ids_in)"; fi
check "simq ls lists no archived task; ls --all lists them all" sh -c \
	"[ \"\$(SIMQ_HOME=$SIMQ_HOME '$SIMQ' ls --json | tr -d ' \n')\" = '[]' ] && [ \"\$(SIMQ_HOME=$SIMQ_HOME '$SIMQ' ls --all --json | grep -c '\"id\"')\" -eq 5 ]"
"$SIMQ" ls --all >"$TMP/ls" 2>&1
check "simq ls --all marks the archived rows (their state says \"archived\")" \
	[ "$(grep -c "completed, archived" "$TMP/ls")" = 4 -a "$(grep -c "cancelled, archived" "$TMP/ls")" = 1 ]
run_capture 1 "$SIMQ" retry --state cancelled
expect_in "retry --state cancelled, the match archived: says so and how to take it (--all)" "$TMP/err" \
	"simq retry: 1 archived task matches --state cancelled too (finished longer than [store] archive_after ago): add --all to take it"
expect_status "retry --state cancelled --all --dry-run takes the archived task 5 (and does nothing)" 0 \
	"$SIMQ" retry --state cancelled --all --dry-run
expect_line "it lists the archived task 5, cancelled" "$TMP/out" "5 cancelled"
"$SIMQ" ls --state completed >"$TMP/ls" 2>&1
expect_in "simq ls --state completed (none hot) says how many archived tasks match" "$TMP/ls" \
	"(4 archived tasks match too: --all lists them with these, --archived alone)"
# One step or more (a task that finished later comes due a moment later): their counts add up to 5.
moved=$(awk '/retention: archived [0-9]+ finished tasks/ { for (i = 1; i < NF; i++) if ($i == "archived") n += $(i + 1) } END { print n + 0 }' "$SIMQ_HOME/simulation.log")
check "simq.log says what the steps moved (archived 5 finished tasks in all)" [ "$moved" = 5 ]
"$SIMQ" show 3 >"$TMP/show3" 2>&1
expect_in "simq show finds an archived task and says it is archived" "$TMP/show3" "archived   yes"
pycheck "simq.get and simq.list carry archived: true; the attempts and the result summary are there" <<'PY'
t = api().simq.get(3)
assert t["archived"] is True and t["state"] == "completed", t
assert len(t["attempt_list"]) == 1 and t["result"]["points"] > 0, t
l = api().simq.list({"archived": True}, 0, 10)
assert l["total"] == 5 and all(x["archived"] for x in l["tasks"]), l
assert api().simq.list({}, 0, 10)["total"] == 0
PY
expect_status "simq result reads an archived task's result" 0 "$SIMQ" result 2 --csv
stats_windows "$TMP/stats.after"
check "stats --json: every window the same after the archive step" cmp "$TMP/stats.before" "$TMP/stats.after"
pycheck "the console's history (simq.view) still lists the archived tasks" <<'PY'
h = api().simq.view({"history": 200})["history"]
assert sorted(t["id"] for t in h) == [1, 2, 3, 4, 5] and all(t["archived"] for t in h), h
PY
"$SIMQ" retry 5 >"$TMP/retry" 2>&1
"$SIMQ" wait 6 --timeout 60 >/dev/null 2>&1
poll 15 sh -c "SIMQ_HOME=$SIMQ_HOME '$SIMQ' show 6 | grep -q 'archived   yes'"
pycheck "retry of an archived task: the copy's origin and the task's copies survive archiving both" <<'PY'
assert api().simq.get(6)["origin"] == 5 and api().simq.get(6)["archived"], api().simq.get(6)
assert api().simq.get(5)["copies"] == [6] and api().simq.get(5)["retried_as"] == 6, api().simq.get(5)
PY
poll 15 grep -q "^6 completed" "$TMP/hooks.log"
stats_windows "$TMP/stats.before" restart
"$SIMQ" shutdown >/dev/null 2>&1
"$SIMQ" server -c "$TMP/arch.ini" >/dev/null 2>"$TMP/err"
stats_windows "$TMP/stats.after" restart
check "stats --json: every window the same after a restart reads them back from the archive" \
	cmp "$TMP/stats.before" "$TMP/stats.after"
pycheck "after a restart the history lists the archived tasks, newest first, and ids go on past them" "$M" <<'PY'
h = [t["id"] for t in api().simq.view({"history": 200})["history"]]
assert h[:2] == [6, 5] and sorted(h) == [1, 2, 3, 4, 5, 6], h
assert api().simq.submit({"model": sys.argv[1], "no_cache": True}) == 7
PY
"$SIMQ" wait 7 --timeout 60 >/dev/null 2>&1
poll 15 grep -q "^7 completed" "$TMP/hooks.log"
pycheck "the history's pages come from the store, hot and archived: history_offset and history_state" <<'PY'
v = api().simq.view({"history": 2, "history_offset": 2, "queue_limit": 0})
assert [t["id"] for t in v["history"]] == [5, 4], v["history"]
v = api().simq.view({"history": 200, "history_state": "cancelled", "queue_limit": 0})
assert [t["id"] for t in v["history"]] == [5] and v["history"][0]["archived"], v["history"]
try:
    api().simq.view({"history": 10, "history_state": "queued"})
    assert False, "history_state queued was taken"
except xmlrpc.client.Fault as f:
    assert f.faultCode == 1 and "history_state" in f.faultString, f
PY
hooks_before=$((hooks_before + 2))

# ---- simq clean ----------------------------------------------------------------------------------
snapshot() {
	python3 - "$SIMQ_HOME" <<'PY'
import os, sqlite3, sys
db = sqlite3.connect(os.path.join(sys.argv[1], "simq.db"))
# Hot and archived together: an archive step may move rows between the two at any moment.
for hot, archived in (("tasks", "archived_tasks"), ("attempts", "archived_attempts")):
    print(hot, sum(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in (hot, archived)))
print("results", db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
for root, _, files in os.walk(os.path.join(sys.argv[1], "results")):
    for f in sorted(files):
        print(f, os.path.getsize(os.path.join(root, f)))
PY
}
snapshot >"$TMP/snap.before"
"$SIMQ" clean --dry-run --state completed --json >"$TMP/dry.json" 2>&1
snapshot >"$TMP/snap.after"
check "clean --dry-run changes nothing (rows and files)" cmp "$TMP/snap.before" "$TMP/snap.after"
"$SIMQ" clean --dry-run --state completed >"$TMP/dry.txt" 2>&1
expect_in "clean --dry-run says what it would remove" "$TMP/dry.txt" "would remove 6 tasks (completed 6), "
"$SIMQ" clean --state completed --json >"$TMP/clean.json" 2>&1
pycheck "clean removes what the dry run counted (tasks, files, bytes), hot and archived, and their files" \
	"$TMP/dry.json" "$TMP/clean.json" <<'PY'
d, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert d["dry_run"] and not c["dry_run"], (d, c)
assert {k: v for k, v in d.items() if k != "dry_run"} == {k: v for k, v in c.items() if k != "dry_run"}, (d, c)
assert c["tasks"] == 6 and c["completed"] == 6 and c["files"] == 6 and c["bytes"] > 0, c
left = [t["id"] for t in cli("ls", "--all")]
assert left == [5], left
files = [f for _, _, fs in os.walk(os.path.join(os.environ["SIMQ_HOME"], "results")) for f in fs]
assert files == [], files
PY
run_capture 64 "$SIMQ" clean --state running
expect_in "clean --state running is refused, saying why" "$TMP/err" "finished tasks only"
"$SIMQ" sweep "$M" R=1:101:1 --name nightA >/dev/null 2>&1
"$SIMQ" wait 8-108 --timeout 120 >/dev/null 2>&1
# --model is a model as ls and cancel take it (its path, file name, model name, last directories,
# or a shell pattern), never any part of the path: "models" (a directory of every model here) takes none.
"$SIMQ" clean --model models --dry-run >"$TMP/dry.txt" 2>&1
expect_in "clean --model models (a directory's name, part of every path) takes no task" "$TMP/dry.txt" \
	"would remove 0 tasks, "
"$SIMQ" clean --model models/rc.plecs --dry-run >"$TMP/dry.txt" 2>&1
"$SIMQ" clean --model rc --dry-run >>"$TMP/dry.txt" 2>&1
"$SIMQ" clean --model 'r*.plecs' --dry-run >>"$TMP/dry.txt" 2>&1
check "clean --model models/rc.plecs, rc and 'r*.plecs' take all 102 (the last directory and file, the model name, a pattern)" \
	[ "$(grep -c "would remove 102 tasks" "$TMP/dry.txt")" = 3 ]
"$SIMQ" clean --name 'night*' --dry-run >"$TMP/dry.txt" 2>&1
"$SIMQ" clean --name nightA --model rc --dry-run >>"$TMP/dry.txt" 2>&1
check "clean --name 'night*' and --name nightA --model rc take the sweep's 101 (not the cancelled a5)" \
	[ "$(grep -c "would remove 101 tasks (completed 101)" "$TMP/dry.txt")" = 2 ]
run_capture 64 "$SIMQ" clean --model rc </dev/null
expect_in "clean of more than 100 tasks off a terminal needs --yes, and removes nothing" "$TMP/err" \
	"simq clean would remove 102 tasks (completed 101, cancelled 1), "
poll 15 sh -c "[ \$(wc -l <'$TMP/hooks.log') -ge $((hooks_before + 101)) ]"
stats_windows "$TMP/stats.kept"
stats_windows "$TMP/stats.kept.restart" restart
expect_status "clean --yes removes them" 0 "$SIMQ" clean --model rc --yes
expect_in "and says what it freed" "$TMP/out" "removed 102 tasks (completed 101, cancelled 1), "
run_capture 65 "$SIMQ" show 50
expect_in "simq show of a cleaned task says it was removed by simq clean, and when (not \"no task\")" "$TMP/err" \
	"simq show: task 50 was removed by simq clean on 20"
stats_windows "$TMP/stats.after"
check "stats --json: every window the same after the clean (the last 24 h and all time keep them)" \
	cmp "$TMP/stats.kept" "$TMP/stats.after"
"$SIMQ" shutdown >/dev/null 2>&1
"$SIMQ" server -c "$TMP/arch.ini" >/dev/null 2>"$TMP/err"
stats_windows "$TMP/stats.after" restart
check "stats --json: the last 24 h and all time the same after clean and a restart (kept apart from the tasks)" \
	cmp "$TMP/stats.kept.restart" "$TMP/stats.after"
hooks_after=$(wc -l <"$TMP/hooks.log")
check "no hook ran for archiving or cleaning (only the tasks' own completions)" \
	[ "$hooks_after" -eq $((hooks_before + 101)) ]

# ---- purge_after ---------------------------------------------------------------------------------
serve purge <<EOF2
[backend emu]
url = $url
[store]
archive_after = 1s
purge_after = 3s
EOF2
for v in 1 2 3; do "$SIMQ" submit "$M" -v R=$v >/dev/null; done
"$SIMQ" wait 1 2 3 --timeout 60 >/dev/null 2>&1
[ -f "$SIMQ_HOME/results/0/3.mat" ] || fail "task 3's file is written"
poll 20 grep -q "purged 3 archived tasks (3 result files, " "$SIMQ_HOME/simulation.log"
pycheck "purge_after = 3s: the archived tasks, their attempts and their files are gone" <<'PY'
import sqlite3
db = sqlite3.connect(os.path.join(os.environ["SIMQ_HOME"], "simq.db"))
n = [db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("tasks", "archived_tasks", "attempts", "archived_attempts", "results")]
assert n == [0] * 5, n
assert not os.path.exists(os.path.join(os.environ["SIMQ_HOME"], "results/0/1.mat"))
assert cli("stats")["completed_first"] == 3, "all-time counts keep the purged tasks"
PY
run_capture 65 "$SIMQ" show 2
expect_in "simq show of a purged task says it was purged by purge_after, and when" "$TMP/err" \
	"simq show: task 2 was purged on 20"
expect_in "and names the setting" "$TMP/err" "([store] purge_after)"
check "the retention log says only what a step did (no \"archived 0\", \"purged 0\" or \"evicted 0\")" \
	sh -c "grep -q 'retention: ' '$SIMQ_HOME/simulation.log' && ! grep -Eq 'archived 0 |purged 0 |evicted 0 ' '$SIMQ_HOME/simulation.log'"
run_capture 65 "$SIMQ" show 99
expect_in "an id never used is still \"no task\"" "$TMP/err" "simq show: no task 99"

# ---- results_max_size ----------------------------------------------------------------------------
export SIMQ_TEST_RETAIN_GRACE_MS=1
serve evict <<EOF2
[backend emu]
url = $url
EOF2
"$SIMQ" submit "$M" --no-cache >/dev/null && "$SIMQ" wait 1 --timeout 60 >/dev/null 2>&1
size=$(stat -c %s "$SIMQ_HOME/results/0/1.mat")
"$SIMQ" shutdown >/dev/null 2>&1
printf '[backend emu]\nurl = %s\n[store]\nresults_max_size = %s\n' "$url" $((size * 7 / 2)) >"$TMP/evict.ini"
"$SIMQ" server -c "$TMP/evict.ini" >/dev/null 2>"$TMP/err"
for n in 2 3; do "$SIMQ" submit "$M" --no-cache >/dev/null && "$SIMQ" wait $n --timeout 60 >/dev/null 2>&1; done
"$SIMQ" result 1 >/dev/null 2>&1 # served: now the most recently used
"$SIMQ" submit "$M" --no-cache >/dev/null && "$SIMQ" wait 4 --timeout 60 >/dev/null 2>&1
poll 15 grep -q "evicted 1 result files" "$SIMQ_HOME/simulation.log"
check "results_max_size (3.5 files): the least recently used file goes (task 2: 1 was served since)" sh -c \
	"cd '$SIMQ_HOME/results/0' && [ ! -e 2.mat ] && [ -e 1.mat ] && [ -e 3.mat ] && [ -e 4.mat ]"
run_capture 74 "$SIMQ" result 2
expect_in "simq result says the file was evicted, when and why" "$TMP/err" \
	"the result of task 2 was evicted on "
pycheck "an evicted task keeps its row and summary" <<'PY'
t = api().simq.get(2)
assert t["state"] == "completed" and t["result"]["summary"]["sig1"]["max"] > 0 and t["result"]["evicted"], t
PY
expect_in "the size in the log is binary, as simq.ini reads it (KiB)" "$SIMQ_HOME/simulation.log" "KiB) to keep results/ under "
"$SIMQ" show 2 >"$TMP/show2" 2>&1
expect_in "simq show of an evicted task says when and why, as simq result's message promises" "$TMP/show2" \
	"result     evicted 20"
check "and shows the summary kept" sh -c "grep -qF '([store] results_max_size); its summary is kept:' '$TMP/show2' && grep -q '^sig1 ' '$TMP/show2'"
"$SIMQ" submit "$M" >/dev/null # the same case: completed from a stored result
"$SIMQ" show 5 >"$TMP/show5" 2>&1
expect_in "simq show of a cached task: no attempts, completed from the cache (not \"yet\")" "$TMP/show5" \
	"no attempts: completed from the cache"
unset SIMQ_TEST_RETAIN_GRACE_MS

# ---- kill -9 during archiving ----------------------------------------------------------------------
mkdir -p -m 700 "$TMP/crash"
printf '[backend emu]\nurl = %s\n' "$url" >"$TMP/crash.ini"
SIMQ_HOME=$TMP/crash "$SIMQ" server -c "$TMP/crash.ini" >/dev/null 2>&1
SIMQ_HOME=$TMP/crash "$SIMQ" shutdown >/dev/null 2>&1
python3 - "$TMP/crash/simq.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executemany("INSERT INTO tasks (id, model, vars, solver, priority, state, attempts, attempt_rows, submitted, started, finished) "
               "VALUES (?, '/m/rc.plecs', '{}', '{}', 2, 2, 1, 1, ?, ?, ?)", ((i, i, i, 1000 + i) for i in range(1, 60001)))
db.executemany("INSERT INTO attempts (task_id, n, backend, started, ended, outcome) VALUES (?, 1, 'emu', ?, ?, 1)",
               ((i, i, 1000 + i) for i in range(1, 60001)))
db.commit()
PY
serve crash <<EOF2
[backend emu]
url = $url
[store]
archive_after = 1s
EOF2
pid=$(cat "$SIMQ_HOME/simq.pid")
midway() {
	python3 -c "
import sqlite3, sys
n = sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM archived_tasks').fetchone()[0]
sys.exit(0 if 0 < n < 60000 else 1)" "$SIMQ_HOME/simq.db"
}
if poll 20 midway; then ok "the server is killed with -9 while it archives (some archived, not all)"; else
	fail "the server is killed with -9 while it archives (some archived, not all)"; fi
kill -9 "$pid"
every_task_once() {
	python3 - "$SIMQ_HOME/simq.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
hot = {r[0] for r in db.execute("SELECT id FROM tasks")}
arch = {r[0] for r in db.execute("SELECT id FROM archived_tasks")}
assert not hot & arch and hot | arch == set(range(1, 60001)), (len(hot), len(arch), len(hot & arch))
for t, a in (("tasks", "attempts"), ("archived_tasks", "archived_attempts")):
    ids = {r[0] for r in db.execute(f"SELECT id FROM {t}")}
    att = [r[0] for r in db.execute(f"SELECT task_id FROM {a}")]
    assert sorted(att) == sorted(ids), (t, len(att), len(ids))
if sys.argv[2] == "all":
    assert not hot, len(hot)
PY
}
if every_task_once some >"$TMP/py.out" 2>&1; then ok "after kill -9: every task once, hot or archived, with its attempt beside it"; else
	fail "after kill -9: every task once, hot or archived, with its attempt beside it" "$(tail -3 "$TMP/py.out")"; fi
"$SIMQ" server -c "$TMP/crash.ini" >/dev/null 2>"$TMP/err"
all_archived() { every_task_once all; }
if poll 30 all_archived; then ok "started again, the server archives the rest: all 60,000 once"; else
	fail "started again, the server archives the rest: all 60,000 once" "$(every_task_once all 2>&1 | tail -3)"; fi
