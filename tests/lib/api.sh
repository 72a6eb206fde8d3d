# api.sh — timing, GET /metrics and raw requests on the server of $SIMQ_HOME.  Source it after tap.sh.

# now_ms: monotonic-enough wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_metric NAME VALUE SECONDS: polls GET /metrics on the Unix socket every 10 ms until the sample
# NAME (e.g. simq_api_connections{listener="unix"}) reads VALUE; prints the milliseconds it took,
# or the last value seen, and is true when it got there within SECONDS.
wait_metric() {
	python3 - "$SIMQ_HOME/simq.sock" "$1" "$2" "$3" <<'PY'
import socket, sys, time
path, name, want, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
def scrape():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    for line in data.decode().split("\n"):
        if line.startswith(name + " "):
            return line.split()[-1]
    return None
t0 = time.monotonic()
while True:
    got = scrape()
    took = time.monotonic() - t0
    if got == want:
        print("%d" % (took * 1000))
        sys.exit(0)
    if took > limit:
        print("%s (not %s) after %.1f s" % (got, want, took))
        sys.exit(1)
    time.sleep(0.01)
PY
}

# start_tcp_server [INI [SERVER]]: starts the server of $SIMQ_HOME, also on TCP on a free port
# ($tport) with the token $token, with the lines INI (printf format, e.g.
# '[scheduler]\nstart_paused = true\n') and SERVER (more lines of [server]) in its config; stops it
# (and plecs-emu, if the test started one) when the test ends.
token=0123456789abcdef0123
start_tcp_server() {
	tport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# shellcheck disable=SC2059
	printf "[server]\nlisten = 127.0.0.1\nport = %s\ntoken = %s\n${2:-}${1:-}" "$tport" "$token" >"$TMP/simq.ini"
	trap '"$SIMQ" shutdown --no-start >/dev/null 2>&1; [ -n "${emu_pid:-}" ] && kill "$emu_pid" 2>/dev/null' EXIT
	"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"
}
