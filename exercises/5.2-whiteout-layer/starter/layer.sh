#!/bin/sh
# Write layer.tar here, in this folder: a layer that deletes /bin/{{delete}} and adds /etc/motd.
set -e
