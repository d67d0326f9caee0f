#!/usr/bin/env python3
"""Your container runtime, in Python: `runtime.py run [--memory BYTES] [--pids N] ROOTFS CMD [ARG...]`.

Level B.3: B.2's namespaces, pivot_root and /proc, and now a cgroup of the run's own with the
memory and pids limits, written before the command runs and removed after it.
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


def cgroup_dirs(name):
    """The run's cgroup: {controller: directory}. Only cgroup.controllers at /sys/fs/cgroup
    itself means everything is v2 (a hybrid host's cgroup2 at /sys/fs/cgroup/unified lacks
    these controllers)."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        # A v2 cgroup has a controller's files only when its parent hands it down.
        write_file("/sys/fs/cgroup", "cgroup.subtree_control", "+memory +pids")
        return {"memory": f"/sys/fs/cgroup/{name}", "pids": f"/sys/fs/cgroup/{name}"}
    return {"memory": f"/sys/fs/cgroup/memory/{name}", "pids": f"/sys/fs/cgroup/pids/{name}"}


def remove_cgroup(dirs):
    # rmdir refuses a cgroup with processes in it, and the PID namespace's last ones may still
    # be on their way out just after PID 1 was reaped.
    for directory in sorted(set(dirs.values())):
        for _ in range(100):
            try:
                os.rmdir(directory)
                break
            except FileNotFoundError:
                break
            except OSError as error:
                if error.errno != 16:  # EBUSY
                    print(f"runtime: {error}", file=sys.stderr)
                    break
                time.sleep(0.02)


def make_cgroup(memory, pids):
    dirs = cgroup_dirs(f"runtime-{os.getpid()}")
    made = {}
    try:
        for controller, directory in dirs.items():
            if directory not in made.values():
                os.mkdir(directory)
            made[controller] = directory
        v2 = dirs["memory"] == dirs["pids"]
        if memory is not None:
            write_file(dirs["memory"], "memory.max" if v2 else "memory.limit_in_bytes", memory)
        if pids is not None:
            write_file(dirs["pids"], "pids.max", pids)
    except OSError:
        remove_cgroup(made)
        raise
    return dirs


def run(rootfs, argv, memory=None, pids=None):
    try:
        dirs = make_cgroup(memory, pids)
    except OSError as error:
        print(f"runtime: {error}", file=sys.stderr)
        return 1
    # The mount namespace is the child's alone: pivot_root moves the root of every process in
    # the namespace that had the old one, and the runtime needs the host's to remove its cgroup.
    try:
        unshare(CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)
        pid = os.fork()
    except OSError as error:
        print(f"runtime: {error}", file=sys.stderr)
        remove_cgroup(dirs)
        return 1
    if pid == 0:
        try:
            # Join first: everything from here on, the command's first page included, is
            # charged to the limited cgroup.
            for directory in sorted(set(dirs.values())):
                write_file(directory, "cgroup.procs", "0")
            unshare(CLONE_NEWNS)
            sethostname("container")
            mount(None, "/", None, MS_REC | MS_PRIVATE)
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
    remove_cgroup(dirs)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


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
