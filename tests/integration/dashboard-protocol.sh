#!/bin/sh
# The web dashboard's protocol (doc/api.md) from a WebSocket client against a real server and
# plecs-emu: the page's files under their CSP, a wrong Origin refused, a snapshot and then
# updates (a CLI submit within 1 s, at most five a second), a failure with its error, bad frames,
# actions refused without the token and done with it, a reconnect that catches up, 100 viewers at
# once, and a viewer that never reads while the others keep up and the server's memory stays bounded.
# What an adversary found (issue 18): exact Hosts, paths, frames that declare too much, action
# replies, a taken port; and, under a limit of 1,024 files, floods of connections that are not
# viewers (the CLI and pages still served) and of wrong tokens (about 10 checked a second).
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
plan 33

export SIMQ_HOME="$TMP/state" SIMQ SIMQ_INI="$TMP/simq.ini"
MODEL=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
export MODEL
start_emu
export EMU_URL=$url
DASH_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DASH_PORT
cleanup() {
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	kill "$emu_pid" 2>/dev/null
}
trap cleanup EXIT
printf '[backend emu]\nurl = %s\n[server]\nrefusal_log_interval = 1s\n[scheduler]\nstart_paused = true\n[dashboard]\nlisten = 127.0.0.1\nport = %s\nmax_viewers = 150\nmax_buffer = 64K\nallowed_hosts = simq.lab.example, dash.example\nallowed_origins = https://simq.lab.example\n' \
	"$url" "$DASH_PORT" >"$TMP/simq.ini"
# In an ASan build (CI's) freed memory waits in ASan's quarantine (256 MB by default), which the
# slow-viewer case would read as growth: this server keeps 1 MB of it, so what stays is what simq holds.
# It may open 1,024 files (a usual default), so that a flood of connections would take the API's if
# the dashboard took more than its share.
expect_status "the server starts with the dashboard" 0 \
	sh -c 'ulimit -n 1024 && exec env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1" "$SIMQ" server -c "$1"' \
	sh "$TMP/simq.ini"
expect_line "simq server says where the dashboard is and where its token is" "$TMP/out" \
	"dashboard on http://127.0.0.1:$DASH_PORT/ (token in $SIMQ_HOME/token)"
until_in "$SIMQ_HOME/simulation.log" "dashboard on http://127.0.0.1:$DASH_PORT/" -F # the log is written off the loop
expect_in "the log says where the dashboard is" "$SIMQ_HOME/simulation.log" "dashboard on http://127.0.0.1:$DASH_PORT/"

# A second server whose dashboard port is taken (by the first) says so in errno's words.
SIMQ_HOME="$TMP/second" "$SIMQ" server -c "$TMP/simq.ini" >"$TMP/second.out" 2>&1
status=$?
want="cannot serve the dashboard on 127.0.0.1 port $DASH_PORT ([dashboard] listen, port): address already in use"
[ "$status" -ne 0 ] && grep -qF "$want" "$TMP/second.out" &&
	ok "a second server on the same dashboard port: $want" ||
	fail "a second server on the same dashboard port says: $want" "exit $status: $(cat "$TMP/second.out")"

cases() {
	expect_status "$1" 0 "$PY" "$SRC/tests/integration/dashboard_cases.py" "$2"
	sed "s/^/# /" "$TMP/out"
}
cases "listen = 127.0.0.1 binds 127.0.0.1 only (libwebsockets would bind every address)" bound
cases "GET serves the page, its script and styles and Chart.js under a strict CSP, nothing else (404)" files
cases "only / and the page's files are served (/index.html is 404); HEAD and other methods 405" paths
cases "a WebSocket from another Origin, with none, or on another path is refused" origin
cases "only Hosts that name the dashboard are served (DNS rebinding refused); refusals logged as the dashboard's" hosts
cases "the Host is NAME or NAME:PORT exactly, two Hosts are 400; an https:// origin in allowed_origins is taken" exact_hosts
cases "through ssh -L from another port: a loopback Host with that port is served, its Origin must match it" ssh_forward
cases "a viewer gets a snapshot of every section, then a CLI submit in an update within 1 s" snapshot
cases "a task plecs-emu faults on appears among the failures with its error" failure
cases "a task waiting for its retry is a running row, also once due and held for a slot; the count is the rows'" retries
cases "bad frames: not JSON, not an object, unknown fields, binary (1003), too large (1009), silence" bad_frames
cases "a frame declaring over 64 KiB: 1009 at its first 4 KiB and dropped within 2 s; 2^63 bytes: dropped at once" frames
cases "actions are refused without the token, a wrong token is told so, with it they are done per id" actions
cases "action replies: a final task per id (done false, the reason), priority 0-3 as a number, unknown fields refused" replies
cases "a sweep's summary against a swept variable, from the store's summaries; bad requests told what is allowed" sweep
cases "changes in a burst reach a viewer at most five times a second" rate
cases "a viewer back with its last seq gets the updates it missed; another server's or a future seq, a snapshot" resume
cases "100 viewers at once each get the snapshot and the next update; past max_viewers one is refused, told why" many
cases "200 read-only pages reading: the others refused, told why; a page with the token gets in, the oldest read-only makes room" operator
cases "a viewer that never reads: the others keep up, the server's memory stays bounded, it gets a snapshot later" slow
cases "1,100 connections that are not viewers held open: the dashboard takes its share of 1,024 files, the CLI and a page are served" flood
cases "a churn of connections that send nothing: the page's files come whole, WebSockets have their snapshot" churn
cases "250 WebSockets that never say hello, renewed under the deadline: a page still gets its snapshot at once" hogs
cases "wrong tokens from one address, reconnecting: about 10 checked a second; a page from another gets in with the token" guessing
cases "a backend that answers garbage goes DOWN saying so: after 3 failed calls, and the last error, in its history" down_reason
cases "failures come from the store: after hundreds of tasks and a restart they are still listed, a retried one with its copy" restart
"$SIMQ" --no-start shutdown >/dev/null 2>&1
expect_status "a CLI with no server running starts one" 0 "$SIMQ" -c "$TMP/simq.ini" ls
expect_in "and says where the dashboard is and where its token is" "$TMP/err" \
	"simq: dashboard on http://127.0.0.1:$DASH_PORT/ (token in $SIMQ_HOME/token)"
server_ran_clean
done_testing
