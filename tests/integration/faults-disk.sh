#!/bin/sh
# Whose fault is it (issue 13, DESIGN 6), simq's own side, through the CLI, real servers and a real
# plecs-emu: a results filesystem that fills (a 256 kB tmpfs on results/) fails no task and spends no
# attempt; dispatch pauses by itself and says why; stats, ls and show agree; after room is made and
# simq resume, everything completes.  A symlink planted at a shard folder or at a result's temporary
# name gets nothing written through it; the task says why, and completes once the link is gone.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 21
mounted=
cleanup() {
	stop_all
	[ -n "$mounted" ] && { umount "$mounted" 2>/dev/null || umount -l "$mounted"; }
}
trap cleanup EXIT
emu_up

# ---- A results filesystem that fills -------------------------------------------------------
# rc with MaxStep 5e-7 gives 10,001 points, a MAT file of 85-122 kB (the default results_format; its
# CSV would be 410 kB): two fit in 256 kB, the third does not, and it fills while the writer thread
# writes it.
# Before issue 13 the tasks spent their retries on it and ended FAILED, blamed on PLECS.
DISK_CHECKS=10
home=$TMP/disk
mkdir -p -m 700 "$home/results"
if mount -t tmpfs -o size=256k,mode=0700 simq-test "$home/results" 2>"$TMP/mount.err"; then
	mounted=$home/results
fi
if [ -z "$mounted" ]; then
	if in_ci; then
		fail "a 256 kB tmpfs is mounted on results/ (CI is set: this must run)" "$(cat "$TMP/mount.err")"
		skip_n $((DISK_CHECKS - 1)) "no tmpfs"
	else
		skip_n $DISK_CHECKS "cannot mount a tmpfs on results/ here (not root?): $(cat "$TMP/mount.err")"
	fi
else
	serve disk <<EOF
[backend emu]
url = $url
max_batch = 4
[scheduler]
backoff_base = 200ms
probe_max = 1s
[notify]
on_paused = "(env; cat) >>$TMP/paused.hook"
EOF
	"$SIMQ" sweep "$M" R=100:800:100 --solver MaxStep=5e-7 >/dev/null
	until_in "$SIMQ_HOME/simulation.log" "dispatch paused: .*MB free in $SIMQ_HOME/results; simq resume after making room" &&
		ok "dispatch pauses by itself: the log says why, how much is free, and what to do" ||
		fail "dispatch pauses by itself: the log says why, how much is free, and what to do" "$(tail -5 "$SIMQ_HOME/simulation.log")"
	# What ran finishes (its results cannot be kept either); then nothing moves.
	idle() { "$SIMQ" stats --json | grep -q '^  "running": 0,'; }
	poll 10 idle && ok "the calls in flight end, and no more start" || fail "the calls in flight end, and no more start" "$("$SIMQ" stats)"
	pycheck "no task FAILED; the tasks whose results could not be kept are QUEUED with no attempt spent" <<'PY'
ts = tasks(); st = by_state(ts)
assert st["failed"] == [] and st["running"] == [] and st["queued"] and st["completed"], st
assert all(t["attempts"] == 0 and t["retries"] == 0 for t in ts if t["state"] == "queued"), ts
local = [(i, a) for i, a in attempts() if a["outcome"] == "local"]
assert local and all(a["error"] for _, a in local), local
PY
	pycheck "simq stats, simq ls and simq show agree on every state" <<'PY'
s = stats(); ts = tasks(); st = by_state(ts)
shown = {t["id"]: show(t["id"])["state"] for t in ts}
assert all(shown[t["id"]] == t["state"] for t in ts), (shown, st)
assert (s["queued"], s["running"], s["failed"], s["cancelled"]) == tuple(len(st[k]) for k in ("queued", "running", "failed", "cancelled")), (s, st)
assert s["completed_first"] + s["completed_retry"] == len(st["completed"]), (s, st)
PY
	pycheck "simq stats and simq.view: paused, with the pause_reason" "$SIMQ_HOME/results" <<'PY'
s = stats(); v = api().simq.view({})
for r in (s, v):
    assert r["paused"] and "MB free in " + sys.argv[1] in r["pause_reason"] and "simq resume" in r["pause_reason"], r["pause_reason"]
PY
	# A short write() sets no errno: the writer must still say the disk is full, not a stale errno.
	pycheck "the task's error says the disk is full (No space left on device)" <<'PY'
errors = [t["error"] for t in tasks() if t["state"] == "queued"]
assert errors and all("No space left on device" in e for e in errors), errors
PY
	poll 10 grep -q "^SIMQ_EVENT=paused$" "$TMP/paused.hook" && ok "the on_paused hook ran" ||
		fail "the on_paused hook ran" "$(cat "$TMP/paused.hook" 2>/dev/null)"
	# The event's reason reaches the hook: SIMQ_DETAIL and "detail" in the JSON on stdin.
	hook_told_why() { grep -q "^SIMQ_DETAIL=.*MB free" "$TMP/paused.hook" && grep -q '"detail":.*MB free' "$TMP/paused.hook" ||
		{ grep "SIMQ_\|{" "$TMP/paused.hook"; return 1; }; }
	check "the on_paused hook is told why and how much is free" hook_told_why
	# Room returns: the filesystem grows.  Resume, and everything completes.
	mount -o remount,size=64m "$mounted"
	"$SIMQ" resume >/dev/null
	"$SIMQ" wait $(seq 1 8) --timeout 30 >/dev/null 2>&1
	pycheck "after room is made and simq resume: all 8 COMPLETED, each on its first attempt" "$SIMQ_HOME/results/0" <<'PY'
