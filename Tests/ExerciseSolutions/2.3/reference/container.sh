#!/bin/sh
exec unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs /mnt && exec "$@"' sh "$@"
