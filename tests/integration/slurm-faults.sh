#!/bin/sh
# [pool NAME] when Slurm misbehaves (issue 20's trials), on a real one-node Slurm with plecs-emu as
# PLECS and a squeue/sbatch in front of the real ones that can be told to answer garbage, nothing,
# hang or fail.  The server runs with ASan's stack-use-after-return check where it is built with
# ASan: the Slurm error messages named their command from a dead stack frame.  (1) squeue's
# answers it cannot read (garbage, nothing) lose no instance and submit nothing, max holds; (2) a
# hanging squeue and a stopped slurmctld are said with the command's name; (3) sbatch failing
# backs off (1 s, 2 s, 4 s) and the pool shows FAILING; (4) jobs whose PLECS cannot start end
# non-zero, say why in their output, and back off the same way; (5) through it all, no task
# spends a retry, and a pool-only configuration has no backend "local".
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
requires munged slurmctld slurmd sbatch squeue scancel python3
. "$SRC/tests/lib/slurm.sh"

export SIMQ_HOME="$TMP/state"
stop_all() {
	rm -f "$TMP/mode."*
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
plan 26

# squeue and sbatch as the server finds them: the real ones, unless $TMP/mode.CMD says otherwise.
mkdir -p "$TMP/bin"
for cmd in squeue sbatch; do
	real=$(command -v $cmd)
	cat >"$TMP/bin/$cmd" <<EOF
#!/bin/sh
echo x >>"$TMP/calls.$cmd"
case \$(cat "$TMP/mode.$cmd" 2>/dev/null) in
garbage) printf 'garbage|x|y\n12abc\n'; exit 0 ;;
empty) exit 0 ;;
hang) exec sleep 30 ;;
badlicence)
	for a; do
		shift
		case \$a in --licenses=*) a=--licenses=plexs:1 ;; esac
		set -- "\$@" "\$a"
	done
	exec "$real" "\$@" ;;
noplecs) PLECS_CMD="$TMP/no/such/PLECS --rpc {port}" exec "$real" "\$@" ;;
esac
exec "$real" "\$@"
EOF
	chmod +x "$TMP/bin/$cmd"
done
export PATH="$TMP/bin:$PATH"
export PLECS_HOST=127.0.0.1 SIMQ_REREGISTER=2
export PLECS_CMD="$SIMQ_BUILDDIR/src/plecs-emu --port 0 --port-file {port_file} --speed 40 --cores 1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_stack_use_after_return=1"
mkdir -p "$XDG_CONFIG_HOME/simq"
cat >"$XDG_CONFIG_HOME/simq/simq.ini" <<EOF
[pool emu]
max = 2
idle_after = 5m
poll = 1s
backoff = 1s
command_timeout = 2s
max_batch = 2
slurm_conf = $SLURM_CONF
EOF
M=$SRC/share/models/rc.plecs
LOG=$SIMQ_HOME/simulation.log

