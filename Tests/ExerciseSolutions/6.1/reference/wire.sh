#!/bin/sh
set -e
a=$1
b=$2
ip link add va netns "$a" type veth peer name vb netns "$b"
nsenter --net=/proc/$a/ns/net sh -c 'ip addr add 10.99.0.2/24 dev va && ip link set va up'
nsenter --net=/proc/$b/ns/net sh -c 'ip addr add 10.99.0.3/24 dev vb && ip link set vb up'
