#!/bin/sh
set -e
mkdir "$CGROUP/lab"
if [ "$CGROUP_VERSION" = 2 ]; then
  echo +cpu > "$CGROUP/cgroup.subtree_control"
  echo "50000 100000" > "$CGROUP/lab/cpu.max"
else
  echo 100000 > "$CGROUP/lab/cpu.cfs_period_us"
  echo 50000 > "$CGROUP/lab/cpu.cfs_quota_us"
fi
