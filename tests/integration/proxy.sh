#!/bin/sh
# The PLECS-compatible proxy (issue 19): a Python script written for PLECS (xmlrpc.client: load,
# simulate one case, a list of 16, close) run against plecs-emu directly and against simq's proxy
# in front of the same plecs-emu gets the same answers, byte for byte; two scripts at once share
# plecs-emu's batches and each gets its own; a bad variable is PLECS's own fault; an injected
# licence fault is retried unseen; the tasks are in simq ls, named and tagged, with the priority of
# the path; a script killed mid-call has its queued tasks cancelled within a second.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"

requires python3
plan 34

export SIMQ_HOME="$TMP/state"
M=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
SCRIPT="$SRC/tests/integration/proxy_script.py"
trap '"$SIMQ" shutdown --no-start >/dev/null 2>&1; kill "$emu_pid" 2>/dev/null' EXIT

# rc's cases take 0.1 s of wall time each (5 ms simulated at --speed 20), two at a time.
start_emu --speed 20 --cores 2
EMU_URL=$url
pport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PROXY="http://127.0.0.1:$pport/RPC2"
# Batches of up to 12: a script's list of 16 leaves 4 queued, which the other's cases join.
printf '[proxy]\nlisten = 127.0.0.1\nport = %s\n[backend local]\nurl = %s\nmax_batch = 12\n[scheduler]\nbackoff_base = 0.2s\n' \
	"$pport" "$EMU_URL" >"$TMP/simq.ini"
"$SIMQ" server -c "$TMP/simq.ini" >/dev/null 2>"$TMP/err" || fail "the server starts" "$(cat "$TMP/err")"
expect_in "the log says the proxy listens, and where" "$SIMQ_HOME/simulation.log" \
	"PLECS proxy listening on 127.0.0.1 port $pport: http://127.0.0.1:$pport/RPC2 (no token: a loopback address)"

# emu METHOD [ARGS]: calls one of plecs-emu's own methods (ARGS a Python argument list) and prints its answer.
emu() {
	python3 -c 'import sys, xmlrpc.client
print(getattr(xmlrpc.client.ServerProxy(sys.argv[1]), sys.argv[2])(*eval("[" + sys.argv[3] + "]")))' \
		"$EMU_URL" "$1" "${2:-}"
}

# (1) The same script, directly and through the proxy.
check "the script runs against plecs-emu directly" python3 "$SCRIPT" "$EMU_URL" "$M" 1000 "$TMP/direct.json"
check "the script runs against simq's proxy" python3 "$SCRIPT" "$PROXY" "$M" 1000 "$TMP/proxy.json"
if cmp -s "$TMP/direct.json" "$TMP/proxy.json" && grep -q '"Time": \[0.0' "$TMP/proxy.json"; then
	ok "identical answers: the one case's {Time, Values} and the list of 16, every double the same"
else
	fail "identical answers" "$(head -c 300 "$TMP/direct.json")" "$(head -c 300 "$TMP/proxy.json")"
fi

# The other shapes: MatFile output is a MAT file's bytes; system.multicall answers what single calls do.
python3 - "$PROXY" "$M" >"$TMP/shapes" 2>&1 <<'PY'
import sys, xmlrpc.client
s = xmlrpc.client.ServerProxy(sys.argv[1])
n = s.plecs.load(sys.argv[2])
mat = s.plecs.simulate(n, {"ModelVars": {"R": 1500}, "OutputFormat": "MatFile"})
print("MatFile:", bytes(mat.data[:19]).decode(), len(mat.data) > 1000)
one = s.plecs.simulate(n, {"ModelVars": {"R": 1600}})
m = xmlrpc.client.MultiCall(s)
m.plecs.simulate(n, {"ModelVars": {"R": 1600}})
m.plecs.simulate(n, [{"ModelVars": {"R": 1600}}])
a, b = tuple(m())
print("multicall:", a == one and b == [one], sorted(s.system.listMethods()))
PY
expect_in "OutputFormat MatFile answers MAT bytes" "$TMP/shapes" "MatFile: MATLAB 5.0 MAT-file True"
expect_in "system.multicall answers as single calls; system.listMethods lists plecs.*" "$TMP/shapes" \
	"multicall: True ['plecs.close', 'plecs.get', 'plecs.load', 'plecs.set', 'plecs.simulate', 'system.capabilities'"

