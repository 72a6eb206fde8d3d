#!/bin/sh
# The input rules of issue 14, end to end: each through the CLI (in its own options, with the
# value given, a caret under the place for a usage error) and through the API (a fault naming
# the field and the value, cut to 80 characters); nothing refused is stored.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"

requires python3
plan 70
export SIMQ_HOME="$TMP/state"
paused_config
M=$SRC/share/models/buck.plecs
stop_server() { "$SIMQ" shutdown --no-start >/dev/null 2>&1; }
trap stop_server EXIT

# api [ARG...]: runs the Python on stdin with `simq` (the API over the socket), `model` and
# fault(words, call, args...), which expects a bad-input fault holding words; sys.argv[3:] are the ARGs.
api() {
	{
		cat <<'PY'
import sys
from api import proxy, refused as fault
simq, model = proxy(sys.argv[1]).simq, sys.argv[2]
PY
		cat
	} >"$TMP/rules.py"
	PYTHONPATH="$SRC/tests/lib" python3 "$TMP/rules.py" "$SIMQ_HOME/simq.sock" "$M" "$@"
}

# expect_caret NAME FILE LINE CARET: FILE holds LINE (the argument) with CARET on the next line.
expect_caret() {
	if grep -A1 -xF -- "$3" "$2" | tail -n 1 | grep -qxF -- "$4"; then
		ok "$1"
	else
		fail "$1" "expected:" "$3" "$4" "in:" "$(cat "$2")"
	fi
}

expect_status "a server starts" 0 "$SIMQ" server

# --- a model is a regular, readable .plecs file ----------------------------------------------
mkdir "$TMP/folder.plecs"
mkfifo "$TMP/fifo.plecs"
ln -s /proc/self/mem "$TMP/mem.plecs"
expect_status "CLI: a file that is no .plecs model is refused" 65 "$SIMQ" submit /etc/passwd
expect_in "it names the rule" "$TMP/err" 'simq submit: model "/etc/passwd": not a .plecs file; a model is a PLECS model file whose name ends in .plecs'
expect_status "CLI: a directory is refused" 65 "$SIMQ" submit "$TMP/folder.plecs"
expect_in "it names the rule" "$TMP/err" 'folder.plecs": a directory, not a regular file; a model is a regular file'
expect_status "CLI: a FIFO is refused" 65 "$SIMQ" submit "$TMP/fifo.plecs"
expect_in "it names the rule" "$TMP/err" 'fifo.plecs": a device, FIFO or socket, not a regular file'
expect_status "CLI: a file that cannot be read is refused (even as root)" 65 "$SIMQ" submit "$TMP/mem.plecs"
expect_in "it names the rule" "$TMP/err" 'mem.plecs": cannot be read by the server (Input/output error)'
expect_status "API: each model rule is a fault naming it" 0 api "$TMP" <<'PY'
d = sys.argv[3]
fault('model "/etc/shadow": not a .plecs file', simq.submit, {"model": "/etc/shadow"})
fault('folder.plecs": a directory, not a regular file', simq.submit, {"model": d + "/folder.plecs"})
fault('fifo.plecs": a device, FIFO or socket', simq.submit, {"model": d + "/fifo.plecs"})
fault('mem.plecs": cannot be read by the server', simq.submit, {"model": d + "/mem.plecs"})
fault('none.plecs": No such file or directory; a model is an existing file', simq.submit, {"model": d + "/none.plecs"})
PY

