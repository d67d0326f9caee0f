#!/bin/sh
# Run "$@" with the hostname {{hostname}}, leaving the machine's hostname alone.
exec "$@"
