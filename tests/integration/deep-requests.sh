#!/bin/sh
# Requests that once crashed the server (issue 14) get a fault, over the socket and over TCP with
# the token, and the same server keeps answering: arrays and structs nested 10,000 deep, a 50 MB
# body, a body said to be larger than the limit, a DOCTYPE, a header of 5,000 bytes.  Nesting up
# to the limit still works.
# A PLECS that answers 10,000 levels deep (plecs-emu's fault "deep") fails that call, not simq.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/api.sh"

requires python3
plan 23

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
start_emu
# No retries: the call with the deep answer fails its task at once.
start_tcp_server "[backend emu]\nurl = $url\nmax_batch = 1\n[scheduler]\nmax_retries = 0\n"
pid=$(cat "$SIMQ_HOME/simq.pid")

# post WHERE KIND: sends one hostile request (unix, or tcp with the token) and prints what came back:
# "fault CODE: TEXT", "ok VALUE" or "http STATUS".
post() {
	python3 - "$1" "$2" "$SIMQ_HOME/simq.sock" "$tport" "$token" <<'PY'
import base64, http.client, socket, sys, xmlrpc.client
where, kind, path, port, token = sys.argv[1:6]
def nested(n, structs):
    o, c = ("<struct><member><name>k</name><value>", "</value></member></struct>") if structs else \
           ("<array><data><value>", "</value></data></array>")
    return o * n + "<int>1</int>" + c * n
def call(value):
    return ('<?xml version="1.0"?>\r\n<methodCall><methodName>simq.echo</methodName><params><param><value>%s'
            '</value></param></params></methodCall>\r\n' % value).encode()
bodies = {
    "arrays": lambda: call(nested(10000, False)),
    "structs": lambda: call(nested(10000, True)),
    "arrays64": lambda: call(nested(64, False)),
    "arrays65": lambda: call(nested(65, False)),
    "string50mb": lambda: call("<string>" + "x" * (50 * 1000 * 1000) + "</string>"),
    "badi8": lambda: call("<i8>abc</i8>"),
    "bigi8": lambda: call("<i8>9223372036854775808</i8>"),
    "sent70mb": lambda: call("<string>" + "x" * (70 * 1000 * 1000) + "</string>"),
    "doctype": lambda: b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">]>' + call("<string>&a;</string>"),
    "tiny": lambda: call("<double>1e-400</double>"),
    "emoji": lambda: call("<string>ok \U0001F600</string>"),
    "xmlns": lambda: call("<i4>7</i4>").replace(b"<methodCall>", b'<methodCall xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">'),
}
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
c = Unix("localhost") if where == "unix" else http.client.HTTPConnection("127.0.0.1", int(port))
headers = {"Content-Type": "text/xml"}
if where == "tcp":
    headers["Authorization"] = "Basic " + base64.b64encode(("simq:" + token).encode()).decode()
if kind == "big-header":
    headers["X-Padding"] = "p" * 5000
    c.request("POST", "/RPC2", bodies["arrays64"](), headers)
elif kind == "too-large":
    # Said to be 100 MB; the answer comes before any of it is sent.
    headers["Content-Length"] = str(100 * 1000 * 1000)
    headers["Expect"] = "100-continue"
    c.putrequest("POST", "/RPC2")
    for k, v in headers.items():
        c.putheader(k, v)
    c.endheaders()
else:
    c.request("POST", "/RPC2", bodies[kind](), headers)
r = c.getresponse()
data = r.read()
if r.status != 200:
    print("http %d" % r.status)
    sys.exit()
try:
    v = xmlrpc.client.loads(data)[0][0]
    depth = 0
    while isinstance(v, list):
        v, depth = v[0], depth + 1
    print("ok %d deep" % depth)
except xmlrpc.client.Fault as f:
    print("fault %d: %s" % (f.faultCode, f.faultString))
PY
}

# expect_post NAME WHERE KIND TEXT: the answer to post WHERE KIND must contain TEXT.
expect_post() {
	post "$2" "$3" >"$TMP/post" 2>&1
	expect_in "$1" "$TMP/post" "$4"
}

for where in unix tcp; do
	expect_post "$where: arrays 10,000 deep get a fault" $where arrays \
		"fault 1: the request nests arrays and structs deeper than 64 (byte "
	expect_post "$where: structs 10,000 deep get a fault" $where structs \
		"fault 1: the request nests arrays and structs deeper than 64 (byte "
	expect_post "$where: a 50 MB body (one string) gets a fault" $where string50mb \
		"fault 1: the request holds more than 1048576 bytes of text in one element"
	expect_post "$where: a body said to be 100 MB gets a fault before it is sent" $where too-large \
		"fault 1: the request is 100000000 bytes; at most 67108864"
	expect_post "$where: a 70 MB body sent unasked (no Expect) gets the fault too, not a reset" $where sent70mb \
		"fault 1: the request is 70000148 bytes; at most 67108864: send its tasks in several calls"
done
expect_post "a DOCTYPE (and its entities) gets a fault" unix doctype "has a <!D... declaration"
# xmlrpc-c 1.33 crashes formatting its own message about such an <i8>.
expect_post "an <i8> that is not a number gets a fault" unix badi8 "not a whole number of 64 bits"
expect_post "an <i8> past 64 bits gets a fault" unix bigi8 "not a whole number of 64 bits"
expect_post "a header of 5,000 bytes gets HTTP 431" tcp big-header "http 431"
expect_post "arrays 64 deep are echoed" unix arrays64 "ok 64 deep"
expect_post "arrays 65 deep get a fault" unix arrays65 "deeper than 64"
# simq's reader refuses these, and so does xmlrpc-c's: the fault is simq's, naming the value.
expect_post "a number too small for a double gets a fault naming it" unix tiny \
	'fault 1: the request cannot be read: <double> holds "1e-400", too small for a double; allowed: 0, or a magnitude'
expect_post "a character beyond U+FFFF gets a fault naming it" unix emoji \
	"fault 1: the request cannot be read: a <string> holds a character beyond U+FFFF (an emoji, say)"
# simq's reader takes no attributes; xmlrpc-c's reads the call, and answers it.
expect_post "a call with a namespace declaration is answered" unix xmlns "ok 0 deep"

[ "$(cat "$SIMQ_HOME/simq.pid" 2>/dev/null)" = "$pid" ] && kill -0 "$pid" &&
	"$SIMQ" ls --no-start >"$TMP/out" 2>&1 && ok "the same server still answers (pid $pid)" ||
	fail "the same server still answers (pid $pid)" "$(cat "$TMP/out" "$SIMQ_HOME/server.err" 2>/dev/null)"

# PLECS answers 10,000 levels deep: that call fails (no retries here), the next one completes.
python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject('deep', 1)" "$url"
"$SIMQ" submit "$M" --name deep >/dev/null
"$SIMQ" wait 1 --timeout 60 >/dev/null 2>&1
"$SIMQ" show 1 --json >"$TMP/show" 2>&1
expect_in "a deep answer from PLECS fails the task, saying why" "$TMP/show" \
	"PLECS's answer is not XML-RPC simq reads: it nests arrays and structs deeper than 64"
"$SIMQ" submit "$M" --name after >/dev/null
"$SIMQ" wait 2 --timeout 60 >"$TMP/out" 2>&1 && ok "the next task completes on the same server" ||
	fail "the next task completes on the same server" "$(cat "$TMP/out")"
server_ran_clean
done_testing
