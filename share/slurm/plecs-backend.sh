#!/bin/sh
# plecs-backend.sh — the job a simq [pool NAME] submits (sbatch): one PLECS with its RPC
# interface on a free port, registered with simq as the backend NAME-JOBID while it runs.
#
# simq sets SIMQ_POOL, SIMQ_HOME (its state dir), SIMQ_BIN, SIMQ_SLOTS, SIMQ_MAX_BATCH and
# SIMQ_POOL_DIR in the job's environment.  The site sets (in the server's environment, which
# sbatch passes on, or in a copy of this script named by [pool NAME] script):
#   PLECS_CMD   how to start PLECS (default: plecs).  {port} in it is replaced by a free port;
#               {port_file} by a file PLECS (or plecs-emu --port 0 --port-file) writes its port
#               to; with neither, PLECS listens on PLECS_PORT (default 1080, PLECS's own).
#   PLECS_HOST  the name simq reaches this node by (default: hostname -f).
#   SIMQ_API_URL  http://simq:TOKEN@SERVER:PORT/RPC2 when simq's socket is not on this node:
#               the job registers over TCP ([server] listen) with python3 instead of simq.
#   SIMQ_REREGISTER  seconds between registrations (default 30): a restarted server that
#               could not read the URL file gets the backend back within this.
# On scancel or the time limit (SIGTERM) it removes the backend first and then stops PLECS (which
# ignores that SIGTERM), so a call cut short is the backend's going, never a case's failure.  If
# PLECS ends before it registered, the job says why and exits non-zero.
set -u

job=${SLURM_JOB_ID:?"plecs-backend.sh runs as a Slurm job (sbatch), not by hand"}
pool=${SIMQ_POOL:?"SIMQ_POOL is not set: simq's [pool NAME] submits this script"}
name="$pool-$job"
simq=${SIMQ_BIN:-simq}
dir=${SIMQ_POOL_DIR:-${SIMQ_HOME:-.}/pool}
cmd=${PLECS_CMD:-plecs}
host=${PLECS_HOST:-$(hostname -f 2>/dev/null || hostname)}
urlfile="$dir/$name.url"
plecs_pid=

say() { echo "plecs-backend.sh [$name]: $*" >&2; }

# A port nobody listens on now, from the kernel.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

# simq backend add NAME URL --job JOB, over the state dir's socket or, with SIMQ_API_URL, over TCP.
api() {
	if [ -n "${SIMQ_API_URL:-}" ]; then
		python3 - "$SIMQ_API_URL" "$job" "$@" <<'EOF'
import sys, xmlrpc.client
server = xmlrpc.client.ServerProxy(sys.argv[1])
job = sys.argv[2]
if sys.argv[3] == "add":
    server.simq.backend_add(sys.argv[4], sys.argv[5],
                            {"slots": int(sys.argv[6]), "max_batch": int(sys.argv[7]), "job": job})
else:
    server.simq.backend_remove(sys.argv[4], {"job": job})
EOF
	elif [ "$1" = add ]; then
		"$simq" --home "${SIMQ_HOME:?}" --no-start backend add "$2" "$3" --slots "$4" --max-batch "$5" \
			--job "$job" >/dev/null
	else
		"$simq" --home "${SIMQ_HOME:?}" --no-start backend remove "$2" --job "$job" >/dev/null
	fi
}

status=0
# The backend goes first (its calls in flight are then not the cases' fault), then PLECS.
cleanup() {
	trap - EXIT INT TERM
	rm -f "$urlfile"
	api remove "$name" >/dev/null 2>&1
	[ -n "$plecs_pid" ] && kill -KILL "$plecs_pid" 2>/dev/null
	exit $status
}
trap cleanup EXIT INT TERM
# PLECS ended by itself: why, from its exit status.
plecs_ended() {
	wait "$plecs_pid" 2>/dev/null
	status=$?
	plecs_pid=
	say "PLECS ($cmd) ended $1 (exit status $status)"
	[ "$status" -ne 0 ] || status=1
	exit $status
}

mkdir -p "$dir"
case $cmd in
*'{port_file}'*)
	port_file="$dir/$name.port"
	rm -f "$port_file"
	cmd=$(printf '%s' "$cmd" | sed "s|{port_file}|$port_file|g")
	;;
*'{port}'*)
	port=$(free_port) || { say "no free port"; exit 1; }
	cmd=$(printf '%s' "$cmd" | sed "s|{port}|$port|g")
	;;
*) port=${PLECS_PORT:-1080} ;;
esac
say "starting: $cmd"
# It ignores Slurm's SIGTERM: this script stops it once its backend is removed.
sh -c "trap '' TERM; exec $cmd" &
plecs_pid=$!
if [ -n "${port_file:-}" ]; then
	i=0
	while [ ! -s "$port_file" ] && [ $i -lt 600 ] && kill -0 "$plecs_pid" 2>/dev/null; do
		i=$((i + 1))
		sleep 0.1
	done
	kill -0 "$plecs_pid" 2>/dev/null || plecs_ended "before it wrote its port to $port_file"
	port=$(cat "$port_file" 2>/dev/null)
	[ -n "$port" ] || { say "PLECS wrote no port to $port_file within 60 s"; status=1; exit 1; }
fi
# Registered only once PLECS takes connections: one that died at once is never said to be there.
listening() {
	python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' \
		"$host" "$port" 2>/dev/null
}
i=0
while ! listening; do
	kill -0 "$plecs_pid" 2>/dev/null || plecs_ended "before it registered"
	i=$((i + 1))
	[ $i -lt 300 ] || { say "PLECS takes no connection at $host:$port after 60 s"; status=1; exit 1; }
	sleep 0.2
done
url="http://$host:$port/RPC2"
printf '%s\n' "$url" >"$urlfile.tmp" && mv "$urlfile.tmp" "$urlfile"
# PLECS takes a moment to listen; simq probes the backend before it sends work.
register() {
	if why=$(api add "$name" "$url" "${SIMQ_SLOTS:-1}" "${SIMQ_MAX_BATCH:-16}" 2>&1); then
		[ -n "${1:-}" ] && say "registered at $url"
	else
		say "could not register $url: $(printf '%s\n' "$why" | grep -m1 '^simq' || printf '%s\n' "$why" | tail -1)"
	fi
}
register first
while kill -0 "$plecs_pid" 2>/dev/null; do
	sleep "${SIMQ_REREGISTER:-30}" &
	wait $! 2>/dev/null
	kill -0 "$plecs_pid" 2>/dev/null && register
done
plecs_ended "while it served"
