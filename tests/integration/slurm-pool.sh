#!/bin/sh
# [pool NAME] on a real one-node Slurm (DESIGN 19, issue 20): munged, slurmctld and slurmd of the
# test's own with Licenses=plecs:2, plecs-emu as PLECS.  (1) a sweep of 200 tasks runs on
# instances Slurm starts, never more than 2 jobs at once, all completed; with the queue empty the
# instances are cancelled after idle_after.  (2) scancel of an instance mid-batch, three times:
# their tasks complete elsewhere with no retry spent, and the pool submits a replacement.  (3) a restarted
# server adopts the running jobs (squeue before and after: none leaked, none added past max).
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
requires munged slurmctld slurmd sbatch squeue scancel python3 tmux
. "$SRC/tests/lib/slurm.sh"
. "$SRC/tests/lib/tmux.sh"

export SIMQ_HOME="$TMP/state"
stop_all() {
	[ -n "${watch_pid:-}" ] && kill "$watch_pid" 2>/dev/null
	$TM kill-server >/dev/null 2>&1
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	stop_slurm
}
trap stop_all EXIT

if ! start_slurm; then
	if in_ci; then
		plan 1
		fail "a one-node Slurm starts" "$slurm_why"
		exit 1
	fi
	echo "1..0 # SKIP a one-node Slurm cannot start here: $slurm_why"
	exit 0
fi
plan 29

# PLECS is plecs-emu: 0.2 s per case, one case at a time, so a batch of 4 takes 0.8 s.
export PLECS_HOST=127.0.0.1 SIMQ_REREGISTER=2
export PLECS_CMD="$SIMQ_BUILDDIR/src/plecs-emu --port 0 --port-file {port_file} --speed 40 --cores 1"
mkdir -p "$XDG_CONFIG_HOME/simq"
# A backend that never answers: the work can only go to the pool's instances.
cat >"$XDG_CONFIG_HOME/simq/simq.ini" <<EOF
[backend nowhere]
url = http://127.0.0.1:9/RPC2
[pool emu]
max = 2
idle_after = 3s
poll = 1s
max_batch = 4
slurm_conf = $SLURM_CONF
EOF
M=$SRC/share/models/rc.plecs

jobs_now() { squeue -h -n simq-emu -o %i 2>/dev/null | sort -n | tr '\n' ' '; }
# until_true SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds; false if it never did.
until_true() {
	local limit=$(($1 * 5)) i=0
	shift
	while ! "$@" && [ $i -lt "$limit" ]; do
		i=$((i + 1))
		sleep 0.2
	done
	"$@"
}
no_jobs() { [ -z "$(jobs_now)" ]; }
registered() { [ "$("$SIMQ" backend ls | grep -c '^emu-[0-9]* *UP')" -ge "$1" ]; }
# Every 0.2 s the most jobs Slurm holds for the pool, and the most pool backends simq has.
watch_counts() {
	local most_jobs=0 most_backends=0 j b
	while :; do
		j=$(squeue -h -n simq-emu -o %i 2>/dev/null | wc -l)
		b=$("$SIMQ" backend ls 2>/dev/null | grep -c '^emu-')
		[ "$j" -gt "$most_jobs" ] && most_jobs=$j
		[ "$b" -gt "$most_backends" ] && most_backends=$b
		echo "$most_jobs $most_backends" >"$TMP/most"
		sleep 0.2
	done
}
completed() { "$SIMQ" stats --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["completed_first"], s["completed_retry"], s["failed"])'; }

# ---- (1) 200 tasks on instances Slurm starts, never more than 2 ----------------------------------
check "the server starts with a [pool emu]" "$SIMQ" server
watch_counts &
watch_pid=$!
expect_status "a sweep of 200 tasks" 0 "$SIMQ" sweep "$M" R=1:200:1
start=$(date +%s)
expect_status "all 200 complete" 0 "$SIMQ" wait 1-200 --timeout 240
echo "# 200 tasks on the pool in $(($(date +%s) - start)) s"
kill "$watch_pid"
watch_pid=
read -r most_jobs most_backends <"$TMP/most"
[ "$most_jobs" -eq 2 ] && ok "Slurm held 2 of the pool's jobs at most, and 2 at some point" ||
	fail "Slurm held 2 of the pool's jobs at most, and 2 at some point" "most: $most_jobs"
[ "$most_backends" -ge 1 ] && [ "$most_backends" -le 2 ] && ok "simq had 1 or 2 pool backends at once, never more" ||
	fail "simq had 1 or 2 pool backends at once, never more" "most: $most_backends"
"$SIMQ" show 100 --json >"$TMP/show"
expect_in "a task ran on a pool instance (backend emu-JOBID)" "$TMP/show" '"backend": "emu-'
[ "$(completed)" = "200 0 0" ] && ok "200 completed on the first try, none failed" || fail "200 completed on the first try" "$(completed)"
until_true 30 no_jobs && ok "with the queue empty the jobs are cancelled after idle_after" ||
	fail "with the queue empty the jobs are cancelled after idle_after" "squeue: $(jobs_now)"
"$SIMQ" log >"$TMP/log1"
expect_in "the log says an instance was released" "$TMP/log1" "released after"
expect_in "and that its job was submitted" "$TMP/log1" "pool emu: job "

