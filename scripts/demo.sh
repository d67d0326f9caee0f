#!/bin/sh
# The short demo `make demo` ends with: each stage run for real, with the evidence.
set -eu
contlab=${CONTLAB:-bin/contlab}
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

say "Stage 3: cgroups. The same memory hog above and below a 64 MiB limit, with the kernel's counters."
"$contlab" oom-demo

say "Stage 4: an OCI bundle run by contlab's runc-compatible runtime, seen from inside."
bundle=$(mktemp -d /tmp/contlab-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
"$contlab" bundle create --rootfs busybox "$bundle/bundle" -- contlab inspect >/dev/null
"$contlab" runc --root "$bundle/state" run --bundle "$bundle/bundle" demo-$$ | head -12
if command -v runc >/dev/null; then
    say "The same bundle under runc"
    runc --root "$bundle/runc" run --bundle "$bundle/bundle" demo-$$ | head -12
fi

say "Stage 5: an image of layers; a container on overlayfs writes only to its own upper directory."
tree=$("$contlab" rootfs build busybox)
export CONTLAB_DATA="$bundle/data"     # the demo's images and containers go away with it
"$contlab" image build --dir "$tree" demo/busybox:latest
"$contlab" run --stage 5 --image demo/busybox --name demo -- sh -c 'echo hello > /greeting; rm /bin/vi'
"$contlab" diff demo
"$contlab" commit demo demo/greeting:v1 >/dev/null
"$contlab" image history demo/greeting:v1
"$contlab" run --stage 5 --image demo/greeting:v1 --rm -- cat /greeting
"$contlab" container rm demo >/dev/null
unset CONTLAB_DATA

say "History and lessons: contlab history timeline, contlab lessons"
"$contlab" history timeline --from 2013 --to 2016 | head -14
