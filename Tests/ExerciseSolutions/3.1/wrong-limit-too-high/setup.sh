#!/bin/sh
set -e
mkdir "$CGROUP/lab"
if [ "$CGROUP_VERSION" = 2 ]; then
  echo +memory > "$CGROUP/cgroup.subtree_control"
  echo 200M > "$CGROUP/lab/memory.max"
  echo 0 > "$CGROUP/lab/memory.swap.max" 2>/dev/null || true
else
  echo 200M > "$CGROUP/lab/memory.limit_in_bytes"
  # memory+swap exists only with swap accounting.
  echo 200M > "$CGROUP/lab/memory.memsw.limit_in_bytes" 2>/dev/null || true
fi
