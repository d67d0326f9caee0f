#!/bin/sh
# One end goes into A; the other stays here, with B's address: A's pings reach this namespace.
set -e
ip link add va type veth peer name vb
ip link set va netns "$1"
nsenter --net=/proc/$1/ns/net sh -c 'ip addr add 10.99.0.2/24 dev va && ip link set va up'
ip addr add 10.99.0.3/24 dev vb
ip link set vb up
