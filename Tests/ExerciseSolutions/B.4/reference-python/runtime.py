#!/usr/bin/env python3
"""Your container runtime, in Python: an OCI bundle with runc's lifecycle.

    runtime.py [--root DIR] create [--bundle DIR] ID
    runtime.py [--root DIR] start ID | state ID | kill ID [SIGNAL] | delete ID

Level B.4: the container is described by BUNDLE/config.json. `create` sets everything up and
leaves the container process waiting on ROOT/ID/exec.fifo; `start` lets it exec the program;
`state` prints the runtime-spec's state JSON; `kill` signals the process; `delete` removes what
`create` made, once the process has stopped.
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


def load(cid):
    """The state create wrote: id, pid and bundle."""
    try:
        with open(os.path.join(container_dir(cid), "state.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        raise RuntimeError_(f"no container {cid}")


def status_of(cid, pid):
    """stopped: the process is gone, or a zombie nobody has reaped yet (os.kill(pid, 0) would
    still succeed for one); created: it lives and still waits on the FIFO; running: no FIFO."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return "stopped"
    # "PID (COMM) S ...": the state letter follows the last ')', since COMM may hold one.
    letter = stat[stat.rfind(")") + 2:][:1]
    if pid <= 0 or letter in ("Z", "X", ""):
        return "stopped"
    return "created" if os.path.exists(os.path.join(container_dir(cid), "exec.fifo")) else "running"


def make_mount(rootfs, m):
    """One entry of config.json's mounts, made under the rootfs before pivot_root: a bind's
    source is a path of the runtime's own file system, which is gone afterwards."""
    destination, fstype, source = m.get("destination", ""), m.get("type"), m.get("source")
    if not destination.startswith("/"):
        raise OSError(0, f"mount destination {destination!r} must be an absolute path")
    flags, data = 0, []
    for option in m.get("options", []):
        if option in MOUNT_FLAGS:
            flags |= MOUNT_FLAGS[option]
        else:
            data.append(option)  # mode=755, size=2m...: the file system's own options
    if fstype == "bind":
        flags |= MS_BIND
    target = rootfs + destination
    if flags & MS_BIND and source and os.path.exists(source) and not os.path.isdir(source):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "a").close()
    else:
        os.makedirs(target, exist_ok=True)
    if flags & MS_BIND:
        mount(source, target, None, flags & (MS_BIND | MS_REC))
        # A bind takes no other flags at first: ro, nosuid... need a remount of the bind.
        rest = flags & ~(MS_BIND | MS_REC)
        if rest:
            mount(None, target, None, MS_REMOUNT | MS_BIND | rest)
    else:
        mount(source, target, fstype, flags, ",".join(data) or None)


def capability_mask(names):
    mask = 0
    for name in names or []:
        if name in CAPABILITIES:
            mask |= 1 << CAPABILITIES.index(name)
    return mask


def set_capabilities(caps):
    """The bounding set first (what an exec as root could get back), then the three sets
    capset writes. Dropping from the bounding set takes CAP_SETPCAP, still effective until capset."""
    if not caps:
        return
    if "bounding" in caps:
        keep = capability_mask(caps["bounding"])
        for cap in range(64):
            if not keep & (1 << cap) and libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                if ctypes.get_errno() != 22:  # EINVAL: past the kernel's last capability
                    check(-1, "prctl(PR_CAPBSET_DROP)")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # two of {effective, permitted, inheritable}
    for i, name in enumerate(("effective", "permitted", "inheritable")):
        mask = capability_mask(caps.get(name))
        data[i], data[3 + i] = mask & 0xFFFFFFFF, mask >> 32
    check(libc.syscall(SYS_capset, header, data), "capset")


def container_process(config, bundle, namespaces, fifo, ready):
    """From the fork to the exec: namespaces, mounts, root, hostname, working directory,
    limits, then the wait for `start`."""
    process = config.get("process", {})
    # The PID namespace was made before the fork (it is the children's); the others now.
    check(libc.unshare(namespaces & ~CLONE_NEWPID), "unshare")
    hostname = config.get("hostname")
    if hostname:
        check(libc.sethostname(hostname.encode(), len(hostname.encode())), "sethostname")
    # root.path is relative to the bundle, not to where create was run.
    rootfs = os.path.join(bundle, config["root"]["path"])
    # Opened now, while ROOT is in view: after pivot_root it is not. O_RDWR does not block,
    # and keeps the FIFO open for writing to (start's open then finds a reader).
    wait_fd = os.open(fifo, os.O_RDWR)
    if namespaces & CLONE_NEWNS:
        # Nothing mounted from here on propagates back to the host's mount namespace.
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        # pivot_root wants a mount point; the recursive bind brings what is mounted inside.
        mount(rootfs, rootfs, None, MS_BIND | MS_REC)
        for m in config.get("mounts", []):
            make_mount(rootfs, m)
        os.chdir(rootfs)
        check(libc.syscall(SYS_pivot_root, b".", b"."), "pivot_root")
        check(libc.umount2(b".", MNT_DETACH), "umount2 the old root")
    else:
        os.chroot(rootfs)
    os.chdir(process.get("cwd", "/"))
    args = process.get("args") or []
    if not args:
        raise OSError(0, "process.args is empty")
    env = dict(item.split("=", 1) for item in process.get("env", []) if "=" in item)
    for r in process.get("rlimits", []):
        kind = getattr(resource, r.get("type", ""), None)
        if not r.get("type", "").startswith("RLIMIT_") or kind is None:
            raise OSError(0, f"process.rlimits: unknown type {r.get('type')}")
        resource.setrlimit(kind, (r["soft"], r["hard"]))
    set_capabilities(process.get("capabilities"))
    # Set up: tell create, then wait for start's byte on the FIFO.
    os.write(ready, b"1")
    os.close(ready)
    if os.read(wait_fd, 1) != b"1":
        raise OSError(0, "exec.fifo closed without a byte")
    os.close(wait_fd)
    # The environment is config.json's alone; execvpe looks the program up in its PATH.
    os.execvpe(args[0], args, env)