jobs_now() { squeue -h -n simq-emu -t PD,R -o %i 2>/dev/null | wc -l; }
calls() { cat "$TMP/calls.$1" 2>/dev/null | wc -l; }
# polls_pass N CMD: waits until the server has run CMD N more times (each poll runs squeue once).
polls_pass() {
	local want=$(($(calls "$2") + $1)) i=0
	while [ "$(calls "$2")" -lt "$want" ] && [ $i -lt 300 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}
registered() { [ "$("$SIMQ" backend ls | grep -c '^emu-[0-9]* *UP')" -ge "$1" ]; }
until_true() {
	local limit=$(($1 * 10)) i=0
	shift
	while ! "$@" && [ $i -lt "$limit" ]; do
		i=$((i + 1))
		sleep 0.1
	done
	"$@"
}
submitted() { grep -c "pool emu: job [0-9]* submitted" "$LOG"; }

check "the server starts with only a [pool emu]" "$SIMQ" server
"$SIMQ" backend ls >"$TMP/ls"
! grep -q '^local ' "$TMP/ls" && ok "no implicit backend local beside the pool" || fail "no implicit backend local" "$(cat "$TMP/ls")"
expect_status "a sweep of 400" 0 "$SIMQ" sweep "$M" R=1:400:1
until_true 60 registered 2
before=$(submitted)

# ---- (1) squeue answers exit 0 with what cannot be read ------------------------------------------
for mode in garbage empty; do
	echo $mode >"$TMP/mode.squeue"
	polls_pass 4 squeue
	rm -f "$TMP/mode.squeue"
	"$SIMQ" backend ls >"$TMP/ls"
	n=$(grep -c '^emu-[0-9]* *UP' "$TMP/ls")
	[ "$n" -eq 2 ] && [ "$(submitted)" -eq "$before" ] && [ "$(jobs_now)" -le 2 ] &&
		ok "squeue answering $mode: both instances kept, nothing submitted" ||
		fail "squeue answering $mode: instances kept" "$n UP, $(submitted) submitted (was $before), squeue: $(jobs_now)" "$(cat "$TMP/ls")" "$(grep 'pool emu' "$LOG" | tail -5)"
done
expect_in "the garbage is said: not read" "$LOG" "cannot list its jobs: squeue's answer cannot be read: its first line is \"garbage|x|y\""
expect_in "so is the empty answer" "$LOG" "cannot list its jobs: squeue's answer cannot be read: it was empty"
! grep -q "lost" "$LOG" && ok "no instance was called lost" || fail "no instance was called lost" "$(grep lost "$LOG")"

# ---- (2) squeue hangs; slurmctld stops: the command named ---------------------------------------------
echo hang >"$TMP/mode.squeue"
until_in "$LOG" "squeue gave no answer within 2s (killed)"
expect_in "a hanging squeue is killed after command_timeout, and named" "$LOG" "pool emu: cannot list its jobs: squeue gave no answer within 2s (killed); its instances are kept"
echo hang >"$TMP/mode.squeue"
"$SIMQ" status >"$TMP/status"
expect_in "simq status shows the pool UNLISTED" "$TMP/status" "emu UNLISTED"
rm -f "$TMP/mode.squeue"
until_in "$LOG" "its jobs can be listed again"
lines=$(grep -c "cannot list its jobs" "$LOG")
scontrol shutdown slurmctld >/dev/null 2>&1
until_true 30 test "$(grep -c "cannot list its jobs" "$LOG")" -gt "$lines"
grep "cannot list its jobs" "$LOG" | tail -1 >"$TMP/line"
# squeue fails at once, or waits for the controller until it is killed: either way it is named.
grep -Eq "pool emu: cannot list its jobs: squeue (failed \(exit status 1\): slurm_load_jobs error|gave no answer within 2s)" "$TMP/line" &&
	ok "slurmctld stopped: said, with squeue named" || fail "slurmctld stopped: squeue named" "$(cat "$TMP/line")"
slurmctld -f "$SLURM_CONF" >/dev/null 2>&1
grep -c "its jobs can be listed again" "$LOG" >"$TMP/n"
until_true 30 test "$(grep -c "its jobs can be listed again" "$LOG")" -ge 2
expect_in "and back" "$LOG" "its jobs can be listed again"
[ "$(submitted)" -eq "$before" ] && ok "nothing was submitted while squeue could not be read" || fail "nothing submitted" "$(grep 'pool emu' "$LOG" | tail -5)"

# ---- (3) sbatch fails: backoff, FAILING, sbatch named ----------------------------------------------------
# Work that waits while submits fail: 200 more, on the one instance left.
expect_status "a sweep of 200 more" 0 "$SIMQ" sweep "$M" R=401:600:1
echo badlicence >"$TMP/mode.sbatch"
victim=$("$SIMQ" backend ls | awk '$1 ~ /^emu-/ { print $4; exit }')
scancel "$victim"
until_in "$LOG" "3 failures in a row, next try in 4s"
expect_in "sbatch's failure is said with its name and Slurm's words" "$LOG" "pool emu: cannot submit a job: sbatch failed (exit status 1): sbatch: error: Batch job submission failed: Invalid license specification; 1 failure in a row, next try in 1s"
expect_in "the next wait is doubled" "$LOG" "2 failures in a row, next try in 2s"
"$SIMQ" backend ls >"$TMP/ls"
expect_in "simq backend ls shows the pool FAILING" "$TMP/ls" "pool emu FAILING: 3 failures in a row; last: cannot submit a job: sbatch failed"
"$SIMQ" status >"$TMP/status"
expect_in "so does simq status" "$TMP/status" "emu FAILING"

# ---- (4) jobs whose PLECS cannot start -------------------------------------------------------------------
echo noplecs >"$TMP/mode.sbatch"
until_true 60 grep -q "3 jobs in a row ended before they registered" "$LOG"
rm -f "$TMP/mode.sbatch"
"$SIMQ" sweep "$M" R=601:800:1 >/dev/null
expect_in "a job whose PLECS does not start: its output's last words and the file" "$LOG" "ended before its instance registered"
grep "3 jobs in a row ended before they registered" "$LOG" | head -1 >"$TMP/line"
expect_in "and after 3 in a row, the pool says so with the output" "$TMP/line" "no/such/PLECS: not found"
out=$(sed -n 's/.*output: \(\/[^)]*\.out\)).*/\1/p' "$TMP/line")
if [ -f "$out" ] && ! grep -q "registered at" "$out" && grep -q "ended before it" "$out"; then
	ok "the job's output says PLECS ended before it registered, and never says registered"
else
	fail "the job's output says why" "$out:" "$(cat "$out" 2>&1)"
fi
until_true 90 grep -q "back to work after" "$LOG"
expect_in "a job that registers ends the failures" "$LOG" "back to work after"

# ---- (5) through it all ------------------------------------------------------------------------------------
expect_status "all 800 complete" 0 "$SIMQ" wait 1-800 --timeout 300
"$SIMQ" stats --json >"$TMP/stats"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["completed_retry"] == 0 and s["failed"] == 0 else 1)' "$TMP/stats" &&
	ok "no task spent a retry or failed" || fail "no task spent a retry" "$(cat "$TMP/stats")"
most=$(grep -c "more than max" "$LOG")
[ "$(jobs_now)" -le 2 ] && ok "never more than max jobs alive ($most trims)" || fail "max holds" "$(squeue)"
server_ran_clean
done_testing
