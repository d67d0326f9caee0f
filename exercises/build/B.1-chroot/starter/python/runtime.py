#!/usr/bin/env python3
"""Your container runtime, in Python: `runtime.py run ROOTFS CMD [ARG...]`.

Level B.1: run CMD with ROOTFS as its root directory, and exit with CMD's exit status.
Try it as root: sudo python3 runtime.py run /path/to/a/rootfs /bin/sh
(contlab rootfs build busybox prints the path of a busybox root filesystem.)
"""
import os
import sys


def run(rootfs, argv):
    # TODO B.1: make rootfs the root directory of the command, then run argv[0] with argv.
    print("runtime: run is not written yet", file=sys.stderr)
    return 1


def main():
    if len(sys.argv) < 4 or sys.argv[1] != "run":
        print(f"usage: {sys.argv[0]} run ROOTFS CMD [ARG...]", file=sys.stderr)
        return 2
    return run(sys.argv[2], sys.argv[3:])


if __name__ == "__main__":
    sys.exit(main())
