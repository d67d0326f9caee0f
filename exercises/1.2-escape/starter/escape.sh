#!/bin/sh
# Runs as root in a stage-1 container. $PROOF names a file outside the root filesystem:
# print its contents.
echo "not escaped yet" >&2
exit 1
