#!/bin/sh
# run.sh — the mutation check (make check-mutations): does each deliberate bug in tests/mutations/
# make the tests that should catch it fail?
#
# Each NN-name.patch is a small unified diff against the tree, a deliberate bug in one important
# behaviour, after a header that says what it breaks and which tests must catch it:
#
#   Mutation: the breaker trips after one failure, whatever down_after says
#   Tests: tests/unit/engine/test_scheduler tests/integration/faults-probe.sh
#
# It keeps one scratch copy of the tree (the files git knows, committed or not) under
# tests/tmp/mutations/tree in the build directory, configured once as a plain build (no
# sanitizers, -O0: the build, not the run, is what costs here) and reused, so each mutation
# rebuilds only what its patch touched.  For each mutation: patch the copy, make check with
# TESTS set to the listed tests (and check_PROGRAMS to the programs among them, so nothing else is
# built), restore the touched files, and report killed (a listed test failed), SURVIVED (they all
# passed: the tests miss the bug) or BROKEN (the patch no longer applies, or the tree does not
# build with it: refresh the patch).  Exit status 0 only when every mutation was killed.
#
# MUTATIONS="03 07" limits the run to the mutations whose names start so;
# MUTATION_TIMEOUT (seconds, default 600) caps one mutation's tests: a bug that hangs a test is
# caught by it.  The last line is "mutations: N killed, N survived, N broken (S s)".
set -u

src=${SIMQ_SRCDIR:?run through make check-mutations}
build=${SIMQ_BUILDDIR:?run through make check-mutations}
jobs=${MUTATION_JOBS:-$(nproc 2>/dev/null || echo 2)}
limit=${MUTATION_TIMEOUT:-600}
scratch=$build/tests/tmp/mutations
tree=$scratch/tree
start=$(date +%s)

say() { printf 'check-mutations: %s\n' "$*"; }
die() {
	say "$*" >&2
	echo "mutations: 0 killed, 0 survived, 1 broken ($(($(date +%s) - start)) s)"
	exit 1
}

command -v git >/dev/null 2>&1 && git -C "$src" rev-parse --git-dir >/dev/null 2>&1 ||
	die "needs a git checkout: the scratch copy is the files git knows"
command -v patch >/dev/null 2>&1 || die "needs patch (Debian package patch)"

# ---- the scratch copy: every file git knows, as it is in the work tree now ------------------------
mkdir -p "$tree"
git -C "$src" ls-files -z --cached --others --exclude-standard >"$scratch/files"
# A changed file is copied with a new mtime, so the scratch build rebuilds what depends on it.
tr '\0' '\n' <"$scratch/files" | while IFS= read -r f; do
	[ -f "$src/$f" ] || continue
	if ! cmp -s "$src/$f" "$tree/$f"; then
		mkdir -p "$tree/$(dirname "$f")"
		cp "$src/$f" "$tree/$f"
		[ -x "$src/$f" ] && chmod +x "$tree/$f"
	fi
done
if [ ! -f "$tree/config.status" ]; then
	say "configuring a plain build in $tree (once; later runs rebuild only what changed)"
	(cd "$tree" && autoreconf -fi >"$scratch/autoreconf.log" 2>&1) || die "autoreconf failed: see $scratch/autoreconf.log"
	(cd "$tree" && ./configure -q CFLAGS='-O0 -g0' >"$scratch/configure.log" 2>&1) ||
		die "configure failed: see $scratch/configure.log"
fi
say "building the unmutated tree"
make -C "$tree" -s -j"$jobs" all >"$scratch/build.log" 2>&1 || die "the unmutated tree does not build: see $scratch/build.log"

# restore PATCH: copies the files PATCH touched back from the source tree (with a new mtime).
restore() {
	sed -n 's|^+++ b/\([^	]*\).*|\1|p' "$1" | while IFS= read -r f; do
		cp "$src/$f" "$tree/$f"
	done
}

killed=0 survived=0 broken=0
for m in "$src"/tests/mutations/*.patch; do
	[ -f "$m" ] || continue
	name=$(basename "$m" .patch)
	if [ -n "${MUTATIONS:-}" ]; then
		want=no
		for p in $MUTATIONS; do
			case $name in "$p"*) want=yes ;; esac
		done
		[ $want = yes ] || continue
	fi
	what=$(sed -n 's/^Mutation: //p' "$m" | head -n 1)
	tests=$(sed -n 's/^Tests: //p' "$m" | head -n 1)
	if [ -z "$tests" ]; then
		say "BROKEN   $name: no Tests: line"
		broken=$((broken + 1))
		continue
	fi
	progs=
	for t in $tests; do
		case $t in
		*.sh) ;;
		*) progs="$progs $t" ;;
		esac
		case $t in
		*/test_store_crash) progs="$progs tests/integration/store-crash-helper" ;;
		esac
	done
	t0=$(date +%s)
	if ! (cd "$tree" && patch -p1 -s --no-backup-if-mismatch <"$m") >"$scratch/$name.patch.log" 2>&1; then
		say "BROKEN   $name: the patch does not apply: $(head -n 3 "$scratch/$name.patch.log" | tr '\n' ' ')"
		broken=$((broken + 1))
		restore "$m"
		continue
	fi
	# The programs first, so that a mutation that does not build is told apart from one a test catches.
	# (Two makes, one after the other: make all runs a make of its own, which would race one beside it.)
	# shellcheck disable=SC2086
	if ! { make -C "$tree" -s -j"$jobs" all && make -C "$tree" -s -j"$jobs" $progs; } >"$scratch/$name.build.log" 2>&1; then
		say "BROKEN   $name: does not build with the patch: see $scratch/$name.build.log"
		broken=$((broken + 1))
		restore "$m"
		continue
	fi
	rm -f "$tree/test-suite.log"
	# shellcheck disable=SC2086
	timeout "$limit" make -C "$tree" -s -j"$jobs" check TESTS="$tests" check_PROGRAMS="$progs" \
		>"$scratch/$name.check.log" 2>&1
	status=$?
	restore "$m"
	secs=$(($(date +%s) - t0))
	if [ $status -eq 0 ]; then
		say "SURVIVED $name (${secs} s): $what; these tests all passed with it: $tests"
		survived=$((survived + 1))
	else
		if [ $status -eq 124 ]; then
			by="the tests ran past ${limit} s"
		else
			by=$(sed -n 's/^\(FAIL\|ERROR\): \([^ ]*\).*/\2/p' "$scratch/$name.check.log" | sort -u | tr '\n' ' ')
		fi
		say "killed   $name (${secs} s) by ${by:-make check}"
		killed=$((killed + 1))
	fi
done
# The copy is left as it was before any mutation, ready for the next run.
echo "mutations: $killed killed, $survived survived, $broken broken ($(($(date +%s) - start)) s)"
[ $survived -eq 0 ] && [ $broken -eq 0 ] && [ $killed -gt 0 ]
