import CLinux
import ContlabCore
import Foundation
import OCI

/// The root filesystem an OCI spec describes, built by the init inside its mount namespace:
/// propagation, the root bind, `mounts` in order, /dev, pivot_root, then masked and read-only paths.
struct RootfsSetup {
    let plan: OCIInitPlan
    /// No mount namespace: the mounts go into the host's table, under the root, and the root is
    /// entered with chroot (nothing of the host's own mounts is changed; delete unmounts them).
    var hostMounts = false
    /// The bind sources the host opened for this init, by `mounts` index.
    var sourceFDs: [Int: Int32] = [:]
    var root: String { plan.rootfs }
    var spec: Spec { plan.spec }

    /// A `mounts` entry for /dev that makes a filesystem (not a bind) read-only: it is mounted
    /// writable, filled (devices, /dev/pts, the console), and made read-only last, as runc does;
    /// read-only at once, nothing could be made in it.
    var readOnlyDev: Bool { Self.readOnlyDev(spec.mounts ?? []) }

    static func readOnlyDev(_ mounts: [Spec.Mount]) -> Bool {
        guard let dev = mounts.last(where: { $0.destination == "/dev" }) else { return false }
        let options = MountOptions(dev.options ?? [])
        return !options.isBind && dev.type != "bind" && options.flags.contains(.readOnly)
    }

    /// Everything before pivot_root.
    func prepare() throws {
        if !hostMounts {
            // Nothing may propagate back to the host: everything becomes a slave of the host's
            // mounts first, whatever rootfsPropagation asks; that is applied inside, after pivot_root.
            try Sys.mount(source: nil, target: "/", fstype: nil, flags: [.slave, .recursive])
            // pivot_root needs the new root to be a mount point.
            try Sys.mount(
                source: root, target: root, fstype: nil, flags: [.bind, .recursive],
                hint: "root.path must be a directory the runtime can reach")
        }
        var devIsTmpfs = false
        for (index, mount) in (spec.mounts ?? []).enumerated() {
            var mount = mount
            if mount.destination == "/dev" && readOnlyDev {
                mount.options = (mount.options ?? []).filter { $0 != "ro" }
            }
            do {
                try perform(mount, sourceFD: sourceFDs[index] ?? -1)
            } catch let error as SystemCallError {
                throw InitError.call(field: "mounts[\(index)] (\(mount.type ?? "bind") on \(mount.destination))", error)
            }
            if mount.destination == "/dev" && !MountOptions(mount.options ?? []).isBind && mount.type != "bind" {
                devIsTmpfs = true
            }
        }
        if devIsTmpfs { try makeDevices() }
    }

    /// Into the container's root: pivot_root in its own mount namespace, chroot in the host's.
    func enterRoot() throws {
        if hostMounts {
            try Sys.chdir(root)
            try Sys.chroot(".", hint: "root.path must be a directory the runtime can reach")
            try Sys.chdir("/")
        } else {
            try pivot()
        }
    }

    /// /dev made read-only, after everything in it was made (see `readOnlyDev`).
    func lockDev() throws {
        guard readOnlyDev else { return }
        try remountKeeping("/dev", adding: [.remount, .readOnly])
    }

    func target(_ destination: String) throws -> String {
        try RootPath.secureJoin(root: root, path: destination)
    }

