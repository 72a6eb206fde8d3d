#!/bin/sh
# simq config: defaults round-trip, checking files, and the messages operators see.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
plan 14

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
done_testing
