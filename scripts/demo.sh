#!/bin/sh
# The short demo `make demo` ends with: each stage run for real, with the evidence.
set -eu
contlab=${CONTLAB:-.build/release/contlab}
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold='\033[1m'; plain='\033[0m'; else bold=''; plain=''; fi
say() { printf "\n${bold}== %s${plain}\n" "$*"; }

say "Root filesystems (rootfs-recipes/)"
"$contlab" rootfs list

say "Stage 1: chroot alone. Same PIDs and hostname as the host, no /proc."
"$contlab" run --stage 1 -- /bin/sh -c 'echo "my PID is $$, hostname $(hostname)"; ls /'

say "Stage 1: the classic chroot escape, from inside, as root"
"$contlab" escape --stage 1

say "Stage 2: namespaces and pivot_root. contlab inspect looks from inside; --explain lists the system calls."
"$contlab" run --stage 2 --hostname lab --explain -- contlab inspect

say "Stage 2: the same escape fails, because the old root was detached"
"$contlab" escape --stage 2
