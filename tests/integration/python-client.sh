#!/bin/sh
# The PLECS documentation's Python pattern against plecs-emu, with the standard library only.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"

requires python3
plan 3
EMU=$SIMQ_BUILDDIR/src/plecs-emu
"$EMU" --port 0 --port-file "$TMP/port" 2>"$TMP/emu.err" &
pid=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 500 ]; do
	kill -0 "$pid" 2>/dev/null || break
	i=$((i + 1))
	sleep 0.01
done
port=$(cat "$TMP/port" 2>/dev/null)
if [ -n "$port" ]; then ok "plecs-emu listens on port $port"; else fail "plecs-emu listens" "$(cat "$TMP/emu.err")"; fi

python3 - "$port" "$SRC/share/models/buck.plecs" >"$TMP/py.out" 2>&1 <<'PY'
import sys, xmlrpc.client
port, model = sys.argv[1], sys.argv[2]
server = xmlrpc.client.Server("http://localhost:%s/RPC2" % port)
server.plecs.load(model)
result = server.plecs.simulate("buck", {"ModelVars": {"Vin": 400}})
vout = result["Values"][0]
print("points", len(result["Time"]), "signals", len(result["Values"]), "final Vout %.3f" % vout[-1])
# The model's D is 0.5: the steady state is near D * Vin.
assert abs(vout[-1] - 200) / 200 < 0.01, vout[-1]
try:
    server.plecs.simulate("buck", {"ModelVars": {"Vinn": 400}})
    print("no fault for an unknown variable")
    sys.exit(1)
except xmlrpc.client.Fault as fault:
    print("fault:", fault.faultString)
PY
status=$?
if [ $status -eq 0 ]; then ok "xmlrpc.client loads and simulates buck: $(head -n1 "$TMP/py.out")"; else fail "xmlrpc.client loads and simulates buck" "$(cat "$TMP/py.out")"; fi
expect_in "an unknown ModelVar is a fault naming it" "$TMP/py.out" "model 'buck' has no variable 'Vinn'"
kill "$pid"
wait "$pid"
done_testing
