#!/bin/sh
# The console at 120x34 and at 80x24 (issue 15, Done-when 5), drawn from one
# fixed night (night.py stands in for the server; SIMQ_TEST_NOW stops the
# clock) and compared with the golden captures golden-120x34.txt and
# golden-80x24.txt beside this file.  Both sizes show every backend's state,
# the success rate, the ETA, and a key line that ends "? help  q quit"; the
# DOWN backend is red and the UP one green in the status bar.
# SIMQ_UPDATE_GOLDEN=1 writes the captures as the new golden files instead.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
. "$SIMQ_SRCDIR/tests/lib/tmux.sh"

requires tmux python3
plan 21

export SIMQ_HOME="$HOME/.local/state/simq"
mkdir -p -m 700 "$SIMQ_HOME"
cleanup() {
	$TM kill-server >/dev/null 2>&1
	[ -n "${night:-}" ] && kill "$night" 2>/dev/null
}
trap cleanup EXIT
python3 "$SRC/tests/console/night.py" "$SIMQ_HOME" 2>"$TMP/night.err" &
night=$!
i=0
until [ -S "$SIMQ_HOME/simq.sock" ] || [ $i -gt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done

$TM new-session -d -s simq -x 120 -y 34 \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_TEST_NOW=2026-11-28T03:04:12Z SIMQ_HOME='$SIMQ_HOME' '$SIMQ' --no-start 2>'$TMP/console.err'; sleep 60"

# golden SIZE: the screen (trailing blanks cut) against golden-SIZE.txt, or written there.
golden() {
	sed 's/ *$//' "$TMP/screen" >"$TMP/$1.txt"
	want="$SRC/tests/console/golden-$1.txt"
	if [ -n "${SIMQ_UPDATE_GOLDEN:-}" ]; then
		cp "$TMP/$1.txt" "$want"
		ok "golden-$1.txt written"
	elif diff -u "$want" "$TMP/$1.txt" >"$TMP/$1.diff"; then
		ok "at $1 the screen is the golden one"
	else
		fail "at $1 the screen is the golden one" "$(cat "$TMP/$1.diff")"
	fi
}
# shows SIZE: what each size must show, whatever else changes.
shows() {
	missing=
	for text in "ws1 ● UP 2/2" "ws2 ○ DOWN probe 20s" "success  *99\.4 %" "ETA 8h40m"; do
		grep -q "$text" "$TMP/screen" || missing="$missing \"$text\""
	done
	[ -z "$missing" ] && ok "at $1: every backend's state, the success rate and the ETA" ||
		fail "at $1: every backend's state, the success rate and the ETA" "missing:$missing" "$(cat "$TMP/screen")"
	tail -1 "$TMP/screen" | grep -q '? help  q quit *$' && ok "at $1 the key line ends with ? help  q quit" ||
		fail "at $1 the key line ends with ? help  q quit" "$(tail -1 "$TMP/screen")"
	head -1 "$TMP/screen" | grep -q "^ *ws1 .* ws2 .* ~/…/simq .*03:04:12 UTC" &&
		ok "at $1 the status bar has the backends first, then the state dir shortened, then the clock" ||
		fail "at $1 the status bar has the backends first, then the state dir shortened, then the clock" "$(head -1 "$TMP/screen")"
	$TM capture-pane -e -p -t simq | head -1 >"$TMP/bar-e"
	esc=$(printf '\033')
	grep -q "${esc}\[[0-9;]*31m○ DOWN" "$TMP/bar-e" && grep -q "${esc}\[[0-9;]*32m● UP" "$TMP/bar-e" &&
		ok "at $1 DOWN is red and UP green" || fail "at $1 DOWN is red and UP green" "$(cat -v "$TMP/bar-e")"
}

expect_screen "the night is on screen at 120x34" "03:04:09 9051 submitted critical design-verify"
expect_screen "the running pane is drawn" "9047"
golden 120x34
shows 120x34
grep -q "^  7190-7205 .*~64% est\.│" "$TMP/screen" && ok "at 120x34 the batch's row ends with its estimate, whole" ||
	fail "at 120x34 the batch's row ends with its estimate, whole" "$(grep 7190 "$TMP/screen")"

# Enter on the log pane shows its lines whole, where the pane cuts them.
$TM send-keys -t simq Tab Tab Enter
expect_screen "Enter on the log pane shows a long line whole" "switching frequency against the maximum step size"
$TM send-keys -t simq Escape Tab
expect_screen "Esc closes it" "03:04:12 UTC"

$TM resize-window -t simq -x 80 -y 24
expect_screen "at 80x24 the running pane says how many rows it leaves out" "+3 more"
expect_screen "at 80x24 the log is drawn" "03:04:09 9051 submitted critical design-verify"
golden 80x24
shows 80x24
grep -q "queued 1,842 · running 21" "$TMP/screen" && ok "at 80x24 the statistics keep queued and running" ||
	fail "at 80x24 the statistics keep queued and running" "$(cat "$TMP/screen")"
# SIMQ_CAPTION: each line added to the file shows in the log, as the demo tells its story.
printf '03:00:00 a LOW overnight sweep of 40 buck runs\n' >"$TMP/night.txt"
$TM new-window -t simq -n caption \
	"env TERM=tmux-256color TZ=UTC LANG=C.UTF-8 SIMQ_CAPTION='$TMP/night.txt' SIMQ_HOME='$SIMQ_HOME' '$SIMQ' --no-start 2>>'$TMP/console.err'; sleep 60"
expect_screen "SIMQ_CAPTION's lines show in the log" "» a LOW overnight sweep of 40 buck runs" simq:caption
printf '03:01:00 PLECS goes away for 15 s: the backend goes DOWN, no task fails\n' >>"$TMP/night.txt"
expect_screen "and each line added later" "» PLECS goes away for 15 s: the backend goes DOWN, no task fails" simq:caption
[ ! -s "$TMP/console.err" ] && ok "the console wrote nothing to stderr" || fail "the console wrote nothing to stderr" "$(cat "$TMP/console.err")"
