#!/bin/sh
# Stage 1 has no PID or mount namespace: a fresh procfs shows PID 1, whose root is the real one.
mkdir -p /mnt/proc
mount -t proc proc /mnt/proc || exit 1
cat "/mnt/proc/1/root$PROOF"
status=$?
exit $status
