#!/bin/sh
hostname lab
exec "$@"
