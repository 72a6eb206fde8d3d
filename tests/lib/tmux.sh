# tmux.sh — reading the console's screen in the tests' own tmux server.
# Source it after tap.sh; it sets TM (the tmux command on a socket under $TMP).
# The console runs in session "simq"; TARGET (default simq) names another window, e.g. simq:plain.
TM="tmux -S $TMP/tmux.sock -f /dev/null"

# screen [TARGET]: the window's text, into $TMP/screen.
screen() { $TM capture-pane -p -t "${1:-simq}" >"$TMP/screen" 2>/dev/null; }

# wait_grep OPTION PATTERN [TARGET]: polls the screen until grep OPTION finds PATTERN (up to 15 s).
wait_grep() {
	i=0
	while [ $i -lt 300 ]; do
		screen "${3:-simq}"
		grep -q "$1" -- "$2" "$TMP/screen" && return 0
		i=$((i + 1))
		sleep 0.05
	done
	return 1
}

# wait_for TEXT [TARGET]: polls the screen until TEXT shows (up to 15 s); true when it did.
wait_for() { wait_grep -F "$1" "${2:-simq}"; }

# wait_re PATTERN [TARGET]: as wait_for, for a grep pattern (basic regular expression).
wait_re() { wait_grep -G "$1" "${2:-simq}"; }

# expect_re NAME PATTERN [TARGET]: a test that passes once a line matching PATTERN is on screen.
expect_re() {
	if wait_re "$2" "${3:-simq}"; then ok "$1"; else fail "$1" "expected a line matching \"$2\" on screen:" "$(cat "$TMP/screen")"; fi
}

# expect_screen NAME TEXT [TARGET]: a test that passes once TEXT is on screen.
expect_screen() {
	if wait_for "$2" "${3:-simq}"; then ok "$1"; else fail "$1" "expected \"$2\" on screen:" "$(cat "$TMP/screen")"; fi
}
