#!/bin/sh
# Files generated from the option table stay identical to what simq prints.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
plan 2

"$SIMQ" config --defaults >"$TMP/defaults.ini"
if diff -u "$SRC/share/simq.ini" "$TMP/defaults.ini" >"$TMP/diff"; then
	ok "share/simq.ini is simq config --defaults"
else
	fail "share/simq.ini is simq config --defaults (run: src/simq config --defaults > share/simq.ini)" "$(head -40 "$TMP/diff")"
fi
"$SIMQ" config --man >"$TMP/simq.ini.5"
if diff -u "$SRC/doc/simq.ini.5" "$TMP/simq.ini.5" >"$TMP/diff"; then
	ok "doc/simq.ini.5 is simq config --man"
else
	fail "doc/simq.ini.5 is simq config --man (run: src/simq config --man > doc/simq.ini.5)" "$(head -40 "$TMP/diff")"
fi
done_testing