    /// `sourceFD`: the bind source as the host opened it (see OCIInitPlan.bindSources), or -1.
    func perform(_ mount: Spec.Mount, sourceFD: Int32 = -1) throws {
        let options = MountOptions(mount.options ?? [])
        let destination = try target(mount.destination)
        let type = mount.type ?? (options.isBind ? "bind" : "none")
        if type == "cgroup" {
            try mountCgroups(at: destination, readOnly: options.flags.contains(.readOnly))
            return
        }
        if options.isBind || type == "bind" {
            var source = mount.source ?? ""
            if !source.hasPrefix("/") { source = plan.bundle + "/" + source }
            var flags = options.flags
            flags.insert(.bind)
            var status = stat()
            if sourceFD >= 0
                ? fstat(sourceFD, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR : Sys.isDirectory(source)
            {
                try RootPath.makeDirectories(destination)
            } else {
                try RootPath.makeDirectories((destination as NSString).deletingLastPathComponent)
                if !Sys.exists(destination) { try Sys.touch(destination) }
            }
            if sourceFD >= 0 {
                // Opened by the host in this namespace: bound through the descriptor, so the
                // source's path need not be reachable from this user namespace.
                try Sys.mount(
                    source: "/proc/self/fd/\(sourceFD)", target: destination, fstype: nil,
                    flags: flags.intersection([.bind, .recursive]))
                close(sourceFD)
            } else {
                try Sys.mount(
                    source: source, target: destination, fstype: nil, flags: flags.intersection([.bind, .recursive]))
            }
            if let remount = options.remountFlags { try remountKeeping(destination, adding: remount) }
        } else {
            try RootPath.makeDirectories(destination)
            do {
                try Sys.mount(
                    source: mount.source, target: destination, fstype: type, flags: options.flags, data: options.data)
            } catch let error as SystemCallError where error.errno == EPERM && type == "sysfs" {
                // A user namespace that does not own the network namespace may not mount sysfs:
                // bind the host's, read-only, as runc does for rootless containers.
                try Sys.mount(source: "/sys", target: destination, fstype: nil, flags: [.bind, .recursive])
                try remountKeeping(destination, adding: [.remount, .bind, .readOnly, .noSUID, .noDev, .noExec])
            } catch let error as SystemCallError where error.errno == EPERM && type == "mqueue" && plan.inUserNamespace
            {
                try Sys.mount(source: "/dev/mqueue", target: destination, fstype: nil, flags: [.bind])
            }
        }
        if let propagation = options.propagation {
            try Sys.mount(source: nil, target: destination, fstype: nil, flags: propagation)
        }
        if options.recursiveReadOnly {
            try Sys.makeReadOnlyRecursively(
                destination,
                hintWhenUnsupported: "the rro option needs Linux 5.12 or later;"
                    + " use ro (the top mount only)")
        }
    }

    /// A bind remount must keep the flags already locked on the mount (nosuid, nodev… in a user
    /// namespace), so they are read back with statvfs and kept.
    func remountKeeping(_ path: String, adding flags: MountFlags) throws {
        var info = statvfs()
        var current: MountFlags = []
        if statvfs(path, &info) == 0 {
            let map: [(UInt, MountFlags)] = [
                (1, .readOnly), (2, .noSUID), (4, .noDev), (8, .noExec), (1024, .noATime),
                (2048, .noDirATime), (4096, .relATime)
            ]
            for (bit, flag) in map where info.f_flag & bit != 0 { current.insert(flag) }
        }
        try Sys.mount(source: nil, target: path, fstype: nil, flags: current.union(flags).union([.remount, .bind]))
    }

    /// runc's `cgroup` mount: a tmpfs with each of the container's hierarchies under it (v1), or
    /// the cgroup2 filesystem itself where everything is v2. With a cgroup namespace the
    /// filesystems are mounted afresh, rooted at the container's cgroup; without one, the
    /// container's own cgroup directories are bound there instead, as runc does, so the host's
    /// tree stays out of sight either way.
    func mountCgroups(at destination: String, readOnly: Bool) throws {
        try RootPath.makeDirectories(destination)
        let flags: MountFlags = readOnly ? [.readOnly, .noSUID, .noDev, .noExec] : [.noSUID, .noDev, .noExec]
        let v1 = plan.cgroupDirectories.filter { $0.version == 1 }
        let ownNamespace = spec.linux?.namespaces?.contains { $0.type == "cgroup" && $0.path == nil } ?? false
        func attach(_ dir: StateStore.Record.CgroupDirectory, at path: String, fstype: String, data: String?) throws {
            // A user namespace may not mount v1 cgroup filesystems: bind the directories there too.
            if ownNamespace && !plan.inUserNamespace {
                try Sys.mount(source: fstype, target: path, fstype: fstype, flags: flags, data: data)
            } else {
                try Sys.mount(source: dir.path, target: path, fstype: nil, flags: [.bind])
                try remountKeeping(path, adding: flags.union([.remount, .bind]))
            }
        }
        if v1.isEmpty {
            if let dir = plan.cgroupDirectories.first {
                try attach(dir, at: destination, fstype: "cgroup2", data: nil)
            } else if ownNamespace {
                try Sys.mount(source: "cgroup2", target: destination, fstype: "cgroup2", flags: flags)
            }
            return
        }
        try Sys.mount(
            source: "tmpfs", target: destination, fstype: "tmpfs", flags: [.noSUID, .noDev, .noExec], data: "mode=755")
        for dir in v1 {
            let name = dir.controllers.joined(separator: ",")
            // systemd's hierarchy is mounted by its name option, and shown as "systemd".
            let path = destination + "/" + name.replacingOccurrences(of: "name=", with: "")
            try RootPath.makeDirectories(path)
            try attach(dir, at: path, fstype: "cgroup", data: name)
        }
        if let dir = plan.cgroupDirectories.first(where: { $0.version == 2 }) {
            try RootPath.makeDirectories(destination + "/unified")
            try attach(dir, at: destination + "/unified", fstype: "cgroup2", data: nil)
        }
        if readOnly {
            try Sys.mount(
                source: nil, target: destination, fstype: nil, flags: [.remount, .readOnly, .noSUID, .noDev, .noExec],
                data: "mode=755")
        }
    }

    /// The devices every container gets on a fresh /dev (runtime-spec config-linux "Default
    /// Devices"), then linux.devices; as bind mounts of the host's in a user namespace.
    func makeDevices() throws {
        let dev = try target("/dev")
        var nodes: [(path: String, type: String, major: Int64, minor: Int64, mode: UInt32, uid: UInt32, gid: UInt32)] =
            [
                ("/dev/null", "c", 1, 3, 0o666, 0, 0), ("/dev/zero", "c", 1, 5, 0o666, 0, 0),
                ("/dev/full", "c", 1, 7, 0o666, 0, 0),
                ("/dev/random", "c", 1, 8, 0o666, 0, 0), ("/dev/urandom", "c", 1, 9, 0o666, 0, 0),
                ("/dev/tty", "c", 5, 0, 0o666, 0, 0)
            ]
        for device in spec.linux?.devices ?? [] {
            nodes.removeAll { $0.path == device.path }
            nodes.append(
                (
                    device.path, device.type, device.major ?? 0, device.minor ?? 0, device.fileMode ?? 0o666,
                    device.uid ?? 0, device.gid ?? 0
                ))
        }
        for node in nodes {
            let path = try target(node.path)
            try RootPath.makeDirectories((path as NSString).deletingLastPathComponent)
            if !plan.inUserNamespace {
                let kind: mode_t = node.type == "b" ? S_IFBLK : node.type == "p" ? S_IFIFO : S_IFCHR
                do {
                    try Sys.mknod(
                        path, type: kind, mode: mode_t(node.mode & 0o7777), major: UInt32(node.major),
                        minor: UInt32(node.minor), owner: (node.uid, node.gid), replacing: true)
                    continue
                } catch let error as SystemCallError where error.errno == EPERM {}
            }
            try Sys.touch(path, mode: 0o666)
            try Sys.mount(source: node.path, target: path, fstype: nil, flags: [.bind])
        }
        for (name, link) in [
            ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"), ("core", "/proc/kcore")
        ] {
            try Sys.symlink(target: link, at: dev + "/" + name)
        }
        if Sys.isDirectory(dev + "/pts") && !Sys.exists(dev + "/ptmx") {
            try Sys.symlink(target: "pts/ptmx", at: dev + "/ptmx")
        } else if Sys.isDirectory(dev + "/pts") {
            // An existing node would be the host's pty multiplexer: replace it with the link.
            try Sys.unlink(dev + "/ptmx")
            try Sys.symlink(target: "pts/ptmx", at: dev + "/ptmx")
        }
    }

    func pivot() throws {
        try Sys.chdir(root)
        try Sys.pivotRoot(newRoot: ".", putOld: ".", hint: "root.path must be a mount point not on a shared mount")
        try Sys.umount(".", detach: true)
        try Sys.chdir("/")
        if let wanted = spec.linux?.rootfsPropagation, let flags = MountOptions([wanted]).propagation {
            // Applied to the container's own tree: a slave made shared gets a peer group of its
            // own, and still receives nothing it could send back to the host.
            try Sys.mount(source: nil, target: "/", fstype: nil, flags: flags)
        }
    }

    /// After pivot_root and the sysctls: maskedPaths hidden, readonlyPaths and the root read-only.
    func finish() throws {
        try maskPaths()
        for path in spec.linux?.readonlyPaths ?? [] where Sys.exists(path) {
            try Sys.mount(source: path, target: path, fstype: nil, flags: [.bind, .recursive])
            try remountKeeping(path, adding: [.remount, .bind, .readOnly, .noSUID, .noDev, .noExec])
        }
        if spec.root?.readonly == true {
            try remountKeeping("/", adding: [.remount, .bind, .readOnly])
        }
    }

    /// maskedPaths: a file is covered with the container's /dev/null, a directory with an empty
    /// read-only tmpfs. Both ends are opened without following links and joined by descriptor,
    /// because both belong to the container: an image (or a sibling sharing the mount) whose
    /// /dev/null is a link to /proc/sys/kernel/core_pattern would otherwise get the host's
    /// core_pattern, writable, at /proc/keys, and with it host root on the next crash (runc's
    /// CVE-2025-31133; contlab did this before, see OCIMaskedPathTests).
    func maskPaths() throws {
        var devNull: Int32 = -1
        defer { if devNull >= 0 { close(devNull) } }
        for path in spec.linux?.maskedPaths ?? [] {
            let target = open(path, Sys.openPath | O_NOFOLLOW | O_CLOEXEC)
            if target < 0 {
                if errno == ENOENT { continue }
                throw SystemCallError("open(\"\(path)\", O_PATH|O_NOFOLLOW)", errno: errno)
            }
            defer { close(target) }
            var st = stat()
            guard fstat(target, &st) == 0 else { throw SystemCallError("fstat(\"\(path)\")", errno: errno) }
            switch st.st_mode & S_IFMT {
            case S_IFLNK:
                continue  // a link hides nothing itself, and following it would mask somewhere else
            case S_IFDIR:
                try Sys.readOnlyTmpfs(onto: target, path: path)
            default:
                if devNull < 0 { devNull = try openDevNull() }
                try Sys.bind(devNull, sourcePath: "/dev/null", onto: target, path: path)
            }
        }
    }

    /// The container's /dev/null, if it really is the null device.
    func openDevNull() throws -> Int32 {
        let fd = open("/dev/null", Sys.openPath | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw InitError.field(
                "maskedPaths",
                "the container has no /dev/null to cover files with (\(String(cString: strerror(errno)))): "
                    + "mount a tmpfs on /dev, where the runtime makes it")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFCHR, st.st_rdev == DeviceNumber.make(1, 3) else {
            close(fd)
            throw InitError.field(
                "maskedPaths",
                "the container's /dev/null is not the null device (character device 1:3) but a link "
                    + "or another file, and covering a masked file with it would show whatever it names: mount a "
                    + "tmpfs on /dev "
                    + "(the runtime then makes /dev/null itself), or remove /dev/null from the image")
        }
        return fd
    }
}
