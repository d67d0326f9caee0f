#!/bin/sh
set -e
mkdir "$CGROUP/lab"
[ "$CGROUP_VERSION" = 2 ] && echo +pids > "$CGROUP/cgroup.subtree_control"
echo 20 > "$CGROUP/lab/pids.max"
