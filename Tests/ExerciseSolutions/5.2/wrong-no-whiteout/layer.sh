#!/bin/sh
# Leaves bin/vi out of the layer and hopes that deletes it.
set -e
rm -rf /tmp/layer && mkdir -p /tmp/layer/etc
echo "hello from a layer" > /tmp/layer/etc/motd
tar -C /tmp/layer -cf layer.tar etc
