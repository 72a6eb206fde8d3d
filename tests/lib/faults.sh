# faults.sh — what the fault tests share.  Source it after tap.sh and emu.sh.
# Each scenario runs its own server in its own state dir ($TMP/NAME); the trap stops them all.

export SIMQ
M=$(cd "$SRC/share/models" && pwd -P)/rc.plecs
homes=
emus=

# serve NAME: starts a server for state dir $TMP/NAME with the configuration read from stdin, and
# points SIMQ_HOME at it.  The state dir may exist already (a test plants things in it first).
serve() {
	export SIMQ_HOME="$TMP/$1"
	mkdir -p -m 700 "$SIMQ_HOME"
	cat >"$TMP/$1.ini"
	homes="$homes $SIMQ_HOME"
	"$SIMQ" server -c "$TMP/$1.ini" >/dev/null 2>"$TMP/err" || fail "the server for $1 starts" "$(cat "$TMP/err")"
}

# emu_up [ARG...]: start_emu, remembering the process for the trap.
emu_up() {
	start_emu "$@"
	emus="$emus $emu_pid"
}

# emu_gone: kills this test's plecs-emu (at once: SIGTERM lets it wait for open connections) and
# waits until it has exited, so its port refuses.
emu_gone() {
	kill -KILL "$emu_pid" 2>/dev/null
	wait "$emu_pid" 2>/dev/null
}

stop_all() {
	for h in $homes; do
		pid=$(cat "$h/simq.pid" 2>/dev/null)
		[ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null
		SIMQ_HOME=$h "$SIMQ" shutdown --no-start >/dev/null 2>&1
	done
	for p in $emus; do kill "$p" 2>/dev/null; done
}

# poll SECONDS COMMAND...: runs COMMAND every 50 ms until it succeeds, for at most SECONDS.
poll() {
	local n=$(($1 * 20))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -le 0 ] && return 1
		sleep 0.05
	done
}

# inject KIND [COUNT]: emu.inject on this test's plecs-emu.
inject() {
	python3 -c "import sys, xmlrpc.client; xmlrpc.client.ServerProxy(sys.argv[1]).emu.inject(sys.argv[2], int(sys.argv[3]))" \
		"$url" "$1" "${2:-1}"
}

# What the checks below may call: the CLI's own JSON (stats, ls, show), the API (simq.view) on
# the server's socket, and plecs-emu's record of its calls.
PY_PRELUDE='
import http.client, json, os, socket, subprocess, sys, xmlrpc.client
def cli(*a):
    r = subprocess.run([os.environ["SIMQ"], *a, "--json"], capture_output=True, text=True)
    assert r.returncode == 0, ("simq", a, r.returncode, r.stderr)
    return json.loads(r.stdout)
def stats(): return cli("stats")
def tasks(): return cli("ls", "--limit", "1000")
def show(i): return cli("show", str(i))
def attempts(): return [(t["id"], a) for t in tasks() for a in show(t["id"])["attempt_list"]]
class _Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(os.path.join(os.environ["SIMQ_HOME"], "simq.sock"))
class _Unix(xmlrpc.client.Transport):
    def make_connection(self, host): return _Conn("localhost")
def api(): return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=_Unix())
def emu(url): return xmlrpc.client.ServerProxy(url)
def by_state(ts): return {s: sorted(t["id"] for t in ts if t["state"] == s) for s in ("queued", "running", "completed", "failed", "cancelled")}
'

# pycheck NAME [ARG...]: runs the Python read from stdin after PY_PRELUDE, with ARGs in sys.argv[1:];
# passes when it exits 0, else shows what it printed (a failed assert shows its message).
pycheck() {
	local name=$1 body
	shift
	body=$(cat)
	if python3 -c "$PY_PRELUDE
$body" "$@" >"$TMP/py.out" 2>&1; then ok "$name"; else fail "$name" "$(tail -5 "$TMP/py.out")"; fi
}

# backend_up: the server's (only) backend is UP, as simq.view shows it.
backend_up() {
	python3 -c "$PY_PRELUDE
assert api().simq.view({})['backends'][0]['up']"
}

# skip_n N REASON: N planned checks that cannot run here.
skip_n() {
	local i=0
	while [ $i -lt "$1" ]; do
		i=$((i + 1))
		tap_n=$((tap_n + 1))
		echo "ok $tap_n # SKIP $2"
	done
}