# A model path that resolves to one XML-RPC cannot carry (a link to a directory with an emoji): refused,
# not stored to crash every later answer.  The CLI says so for a path it was given with one.
emoji=$(printf '\360\237\230\200')
mkdir -p "$TMP/e$emoji" && cp "$M" "$TMP/e$emoji/m.plecs" && ln -sfn "$TMP/e$emoji" "$TMP/plain"
expect_status "CLI: a model whose path resolves to an emoji is refused" 65 "$SIMQ" submit "$TMP/plain/m.plecs"
expect_in "it says why, the emoji escaped" "$TMP/err" 'resolves to '"$TMP"'/e\U0001f600/m.plecs, which holds a character XML-RPC cannot carry at byte'
expect_status "CLI: a model path with an emoji is refused, not a crash" 65 "$SIMQ" submit "$TMP/e$emoji/m.plecs"
expect_in "it names the model" "$TMP/err" 'simq submit: model: XML-RPC here carries no character beyond U+FFFF'
expect_status "API: the same link is a fault; the server answers on" 0 api "$TMP" <<'PY'
fault("character XML-RPC cannot carry", simq.submit, {"model": sys.argv[3] + "/plain/m.plecs"})
assert simq.status()["queued"] == 0
PY
# ... or to one with a control character a terminal would act on (a line break, a C1 CSI, a bidi override).
python3 - "$TMP" "$M" <<'PY'
import os, shutil, sys
for link, d in (("nl", "n\nl"), ("c1", "c\u009b2J"), ("bidi", "b\u202ex")):
    os.makedirs(os.path.join(sys.argv[1], d), exist_ok=True)
    shutil.copy(sys.argv[2], os.path.join(sys.argv[1], d, "m.plecs"))
    if not os.path.islink(os.path.join(sys.argv[1], link)):
        os.symlink(os.path.join(sys.argv[1], d), os.path.join(sys.argv[1], link))
PY
expect_status "API: links to paths with a line break, a C1 control or a bidi override are faults" 0 api "$TMP" <<'PY'
for link, cp in (("nl", "U+000A"), ("c1", "U+009B"), ("bidi", "U+202E")):
    fault("holds a control or bidirectional formatting character (" + cp, simq.submit,
          {"model": sys.argv[3] + "/" + link + "/m.plecs"})
assert simq.status()["queued"] == 0
PY

# --- names and tags: no control characters (C0, C1) and no bidi formatting ------------------
csi=$(printf 'red\302\23331m')
rlo=$(printf 'abc\342\200\256fdp.exe')
expect_status "CLI: a C1 control (U+009B) in --name is refused" 65 "$SIMQ" submit "$M" --name "$csi"
expect_in "it names the option and shows the value escaped" "$TMP/err" 'simq submit: --name "red\u009b31m": holds a control character (U+009B at byte 4)'
expect_status "CLI: a bidi override (U+202E) in --tag is refused" 65 "$SIMQ" submit "$M" --tag ok --tag "$rlo"
expect_in "it names the option" "$TMP/err" 'simq submit: --tag "abc\u202efdp.exe": holds a bidirectional formatting character (U+202E'
expect_status "API: C0, C1 and bidi characters in names and tags are faults" 0 api <<'PY'
fault('name "a\\u009bb": holds a control character (U+009B', simq.submit, {"model": model, "name": "a\u009bb"})
fault('name "a\\u2066b": holds a bidirectional formatting character', simq.submit, {"model": model, "name": "a\u2066b"})
fault('name "a\\x09b": holds a control character (U+0009', simq.submit, {"model": model, "name": "a\tb"})
fault('tags "x\\u202ey": holds a bidirectional', simq.submit, {"model": model, "tags": ["ok", "x\u202ey"]})
PY

# --- tags are an array ----------------------------------------------------------------------
expect_status "API: tags given as a string are a fault" 0 api <<'PY'
fault('tags "night,buck": allowed: an array of at most 32 strings', simq.submit, {"model": model, "tags": "night,buck"})
fault('tags "a,b": holds a comma', simq.submit, {"model": model, "tags": ["a,b"]})
PY

# --- NaN and infinities are refused with a message ------------------------------------------
expect_status "CLI: -v D=nan is a usage error" 64 "$SIMQ" submit "$M" -v D=nan
expect_in "it says why and how to make it a string" "$TMP/err" "simq submit: -v D: NaN is not a number PLECS takes; allowed: finite numbers (in quotes it is a string)"
expect_status "CLI: --solver MaxStep=-inf is a usage error" 64 "$SIMQ" submit "$M" --solver MaxStep=-inf
expect_in "it names the option" "$TMP/err" "simq submit: --solver MaxStep: an infinity is not a number PLECS takes"
expect_status "CLI: --timeout inf is a usage error" 64 "$SIMQ" submit "$M" --timeout inf
expect_status "API: NaN and infinities in vars, solver and timeout are faults naming them, never (null)" 0 api <<'PY'
nan, inf = float("nan"), float("inf")
fault("vars.D nan: NaN is not a number PLECS takes", simq.submit, {"model": model, "vars": {"D": nan}})
fault("vars.K [1.0,inf]: inf is not a number", simq.submit, {"model": model, "vars": {"K": [1.0, inf]}})
fault("solver.MaxStep -inf: -inf is not a number", simq.submit, {"model": model, "solver": {"MaxStep": -inf}})
fault("timeout nan: allowed: a number of seconds", simq.submit, {"model": model, "timeout": nan})
fault("task 2: vars.D inf:", simq.submit_many, [{"model": model}, {"model": model, "vars": {"D": inf}}])
PY

