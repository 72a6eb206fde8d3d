# emu.sh — a plecs-emu of the test's own.  Source it after tap.sh.
# start_emu [ARG...]: starts plecs-emu on a free port (or on $EMU_PORT when set), waits until it
# listens, and sets emu_pid, port and url.  Its output goes to $TMP/emu.err: Abyss writes its own
# complaints (a client that reset its connection) to stdout, which is the test's TAP stream.
EMU=$SIMQ_BUILDDIR/src/plecs-emu
start_emu() {
	rm -f "$TMP/emu.port"
	"$EMU" --port "${EMU_PORT:-0}" --port-file "$TMP/emu.port" "$@" >>"$TMP/emu.err" 2>&1 &
	emu_pid=$!
	until_in "$TMP/emu.port" "[0-9]"
	port=$(cat "$TMP/emu.port")
	url="http://127.0.0.1:$port/RPC2"
}