# (2) Two scripts at once: the answers each would get alone, and batches holding cases of both.
# (Cases of their own: a case run before is answered from the result cache, without plecs-emu.)
for r0 in 2000 3000 4000; do
	python3 "$SCRIPT" "$EMU_URL" "$M" $r0 "$TMP/direct$r0.json" || fail "the script runs directly with R $r0"
done
emu emu.reset >/dev/null
python3 "$SCRIPT" "$PROXY" "$M" 2000 "$TMP/a.json" 2>"$TMP/a.err" &
a=$!
python3 "$SCRIPT" "$PROXY" "$M" 3000 "$TMP/b.json" 2>"$TMP/b.err" &
b=$!
wait $a && wait $b || fail "two scripts at once run" "$(cat "$TMP/a.err" "$TMP/b.err")"
if cmp -s "$TMP/a.json" "$TMP/direct2000.json" && cmp -s "$TMP/b.json" "$TMP/direct3000.json"; then
	ok "two scripts at once each get their own answers, as plecs-emu gives them directly"
else
	fail "two scripts at once each get their own answers"
fi
python3 - "$EMU_URL" >"$TMP/batches" 2>&1 <<'PY'
import sys, xmlrpc.client
calls = xmlrpc.client.ServerProxy(sys.argv[1]).emu.calls()
for c in calls:
    if c["method"] == "plecs.simulate":
        rs = [o.get("ModelVars", {}).get("R", 0) for o in c["opts"]]
        print(c["cases"], "A" * any(r < 3000 for r in rs) + "B" * any(r >= 3000 for r in rs))
PY
if grep -q " AB$" "$TMP/batches"; then
	ok "plecs-emu's calls include batches holding cases of both scripts ($(grep -c " AB$" "$TMP/batches") of $(wc -l <"$TMP/batches"))"
else
	fail "a batch holds cases of both scripts" "cases and whose, per plecs.simulate call:" "$(cat "$TMP/batches")"
fi

# (3) A bad variable is PLECS's fault; a licence fault is retried unseen; the path's priority.
python3 "$SCRIPT" "$EMU_URL" "$M" 1 "$TMP/bad-direct.json" bad
python3 "$SCRIPT" "$PROXY" "$M" 1 "$TMP/bad-proxy.json" bad
if cmp -s "$TMP/bad-direct.json" "$TMP/bad-proxy.json" && grep -q "has no variable 'Rx'" "$TMP/bad-proxy.json"; then
	ok "a case with a bad variable answers PLECS's own fault: $(cat "$TMP/bad-proxy.json")"
else
	fail "a bad variable answers PLECS's fault" "$(cat "$TMP/bad-direct.json")" "$(cat "$TMP/bad-proxy.json")"
fi
emu emu.reset >/dev/null
emu emu.inject "'license', 1" >/dev/null
check "with a licence fault injected, the script at /RPC2/critical runs to the end" \
	python3 "$SCRIPT" "$PROXY/critical" "$M" 4000 "$TMP/licence.json"
check "... and gets the answers it gets directly" cmp "$TMP/licence.json" "$TMP/direct4000.json"
emu emu.calls >"$TMP/calls"
expect_in "... for plecs-emu did answer the licence fault" "$TMP/calls" "No free license available"
"$SIMQ" ls --tag proxy --name proxy:127.0.0.1 --limit 1000 >"$TMP/ls"
critical=$(grep -c "critical  completed" "$TMP/ls")
if [ "$critical" -eq 17 ] && grep -Eq "critical +completed +2 " "$TMP/ls"; then
	ok "simq ls --tag proxy: the script's 17 tasks, critical from the path, named proxy:127.0.0.1, one retried"