# --- text that looks like a number must be one; quotes make a string -------------------------
expect_status "CLI: -v D=1e999 is a usage error" 64 "$SIMQ" submit "$M" -v D=1e999
expect_in "it says the number is too large" "$TMP/err" "simq submit: -v D: is too large for a number"
expect_status "CLI: -v D=0x10 is a usage error" 64 "$SIMQ" submit "$M" -v D=0x10
expect_status "CLI: -v V=1.2.3 is a usage error pointing at the place" 64 "$SIMQ" submit "$M" -v V=1.2.3
expect_caret "the caret is under the second point" "$TMP/err" "  V=1.2.3" "       ^"
expect_status "CLI: -v \"V='1.2.3'\" is the string" 0 "$SIMQ" submit "$M" -v "V='1.2.3'" --dry-run
expect_in "it is sent as a string" "$TMP/out" '"V": "1.2.3"'
expect_status "CLI: -v D= (empty) is a usage error" 64 "$SIMQ" submit "$M" -v D=
expect_in "it says how to give the empty string" "$TMP/err" "an empty value; allowed: a number, a vector, a matrix or a string ('' is the empty string)"

# --- sweeps: empty items, unclosed brackets and a variable named twice point at the place ---
expect_status "CLI: an empty sweep item is a usage error" 64 "$SIMQ" sweep "$M" D=1,,2
expect_in "it says which item is empty" "$TMP/err" "simq sweep: D=1,,2: item 2 is empty; allowed: a value between commas ('' is the empty string)"
expect_caret "it points at the empty item" "$TMP/err" "  D=1,,2" "      ^"
expect_status "CLI: an unclosed bracket is a usage error" 64 "$SIMQ" sweep "$M" 'K=[1,2],[3,4'
expect_in "it says a bracket is never closed" "$TMP/err" "simq sweep: K=[1,2],[3,4: the [ is never closed"
expect_caret "it points at the bracket never closed" "$TMP/err" "  K=[1,2],[3,4" "          ^"
expect_status "CLI: a variable named twice in a sweep is a usage error" 64 "$SIMQ" sweep "$M" D=1,2 L=1 D=3
expect_in "it names both places" "$TMP/err" "simq sweep: D is given twice: D=1,2 and D=3; give each variable once"
expect_status "CLI: a sweep axis and -v naming one variable is a usage error" 64 "$SIMQ" sweep "$M" -v D=1 D=2,3
expect_in "it names both" "$TMP/err" "D is given twice: -v D=1 and D=2,3"

# --- retry makes one copy per distinct id -------------------------------------------------
"$SIMQ" submit "$M" --name to-retry >"$TMP/id"
id=$(cat "$TMP/id")
"$SIMQ" cancel "$id" >/dev/null
expect_status "CLI: retry of one id given three times" 0 "$SIMQ" retry "$id" "$id" "$id"
[ "$(wc -l <"$TMP/out")" -eq 1 ] && ok "it makes one copy" || fail "it makes one copy" "$(cat "$TMP/out")"
expect_status "API: retry([a, a, b]) makes one copy of each" 0 api "$id" <<'PY'
a = int(sys.argv[3])
b = simq.submit({"model": model, "name": "b"})
simq.cancel(b)
copies = simq.retry([a, a, b, a])
assert len(copies) == 2 and len(set(copies)) == 2, copies
assert [simq.get(c)["origin"] for c in copies] == [a, b]
PY

