# tap.sh — a small TAP producer for simq's shell tests.
# Source it, call plan N, then ok/fail/check/check_output; finish with done_testing.
set -u

SIMQ=${SIMQ_BUILDDIR:?run through make check}/src/simq
SRC=${SIMQ_SRCDIR:?run through make check}
TMP=${SIMQ_TEST_TMP:?run through make check}
tap_n=0
tap_failed=0

# in_ci: true when CI is set (to anything but empty, false or 0).  There a check that cannot run
# is a failure, not a skip: a green CI must mean that every test ran.
in_ci() {
	case ${CI:-} in
	'' | false | 0) return 1 ;;
	*) return 0 ;;
	esac
}

# requires COMMAND...: when one of them is missing, skips the whole test ("1..0 # SKIP") on a
# developer's machine, and fails it when CI is set.
requires() {
	for cmd in "$@"; do
		if ! command -v "$cmd" >/dev/null 2>&1; then
			if in_ci; then
				echo "1..1"
				echo "not ok 1 - $cmd is installed (CI is set: a test that cannot run fails; ./quickstart installs it)"
				exit 1
			fi
			echo "1..0 # SKIP $cmd is not installed (./quickstart installs it)"
			exit 0
		fi
	done
}

# skip NAME REASON: one check that cannot run on this machine; a failure when CI is set.
skip() {
	if in_ci; then
		fail "$1" "CI is set, so this check must run here: $2"
	else
		tap_n=$((tap_n + 1))
		echo "ok $tap_n - $1 # SKIP $2"
	fi
}

plan() { echo "1..$1"; }

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }

fail() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	for line in "$@"; do printf '%s\n' "$line" | sed 's/^/# /'; done
}

# paused_config: the servers this test starts dispatch nothing, so the queue holds still while it is read.
paused_config() {
	mkdir -p "$XDG_CONFIG_HOME/simq"
	printf '[scheduler]\nstart_paused = true\n' >"$XDG_CONFIG_HOME/simq/simq.ini"
}

# until_in FILE PATTERN [GREP-OPTION]: polls FILE until grep finds PATTERN (up to 15 s); true when it did.
until_in() {
	i=0
	while ! grep -q ${3:-} -- "$2" "$1" 2>/dev/null && [ $i -lt 300 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	grep -q ${3:-} -- "$2" "$1" 2>/dev/null
}

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then ok "$name"; else fail "$name" "command: $*" "$(cat "$TMP/check.out")"; fi
}

# run_capture EXPECTED_STATUS COMMAND...: runs COMMAND, keeps stdout in $TMP/out
# and stderr in $TMP/err, and returns 0 when it exited with EXPECTED_STATUS.
run_capture() {
	local want=$1 got
	shift
	"$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "exit status $got, expected $want" >>"$TMP/err"
		return 1
	fi
	return 0
}

# expect_status NAME STATUS COMMAND...: COMMAND must exit with STATUS.
expect_status() {
	local name=$1 want=$2
	shift 2
	if run_capture "$want" "$@"; then ok "$name"; else fail "$name" "command: $*" "$(cat "$TMP/err")"; fi
}

# expect_line NAME FILE LINE: FILE must have a line that is exactly LINE (an id "1" is not "112").
expect_line() {
	if grep -qxF -- "$3" "$2"; then ok "$1"; else fail "$1" "expected the line \"$3\" in:" "$(cat "$2")"; fi
}

# expect_in NAME FILE TEXT: FILE must contain TEXT (a fixed string).
expect_in() {
	if grep -qF -- "$3" "$2"; then ok "$1"; else fail "$1" "expected \"$3\" in:" "$(cat "$2")"; fi
}

# server_ran_clean [KILLED]: stops the server of $SIMQ_HOME, waits until its process is gone (a
# sanitizer reports at exit), then checks its server.err for sanitizer reports, and that every
# "server started" in simulation.log has its "server stopped" but for the KILLED (default 0) the
# test killed itself: a server that crashed, and was started again by the next command, shows.
server_ran_clean() {
	local pid started stopped
	pid=$(cat "$SIMQ_HOME/simq.pid" 2>/dev/null)
	"$SIMQ" shutdown --no-start >/dev/null 2>&1
	i=0
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 1000 ]; do
		i=$((i + 1))
		sleep 0.01
	done
	started=$(grep -c "Z server started (pid" "$SIMQ_HOME/simulation.log" 2>/dev/null)
	stopped=$(grep -c "Z server stopped$" "$SIMQ_HOME/simulation.log" 2>/dev/null)
	if grep -q "Sanitizer\|runtime error" "$SIMQ_HOME/server.err" 2>/dev/null; then
		fail "the servers ran clean (server.err, simulation.log)" "$(cat "$SIMQ_HOME/server.err")"
	elif [ "${started:-0}" -ne $((${stopped:-0} + ${1:-0})) ]; then
		fail "the servers ran clean (server.err, simulation.log)" "$started started, $stopped stopped, ${1:-0} killed by the test:" \
			"$(grep "Z server st" "$SIMQ_HOME/simulation.log")" "$(cat "$SIMQ_HOME/server.err" 2>/dev/null)"
	else
		ok "the servers ran clean (server.err, simulation.log)"
	fi
}

done_testing() { [ "$tap_failed" -eq 0 ]; }
