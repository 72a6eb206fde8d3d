#!/bin/sh
# Values arrive as they were written: a variable typed on the command line (-v C=1e-6, 0.42) or sent
# by Python's xmlrpc.client (0.1 + 0.2 = 0.30000000000000004, which it writes as 17 digits) is stored
# and shown bit for bit, although xmlrpc-c alone reads "0.42" as 0.42000000000000004 and writes
# 0.30000000000000004 as "0.30000000000000006".  Against a real server on its Unix socket.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"

requires python3
plan 3

export SIMQ_HOME="$TMP/state"
export XDG_CONFIG_HOME="$TMP/config"
paused_config
MODELS=$(cd "$SRC/share/models" && pwd -P)
trap '"$SIMQ" shutdown --no-start >/dev/null 2>&1' EXIT

a=$("$SIMQ" submit "$MODELS/rc.plecs" -v C=1e-6 -v R=0.42 -v Vin=0.30000000000000004 --solver MaxStep=1.2e-3)
"$SIMQ" show "$a" --json >"$TMP/show"
python3 - "$TMP/show" <<'PY' >"$TMP/py" 2>&1 && ok "the CLI's values are stored bit for bit" || fail "the CLI's values are stored bit for bit" "$(cat "$TMP/py")"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["vars"] == {"C": 1e-6, "R": 0.42, "Vin": 0.1 + 0.2}, t["vars"]
assert t["solver"] == {"MaxStep": 1.2e-3}, t["solver"]
PY
"$SIMQ" show "$a" >"$TMP/human"
expect_in "simq show prints them as typed" "$TMP/human" '{"C":1e-06,"R":0.42,"Vin":0.30000000000000004}'

python3 - "$SIMQ_HOME/simq.sock" "$MODELS/rc.plecs" <<'PY' >"$TMP/py" 2>&1 && ok "Python's values come back bit for bit" || fail "Python's values come back bit for bit" "$(cat "$TMP/py")"
import sys
sys.path.insert(0, __import__("os").environ["SIMQ_SRCDIR"] + "/tests/lib")
from api import proxy
simq = proxy(sys.argv[1]).simq
values = {"C": 0.42, "R": 0.1 + 0.2, "Vin": 1e-300}
i = simq.submit({"model": sys.argv[2], "vars": values})
got = simq.get(i)["vars"]
assert got == values, (got, values)
PY
done_testing