# --- the CLI speaks in its own options; faults show the value, cut to 80 characters ---------
expect_status "CLI: ls --state bogus is a usage error" 64 "$SIMQ" ls --state bogus
expect_in "it names the option, not the API's filter" "$TMP/err" "simq ls: --state bogus: allowed: queued, running, completed, failed, cancelled"
grep -q "filter" "$TMP/err" && fail "no API member names" "$(cat "$TMP/err")" || ok "no API member names"
expect_status "CLI: -p urgent is refused" 65 "$SIMQ" submit "$M" -p urgent
expect_in "it names -p and the value" "$TMP/err" 'simq submit: -p "urgent": allowed: critical, high, normal, low (any case) or 0-3'
# xmlrpc-c carries no character beyond U+FFFF: refused with the option named (it crashed the CLI).
emoji=$(printf '\360\237\214\200')
expect_status "CLI: a name with an emoji is refused, not a crash" 65 "$SIMQ" submit "$M" --name "fan $emoji test" --dry-run
expect_in "it names --name" "$TMP/err" "--name: XML-RPC here carries no character beyond U+FFFF"
expect_status "CLI: prio 1 urgent is a usage error" 64 "$SIMQ" prio 1 urgent
expect_in "it names LEVEL" "$TMP/err" "simq prio: LEVEL urgent: allowed: critical, high, normal, low (any case) or 0-3"
# Half a megabyte: under the request guard's 1 MiB of text in one element (see deep-requests.sh), far over 80.
expect_status "API: a 512 kB name or variable name is shown cut to 80 characters" 0 api <<'PY'
big = "x" * (512 * 1024)
f = fault('name "' + "x" * 80 + '... (524288 bytes)": 524288 bytes; at most 200', simq.submit, {"model": model, "name": big})
assert len(f) < 300, len(f)
f = fault("... (524288 bytes): not a variable name", simq.submit, {"model": model, "vars": {big: 1}})
assert len(f) < 300, len(f)
fault('simq.list: filter.state "urgent": allowed: queued', simq.list, {"state": "urgent"})
fault("simq.list: offset -1: allowed: a whole number from 0", simq.list, {}, -1)
fault("simq.list: limit 5000: allowed: a whole number from 0 to 1000", simq.list, {}, 0, 5000)
fault('simq.cancel: ids: item 2 "x": not a task id', simq.cancel, [1, "x"])
fault('simq.wait: timeout "soon": allowed: 0 to 3600 seconds', simq.wait, [1], "soon")
fault('simq.get: id "one": allowed: a task id', simq.get, "one")
PY
expect_status "nothing refused was stored" 0 api <<'PY'
names = [t["name"] for t in simq.list({}, 0, 1000)["tasks"]]
# to-retry, retried by the CLI once; the API's retry of it answered that copy (issue 15).
assert sorted(names) == ["b", "b", "to-retry", "to-retry"], names
PY

# --- config --check and simq server --plecs --------------------------------------------------
printf '[server]\ntoken = not-long-enough\n' >"$TMP/token.ini"
expect_status "config --check: a bad token is an error" 78 "$SIMQ" config --check -c "$TMP/token.ini"
grep -q "not-long-enough" "$TMP/err" && fail "the token is not echoed" "$(cat "$TMP/err")" || ok "the token is not echoed"
printf '[server]\nstate_dir = /tmp/%0120d\n' 1 >"$TMP/socket.ini"
expect_status "config --check: a socket path too long for a Unix socket is an error" 78 "$SIMQ" config --check -c "$TMP/socket.ini"
expect_in "it says the limit" "$TMP/err" "allowed: at most 107 bytes, a Unix socket's limit"
printf "[notify]\non_failed = notify-send 'task failed\n" >"$TMP/hook.ini"
expect_status "config --check: an unterminated quote in a hook command is an error" 78 "$SIMQ" config --check -c "$TMP/hook.ini"
expect_in "it points at the quote" "$TMP/err" "the ' at character 13 is never closed"
expect_status "simq server --plecs ftp://x is a usage error" 64 "$SIMQ" server --plecs ftp://x --state "$TMP/other"
expect_in "it says what [backend] url says" "$TMP/err" "simq server: --plecs ftp://x: not an http:// or https:// URL; allowed: an http:// or https:// URL"
server_ran_clean
done_testing
