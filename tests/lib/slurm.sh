# slurm.sh — a one-node Slurm of the test's own (DESIGN 19): munged, slurmctld and slurmd in
# $TMP/slurm with free ports, Licenses=plecs:2, no cgroups.  Source it after tap.sh.
# start_slurm: starts them and waits until the node is idle (sets SLURM_CONF and slurm_why on
# failure; returns 1); stop_slurm: stops them all, whatever state they are in (call it from a trap).
SLURM_DIR=$TMP/slurm

# A TCP port nobody listens on now.
slurm_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_slurm() {
	local d=$SLURM_DIR host ctl_port node_port i
	host=$(hostname)
	mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log"
	chmod 700 "$d/munge"
	head -c 1024 /dev/urandom >"$d/munge/munge.key"
	chmod 600 "$d/munge/munge.key"
	if ! munged --key-file="$d/munge/munge.key" --socket="$d/munge/munge.sock" --pid-file="$d/munge/munged.pid" \
		--log-file="$d/log/munged.log" --seed-file="$d/munge/seed" -f >"$d/log/munged.out" 2>&1; then
		slurm_why="munged did not start: $(cat "$d/log/munged.out" "$d/log/munged.log" 2>/dev/null | tail -3)"
		return 1
	fi
	ctl_port=$(slurm_free_port)
	node_port=$(slurm_free_port)
	cat >"$d/slurm.conf" <<CONF
ClusterName=simqtest
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmctldPort=$ctl_port
SlurmdPort=$node_port
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
KillWait=5
Licenses=plecs:2
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES OverSubscribe=FORCE:4 MaxTime=INFINITE State=UP
CONF
	export SLURM_CONF="$d/slurm.conf"
	if ! slurmctld -f "$SLURM_CONF" >"$d/log/slurmctld.out" 2>&1 || ! slurmd -f "$SLURM_CONF" >"$d/log/slurmd.out" 2>&1; then
		slurm_why="slurmctld or slurmd did not start: $(tail -3 "$d/log/slurmctld.log" "$d/log/slurmd.log" 2>/dev/null)"
		return 1
	fi
	i=0
	while ! sinfo -h -o %t 2>/dev/null | grep -q idle && [ $i -lt 300 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	if ! sinfo -h -o %t 2>/dev/null | grep -q idle; then
		slurm_why="the node did not come up idle: $(sinfo 2>&1 | tail -2) $(tail -3 "$d/log/slurmctld.log")"
		return 1
	fi
	return 0
}

stop_slurm() {
	local d=$SLURM_DIR pid
	[ -f "$d/slurm.conf" ] || return 0
	# The jobs first (their scripts end on SIGTERM): slurmstepd outlives slurmd while a script runs.
	scancel --me 2>/dev/null
	i=0
	while [ -n "$(squeue --me -h -o %i 2>/dev/null)" ] && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	scontrol shutdown >/dev/null 2>&1
	for f in slurmctld.pid slurmd.pid munge/munged.pid; do
		pid=$(cat "$d/$f" 2>/dev/null)
		[ -n "$pid" ] || continue
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			i=$((i + 1))
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	done
	return 0
}
