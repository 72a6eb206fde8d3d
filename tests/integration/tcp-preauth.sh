#!/bin/sh
# TCP before the token (issue 14): with 200 idle connections that sent half a header, and during
# 5,000 requests without the token, a call with the token answers within 1 s; the idle ones are
# cut after the header timeout; the refusals take at most 5 lines of the log, one per interval
# with a count, and the lines kept for consoles are still there.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/api.sh"

requires python3
plan 9

export SIMQ_HOME="$TMP/state"
# Refusals logged every 10 s: the flood (seconds under ASan) takes at most a few lines.
start_tcp_server '[scheduler]\nstart_paused = true\n' 'refusal_log_interval = 10s\n'
log_bytes=$(wc -c <"$SIMQ_HOME/simulation.log")

python3 - "$tport" "$token" >"$TMP/figures" 2>&1 <<'PY'
import base64, http.client, socket, sys, threading, time, xmlrpc.client
port, token = int(sys.argv[1]), sys.argv[2]
auth = {"Content-Type": "text/xml", "Authorization": "Basic " + base64.b64encode(("simq:" + token).encode()).decode()}

def authenticated_ms():
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/RPC2", xmlrpc.client.dumps((42,), "simq.echo"), auth)
    r = c.getresponse()
    assert r.status == 200 and xmlrpc.client.loads(r.read())[0][0] == 42
    c.close()
    return (time.monotonic() - t0) * 1000

idle = []
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: simq\r\nContent-Type: text/xml\r\n")
    idle.append(s)
print("idle_ms %d" % authenticated_ms())

refused = [0]
def flood(n):
    body = xmlrpc.client.dumps((1,), "simq.echo")
    for i in range(n):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
        r = c.getresponse()
        r.read()
        c.close()
        if r.status == 401:
            refused[0] += 1
threads = [threading.Thread(target=flood, args=(1250,)) for i in range(4)]
t0 = time.monotonic()
for t in threads:
    t.start()
worst = 0
while any(t.is_alive() for t in threads):
    worst = max(worst, authenticated_ms())
    time.sleep(0.05)
for t in threads:
    t.join()
print("flood_s %.1f" % (time.monotonic() - t0))
print("refused %d" % refused[0])
print("flood_worst_ms %d" % worst)

# The server cuts each idle connection (the oldest at once when newer ones come, the rest at the header timeout).
deadline = time.monotonic() + 20
cut = 0
for s in idle:
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        cut += s.recv(1) == b""
    except ConnectionResetError:
        cut += 1
    except socket.timeout:
        pass
print("cut %d" % cut)
PY
figure() { sed -n "s/^$1 //p" "$TMP/figures"; }
ms=$(figure idle_ms)
[ -n "$ms" ] && [ "$ms" -le 1000 ] && ok "with 200 idle connections without the token, a call with it answers within 1 s ($ms ms)" ||
	fail "with 200 idle connections without the token, a call with it answers within 1 s" "$(cat "$TMP/figures")"
[ "$(figure refused)" = 5000 ] && ok "5,000 requests without the token each get 401 ($(figure flood_s) s)" ||
	fail "5,000 requests without the token each get 401" "$(cat "$TMP/figures")"
ms=$(figure flood_worst_ms)
[ -n "$ms" ] && [ "$ms" -le 1000 ] && ok "during them, every call with the token answers within 1 s (slowest $ms ms)" ||
	fail "during them, every call with the token answers within 1 s" "$(cat "$TMP/figures")"
[ "$(figure cut)" = 200 ] && ok "the server closed all 200 idle connections" ||
	fail "the server closed all 200 idle connections" "$(cat "$TMP/figures")"

# The first refusal is logged at once; the rest of its interval in one line with a count.
i=0
while ! "$SIMQ" log >"$TMP/log" 2>&1 || ! grep -q "refused [0-9]* more TCP requests" "$TMP/log"; do
	i=$((i + 1))
	[ $i -ge 300 ] && break
	sleep 0.1
done
lines=$(grep -c "refused" "$TMP/log")
[ "$lines" -ge 2 ] && [ "$lines" -le 5 ] && ok "simq log has $lines lines about refusals (at most 5)" ||
	fail "simq log has at most 5 lines about refusals, and the count" "$(grep refused "$TMP/log")"
expect_in "the first says who and why" "$TMP/log" "refused a TCP client from 127.0.0.1: no token"
total=$(sed -n 's/.*refused \([0-9]*\) more TCP requests.*/\1/p' "$TMP/log" | awk '{ n += $1 } END { print n + 1 }')
[ "$total" = 5000 ] && ok "the lines count all 5,000" || fail "the lines count all 5,000" "$(grep refused "$TMP/log")"
grown=$(($(wc -c <"$SIMQ_HOME/simulation.log") - log_bytes))
grep -q "server started" "$TMP/log" && [ "$grown" -lt 2000 ] &&
	ok "the log kept for consoles still begins with the start; simulation.log grew $grown bytes" ||
	fail "the log kept for consoles still begins with the start, simulation.log grew little" "grew $grown bytes" \
		"$(head -3 "$TMP/log")"
server_ran_clean
done_testing
