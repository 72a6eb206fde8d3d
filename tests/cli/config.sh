#!/bin/sh
# simq config: defaults round-trip, checking files, and the messages operators see.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
plan 25

expect_status "config --defaults exits 0" 0 "$SIMQ" config --defaults
cp "$TMP/out" "$TMP/x.ini"
expect_status "the defaults check clean" 0 "$SIMQ" config --check -c "$TMP/x.ini"
expect_in "a valid file is reported valid" "$TMP/out" "x.ini: valid"

expect_status "a valid hand-written file checks clean" 0 "$SIMQ" config --check -c "$SRC/tests/data/config/valid.ini"

expect_status "three mistakes exit 78" 78 "$SIMQ" config --check -c "$SRC/tests/data/config/three-mistakes.ini"
count=$(grep -c '^.*three-mistakes.ini:[0-9][0-9]*: ' "$TMP/err")
if [ "$count" -eq 3 ]; then ok "three mistakes give three FILE:LINE messages"; else fail "three mistakes give three FILE:LINE messages" "got $count:" "$(cat "$TMP/err")"; fi
expect_in "the unknown key gets a suggestion" "$TMP/err" 'three-mistakes.ini:4: [scheduler] unknown key "max_retrys"; did you mean "max_retries"?'
expect_in "the bad number names what is allowed" "$TMP/err" 'three-mistakes.ini:8: [backend ws1] slots = "0x10": hexadecimal is not accepted'
expect_in "the summary counts the errors" "$TMP/err" "three-mistakes.ini: 3 errors"

expect_status "a missing -c file exits 78" 78 "$SIMQ" config --check -c "$TMP/none.ini"
expect_in "a missing file is named" "$TMP/err" "none.ini: cannot open it: No such file or directory"
expect_status "a directory as the file exits 78" 78 "$SIMQ" config --check -c "$TMP"

# Without -c the XDG config file is read, and its absence is fine.
expect_status "no config file: defaults apply" 0 "$SIMQ" config --check
mkdir -p "$XDG_CONFIG_HOME/simq"
printf '[store]\ndurability = maybe\n' >"$XDG_CONFIG_HOME/simq/simq.ini"
expect_status "the XDG config file is checked" 78 "$SIMQ" config --check

# [pool NAME]: a valid pool checks clean; min above max, a licence list sbatch would refuse, a job
# name with a blank are each refused with the line and what is allowed.
printf '[pool cluster]\nmax = 4\nlicenses = plecs:1,matlab:2\nidle_after = 5m\n' >"$TMP/pool.ini"
expect_status "a [pool NAME] checks clean" 0 "$SIMQ" config --check -c "$TMP/pool.ini"
printf '[pool cluster]\nmin = 3\nmax = 2\nlicenses = plecs\njob_name = my job\n' >"$TMP/pool.ini"
expect_status "a bad [pool NAME] exits 78" 78 "$SIMQ" config --check -c "$TMP/pool.ini"
expect_in "min above max is named at min's line" "$TMP/err" 'pool.ini:2: [pool cluster] min = 3 is more than max = 2; allowed: min <= max'
expect_in "the licence list says its form" "$TMP/err" 'pool.ini:4: [pool cluster] licenses = "plecs": not a licence list; allowed: NAME:COUNT[,NAME:COUNT...]'
expect_in "the job name says what it may hold" "$TMP/err" 'pool.ini:5: [pool cluster] job_name = "my job": allowed: letters, digits and _ - . @'
# Mistakes that would only show at night: no licence, files that are not there, options that break adoption.
printf '[pool cluster]\nlicenses = plecs:0\nscript = %s/nonexistent.sh\nslurm_conf = /nope/slurm.conf\nsbatch_args = --time=1:00:00 --job-name=evil -L foo:1\n' "$TMP" >"$TMP/pool.ini"
expect_status "a pool with no licence, missing files and simq's own sbatch options exits 78" 78 "$SIMQ" config --check -c "$TMP/pool.ini"
expect_in "a licence count of 0" "$TMP/err" 'pool.ini:2: [pool cluster] licenses = "plecs:0": not a licence list; allowed: NAME:COUNT[,NAME:COUNT...] with COUNT from 1'
expect_in "a script that is not there" "$TMP/err" "pool.ini:3: [pool cluster] script = \"$TMP/nonexistent.sh\": No such file or directory; allowed: a file that exists, or empty"
expect_in "a slurm_conf that is not there" "$TMP/err" 'pool.ini:4: [pool cluster] slurm_conf = "/nope/slurm.conf": No such file or directory'
expect_in "--job-name in sbatch_args" "$TMP/err" 'pool.ini:5: [pool cluster] sbatch_args = "--time=1:00:00 --job-name=evil -L foo:1": --job-name is simq'"'"'s own'
expect_in "-L in sbatch_args" "$TMP/err" ': -L is simq'"'"'s own'
done_testing
