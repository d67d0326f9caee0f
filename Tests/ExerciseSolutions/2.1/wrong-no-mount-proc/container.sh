#!/bin/sh
exec unshare --pid --fork "$@"
