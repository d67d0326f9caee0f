#!/bin/sh
# Make the cgroup "$CGROUP/lab" and give it 20% of one CPU, by writing files.
echo "cgroup parent: $CGROUP (v$CGROUP_VERSION)"
