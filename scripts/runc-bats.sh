#!/bin/bash
# Runs runc's own integration suite (the bats files under tests/integration of runc's source) against
# one runtime with runc's command line, file by file, and prints how many tests of each file passed,
# failed and were skipped. Nothing is downloaded: the suite comes from a runc git directory or an
# unpacked source tree, its busybox and debian images are built here from the host's busybox-static
# (and, for the "debian" one, the host's static ldconfig), and its helper programs (recvtty,
# seccompagent, sd-helper) are built from the source's vendored Go modules when Go is installed.
#
#   scripts/runc-bats.sh RUNTIME [FILE.bats ...]
#
#   RUNTIME       the binary under test: /usr/sbin/runc, /usr/bin/crun, bin/contlab-runc
#   RUNC_SOURCE   an unpacked runc source tree, or
#   RUNC_GIT      a runc git directory (bare or not) to take RUNC_TAG's tree from
#   RUNC_TAG      v1.1.5 (the version Debian bookworm ships, and the one contlab-runc stands in for)
#   WORK          where the suite, the images and the results go (/tmp/contlab-runc-bats)
#   FILE_TIMEOUT  seconds one bats file may take before it is stopped (900)
#
# Results: WORK/results/NAME/FILE.tap for each file, and WORK/results/NAME/summary.txt, NAME being the
# runtime's file name. Must run as root (the suite's root tests are the ones that matter here).
set -euo pipefail

