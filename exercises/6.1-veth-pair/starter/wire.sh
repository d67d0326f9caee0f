#!/bin/sh
# $1 is process A, $2 is process B: each runs in a network namespace of its own, with only lo.
# Connect them with a veth pair: A answers at {{address-a}}/24, B at {{address-b}}/24.
# Leave the namespace this script runs in as it was (only lo).
a=$1
b=$2
