#!/usr/bin/env python3
"""Your container runtime, in Python:
    runtime.py run --layer DIR [--layer DIR...] --upper UPPER --work WORK ROOTFS CMD [ARG...]

Level B.5: bring over your B.2 run() (../B.2-namespaces/runtime.py), then build the command's
root out of layers: mount an overlay of the layers (read-only, base first on the command line)
and UPPER (the container's own changes) on the empty folder ROOTFS, in the child's mount
namespace, and pivot_root into it. No layer is ever written.
"""
import ctypes
import os
import sys

# The system calls Python's os module lacks (before 3.12), called through the C library.
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
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


def run(layers, upper, work, rootfs, argv):
    """layers: the folders in the order --layer gave them (the base first)."""
    # TODO B.5: build overlay's data, "lowerdir=TOP:...:BASE,upperdir=UPPER,workdir=WORK";
    # unshare and fork as in B.2; in the child, make mounts private, mount the overlay on
    # ROOTFS, then /proc, pivot_root and exec.
    print("runtime: run is not written yet", file=sys.stderr)
    return 1


def usage():
    print(f"usage: {sys.argv[0]} run --layer DIR [--layer DIR...] --upper UPPER --work WORK ROOTFS CMD [ARG...]",
          file=sys.stderr)
    return 2


def main():
    args = sys.argv[1:]
    if not args or args[0] != "run":
        return usage()
    args = args[1:]
    layers, upper, work = [], None, None
    while len(args) > 1 and args[0].startswith("--"):
        if args[0] == "--layer":
            layers.append(args[1])
        elif args[0] == "--upper":
            upper = args[1]
        elif args[0] == "--work":
            work = args[1]
        else:
            return usage()
        args = args[2:]
    if not layers or upper is None or work is None or len(args) < 2:
        return usage()
    return run(layers, upper, work, args[0], args[1:])


if __name__ == "__main__":
    sys.exit(main())
