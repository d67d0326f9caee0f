#!/bin/sh
# --fork: the namespace is for children; --mount-proc: a procfs of the new namespace, in a new
# mount namespace.
exec unshare --pid --fork --mount-proc "$@"