usage() {
	echo "usage: RUNC_GIT=/path/to/runc.git $0 RUNTIME [FILE.bats ...]" >&2
	echo "   or: RUNC_SOURCE=/path/to/runc-source $0 RUNTIME [FILE.bats ...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
# Absolute, but not resolved: contlab-runc is a link that contlab answers to by its name.
runtime=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
[ -x "$runtime" ] || { echo "$0: $runtime is not an executable runtime" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root: the suite's root tests are skipped otherwise" >&2; exit 2; }
command -v bats >/dev/null || { echo "$0: bats is missing: apt-get install -y bats" >&2; exit 2; }
for tool in jq gawk script; do
	command -v $tool >/dev/null || { echo "$0: $tool is missing (the suite's helpers use it): apt-get install -y ${tool/script/bsdutils}" >&2; exit 2; }
done
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q static ||
	{ echo "$0: a static /bin/busybox is needed for the images: apt-get install -y busybox-static" >&2; exit 2; }

: "${RUNC_TAG:=v1.1.5}"
: "${WORK:=/tmp/contlab-runc-bats}"
: "${FILE_TIMEOUT:=900}"
src="$WORK/runc-$RUNC_TAG"
name=$(basename "$runtime")
results="$WORK/results/$name"

# The suite: runc's whole tree at the tag, since the helpers it builds live beside the tests.
if [ ! -d "$src/tests/integration" ]; then
	mkdir -p "$src"
	if [ -n "${RUNC_SOURCE:-}" ]; then
		cp -a "$RUNC_SOURCE"/. "$src"/
	elif [ -n "${RUNC_GIT:-}" ]; then
		git --git-dir="$RUNC_GIT" archive "$RUNC_TAG" | tar -x -C "$src"
	else
		rmdir "$src"
		usage
	fi
fi
integration="$src/tests/integration"

# The helper programs, from the vendored modules only (GOPROXY=off: a missing module fails here
# rather than being fetched). Without them the tests that use a console socket or a seccomp agent fail.
if command -v go >/dev/null; then
	for helper in recvtty seccompagent sd-helper; do
		dir="$src/contrib/cmd/$helper"
		[ -x "$dir/$helper" ] && continue
		(cd "$dir" && GOFLAGS=-mod=vendor GOPROXY=off go build -tags seccomp -o "$helper" .) ||
			echo "$0: could not build $helper; the tests that use it will fail" >&2
	done
else
	echo "$0: Go is missing (apt-get install -y golang-go): recvtty and seccompagent are not built," \
		"so the tests that use a console socket or a seccomp agent will fail" >&2
fi

# get-images.sh asks Go for the architecture; answer it when Go is not installed.
arch=$(dpkg --print-architecture)
shims="$WORK/shims"
mkdir -p "$shims"
if ! command -v go >/dev/null; then
	printf '#!/bin/sh\n[ "$1 $2" = "env GOARCH" ] && echo %s\n' "$arch" >"$shims/go"
	chmod +x "$shims/go"
fi

# The images get-images.sh would download, in the files it looks for first.
testdata="$integration/testdata"
make_busybox_tree() {
	local root="$1" applet
	chmod 755 "$root" # mktemp made it 0700, and the tar keeps that for the container's /
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,home,tmp,var/tmp,dev,proc,sys}
	chmod 1777 "$root/tmp" "$root/var/tmp"
	chmod 700 "$root/root"
	cp /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
	done
	cat >"$root/etc/passwd" <<-EOF
		root:x:0:0:root:/root:/bin/sh
		daemon:x:1:1:daemon:/usr/sbin:/bin/false
		nobody:x:65534:65534:nobody:/home:/bin/false
	EOF
	cat >"$root/etc/group" <<-EOF
		root:x:0:
		daemon:x:1:
		nogroup:x:65534:
	EOF
}
if [ ! -e "$testdata/busybox-$arch.tar.xz" ]; then
	tree=$(mktemp -d)
	make_busybox_tree "$tree"
	tar -C "$tree" -cJf "$testdata/busybox-$arch.tar.xz" .
	rm -rf "$tree"
fi
# hooks.bats's one debian test needs a shell, ldconfig and a /lib that ldconfig scans.
if [ ! -e "$testdata/debian-$arch.tar.xz" ]; then
	tree=$(mktemp -d)
	make_busybox_tree "$tree"
	mkdir -p "$tree/lib" "$tree/usr/lib" "$tree/etc/ld.so.conf.d"
	cp /sbin/ldconfig "$tree/sbin/ldconfig"
	: >"$tree/etc/ld.so.conf"
	tar -C "$tree" -cJf "$testdata/debian-$arch.tar.xz" .
	rm -rf "$tree"
fi

# One bats run per file, each stopped after FILE_TIMEOUT seconds. runc's default spec asks for a
# terminal, and most tests keep it: without a controlling terminal here (CI, a service, a session
# with no tty) they fail on /dev/tty for every runtime alike, so each file runs under script(1),
# which gives it a pseudo-terminal of its own.
mkdir -p "$results"
if [ $# -eq 0 ]; then
	set -- $(cd "$integration" && ls ./*.bats | sed 's|^\./||')
fi
summary="$results/summary.txt"
printf '%-28s %5s %5s %5s\n' file pass fail skip >"$summary"
total_pass=0 total_fail=0 total_skip=0
for file in "$@"; do
	tap="$results/${file%.bats}.tap"
	(cd "$integration" && PATH="$shims:$PATH" RUNC="$runtime" timeout -k 10 "$FILE_TIMEOUT" \
		script -qefc "bats --tap $file" /dev/null >"$tap" 2>&1 </dev/null) || true
	sed -i 's/\r$//' "$tap"
	pass=$(grep -c '^ok ' "$tap" | tr -d '\n' || true)
	skip=$(grep -c '^ok .* # skip' "$tap" | tr -d '\n' || true)
	fail=$(grep -c '^not ok ' "$tap" | tr -d '\n' || true)
	pass=$((pass - skip))
	total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail)) total_skip=$((total_skip + skip))
	printf '%-28s %5d %5d %5d\n' "$file" "$pass" "$fail" "$skip" | tee -a "$summary"
done
printf '%-28s %5d %5d %5d\n' total "$total_pass" "$total_fail" "$total_skip" | tee -a "$summary"
