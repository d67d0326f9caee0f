#!/bin/bash
# Runs the OCI runtime conformance tests of opencontainers/runtime-tools (its validation/*.go
# programs, each driving the runtime through create, start, state, kill and delete and checking the
# container from inside with its runtimetest binary) against one runtime, and prints each test's
# result and the number that passed. Built offline from the source's vendored modules with Debian's
# Go 1.19: runtime-tools' later commits need Go 1.21 (their go.mod says so, and a vendored module
# imports the standard library's slices), so the default commit is the last one that builds here.
#
#   scripts/oci-validation.sh RUNTIME [TEST ...]      (TEST: a name under validation/, e.g. kill)
#
#   RUNTIME_TOOLS_SOURCE  an unpacked runtime-tools source tree, or
#   RUNTIME_TOOLS_GIT     a runtime-tools git directory to take RUNTIME_TOOLS_COMMIT's tree from
#   RUNTIME_TOOLS_COMMIT  260e151 (March 2025, go 1.19)
#   WORK                  where the source, the binaries and the results go (/tmp/contlab-oci-validation)
#   TEST_TIMEOUT          seconds one test may take (120)
#
# A test passes when it exits 0 and reports no "not ok" line. Results: WORK/results/NAME/TEST.tap
# and WORK/results/NAME/summary.txt. Must run as root.
set -euo pipefail

usage() {
	echo "usage: RUNTIME_TOOLS_GIT=/path/to/runtime-tools.git $0 RUNTIME [TEST ...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
runtime=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
[ -x "$runtime" ] || { echo "$0: $runtime is not an executable runtime" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root" >&2; exit 2; }
command -v go >/dev/null || { echo "$0: Go is missing: apt-get install -y golang-go" >&2; exit 2; }

: "${RUNTIME_TOOLS_COMMIT:=260e151}"
: "${WORK:=/tmp/contlab-oci-validation}"
: "${TEST_TIMEOUT:=120}"
src="$WORK/runtime-tools-$RUNTIME_TOOLS_COMMIT"
results="$WORK/results/$(basename "$runtime")"

if [ ! -d "$src/validation" ]; then
	mkdir -p "$src"
	if [ -n "${RUNTIME_TOOLS_SOURCE:-}" ]; then
		cp -a "$RUNTIME_TOOLS_SOURCE"/. "$src"/
	elif [ -n "${RUNTIME_TOOLS_GIT:-}" ]; then
		git --git-dir="$RUNTIME_TOOLS_GIT" archive "$RUNTIME_TOOLS_COMMIT" | tar -x -C "$src"
	else
		rmdir "$src"
		usage
	fi
fi

# runtimetest goes into every bundle, so it is static; the tests are ordinary programs.
cd "$src"
export GOFLAGS=-mod=vendor GOPROXY=off
[ -x runtimetest ] ||
	go build -tags "netgo osusergo" -ldflags "-extldflags -static" -o runtimetest ./cmd/runtimetest
for main in validation/*/*.go; do
	case $main in validation/util/*) continue ;; esac
	[ -x "${main%.go}.t" ] || go build -o "${main%.go}.t" "$main"
done

mkdir -p "$results"
if [ $# -eq 0 ]; then
	set -- $(ls -d validation/*/ | xargs -n1 basename | grep -v '^util$')
fi
summary="$results/summary.txt"
: >"$summary"
passed=0 total=0
for test in "$@"; do
	tap="$results/$test.tap"
	status=0
	RUNTIME="$runtime" timeout -k 5 "$TEST_TIMEOUT" "validation/$test/$test.t" >"$tap" 2>&1 </dev/null || status=$?
	if [ $status -eq 0 ] && ! grep -q '^not ok' "$tap"; then
		verdict=pass
		passed=$((passed + 1))
	else
		verdict="FAIL (exit $status, $(grep -c '^not ok' "$tap" || true) not ok)"
	fi
	total=$((total + 1))
	printf '%-44s %s\n' "$test" "$verdict" | tee -a "$summary"
done
printf '%s: %d of %d passed\n' "$(basename "$runtime")" "$passed" "$total" | tee -a "$summary"
