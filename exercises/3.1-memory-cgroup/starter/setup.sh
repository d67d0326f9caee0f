#!/bin/sh
# Make the cgroup "$CGROUP/lab" and give it a memory limit, by writing files.
# $CGROUP_VERSION is 1 or 2.
echo "cgroup parent: $CGROUP (v$CGROUP_VERSION)"
