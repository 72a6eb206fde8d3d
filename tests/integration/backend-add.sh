#!/bin/sh
# Backends added and removed while the server runs (issue 20 step 1): simq backend add|remove|ls
# against real plecs-emu processes.  An added backend gets work; the same name at the same URL
# again changes nothing; a name in use, a bad name or URL is refused saying why; a removed
# backend's call in flight finishes and nothing new goes to it; one whose PLECS dies during that
# call puts its tasks back in the queue with no retry spent.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
plan 29

export SIMQ_HOME="$TMP/state"
stop_all() {
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill ${slow_pid:-} ${fast_pid:-} 2>/dev/null
}
trap stop_all EXIT
M=$SRC/share/models/rc.plecs

# The server's own backend answers at once; the one added later takes 1 s a case (rc: 5 ms simulated).
start_emu
fast=$url
fast_pid=$emu_pid
EMU_PORT=0 start_emu --speed 200 --cores 1
slow=$url
slow_pid=$emu_pid
mkdir -p "$XDG_CONFIG_HOME/simq"
# A [pool emu] whose Slurm cannot be reached (an empty slurm.conf): its names are its own all the same.
: >"$TMP/slurm.conf"
printf '[backend fast]\nurl = %s\n[pool emu]\nslurm_conf = %s\ncommand_timeout = 2s\n' "$fast" "$TMP/slurm.conf" >"$XDG_CONFIG_HOME/simq/simq.ini"
check "the server starts with one backend" "$SIMQ" server

expect_status "backend add" 0 "$SIMQ" backend add slow "$slow" --slots 1 --max-batch 2
expect_line "it says so" "$TMP/out" "backend slow added at $slow"
expect_status "the same name at the same URL again changes nothing" 0 "$SIMQ" backend add slow "$slow"
expect_line "and says so" "$TMP/out" "backend slow is at $slow already"
expect_status "the name at another URL is refused" 65 "$SIMQ" backend add slow "$fast"
expect_in "saying where it is" "$TMP/err" "there is a backend slow already, at $slow; remove it first, or choose another name"
expect_status "a URL that is not http is refused" 65 "$SIMQ" backend add other ftp://x/RPC2
expect_in "saying what is allowed" "$TMP/err" 'url "ftp://x/RPC2": not an http:// or https:// URL; allowed: an http:// or https:// URL'
expect_status "a name with a blank is refused" 65 "$SIMQ" backend add "a b" "$slow"
expect_in "saying what a name may hold" "$TMP/err" 'name "a b": allowed: 1 to 64 of a-z 0-9 _ . - @'
# A refused name is shown escaped: a C1 control or a bidirectional override would act on the terminal.
expect_status "a name with a C1 control and U+202E is refused" 65 "$SIMQ" backend add "$(printf 'a\302\233b\342\200\256c')" "$slow"
expect_in "and shown escaped" "$TMP/err" 'name "a\u009bb\u202ec": allowed: 1 to 64'
expect_status "--slots 0 is a usage error" 64 "$SIMQ" backend add x "$slow" --slots 0

# A pool instance's name: only its own job registers it, and that registration wins over a stale URL.
expect_status "a hand-added emu-4 (the pool's NAME-DIGITS) is refused" 65 "$SIMQ" backend add emu-4 "$slow"
expect_in "saying whose names these are" "$TMP/err" 'name "emu-4": names emu-DIGITS are [pool emu]'"'"'s instances, each registered by its Slurm job (job 4'"'"'s own); choose another name'
expect_status "another job's id is refused too" 65 "$SIMQ" backend add emu-4 "$slow" --job 5
expect_status "job 4 registers emu-4 (at a URL that does not answer)" 0 "$SIMQ" backend add emu-4 http://127.0.0.1:9/RPC2 --job 4
expect_status "its registration at its real URL replaces that one" 0 "$SIMQ" backend add emu-4 "$slow" --job 4
expect_line "added at the new URL" "$TMP/out" "backend emu-4 added at $slow"
"$SIMQ" backend ls >"$TMP/ls"
grep -q "^emu-4 .*$slow" "$TMP/ls" && ! grep -q "127.0.0.1:9/" "$TMP/ls" && ok "backend ls has emu-4 at its job's URL only" ||
	fail "emu-4 at its job's URL only" "$(cat "$TMP/ls")"
expect_status "its job removes it on the way out" 0 "$SIMQ" backend remove emu-4 --job 4

"$SIMQ" backend ls >"$TMP/ls"
grep -q "^slow  *UP  *0/1 " "$TMP/ls" && ok "backend ls shows it UP with its slot" || fail "backend ls shows it UP" "$(cat "$TMP/ls")"

# Work while fast is paused: slow takes a batch of 2 (2 s); removed meanwhile, it finishes that call only.
"$SIMQ" pause fast >/dev/null
"$SIMQ" sweep "$M" R=1:6:1 >/dev/null
until_in "$SIMQ_HOME/simulation.log" "attempt 1 started on slow"
expect_status "backend remove while its call runs" 0 "$SIMQ" backend remove slow
"$SIMQ" resume fast >/dev/null
expect_status "every task completes" 0 "$SIMQ" wait 1-6 --timeout 60
on_slow=$(grep -c "attempt 1 started on slow" "$SIMQ_HOME/simulation.log")
"$SIMQ" show 1 --json >"$TMP/show"
[ "$on_slow" -eq 2 ] && grep -q '"backend": "slow"' "$TMP/show" && grep -q '"outcome": "ok"' "$TMP/show" &&
	ok "its batch of 2 finished there, and nothing more went to it" ||
	fail "its call finished and nothing more went to it" "$on_slow started on slow" "$(grep 'slow' "$SIMQ_HOME/simulation.log")"
"$SIMQ" backend ls >"$TMP/ls"
! grep -q '^slow ' "$TMP/ls" && ok "backend ls no longer shows it" || fail "backend ls no longer shows it" "$(cat "$TMP/ls")"
expect_status "removing it again: no such backend" 65 "$SIMQ" backend remove slow

# Removed while its PLECS dies in the middle of a call: the tasks are not charged.
"$SIMQ" pause fast >/dev/null
"$SIMQ" backend add slow "$slow" >/dev/null
"$SIMQ" sweep "$M" R=11:12:1 >/dev/null
until_in "$SIMQ_HOME/simulation.log" "Z 7 attempt 1 started on slow"
"$SIMQ" backend remove slow >/dev/null
kill "$slow_pid"
slow_pid=
"$SIMQ" resume fast >/dev/null
"$SIMQ" wait 7-8 --timeout 60 >/dev/null
"$SIMQ" show 7 --json >"$TMP/show"
grep -q '"attempts": 1,' "$TMP/show" && grep -q '"outcome": "backend"' "$TMP/show" && grep -q '"state": "completed"' "$TMP/show" &&
	ok "a removed backend whose PLECS died: its task completed elsewhere, attempts 1" ||
	fail "its task completed elsewhere with no retry spent" "$(cat "$TMP/show")"
done_testing
