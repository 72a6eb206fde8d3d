#!/bin/sh
# Something that is not a simq server answers on the socket: the CLI says so and exits 69, never
# crashes, never prints what it was sent raw to the terminal (an HTTP error's body is escaped and
# cut short).  (An answer without end is cut at 1 GiB, client.c's ANSWER_MAX: tried by hand, too big
# for a test under the sanitizers.)
. "$SIMQ_SRCDIR/tests/lib/tap.sh"

requires python3
plan 6

cat >"$TMP/fake.py" <<'PY'
import os, socket, sys, threading
path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(8)
def serve(c):
    data = b""
    while b"\r\n\r\n" not in data:
        d = c.recv(65536)
        if not d:
            return
        data += d
    try:
        if mode == "wrongtype":
            body = (b'<?xml version="1.0"?><methodResponse><params><param><value><string>hello</string></value>'
                    b'</param></params></methodResponse>')
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        else:
            body = b"\x1b]0;pwned\x07\x1b[2Jcleared" + b"x" * 5000
            c.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

pids=
trap 'kill $pids 2>/dev/null' EXIT
# fake MODE: a fake server of that mode on a state directory of its own, which SIMQ_HOME names.
fake() {
	export SIMQ_HOME="$TMP/$1"
	mkdir -p -m 700 "$SIMQ_HOME"
	rm -f "$SIMQ_HOME/simq.sock"
	python3 "$TMP/fake.py" "$SIMQ_HOME/simq.sock" "$1" &
	pids="$pids $!"
	i=0
	while [ ! -S "$SIMQ_HOME/simq.sock" ] && [ $i -lt 300 ]; do
		i=$((i + 1))
		sleep 0.05
	done
}

fake wrongtype
expect_status "an answer of another shape: simq ls says so, exit 69 (no crash)" 69 "$SIMQ" --no-start ls
expect_in "it says what is wrong" "$TMP/err" "simq ls: the server's answer holds no list of tasks"
fake httperr
expect_status "an HTTP error: exit 69" 69 "$SIMQ" --no-start ls
expect_in "its body is shown escaped" "$TMP/err" 'the server answered HTTP 500: \x1b]0;pwned\x07\x1b[2Jcleared'
expect_in "and cut short" "$TMP/err" '... (5021 bytes)'
if grep -q "$(printf '\033')" "$TMP/err"; then fail "no escape reaches the terminal" "$(cat -v "$TMP/err")"; else
	ok "no escape reaches the terminal"; fi