else
	fail "the script's tasks are in simq ls, critical" "$critical critical completed:" "$(tail -20 "$TMP/ls")"
fi
check "a call at /RPC2 gets [proxy] priority (normal)" grep -Eq "normal +completed +1 " "$TMP/ls"

# The result cache answers a script run again at once: no case reaches plecs-emu.
emu emu.reset >/dev/null
check "the first script run again gets the same answers" sh -c \
	"python3 '$SCRIPT' '$PROXY' '$M' 1000 '$TMP/again.json' && cmp '$TMP/again.json' '$TMP/direct.json'"
emu emu.calls >"$TMP/calls"
if grep -q "plecs.simulate" "$TMP/calls"; then
	fail "... from the cache: plecs-emu got no plecs.simulate" "$(cat "$TMP/calls")"
else
	ok "... from the cache: plecs-emu got no plecs.simulate"
fi

# (4) A script killed mid-call: its queued tasks are cancelled within a second.
python3 - "$PROXY/low" "$M" <<'PY' &
import sys, xmlrpc.client
s = xmlrpc.client.ServerProxy(sys.argv[1])
n = s.plecs.load(sys.argv[2])
s.plecs.simulate(n, [{"ModelVars": {"R": 7000 + i}} for i in range(40)])
PY
killed=$!
i=0
until "$SIMQ" ls --state running --tag proxy | grep -q "low  running"; do
	i=$((i + 1))
	[ $i -gt 300 ] && break
	sleep 0.05
done
kill -9 $killed
t0=$(date +%s%N)
wait $killed 2>/dev/null
# When the server cancelled them: its log line's own time (the CLI's polling would add its own).
until_in "$SIMQ_HOME/simulation.log" "proxy: cancelled" -F # the log is written off the loop
line=$(grep -F "proxy: cancelled" "$SIMQ_HOME/simulation.log" | tail -1)
at=$(date -d "$(printf '%s' "$line" | cut -d' ' -f1)" +%s%N 2>/dev/null || echo 0)
took=$(((at - t0) / 1000000))
said=$(printf '%s' "$line" | sed -n 's/.*proxy: cancelled \([0-9]*\) queued tasks.*/\1/p')
"$SIMQ" ls --state cancelled --tag proxy >"$TMP/cancelled"
"$SIMQ" ls --state queued --tag proxy >"$TMP/queued"
cancelled=$(grep -Ec "low +cancelled" "$TMP/cancelled")
if [ "${said:-0}" -gt 0 ] && [ "$took" -le 1000 ] && [ "$cancelled" -eq "$said" ] && ! grep -Eq "low +queued" "$TMP/queued"; then
	ok "a script killed mid-call: its $said queued tasks cancelled after $took ms"
else
	fail "a killed script's queued tasks are cancelled within a second" "$said said, $cancelled cancelled, $took ms" \
		"$line" "$(cat "$TMP/queued")"
fi
expect_in "the log says what was cancelled and why" "$SIMQ_HOME/simulation.log" \
	"proxy: cancelled $said queued tasks of a plecs.simulate from 127.0.0.1: the client closed its connection"
server_ran_clean

# On an address that is not loopback, the proxy wants the token, as the TCP API does.
export SIMQ_HOME="$TMP/state2"
printf '[proxy]\nlisten = 0.0.0.0\nport = %s\npriority = high\n[server]\ntoken = 0123456789abcdef0123\n[backend local]\nurl = %s\n' \
	"$pport" "$EMU_URL" >"$TMP/simq2.ini"
