#!/bin/sh
# The web dashboard in a real headless Chromium (Debian's chromium, driven over the DevTools
# protocol by tests/lib/cdp.py) against a real server and plecs-emu: the page loads with no console
# error and no request outside the server, a CLI submit appears within 1 s, an action is refused
# without the token and done with it, a failure appears with its full error, and a night like the
# demo's is kept as screenshots in this test's directory (tests/tmp/dashboard-browser/).
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"

# Debian's python3 with python3-websocket (./quickstart installs it): a pyenv python may shadow it on PATH.
PY=/usr/bin/python3
if ! "$PY" -c "import websocket" 2>/dev/null; then
	if in_ci; then
		echo "1..1"
		echo "not ok 1 - $PY imports websocket (CI is set: ./quickstart installs python3-websocket)"
		exit 1
	fi
	echo "1..0 # SKIP no python3-websocket for $PY (./quickstart installs it)"
	exit 0
fi
requires chromium

export SIMQ_HOME="$TMP/state" SIMQ SIMQ_INI="$TMP/simq.ini"
MODELS=$(cd "$SRC/share/models" && pwd -P)
export MODELS
start_emu --speed 40 --cores 2
export EMU_URL=$url EMU_PORT=$port
DASH_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DASH_PORT
cleanup() {
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
	[ -f "$TMP/emu2.pid" ] && kill "$(cat "$TMP/emu2.pid")" 2>/dev/null
}
trap cleanup EXIT
printf '[backend emu]\nurl = %s\nslots = 1\nmax_batch = 4\ncall_timeout = 20s\n[scheduler]\nstart_paused = true\nbackoff_base = 1s\nbackoff_max = 4s\ndown_after = 2\n[dashboard]\nlisten = 127.0.0.1\nport = %s\n' \
	"$url" "$DASH_PORT" >"$TMP/simq.ini"
if ! "$SIMQ" server -c "$TMP/simq.ini" >"$TMP/server.out" 2>&1; then
	echo "1..1"
	echo "not ok 1 - the server starts with the dashboard"
	sed 's/^/# /' "$TMP/server.out"
	exit 1
fi
# The Python side prints its own plan and TAP lines, one per check; a crash there is a failure.
"$PY" "$SRC/tests/web/dashboard_browser.py" "$TMP"
status=$?
"$SIMQ" shutdown --no-start >/dev/null 2>&1
if grep -q "Sanitizer\|runtime error" "$SIMQ_HOME/server.err" 2>/dev/null; then
	echo "# the server's sanitizer report:"
	sed 's/^/# /' "$SIMQ_HOME/server.err"
	exit 1
fi
exit $status
