#!/bin/sh
# simq status, the line tmux shows: with no server it says so, exits 0 and
# starts none; every mistake is told on its one line with exit 0; against a
# paused server with 1,234 queued tasks and a backend that does not answer,
# the default line, its tmux colours, ASCII (--ascii and a C locale), a
# format of named fields, --json, and simq.status's argument over the API.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"

requires python3
plan 18

export SIMQ_HOME="$TMP/state/simq-status"
M=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
trap '"$SIMQ" shutdown --no-start >/dev/null 2>&1' EXIT

# expect_line NAME EXPECTED COMMAND...: COMMAND exits 0 and prints exactly EXPECTED.
expect_line() {
	local name=$1 want=$2
	shift 2
	if run_capture 0 "$@" && [ "$(cat "$TMP/out")" = "$want" ]; then
		ok "$name"
	else
		fail "$name" "command: $*" "expected: $want" "got: $(cat "$TMP/out")" "$(cat "$TMP/err")"
	fi
}

# ---- no server ------------------------------------------------------------------------------
expect_line "no server: it prints \"simq: no server\" and exits 0" "simq: no server" "$SIMQ" status
expect_line "the same with --tmux, --ascii and a format" "simq: no server" "$SIMQ" status --tmux --ascii --format '{queued}'
[ ! -e "$SIMQ_HOME" ] && ok "it started no server: the state directory was not even made" ||
	fail "it started no server: the state directory was not even made" "$(ls -la "$SIMQ_HOME")"
expect_status "and no server answers afterwards" 69 "$SIMQ" stats --no-start

# ---- mistakes: exit 0, said on the line ---------------------------------------------------
run_capture 0 "$SIMQ" status --format 'q={queud}' && grep -qF "{queud} is no field; allowed: {queued} {running}" "$TMP/out" &&
	ok "a format with an unknown field: exit 0, the line names it and the fields allowed" ||
	fail "a format with an unknown field: exit 0, the line names it and the fields allowed" "$(cat "$TMP/out" "$TMP/err")"
run_capture 0 "$SIMQ" status --format '{down?x' && grep -qF "column 1: a {field? that is not closed with }" "$TMP/out" &&
	ok "an unclosed {field?: exit 0, the line says where" || fail "an unclosed {field?: exit 0, the line says where" "$(cat "$TMP/out")"
run_capture 0 "$SIMQ" status --bogus && grep -qF "simq help status" "$TMP/out" &&
	ok "an unknown option: exit 0, the line points to simq help status" ||
	fail "an unknown option: exit 0, the line points to simq help status" "$(cat "$TMP/out" "$TMP/err")"
"$SIMQ" help status >"$TMP/help"
n=0
for f in queued running failed new done down paused; do grep -qF "{$f}: " "$TMP/help" && n=$((n + 1)); done
[ $n -eq 7 ] && ok "simq help status lists every field" || fail "simq help status lists every field" "$(cat "$TMP/help")"

# ---- a paused server, 1,234 queued, a backend nobody answers on ----------------------------
mkdir -p "$XDG_CONFIG_HOME/simq"
printf '[backend lab]\nurl = http://127.0.0.1:9/RPC2\n[scheduler]\nstart_paused = true\nbackoff_base = 200ms\n' \
	>"$XDG_CONFIG_HOME/simq/simq.ini"
"$SIMQ" sweep "$M" R=1:1234:1 >/dev/null 2>"$TMP/err" || fail "1,234 tasks are queued" "$(cat "$TMP/err")"
i=0
until "$SIMQ" status | grep -q DOWN || [ $i -gt 300 ]; do
	i=$((i + 1))
	sleep 0.05
done
expect_line "the line: queued with thousands, running, failed, the DOWN backend, paused" \
	"simq 1,234▸ 0⚙ 0✗ · lab DOWN · paused" "$SIMQ" status
expect_line "--tmux: the DOWN backend in red, nothing else coloured while no failure is new" \
	"simq 1,234▸ 0⚙ 0✗ · #[fg=red]lab DOWN#[default] · paused" "$SIMQ" status --tmux
expect_line "--ascii: the symbols in ASCII" "simq 1,234> 0* 0x - lab DOWN - paused" "$SIMQ" status --ascii
expect_line "a locale that is not UTF-8: ASCII as well" "simq 1,234> 0* 0x - lab DOWN - paused" env LC_ALL=C "$SIMQ" status
expect_line "--format: named fields, and {field?text} only when the field is set" \
	"1,234/0/0/0/0 down:lab P" "$SIMQ" status --format '{queued}/{running}/{failed}/{new}/{done} {down?down:{down} }{paused?P}{new?N}'
expect_line "#[styles] in a format stay with --tmux" "q #[fg=blue]1,234" "$SIMQ" status --tmux --format 'q #[fg=blue]{queued}'
expect_line "and go without it" "q 1,234" "$SIMQ" status --format 'q #[fg=blue]{queued}'
"$SIMQ" status --json --seen >"$TMP/json"
grep -q '"queued": 1234' "$TMP/json" && grep -q '"failures": 0' "$TMP/json" && grep -q '"failures_seen": 0' "$TMP/json" &&
	grep -q '"name": "lab"' "$TMP/json" && ok "--json: simq.status's counts, failures and backends" ||
	fail "--json: simq.status's counts, failures and backends" "$(cat "$TMP/json")"
python3 - "$SIMQ_HOME/simq.sock" >"$TMP/py" 2>&1 <<'EOF' && ok "simq.status over the API: a count or -1 is taken, anything else is fault 1" || fail "simq.status over the API: a count or -1 is taken, anything else is fault 1" "$(cat "$TMP/py")"
import http.client, socket, sys, xmlrpc.client
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
class Unix(xmlrpc.client.Transport):
    def make_connection(self, host): return Conn("localhost")
simq = xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=Unix()).simq
assert simq.status()["queued"] == 1234
assert simq.status(5)["failures_seen"] == 0   # never past the failures there are
assert simq.status(-1)["failures_seen"] == 0
for bad in (-2, "all", 1.5):
    try:
        simq.status(bad)
        raise SystemExit("accepted %r" % (bad,))
    except xmlrpc.client.Fault as f:
        assert f.faultCode == 1 and "simq.status" in f.faultString, f
EOF
server_ran_clean