"$SIMQ" server -c "$TMP/simq2.ini" >/dev/null 2>"$TMP/err" || fail "the server on 0.0.0.0 starts" "$(cat "$TMP/err")"
python3 "$SCRIPT" "$PROXY" "$M" 1000 "$TMP/notoken.json" 2>"$TMP/notoken.err"
expect_in "on 0.0.0.0 a script without the token is refused (401)" "$TMP/notoken.err" "401 Unauthorized"
check "... and one with it (http://simq:TOKEN@HOST:PORT/RPC2) gets the same answers" sh -c \
	"python3 '$SCRIPT' 'http://simq:0123456789abcdef0123@127.0.0.1:$pport/RPC2' '$M' 1000 '$TMP/token.json' &&
	cmp '$TMP/token.json' '$TMP/direct.json'"
"$SIMQ" ls --tag proxy --limit 100 >"$TMP/ls2"
if [ "$(grep -c "^[0-9]*  *high  *completed" "$TMP/ls2")" -eq 17 ]; then
	ok "[proxy] priority = high: the 17 tasks of a call at /RPC2 are high"
else
	fail "[proxy] priority = high gives a call at /RPC2 high tasks" "$(cat "$TMP/ls2")"
fi
server_ran_clean

# What the operator's and the adversary's tries found (a server of its own, on loopback).
export SIMQ_HOME="$TMP/state3"
printf '[proxy]\nlisten = 127.0.0.1\nport = %s\n[backend local]\nurl = %s\n' "$pport" "$EMU_URL" >"$TMP/simq3.ini"
"$SIMQ" server -c "$TMP/simq3.ini" >/dev/null 2>"$TMP/err" || fail "the third server starts" "$(cat "$TMP/err")"
mkdir -p "$TMP/odd/e$(printf '\360\237\230\200')" && cp "$M" "$TMP/odd/e$(printf '\360\237\230\200')/rc.plecs" &&
	ln -sfn "$TMP/odd/e$(printf '\360\237\230\200')" "$TMP/odd/link" && cp "$M" "$TMP/odd/rc.txt" &&
	ln -sfn "$TMP/odd/rc.txt" "$TMP/odd/txt.plecs"
# Debian's python3, with python3-scipy (./quickstart installs it): a pyenv python may shadow it on PATH.
/usr/bin/python3 - "$PROXY" "$M" "$TMP/odd" "$EMU_URL" >"$TMP/odd.out" 2>&1 <<'PY'
import io, sys, xmlrpc.client
proxy, model, odd, emu = sys.argv[1:]
s = xmlrpc.client.ServerProxy(proxy)
for path in (odd + "/link/rc.plecs", odd + "/rc.txt", odd + "/txt.plecs"):
    try:
        s.plecs.load(path)
        print("loaded", path)
    except xmlrpc.client.Fault as f:
        print("refused:", f.faultString)
n = s.plecs.load(model)
print("still serving:", s.plecs.simulate(n, {"ModelVars": {"R": 1234}})["Time"][0] == 0.0)
try:
    s.plecs.simulate(n, {"SolverOpts": {"Foo": 1}})
except xmlrpc.client.Fault as f:
    print("unknown solver option:", f.faultString)
# MatFile through the proxy: the bytes' doubles are plecs-emu's own MatFile's.
d = xmlrpc.client.ServerProxy(emu)
d.plecs.load(model)
opt = {"ModelVars": {"R": 4321}, "OutputFormat": "MatFile"}
a, b = bytes(s.plecs.simulate(n, opt).data), bytes(d.plecs.simulate("rc", opt).data)
import numpy, scipy.io
ma, mb = scipy.io.loadmat(io.BytesIO(a)), scipy.io.loadmat(io.BytesIO(b))
print("MatFile doubles as plecs-emu's:", all(ma[k].tobytes() == mb[k].tobytes() for k in ("Time", "Values")))
PY
expect_in "a model that resolves to a path with an emoji is refused, in PLECS's words, saying why" "$TMP/odd.out" \
	"refused: Cannot load model '$TMP/odd/link/rc.plecs': it resolves to"
