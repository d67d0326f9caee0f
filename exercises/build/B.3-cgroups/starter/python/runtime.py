#!/usr/bin/env python3
"""Your container runtime, in Python: `runtime.py run [--memory BYTES] [--pids N] ROOTFS CMD [ARG...]`.

Level B.3: bring over your B.2 run() (../B.2-namespaces/runtime.py), then give the command a
cgroup of its own: made, limited and joined before the command runs, removed after it. Keep
the mount namespace the child's alone (unshare(CLONE_NEWNS) after the fork): pivot_root moves
the root of every process in the namespace, and the runtime needs the host's /sys/fs/cgroup
afterwards to remove its cgroup.
"""
import ctypes
import os
import sys
import time

# The system calls Python's os module lacks (before 3.12), called through the C library.
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18
MNT_DETACH = 2
SYS_pivot_root = 155  # x86-64


def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags):
    check(libc.unshare(flags), "unshare")


def mount(source, target, fstype, flags, data=None):
    enc = lambda s: s.encode() if s is not None else None
    check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def umount2(target, flags):
    check(libc.umount2(target.encode(), flags), f"umount2 {target}")


def pivot_root(new_root, put_old):
    check(libc.syscall(SYS_pivot_root, new_root.encode(), put_old.encode()), "pivot_root")


def sethostname(name):
    check(libc.sethostname(name.encode(), len(name)), "sethostname")


def write_file(directory, name, value):
    """Write value to directory/name, as `echo VALUE > directory/name` does."""
    with open(os.path.join(directory, name), "w") as f:
        f.write(value)


def run(rootfs, argv, memory=None, pids=None):
    # TODO B.3: make the cgroup and write the limits; unshare and fork; in the child, join the
    # cgroup, then B.2's set-up and exec; in the parent, wait, then rmdir the cgroup.
    print("runtime: run is not written yet", file=sys.stderr)
    return 1


def usage():
    print(f"usage: {sys.argv[0]} run [--memory BYTES] [--pids N] ROOTFS CMD [ARG...]", file=sys.stderr)
    return 2


def main():
    args = sys.argv[1:]
    if not args or args[0] != "run":
        return usage()
    args = args[1:]
    limits = {}
    while len(args) > 1 and args[0] in ("--memory", "--pids"):
        limits[args[0][2:]] = args[1]
        args = args[2:]
    if len(args) < 2:
        return usage()
    return run(args[0], args[1:], memory=limits.get("memory"), pids=limits.get("pids"))


if __name__ == "__main__":
    sys.exit(main())