def remove_state(cid):
    for name in ("exec.fifo", "state.json"):
        try:
            os.unlink(os.path.join(container_dir(cid), name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(container_dir(cid))
    except FileNotFoundError:
        pass


def create(bundle, cid):
    if not re.fullmatch(r"[A-Za-z0-9_.+-]{1,200}", cid) or cid in (".", ".."):
        raise RuntimeError_("an ID is letters, digits and - _ . + only")
    bundle = os.path.realpath(bundle)
    try:
        with open(os.path.join(bundle, "config.json")) as f:
            config = json.load(f)
    except (OSError, ValueError) as error:
        raise RuntimeError_(f"{bundle}/config.json: {error}")
    namespaces = 0
    for entry in config.get("linux", {}).get("namespaces", []):
        if entry.get("type") not in NAMESPACES:
            raise RuntimeError_(f"namespace type {entry.get('type')} is not supported")
        if "path" in entry:
            raise RuntimeError_("joining a namespace by its path is not supported")
        namespaces |= NAMESPACES[entry["type"]]
    os.makedirs(state_root, mode=0o700, exist_ok=True)
    # mkdir fails if the folder exists: that is what makes the ID this container's alone.
    try:
        os.mkdir(container_dir(cid), 0o700)
    except FileExistsError:
        raise RuntimeError_(f"container {cid}: the ID is in use")
    fifo = os.path.join(container_dir(cid), "exec.fifo")
    try:
        os.mkfifo(fifo, 0o600)
        ready_r, ready_w = os.pipe()
        if namespaces & CLONE_NEWPID:
            check(libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
        pid = os.fork()
    except OSError as error:
        remove_state(cid)
        raise RuntimeError_(str(error))
    if pid == 0:
        try:
            os.close(ready_r)
            container_process(config, bundle, namespaces, fifo, ready_w)
        except Exception as error:  # said on create's stderr; create sees the pipe close
            print(f"runtime: {error}", file=sys.stderr)
        os._exit(1)
    os.close(ready_w)
    if os.read(ready_r, 1) != b"1":
        os.waitpid(pid, 0)
        remove_state(cid)
        return 1
    with open(os.path.join(container_dir(cid), "state.json"), "w") as f:
        json.dump({"id": cid, "pid": pid, "bundle": bundle}, f)
    return 0


def start(cid):
    saved = load(cid)
    status = status_of(cid, saved["pid"])
    if status != "created":
        raise RuntimeError_(f"container {cid} is {status}, not created: it cannot start")
    fifo = os.path.join(container_dir(cid), "exec.fifo")
    # O_NONBLOCK: fails at once (ENXIO) if no process holds the FIFO any more.
    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    # Gone before the byte goes: once the process may run, state says running.
    os.unlink(fifo)
    os.write(fd, b"1")
    os.close(fd)
    return 0


def state(cid):
    saved = load(cid)
    status = status_of(cid, saved["pid"])
    print(json.dumps({"ociVersion": "1.0.2", "id": cid, "status": status,
                      "pid": 0 if status == "stopped" else saved["pid"], "bundle": saved["bundle"]}, indent=2))
    return 0


def kill(cid, name="TERM"):
    saved = load(cid)
    if name.isdigit():
        number = int(name)
    else:
        name = name.upper()
        try:
            number = signal.Signals[name if name.startswith("SIG") else "SIG" + name]
        except KeyError:
            raise RuntimeError_(f"unknown signal {name}")
    if status_of(cid, saved["pid"]) == "stopped":
        raise RuntimeError_(f"container {cid} is stopped: there is nothing to signal")
    os.kill(saved["pid"], number)
    return 0


def delete(cid):
    saved = load(cid)
    status = status_of(cid, saved["pid"])
    if status != "stopped":
        raise RuntimeError_(f"container {cid} is {status}: kill it first, delete only removes a stopped one")
    remove_state(cid)
    return 0


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
