import ContlabCore
import Foundation

/// Stage 2: the init's view of the world, rebuilt inside new namespaces. Lesson: stage2-namespaces.
///
/// Runs in the container's init, already in its new mount, PID, UTS, IPC and network namespaces.
/// Order matters: mounts are made private before anything else, so none propagates back to the
/// host; the root must be a mount point for pivot_root; proc is mounted by a process inside the
/// new PID namespace so it shows that namespace; the old root is detached last.
public enum NamespaceRoot {
    public static func enter(plan: ContainerPlan) throws {
        let root = plan.rootfs
        if plan.namespaces.contains(.cgroup) {
            // Made here, not by clone: the host has moved us into our cgroup by now, and a
            // cgroup namespace's root is the cgroup its creator is in at that moment.
            try Sys.unshare(.cgroup)
        }
        try Sys.mount(
            source: nil, target: "/", fstype: nil, flags: [.recursive, .private],
            hint: "the init must be in a new mount namespace")
        try Sys.mount(
            source: root, target: root, fstype: nil, flags: [.bind, .recursive],
            hint: "the root filesystem must be a directory the init can reach")
        if plan.namespaces.contains(.pid) {
            try ensureDirectory(root + "/proc")
            try Sys.mount(
                source: "proc", target: root + "/proc", fstype: "proc",
                flags: [.noSUID, .noDev, .noExec],
                hint: plan.rootless ? "an unprivileged proc mount needs a fully visible /proc on the host" : nil)
        }
        try DeviceDirectory.populate(root: root, rootless: plan.rootless)
        try mountSys(root: root)
        try bindSelf(root: root)
        for mount in plan.extraMounts {
            let target = root + mount.target
            let flags = MountFlags(rawValue: mount.flags)
            if !flags.contains(.remount) && !Sys.isDirectory(target) { try Sys.mkdir(target, mode: 0o755) }
            try Sys.mount(source: mount.source, target: target, fstype: mount.fstype, flags: flags, data: mount.data)
        }
        if plan.namespaces.contains(.uts) { try Sys.sethostname(plan.hostname ?? "contlab") }
        if plan.namespaces.contains(.network) {
            try Sys.loopbackUp()
        }
        try Sys.chdir(root)
        // pivot_root(".", ".") stacks the old root under the new one at "/"; detaching it
        // right away leaves no path back to the host's files (unlike chroot).
        try Sys.pivotRoot(
            newRoot: ".", putOld: ".",
            hint: "the new root must be a mount point and not on a shared mount")
        try Sys.umount(".", detach: true)
        try Sys.chdir("/")
    }

    /// Where the rootfs has an empty placeholder at /usr/local/bin/contlab, this contlab is bound
    /// there read-only, so a shell inside can run `contlab inspect` too.
    static func bindSelf(root: String) throws {
        let target = root + "/usr/local/bin/contlab"
        var st = stat()
        guard lstat(target, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size == 0,
            let binary = SelfImage.hostPath()
        else { return }
        try Sys.mount(source: binary, target: target, fstype: nil, flags: [.bind])
        try Sys.mount(source: nil, target: target, fstype: nil, flags: [.remount, .bind, .readOnly, .noSUID, .noDev])
    }

    static func ensureDirectory(_ path: String) throws {
        if !Sys.isDirectory(path) { try Sys.mkdir(path, mode: 0o555) }
    }

    /// sysfs, read-only. A fresh sysfs shows the new network namespace's devices; where the kernel
    /// refuses one (no new network namespace), the host's is bound read-only instead.
    static func mountSys(root: String) throws {
        let target = root + "/sys"
        try ensureDirectory(target)
        do {
            try Sys.mount(
                source: "sysfs", target: target, fstype: "sysfs",
                flags: [.readOnly, .noSUID, .noDev, .noExec])
        } catch let error as SystemCallError where error.errno == EPERM {
            try Sys.mount(source: "/sys", target: target, fstype: nil, flags: [.bind, .recursive])
            try Sys.mount(
                source: nil, target: target, fstype: nil,
                flags: [.remount, .bind, .readOnly, .noSUID, .noDev, .noExec])
        }
    }
}

/// A minimal /dev: a tmpfs with the six character devices programs expect, a private devpts for
/// terminals, shm, and the /proc/self/fd links. Root makes the nodes; a user namespace may not
/// (mknod needs CAP_MKNOD in the initial namespace), so rootless binds the host's nodes instead.
public enum DeviceDirectory {
    public static let nodes = DefaultDevices.nodes

    public static func populate(root: String, rootless: Bool) throws {
        let dev = root + "/dev"
        try NamespaceRoot.ensureDirectory(dev)
        try Sys.mount(
            source: "tmpfs", target: dev, fstype: "tmpfs", flags: [.noSUID, .strictATime],
            data: "mode=755,size=65536k")
        for node in nodes {
            let path = dev + "/" + node.name
            if !rootless {
                do {
                    try Sys.mknodChar(path, mode: 0o666, major: node.major, minor: node.minor)
                    continue
                } catch let error as SystemCallError where error.errno == EPERM {}
            }
            try Sys.touch(path, mode: 0o666)
            try Sys.mount(source: "/dev/" + node.name, target: path, fstype: nil, flags: [.bind])
        }
        try Sys.mkdir(dev + "/pts", mode: 0o755)
        try Sys.mount(
            source: "devpts", target: dev + "/pts", fstype: "devpts", flags: [.noSUID, .noExec],
            data: rootless ? "newinstance,ptmxmode=0666,mode=620" : "newinstance,ptmxmode=0666,mode=620,gid=5")
        try Sys.symlink(target: "pts/ptmx", at: dev + "/ptmx")
        try Sys.mkdir(dev + "/shm", mode: 0o1777)
        try Sys.mount(
            source: "shm", target: dev + "/shm", fstype: "tmpfs", flags: [.noSUID, .noDev, .noExec],
            data: "mode=1777,size=65536k")
        for (name, target) in [
            ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")
        ] {
            try Sys.symlink(target: target, at: dev + "/" + name)
        }
    }
}