# ---- (2) scancel an instance mid-batch, three times over ------------------------------------------
expect_status "a sweep of 120 more" 0 "$SIMQ" sweep "$M" R=201:320:1
busy_backend() { "$SIMQ" backend ls | awk '$1 ~ /^emu-/ && $2 == "UP" && $3 == "1/1" { print $4; exit }'; }
has_busy() { [ -n "$(busy_backend)" ]; }
gone_from_ls() { ! "$SIMQ" backend ls | grep -q "^emu-$1 "; }
victims=
for round in 1 2 3; do
	until_true 60 has_busy
	victim=$(busy_backend)
	[ -n "$victim" ] && scancel "$victim" && until_true 30 gone_from_ls "$victim" && victims="$victims $victim"
done
set -- $victims
[ $# -eq 3 ] && ok "scancel of 3 instances, each while it ran a batch (jobs$victims)" || fail "scancel 3 instances mid-batch" "cancelled:$victims"
victim=$1
expect_status "all 120 complete" 0 "$SIMQ" wait 201-320 --timeout 240
[ "$(completed)" = "320 0 0" ] && ok "no task spent a retry or failed" || fail "no task spent a retry or failed" "$(completed)" "$(grep 'attempt 1 failed' "$SIMQ_HOME/simulation.log")"
# The tasks the lost instances had: an attempt with outcome backend, and attempts 1 (none spent).
lost=0
for id in $(seq 201 320); do
	"$SIMQ" show "$id" --json >"$TMP/show"
	for v in $victims; do
		if grep -q "\"backend\": \"emu-$v\"" "$TMP/show" && grep -q '"outcome": "backend"' "$TMP/show"; then
			lost=$((lost + 1))
			grep -q '"attempts": 1,' "$TMP/show" || bad="$bad $id"
		fi
	done
done
[ "$lost" -ge 3 ] && [ -z "${bad:-}" ] && ok "their $lost tasks went back to the queue and completed elsewhere with attempts 1" ||
	fail "their tasks completed elsewhere with no retry spent" "lost $lost, more than one attempt:${bad:-}"
"$SIMQ" log >"$TMP/log2"
replacement=$(sed -n "/emu-$victim lost/,\$ s/.*pool emu: job \([0-9]*\) submitted.*/\1/p" "$TMP/log2" | head -1)
[ -n "$replacement" ] && [ "$replacement" -gt "$victim" ] && ok "the pool said the instance was lost and submitted a replacement (job $replacement)" ||
	fail "the pool submitted a replacement" "$(grep 'pool emu' "$TMP/log2" | tail -8)"
# As squeue has it when the pool looks: CANCELLED, or COMPLETING while the job script removes its backend and stops PLECS.
grep -Eq "emu-$victim lost: job $victim ended \((CANCELLED|COMPLETING)" "$TMP/log2" && ok "the log says why the job ended" ||
	fail "the log says why the job ended" "$(grep "emu-$victim" "$TMP/log2")"
! grep -q "ended before its instance registered" "$TMP/log2" && ok "no job that served was taken for one that never registered" ||
	fail "no job that served was taken for one that never registered" "$(grep 'before its instance' "$TMP/log2")"
# Said when a listing first shows a job running: the victim may have registered and gone between two.
grep -Eq "pool emu: job [0-9]+ started on [^ ]" "$TMP/log2" && ok "and that jobs started, where" ||
	fail "and that jobs started, where" "$(grep 'pool emu' "$TMP/log2" | tail -8)"
until_true 30 no_jobs

# ---- (3) a restart while the pool runs: its jobs adopted, none leaked --------------------------------------
expect_status "a sweep of 100 more" 0 "$SIMQ" sweep "$M" R=401:500:1
ids3=$(sed -n 's/^submitted .*: //p' "$TMP/out")
until_true 60 registered 2
jobs_before=$(jobs_now)
check "the server stops (its jobs run on)" "$SIMQ" shutdown
[ "$(jobs_now)" = "$jobs_before" ] && ok "squeue after the shutdown: the same jobs ($jobs_before)" ||
	fail "the jobs outlive the server" "before: $jobs_before, after: $(jobs_now)"
check "a new server starts" "$SIMQ" server
until_true 20 registered 2
"$SIMQ" backend ls >"$TMP/ls"
adopted=$(awk '$1 ~ /^emu-/ { print $4 }' "$TMP/ls" | sort -n | tr '\n' ' ')
[ "$adopted" = "$jobs_before" ] && [ "$(jobs_now)" = "$jobs_before" ] && ok "the new server adopted both jobs as backends, submitted none" ||
	fail "the new server adopted the jobs" "before: $jobs_before, backends: $adopted, squeue: $(jobs_now)" "$(cat "$TMP/ls")"
# The console: the Backends pane (b) shows each instance with its Slurm job, the status bar its name.
first=${adopted%% *}
$TM new-session -d -s simq -x 160 -y 34 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_HOME='$SIMQ_HOME' '$SIMQ' --no-start 2>'$TMP/console.err'; sleep 60"
wait_for "emu-$first"
$TM send-keys -t simq b
expect_screen "the Backends pane shows the instance with its Slurm job" "busy · job $first"
screen
head -1 "$TMP/screen" | grep -q "emu-$first" && ok "the status bar names the instance" ||
	fail "the status bar names the instance" "$(head -1 "$TMP/screen")"
$TM kill-server >/dev/null 2>&1
expect_status "all 100 complete" 0 "$SIMQ" wait "$ids3" --timeout 240
until_true 30 no_jobs && ok "then idle, they are cancelled: squeue holds none of the pool's jobs" ||
	fail "none leaked" "squeue: $(jobs_now)"
server_ran_clean
done_testing
