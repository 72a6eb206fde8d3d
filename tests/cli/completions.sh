#!/bin/sh
# The shell completions make generates from simq's command table: bash's is loaded (complete -p)
# and completes commands, options before and after the command, states, priorities and model
# files; it offers every command and option simq has; zsh's parses; make install puts both in
# their places.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"

requires bash zsh
plan 27

BASH_FILE=$SIMQ_BUILDDIR/share/completions/simq.bash
ZSH_FILE=$SIMQ_BUILDDIR/share/completions/_simq
[ -s "$BASH_FILE" ] && [ -s "$ZSH_FILE" ] && ok "make generated share/completions/simq.bash and _simq" ||
	fail "make generated share/completions/simq.bash and _simq" "$(ls -l "$SIMQ_BUILDDIR/share/completions" 2>&1)"

bash -c '. "$1" && complete -p simq' sh "$BASH_FILE" >"$TMP/out" 2>&1
grep -qx "complete -F _simq simq" "$TMP/out" && ok "sourced, bash has a completion for simq (complete -p)" ||
	fail "sourced, bash has a completion for simq (complete -p)" "$(cat "$TMP/out")"

# completes NAME WANT WORD...: completing the last WORD of "simq WORD..." offers exactly WANT.
completes() {
	local name=$1 want=$2 got
	shift 2
	got=$(cd "$TMP" && bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _simq; echo "${COMPREPLY[*]}"' \
		sh "$BASH_FILE" simq "$@" 2>&1)
	[ "$got" = "$want" ] && ok "$name" || fail "$name" "simq $* <TAB>" "offered: $got" "expected: $want"
}
commands=$("$SIMQ" --help | sed -n 's/^  \([a-z]*\)  .*/\1/p' | tr '\n' ' ')
completes "a command: every one simq --help lists" "$(echo $commands)" ''
completes "a command from its start" "stats status" st
completes "after options that come first" "stats status" -c /dev/null --home /tmp st
completes "the options that may come first, --help and --version too" "--home --config --no-start --json --help --version" --
completes "and after a single dash" "--home --config -c --no-start --json --help -h --version -V" -
completes "an option of ls's" "--limit" ls --state queued --l
completes "cancel's selection options" "--yes" cancel 4-9 --y
completes "a state after --state" "failed" ls --state f
completes "every state" "queued running completed failed cancelled" cancel --state ''
completes "a state after --state= (bash splits at =)" "completed cancelled" retry --state = c
completes "a priority after prio's ids" "critical high normal low" prio 45-60 ''
completes "a priority for -p" "high" submit -p h
completes "a command after help" "console config" help con
mkdir -p "$TMP/models/sub"
: >"$TMP/models/buck.plecs"
: >"$TMP/models/notes.txt"
completes "a model file for submit: .plecs files and folders" "models/buck.plecs models/sub" submit models/
completes "a file for -c" "models/notes.txt" stats -c models/n
# Names as they are: a space stays in its name, and a file named *.plecs is not a pattern.
mkdir -p "$TMP/odd"
: >"$TMP/odd/my model.plecs"
: >"$TMP/odd/*.plecs"
: >"$TMP/odd/a.plecs"
replies() { (cd "$TMP" && bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _simq; printf "%s|" "${COMPREPLY[@]}"' sh "$BASH_FILE" simq "$@" 2>&1); }
[ "$(replies submit "odd/my")" = "odd/my model.plecs|" ] && ok "a model file with a space: one name" ||
	fail "a model file with a space: one name" "$(replies submit "odd/my")"
[ "$(replies submit "odd/" | tr '|' '\n' | sort | tr '\n' '|')" = "odd/*.plecs|odd/a.plecs|odd/my model.plecs|" ] &&
	ok "a file named *.plecs is offered once, as itself" || fail "a file named *.plecs is offered once" "$(replies submit "odd/")"
[ "$(replies stats -c "odd/my")" = "odd/my model.plecs|" ] && ok "-c FILE with a space: one name" || fail "-c FILE with a space" "$(replies stats -c "odd/my")"

# Every long option of every command's usage line is offered for it.
missing=
for cmd in $commands; do
	offered=$(bash -c '. "$1"; _simq_options "$2"' sh "$BASH_FILE" "$cmd")
	for opt in $("$SIMQ" help "$cmd" | sed -n '1s/^Usage: //p' | grep -o -- '--[a-z-]*'); do
		case " $offered " in
		*" $opt "*) ;;
		*) missing="$missing $cmd:$opt" ;;
		esac
	done
done
[ -z "$missing" ] && ok "every option of every usage line is offered" || fail "every option of every usage line is offered" "missing:$missing"
# And the other way: every option offered is in simq --help or the command's help, and in simq(1).
undocumented=
for cmd in $commands -; do
	if [ "$cmd" = - ]; then help=$("$SIMQ" --help); else help=$("$SIMQ" help "$cmd"; "$SIMQ" --help); fi
	for opt in $(bash -c '. "$1"; _simq_options "$2"' sh "$BASH_FILE" "$cmd"); do
		man=$(printf '%s' "$opt" | sed 's/-/\\-/g')
		printf '%s\n' "$help" | grep -q -- "$opt\b" && grep -qF -- "$man" "$SRC/doc/simq.1" || undocumented="$undocumented $cmd:$opt"
	done
done
[ -z "$undocumented" ] && ok "every option offered is in --help and simq(1)" || fail "every option offered is in --help and simq(1)" "undocumented:$undocumented"

zsh -n "$ZSH_FILE" 2>"$TMP/zsh" && ok "zsh's _simq parses (zsh -n)" || fail "zsh's _simq parses" "$(cat "$TMP/zsh")"
grep -q "^#compdef simq" "$ZSH_FILE" && grep -q "'cancel:cancel tasks" "$ZSH_FILE" &&
	grep -q "'\*--state=:state:(queued running completed failed cancelled)'" "$ZSH_FILE" &&
	ok "_simq is a #compdef file with the commands and the states" || fail "_simq is a #compdef file with the commands and the states" "$(head -30 "$ZSH_FILE")"

make -s -C "$SIMQ_BUILDDIR" install-data DESTDIR="$TMP/inst" >"$TMP/install" 2>&1
bash_installed=$(find "$TMP/inst" -path '*/bash-completion/completions/simq' -type f)
zsh_installed=$(find "$TMP/inst" -path '*/zsh/vendor-completions/_simq' -type f)
[ -n "$bash_installed" ] && [ -n "$zsh_installed" ] && cmp -s "$bash_installed" "$BASH_FILE" && cmp -s "$zsh_installed" "$ZSH_FILE" &&
	ok "make install puts them in bash-completion/completions/simq and zsh/vendor-completions/_simq" ||
	fail "make install puts them in bash-completion/completions/simq and zsh/vendor-completions/_simq" \
		"$(cat "$TMP/install")" "$(find "$TMP/inst" -type f)"
# Issue 15: the API reference that simq(1) and the server's faults name ships, where they say.
api_installed=$(find "$TMP/inst" -path '*/share/doc/simq/api.md' -type f)
[ -n "$api_installed" ] && cmp -s "$api_installed" "$SRC/doc/api.md" && ok "make install puts api.md in share/doc/simq" ||
	fail "make install puts api.md in share/doc/simq" "$(find "$TMP/inst" -type f)"
grep -q 'share/doc/simq/api.md' "$SRC/doc/simq.1" && ! grep -q 'doc/api\.md' "$SRC/doc/simq.1" &&
	ok "simq(1) names the installed path" || fail "simq(1) names the installed path" "$(grep -n api.md "$SRC/doc/simq.1")"
done_testing
