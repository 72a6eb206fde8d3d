#!/bin/sh
# The shape DESIGN 2 promises, read from the build: layers point down, the engine speaks no
# wire, functions and server files stay short enough to read.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
requires python3 nm
plan 4

check_layers() {
	if python3 "$SRC/tests/lib/layers.py" "$@" >"$TMP/out" 2>&1; then
		ok "$name"
	else
		fail "$name" "$(head -20 "$TMP/out")"
	fi
}

name="no two modules under src/ call or include each other in a loop"
check_layers cycles "$SIMQ_BUILDDIR" "$SRC"
name="src/engine/ includes no xmlrpc-c, curl or ncurses header and names no xmlrpc_ type"
check_layers engine "$SRC"
name="no function in src/ is longer than 100 lines"
check_layers long "$SRC" 100
name="no file in src/server/ is longer than 800 lines"
check_layers big "$SRC" server 800
done_testing
