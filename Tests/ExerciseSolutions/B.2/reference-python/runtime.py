#!/usr/bin/env python3
"""Your container runtime, in Python: `runtime.py run ROOTFS CMD [ARG...]`.

Level B.2: bring over your B.1 run() (../B.1-chroot/runtime.py), then give the command new
PID, mount, UTS, IPC and network namespaces, the hostname "container", ROOTFS as its root
through pivot_root with the old root detached, and a fresh /proc. The helpers below call what
Python's os module lacks.
"""
import ctypes
import os
import sys

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


def run(rootfs, argv):
    unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)
    pid = os.fork()
    if pid == 0:
        try:
            sethostname("container")
            mount(None, "/", None, MS_REC | MS_PRIVATE)
            # /proc for the new PID namespace, while the old /proc is still in view.
            mount("proc", os.path.join(rootfs, "proc"), "proc", 0)
            mount(rootfs, rootfs, None, MS_BIND | MS_REC)
            os.chdir(rootfs)
            pivot_root(".", ".")
            umount2(".", MNT_DETACH)
            os.chdir("/")
            os.execvp(argv[0], argv)
        except OSError as error:
            print(f"runtime: {error}", file=sys.stderr)
        os._exit(127)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def main():
    if len(sys.argv) < 4 or sys.argv[1] != "run":
        print(f"usage: {sys.argv[0]} run ROOTFS CMD [ARG...]", file=sys.stderr)
        return 2
    return run(sys.argv[2], sys.argv[3:])


if __name__ == "__main__":
    sys.exit(main())
