#!/bin/sh
exec unshare --uts sh -c 'hostname lab && exec "$@"' sh "$@"
