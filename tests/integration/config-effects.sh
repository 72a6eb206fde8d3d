#!/bin/sh
# simq.ini keys that no other test sets, each checked by its effect on a real server: [server]
# state_dir, socket and token, [backend] slots, [scheduler] retry_faults.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/emu.sh"
. "$SIMQ_SRCDIR/tests/lib/faults.sh"

requires python3
plan 10
trap stop_all EXIT

# ---- [server] state_dir and socket --------------------------------------------------------------
# With SIMQ_HOME unset, state_dir says where the state is; socket puts the API elsewhere.
printf '[server]\nstate_dir = %s\nsocket = %s\n[scheduler]\nstart_paused = true\n' "$TMP/sd" "$TMP/api.sock" >"$TMP/sd.ini"
(unset SIMQ_HOME; "$SIMQ" server -c "$TMP/sd.ini" >"$TMP/out" 2>&1)
homes="$homes $TMP/sd"
[ -f "$TMP/sd/simq.db" ] && [ -f "$TMP/sd/simq.pid" ] && ok "state_dir: the database and the lock are there" ||
	fail "state_dir: the database and the lock are there" "$(cat "$TMP/out")" "$(ls -la "$TMP/sd" 2>&1)"
[ -S "$TMP/api.sock" ] && [ ! -e "$TMP/sd/simq.sock" ] && ok "socket: the API listens at the configured path only" ||
	fail "socket: the API listens at the configured path only" "$(ls -la "$TMP" "$TMP/sd")"
(unset SIMQ_HOME; "$SIMQ" submit "$M" -c "$TMP/sd.ini" --no-start >"$TMP/out" 2>&1) &&
	grep -qx 1 "$TMP/out" && ok "a command with the same -c reaches that server through that socket" ||
	fail "a command with the same -c reaches that server through that socket" "$(cat "$TMP/out")"
(unset SIMQ_HOME; "$SIMQ" shutdown -c "$TMP/sd.ini" --no-start >/dev/null 2>&1)

# ---- [server] token ---------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
serve token <<EOF
[server]
listen = 127.0.0.1
port = $port
token = a-token-of-the-config-0123
[scheduler]
start_paused = true
EOF
pycheck "token: TCP clients use the configured token, and no token file is written" "$port" <<'PY'
port = int(sys.argv[1])
assert xmlrpc.client.ServerProxy("http://simq:a-token-of-the-config-0123@127.0.0.1:%d/RPC2" % port).simq.echo(7) == 7
try:
    xmlrpc.client.ServerProxy("http://simq:a-token-of-the-config-0124@127.0.0.1:%d/RPC2" % port).simq.echo(7)
    raise SystemExit("another token was let in")
except xmlrpc.client.ProtocolError as e:
    assert e.errcode == 401, e.errcode
assert not os.path.exists(os.path.join(os.environ["SIMQ_HOME"], "token"))
PY

# ---- [backend] slots ------------------------------------------------------------------------------------
# A plecs-emu that serves two calls at once, slots = 2, one task a call: two calls run together.
emu_up --speed 1 --concurrent 2
serve slots <<EOF
[backend emu]
url = $url
slots = 2
max_batch = 1
[scheduler]
start_paused = true
EOF
"$SIMQ" sweep "$M" Vin=1:4:1 --solver TimeSpan=1 >/dev/null
"$SIMQ" resume >/dev/null
"$SIMQ" wait 1 2 3 4 --timeout 120 >/dev/null
pycheck "slots = 2: two calls in flight at once, never three" "$url" <<'PY'
calls = [c for c in emu(sys.argv[1]).emu.calls() if c["method"] == "plecs.simulate"]
assert len(calls) == 4, calls
ends = [(c["start"], 1) for c in calls] + [(c["start"] + c["duration"], -1) for c in calls]
most = now = 0
for _, d in sorted(ends, key=lambda e: (e[0], e[1])):
    now += d
    most = max(most, now)
assert most == 2, most
PY
"$SIMQ" shutdown >/dev/null
emu_gone

# ---- [scheduler] retry_faults ---------------------------------------------------------------------------
# "solver failed" listed: plecs-emu's solver fault is transient, retried, and the task completes.
emu_up --speed 0
serve faults <<EOF
[backend emu]
url = $url
[scheduler]
start_paused = true
backoff_base = 200ms
retry_faults = license, solver failed
EOF
"$SIMQ" submit "$M" --no-cache >/dev/null
inject fault 1
"$SIMQ" resume >/dev/null
expect_status "retry_faults: a fault that holds a listed piece is retried" 0 "$SIMQ" wait 1 --timeout 60
pycheck "the task completed on its second attempt, the first transient" <<'PY'
a = show(1)["attempt_list"]
assert [x["outcome"] for x in a] == ["transient", "ok"], a
assert "solver failed" in a[0]["error"], a
PY
"$SIMQ" pause >/dev/null
"$SIMQ" submit "$M" --no-cache >/dev/null
inject license 1
"$SIMQ" resume >/dev/null
expect_status "the default piece is still there after the list was changed (license)" 0 "$SIMQ" wait 2 --timeout 60
pycheck "both count as completed after a retry, none as failed" <<'PY'
s = stats()
assert s["failed"] == 0 and s["completed_retry"] == 2, s
PY
server_ran_clean
done_testing