expect_in "a file not ending in .plecs is refused at load, not at every simulate" "$TMP/odd.out" \
	"simq's proxy loads model files whose name ends in .plecs"
expect_in "... and so is a .plecs link to one" "$TMP/odd.out" \
	"txt.plecs': it resolves to $TMP/odd/rc.txt, which is not an absolute path to a file whose name ends in .plecs"
expect_in "the server still serves" "$TMP/odd.out" "still serving: True"
expect_in "an unknown SolverOpts option is named, with Timeout among the allowed" "$TMP/odd.out" \
	"unknown solver option: SolverOpts.Foo: not a solver option; allowed: StartTime, TimeSpan, MaxStep, FixedStep, RelTol, AbsTol, Solver, Refine, Timeout"
expect_in "a MatFile case through the proxy holds plecs-emu's own MatFile doubles" "$TMP/odd.out" \
	"MatFile doubles as plecs-emu's: True"
# A script that loaded its model before a restart simulates after it.
python3 -c 'import sys, xmlrpc.client; print(xmlrpc.client.ServerProxy(sys.argv[1]).plecs.load(sys.argv[2]))' \
	"$PROXY" "$M" >/dev/null
"$SIMQ" shutdown >/dev/null
# A hostile entry in the kept file (a path a load would refuse) is left out, and said so.
python3 - "$SIMQ_HOME/proxy-models.json" "$TMP/odd" <<'PY'
import json, sys
models = json.load(open(sys.argv[1]))
models.append({"address": "127.0.0.1", "name": "evil", "path": sys.argv[2] + "/e\U0001F600/rc.plecs", "loads": 1})
json.dump(models, open(sys.argv[1], "w"))
PY
"$SIMQ" server -c "$TMP/simq3.ini" >/dev/null 2>"$TMP/err" || fail "the server starts again" "$(cat "$TMP/err")"
check "after a restart, the script's loaded model simulates without a new plecs.load" python3 -c \
	'import sys, xmlrpc.client; sys.exit(xmlrpc.client.ServerProxy(sys.argv[1]).plecs.simulate("rc", {"ModelVars": {"R": 777}})["Time"][0] != 0.0)' \
	"$PROXY"
python3 -c 'import sys, xmlrpc.client
try:
    xmlrpc.client.ServerProxy(sys.argv[1]).plecs.simulate("evil", {"ModelVars": {"R": 1}})
except xmlrpc.client.Fault as f:
    print(f.faultString)' "$PROXY" >"$TMP/evil.out" 2>&1
expect_in "a hostile entry of the kept file is not loaded (no crash: the model is not loaded)" "$TMP/evil.out" \
	"model 'evil' is not loaded"
expect_in "... and the log says it was left out" "$SIMQ_HOME/simulation.log" "proxy: 1 entries of"
# 1,030 clients (loopback addresses 127.3.x.y) each load once: a new one still can; the oldest are forgotten.
python3 - "$pport" "$M" >"$TMP/peers.out" 2>&1 <<'PY'
import http.client, sys, xmlrpc.client
port, model = int(sys.argv[1]), sys.argv[2]
class T(xmlrpc.client.Transport):
    def __init__(self, src):
        super().__init__()
        self.src = src
    def make_connection(self, host):
        return http.client.HTTPConnection(host, source_address=(self.src, 0))
def load(src):
    return xmlrpc.client.ServerProxy("http://127.0.0.1:%d/RPC2" % port, transport=T(src)).plecs.load(model)
for i in range(1030):
    load("127.3.%d.%d" % (i // 250, 1 + i % 250))
print("a new client loads:", load("127.4.0.1"))
PY
expect_in "past 1,024 clients a new one still loads (the longest idle is forgotten)" "$TMP/peers.out" \
	"a new client loads: rc"
server_ran_clean
done_testing
