#!/bin/sh
# Make the cgroup "$CGROUP/lab" and allow at most 20 processes in it, by writing files.
echo "cgroup parent: $CGROUP (v$CGROUP_VERSION)"