ts = tasks(); s = stats()
assert by_state(ts)["completed"] == list(range(1, 9)), by_state(ts)
assert all(t["attempts"] == 1 and t["retries"] == 0 for t in ts), [(t["id"], t["attempts"], t["retries"]) for t in ts]
assert s["failed"] == 0 and s["retries"] == 0 and s["completed_first"] == 8 and s["pause_reason"] == "", s
for t in ts:
    st = os.stat(os.path.join(sys.argv[1], "%d.mat" % t["id"]))
    assert st.st_size > 70000, (t["id"], st.st_size)  # a whole result is some 79 KB compressed
assert not [f for f in os.listdir(sys.argv[1]) if f.endswith(".tmp")], os.listdir(sys.argv[1])
PY
	server_ran_clean
fi

# ---- Symlinks planted in results/ ----------------------------------------------------------
# Before issue 13 the writer followed both: the result landed in the link's target.
home=$TMP/links
mkdir -p -m 700 "$home/results" "$TMP/outside-dir"
ln -s "$TMP/outside-dir" "$home/results/0"
serve links <<EOF
[backend emu]
url = $url
max_batch = 1
[scheduler]
backoff_base = 200ms
probe_max = 1s
EOF
"$SIMQ" submit "$M" --name through-a-shard-link --no-cache >/dev/null
until_in "$SIMQ_HOME/simulation.log" "dispatch paused: .*results/0" &&
	ok "a symlink at the shard folder results/0: dispatch pauses" ||
	fail "a symlink at the shard folder results/0: dispatch pauses" "$(tail -5 "$SIMQ_HOME/simulation.log")"
[ -z "$(ls -A "$TMP/outside-dir")" ] && ok "nothing is written into the link's target" ||
	fail "nothing is written into the link's target" "$(ls -lA "$TMP/outside-dir")"
"$SIMQ" show 1 >"$TMP/show"
grep -q "^state  *queued$" "$TMP/show" && grep -q "$SIMQ_HOME/results/0.*symlink" "$TMP/show" &&
	ok "simq show: the task is QUEUED and its error names the folder and the symlink" ||
	fail "simq show: the task is QUEUED and its error names the folder and the symlink" "$(cat "$TMP/show")"
# tmux's status line says what stopped dispatch, to the reason's first ':' (the rest is in simq stats).
line=$("$SIMQ" status --ascii)
case $line in
*" - paused: cannot keep results") ok "simq status: paused, and what stopped it, short: $line" ;;
*) fail "simq status: paused, and what stopped it, short" "$line" ;;
esac
rm "$SIMQ_HOME/results/0"
"$SIMQ" resume >/dev/null
"$SIMQ" wait 1 --timeout 10 >/dev/null 2>&1
line=$("$SIMQ" status --ascii)
case $line in
*paused*) fail "simq status after simq resume: no longer paused" "$line" ;;
*) ok "simq status after simq resume: no longer paused" ;;
esac
pycheck "the link removed and simq resume: COMPLETED in a real results/0, on its first attempt" "$SIMQ_HOME/results/0" "$TMP/outside-dir" <<'PY'
t = show(1)
assert t["state"] == "completed" and t["attempts"] == 1 and t["retries"] == 0, t
assert not os.path.islink(sys.argv[1]) and os.path.isfile(os.path.join(sys.argv[1], "1.mat")), os.listdir(sys.argv[1])
assert t["result"]["path"] == os.path.join(sys.argv[1], "1.mat"), t["result"]
assert os.listdir(sys.argv[2]) == [], os.listdir(sys.argv[2])
PY

# The next task's temporary name, results/0/.2.mat.tmp, is a link to a file outside.
printf 'precious\n' >"$TMP/outside-file"
cp -p "$TMP/outside-file" "$TMP/outside-file.orig"
ln -s "$TMP/outside-file" "$SIMQ_HOME/results/0/.2.mat.tmp"
"$SIMQ" submit "$M" --name through-a-tmp-link --no-cache >/dev/null
until_in "$SIMQ_HOME/simulation.log" "dispatch paused: .*\.2\.mat\.tmp" &&
	ok "a symlink at the temporary name: dispatch pauses" ||
	fail "a symlink at the temporary name: dispatch pauses" "$(tail -5 "$SIMQ_HOME/simulation.log")"
cmp -s "$TMP/outside-file" "$TMP/outside-file.orig" && [ -L "$SIMQ_HOME/results/0/.2.mat.tmp" ] && [ ! -e "$SIMQ_HOME/results/0/2.mat" ] &&
	ok "the link's target is unchanged, the link is left for the operator, no result was written" ||
	fail "the link's target is unchanged, the link is left for the operator, no result was written" \
		"$(cat "$TMP/outside-file")" "$(ls -lA "$SIMQ_HOME/results/0")"
"$SIMQ" show 2 >"$TMP/show"
grep -q "^state  *queued$" "$TMP/show" && grep -qF "$SIMQ_HOME/results/0/.2.mat.tmp is in the way" "$TMP/show" &&
	ok "simq show: the task is QUEUED and its error names the temporary name in the way" ||
	fail "simq show: the task is QUEUED and its error names the temporary name in the way" "$(cat "$TMP/show")"
rm "$SIMQ_HOME/results/0/.2.mat.tmp"
"$SIMQ" resume >/dev/null
"$SIMQ" wait 2 --timeout 10 >/dev/null 2>&1
pycheck "the link removed and simq resume: COMPLETED on its first attempt; no task ever FAILED" "$TMP/outside-file" <<'PY'
t = show(2)
assert t["state"] == "completed" and t["attempts"] == 1 and t["retries"] == 0, t
assert [a["outcome"] for a in t["attempt_list"]] == ["local", "ok"], t["attempt_list"]
assert open(sys.argv[1]).read() == "precious\n"
s = stats()
assert s["failed"] == 0 and s["completed_first"] == 2, s
PY
server_ran_clean
done_testing
