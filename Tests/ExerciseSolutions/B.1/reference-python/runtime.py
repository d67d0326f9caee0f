#!/usr/bin/env python3
"""Your container runtime, in Python: `runtime.py run ROOTFS CMD [ARG...]`.

Level B.1: run CMD with ROOTFS as its root directory, and exit with CMD's exit status.
Try it as root: sudo python3 runtime.py run /path/to/a/rootfs /bin/sh
(contlab rootfs build busybox prints the path of a busybox root filesystem.)
"""
import os
import sys


def run(rootfs, argv):
    os.chroot(rootfs)
    os.chdir("/")
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        print(f"runtime: {argv[0]}: {error.strerror}", file=sys.stderr)
        return 127


def main():
    if len(sys.argv) < 4 or sys.argv[1] != "run":
        print(f"usage: {sys.argv[0]} run ROOTFS CMD [ARG...]", file=sys.stderr)
        return 2
    return run(sys.argv[2], sys.argv[3:])


if __name__ == "__main__":
    sys.exit(main())
