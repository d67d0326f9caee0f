#!/bin/sh
mount -t tmpfs tmpfs /mnt
exec "$@"
