#!/usr/bin/env python3
"""Your container runtime, in Python: an OCI bundle with runc's lifecycle.

    runtime.py [--root DIR] create [--bundle DIR] ID
    runtime.py [--root DIR] start ID | state ID | kill ID [SIGNAL] | delete ID

Level B.4: bring over what your B.3 run() does in the child (namespaces, mounts, pivot_root),
now driven by BUNDLE/config.json, and split it into runc's steps. `create` sets everything up
and leaves the container process waiting on ROOT/ID/exec.fifo; `start` lets it exec the
program; `state` prints the runtime-spec's state JSON; `kill` signals the process; `delete`
removes what `create` made, once the process has stopped. The constants, the helpers and
main() are given; the TODOs are yours (task.en.md says what each is worth).
"""
import ctypes
import json
import os
import re
import resource
import signal
import sys

# The system calls Python's os module lacks (before 3.12), called through the C library.
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_SYNCHRONOUS = 1, 2, 4, 8, 16
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 0x1000, 0x4000
MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 1 << 18, 1 << 21, 1 << 24
MNT_DETACH = 2
SYS_pivot_root, SYS_capset = 155, 126  # x86-64
PR_CAPBSET_DROP = 24

NAMESPACES = {"pid": CLONE_NEWPID, "mount": CLONE_NEWNS, "uts": CLONE_NEWUTS, "ipc": CLONE_NEWIPC,
              "network": CLONE_NEWNET, "cgroup": CLONE_NEWCGROUP}
# Mount options that are flags; every other option goes to the file system as data.
MOUNT_FLAGS = {"ro": MS_RDONLY, "rw": 0, "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
               "sync": MS_SYNCHRONOUS, "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME,
               "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME, "bind": MS_BIND,
               "rbind": MS_BIND | MS_REC, "suid": 0, "dev": 0, "exec": 0, "atime": 0}
# The capabilities by number, as the kernel's linux/capability.h numbers them.
CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
]

state_root = "/run/runtime-lab"


class RuntimeError_(Exception):
    """A failure to report on stderr, with exit status 1."""


def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source, target, fstype, flags, data=None):
    enc = lambda s: s.encode() if s is not None else None
    check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def container_dir(cid):
    return os.path.join(state_root, cid)


def create(bundle, cid):
    """Read BUNDLE/config.json, claim ROOT/ID with os.mkdir, make ROOT/ID/exec.fifo, unshare
    CLONE_NEWPID if listed, fork. The child: the other namespaces, hostname, mounts and
    pivot_root (B.3's run(), from config.json now), cwd, then it opens the FIFO (O_RDWR, before
    pivot_root) and reads one byte from it before os.execvpe with process.env. The parent
    waits until the child is set up (a pipe it writes to helps), saves the state and returns 0.
    Last, a point each: process.rlimits (resource.setrlimit) and process.capabilities
    (CAPABILITIES, prctl PR_CAPBSET_DROP, capset)."""
    raise RuntimeError_("create is not written yet")  # TODO B.4


def start(cid):
    """Only a created container starts: open the FIFO O_WRONLY | O_NONBLOCK, remove it, write a byte."""
    raise RuntimeError_("start is not written yet")  # TODO B.4


def state(cid):
    """Print one JSON object with ociVersion, id, status, pid and bundle (see task.en.md). Keep
    what create knew in ROOT/ID, and read the status from the kernel each time: /proc/PID/stat
    gone, or its state letter Z, means stopped."""
    raise RuntimeError_("state is not written yet")  # TODO B.4


def kill(cid, name="TERM"):
    """SIGNAL is a name (TERM, SIGTERM: signal.Signals) or a number."""
    raise RuntimeError_("kill is not written yet")  # TODO B.4


def delete(cid):
    """Only a stopped container is deleted: everything under ROOT/ID goes."""
    raise RuntimeError_("delete is not written yet")  # TODO B.4


def usage():
    me = sys.argv[0]
    print(f"usage: {me} [--root DIR] create [--bundle DIR] ID\n"
          f"       {me} [--root DIR] start|state|delete ID\n"
          f"       {me} [--root DIR] kill ID [SIGNAL]", file=sys.stderr)
    return 2


def main():
    global state_root
    args = sys.argv[1:]
    if len(args) > 1 and args[0] == "--root":
        state_root, args = args[1], args[2:]
    if not args:
        return usage()
    command, args = args[0], args[1:]
    try:
        if command == "create":
            bundle = "."
            if len(args) > 1 and args[0] == "--bundle":
                bundle, args = args[1], args[2:]
            return create(bundle, args[0]) if len(args) == 1 else usage()
        if command == "kill" and len(args) in (1, 2):
            return kill(*args)
        if len(args) != 1:
            return usage()
        commands = {"start": start, "state": state, "delete": delete}
        return commands[command](args[0]) if command in commands else usage()
    except (RuntimeError_, OSError) as error:
        print(f"runtime: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
