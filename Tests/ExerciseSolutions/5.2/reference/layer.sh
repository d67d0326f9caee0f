#!/bin/sh
set -e
rm -rf /tmp/layer && mkdir -p /tmp/layer/bin /tmp/layer/etc
touch /tmp/layer/bin/.wh.vi
echo "hello from a layer" > /tmp/layer/etc/motd
tar -C /tmp/layer -cf layer.tar bin etc
