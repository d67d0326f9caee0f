import ContlabCore
import Foundation
import OCI

/// A stage-4 container for running a student's code, built to hold against a student who tries
/// to get out: its own user namespace (root inside is an unprivileged id range on the host, so
/// no capability it holds reaches the host's kernel settings, files or processes), its own PID,
/// mount, UTS, IPC, network and cgroup namespaces, a seccomp filter, a read-only root, memory
/// and pids limits, a size-limited tmpfs as the only writable place, and a time limit; run
/// through this contlab's runc-compatible runtime and deleted afterwards, whatever happened.
struct Sandbox {
    /// A host directory bound into the container. Give it a destination under /tmp: the tmpfs
    /// there is mounted first, so the mount point is made in it, not in the shared busybox tree
    /// every container starts from. Its owner becomes the container's root (`handOver`).
    struct Bind {
        var source: String
        var destination: String
        var readOnly = true
        /// A tree the machine shares (the host's /usr, the busybox tree every container starts
        /// from, this contlab): bound read-only as it is and never handed over, since handing
        /// over changes its owner on the host.
        var shared = false
    }

    var rootfs: String
    var readOnlyRoot = true
    /// Run on a copy of `rootfs` the container's user owns. Root of a user namespace may remount
    /// its root read-write (the mount is its namespace's own), and the shared trees have
    /// world-writable folders (/tmp, /var/tmp) under the tmpfs: the copy keeps those writes
    /// away from every other container. False for a tree that is the grading's own already.
    var privateRoot = true
    var args: [String]
    var env: [String] = []
    var binds: [Bind] = []
    var hostname = "grader"
    var memoryBytes: Int64 = 256 << 20
    var pids: Int64 = 256
    /// `linux.cgroupsPath`: the container's cgroup at this path below each hierarchy's root,
    /// such as a grading cgroup's `runner` (nil: contlab-runc's own place for it).
    var cgroupsPath: String?
    /// /sys/fs/cgroup mounted read-write, for work whose subject is making cgroups (the build
    /// track's B.3): the container's own cgroup is all it shows, and writes there stay within
    /// the limits of the grading cgroup above it, which the container cannot reach. Its
    /// directories must be handed over to be writable.
    var writableCgroups = false
    /// A tmpfs at /tmp of this size, the container's only writable place; nil for none.
    var tmpfsSize: String? = "64m"
    /// This contlab bound read-only at /usr/local/bin/contlab, for `contlab inspect` inside.
    var bindContlab = true
    /// Where it is bound: a root with no /usr/local/bin of its own takes it under /tmp.
    var contlabDestination = "/usr/local/bin/contlab"
    /// For work whose subject is making namespaces and mounts (stages 1 and 2 inside, unshare
    /// scripts): the capabilities that takes, all of them confined to the container's user
    /// namespace, and a /proc without masks (the kernel refuses a new procfs in a user namespace
    /// while parts of the one it can see are covered).
    var nested = false
    /// With `nested`, for work whose subject is the network (stage 6): making interfaces and
    /// addresses and sending pings, in network namespaces the container's user namespace owns.
    var networking = false
    /// The first host uid and gid of the 65,536 the container's user namespace maps from 0: a
    /// range no account on the host uses, picked at random so that two gradings at once do not
    /// share one.
    var idBase: UInt32 = Sandbox.privateIDBase()
    var timeout: Int

    /// As root, 65,536 ids; a grader without root may map only itself.
    static var idCount: UInt32 { geteuid() == 0 ? 65_536 : 1 }

    /// 0x4000_0000 and up: far above the ranges useradd and /etc/subuid hand out. Without root,
    /// the grader's own uid (its gid is mapped alike): the container's root is the student.
    static func privateIDBase() -> UInt32 {
        geteuid() == 0 ? 0x4000_0000 + UInt32.random(in: 0..<8_192) * 65_536 : geteuid()
    }

    /// What a nested container may use: enough to chroot, unshare, mount and change ids inside.
    static let nestedCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_SETFCAP", "CAP_SYS_CHROOT", "CAP_SYS_ADMIN",
        "CAP_SYS_PTRACE", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_NET_BIND_SERVICE"
    ]

    /// System calls no grading needs and that reach kernel state outside the namespaces (keys,
    /// modules, the clock, swap, eBPF, perf): refused with EPERM, as Docker's default profile does.
    static let refusedSystemCalls = [
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "delete_module", "finit_module",
        "init_module", "ioperm", "iopl", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
        "open_by_handle_at", "perf_event_open", "quotactl", "request_key", "settimeofday", "swapoff",
        "swapon", "syslog", "uselib", "userfaultfd"
    ]

    /// Capabilities in this process's bounding set (this grader may itself lack some, such as
    /// CAP_SYS_RESOURCE; asking for one it lacks would fail the container).
    static func boundingCapabilities(status: String = Sys.readText("/proc/self/status") ?? "") -> [String] {
        let line = status.split(separator: "\n").first { $0.hasPrefix("CapBnd:") }
        guard let hex = line?.split(separator: "\t").last,
            let mask = UInt64(hex.trimmingCharacters(in: .whitespaces), radix: 16)
        else {
            return DefaultSpec.capabilities
        }
        return CapabilityNames.all.enumerated().filter { mask & (1 << UInt64($0.offset)) != 0 }.map(\.element)
    }

    /// The user namespace and its mappings, for this spec or a student's (4.x).
    static func confine(_ spec: inout Spec, idBase: UInt32) {
        var linux = spec.linux ?? Spec.Linux(namespaces: [])
        if geteuid() != 0 {
            // Only the grader's own ids exist in its user namespace: no devices cgroup, and no
            // gid= for a group that is not mapped (devpts' tty group), as runc's rootless spec.
            linux.resources?.devices = nil
            spec.mounts = spec.mounts?.map { mount in
                var mount = mount
                mount.options = mount.options?.filter { !$0.hasPrefix("gid=") && !$0.hasPrefix("uid=") }
                return mount
            }
        }
        var namespaces = (linux.namespaces ?? []).filter { $0.type != "user" }
        namespaces.append(Spec.Namespace(type: "user"))
        linux.namespaces = namespaces
        linux.uidMappings = [Spec.IDMapping(containerID: 0, hostID: idBase, size: idCount)]
        linux.gidMappings = [Spec.IDMapping(containerID: 0, hostID: geteuid() == 0 ? idBase : getegid(), size: idCount)]
        linux.seccomp = Spec.Seccomp(
            defaultAction: "SCMP_ACT_ALLOW",
            syscalls: [
                Spec.Syscall(names: refusedSystemCalls, action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EPERM))
            ])
        spec.linux = linux
    }

    func spec(contlabCopy: String? = nil) -> Spec {
        var spec = DefaultSpec.make(rootless: false)
        spec.root = Spec.Root(path: rootfs, readonly: readOnlyRoot)
        spec.hostname = hostname
        spec.process?.terminal = false
        spec.process?.args = args
        spec.process?.env =
            ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "SWIFT_ROOT=/"] + env
        if nested {
            let held = Set(Self.boundingCapabilities())
            let wanted = Self.nestedCapabilities + (networking ? ["CAP_NET_ADMIN", "CAP_NET_RAW"] : [])
            let caps = wanted.filter { held.contains($0) }
            spec.process?.capabilities = Spec.Capabilities(
                bounding: caps, effective: caps, inheritable: nil, permitted: caps, ambient: nil)
            spec.process?.noNewPrivileges = false
            spec.linux?.maskedPaths = []
            spec.linux?.readonlyPaths = []
        }
        if let cgroupsPath { spec.linux?.cgroupsPath = cgroupsPath }
        if writableCgroups {
            spec.mounts = spec.mounts?.map { mount in
                var mount = mount
                if mount.type == "cgroup" { mount.options = mount.options?.filter { $0 != "ro" } }
                return mount
            }
        }
        if let tmpfsSize {
            spec.mounts?.append(
                Spec.Mount(
                    destination: "/tmp", type: "tmpfs", source: "tmpfs",
                    options: ["nosuid", "nodev", "mode=1777", "size=\(tmpfsSize)"]))
        }
        if bindContlab {
            spec.mounts?.append(
                Spec.Mount(
                    destination: contlabDestination, type: "bind", source: contlabCopy ?? ChildProcess.contlab,
                    options: ["bind", "ro"]))
        }
        for bind in binds {
            spec.mounts?.append(
                Spec.Mount(
                    destination: bind.destination, type: "bind", source: bind.source,
                    options: ["bind", "nosuid", "nodev"] + (bind.readOnly ? ["ro"] : [])))
        }
        // Without root there is no devices cgroup to deny devices in; the user namespace makes
        // none and reaches only what the user may open anyway.
        spec.linux?.resources = Spec.Resources(
            memory: Spec.Memory(limit: memoryBytes, swap: memoryBytes), pids: Spec.Pids(limit: pids),
            devices: geteuid() == 0 ? [Spec.DeviceRule(allow: false, access: "rwm")] : nil)
        Self.confine(&spec, idBase: idBase)
        return spec
    }

    /// Run it and collect what it printed; the container and its state are gone afterwards.
    func run() throws -> ChildResult {
        var sandbox = self
        var copy: TemporaryDirectory?
        defer { copy?.remove() }
        // Without root the container's root is the student, who may write nothing in the
        // shared tree that they could not write from their shell: no copy is needed.
        if privateRoot && geteuid() == 0 {
            let root = try TemporaryDirectory(prefix: "contlab-grade-root")
            copy = root
            sandbox.rootfs = root.path + "/rootfs"
            let made = try ChildProcess.run(["/bin/cp", "-a", rootfs, sandbox.rootfs], timeout: 120)
            guard made.exitCode == 0 else {
                throw GradingError.noRootfs("cannot copy \(rootfs): \(String(decoding: made.stderr, as: UTF8.self))")
            }
            try Self.handOver(root.path, to: idBase)
        }
        return try sandbox.runAsItIs()
    }

    private func runAsItIs() throws -> ChildResult {
        for bind in binds {
            guard !bind.shared else {
                guard bind.readOnly else {
                    throw GradingError.temporary("a shared tree (\(bind.source)) is bound read-only only")
                }
                continue
            }
            try Self.handOver(bind.source, to: idBase)
            // The grading's temporary folder it sits in (0700): entered on the way to it.
            let parent = (bind.source as NSString).deletingLastPathComponent
            if TemporaryDirectory.isOne(parent) { try Self.handOver(parent, to: idBase, recursive: false) }
        }
        return try Self.run(idBase: idBase, timeout: timeout) { contlab in spec(contlabCopy: contlab) }
    }

    /// Run a spec (a student's config.json, amended) under `runtime`: this contlab's `runc` or
    /// another runc-compatible program. `makeSpec` gets the path of this contlab's copy that the
    /// container's user can reach.
    static func run(idBase: UInt32, timeout: Int, runtime: [String]? = nil, _ makeSpec: (String) throws -> Spec) throws
        -> ChildResult
    {
        let work = try TemporaryDirectory(prefix: "contlab-grade-bundle")
        defer { work.remove() }
        let bundle = work.path + "/bundle"
        let state = work.path + "/state"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        // The checkout may sit in a 0700 home folder the container's root cannot enter: it gets
        // a copy (a hard link where the file system allows) in a folder it owns.
        let contlab = work.path + "/contlab"
        if link(ChildProcess.contlab, contlab) != 0 {
            let copy = try ChildProcess.run(["/bin/cp", ChildProcess.contlab, contlab], timeout: 60)
            guard copy.exitCode == 0 else {
                throw GradingError.temporary("cannot copy \(ChildProcess.contlab): \(copy.status)")
            }
        }
        try handOver(work.path, to: idBase, recursive: false)
        try DefaultSpec.encode(try makeSpec(contlab)).write(to: URL(fileURLWithPath: bundle + "/config.json"))
        let id = "contlab-grade-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let command = runtime ?? [ChildProcess.contlab, "runc"]
        defer {
            _ = try? ChildProcess.run(
                command + ["--root", state, "delete", "--force", id], timeout: 20, cleanUp: true)
        }
        let result = try ChildProcess.run(command + ["--root", state, "run", "--bundle", bundle, id], timeout: timeout)
        if getenv("CONTLAB_GRADE_DEBUG") != nil {
            Sys.warn(
                "contlab: grading container \(id) \(result.status); its stderr:\n"
                    + String(decoding: result.stderr, as: UTF8.self))
        }
        return result
    }

    /// Give `path` (a grading's own copy) to the container's root: in its user namespace, files
    /// of the host's root are nobody's, and it could neither enter a 0700 folder nor write.
    static func handOver(_ path: String, to idBase: UInt32, recursive: Bool = true) throws {
        // chown -R of anything but the grading's own would give a host tree to an unknown id
        // (and clear its setuid bits and file capabilities): only its temporary folders and
        // the cgroups it made are ever handed over.
        guard mayHandOver(path) else {
            throw GradingError.temporary(
                "refusing to hand \(path) to the grading container's user: it is not the grading's own")
        }
        // Without root, everything the grading made is its user's already, which is the container's root.
        guard geteuid() == 0 else { return }
        let result = try ChildProcess.run(
            ["/bin/chown", "-h"] + (recursive ? ["-R"] : []) + ["\(idBase):\(idBase)", path], timeout: 60)
        guard result.exitCode == 0 else {
            throw GradingError.temporary(
                "cannot hand \(path) to the grading container's user: \(String(decoding: result.stderr, as: UTF8.self))"
            )
        }
    }
}

extension Sandbox {
    /// What `handOver` may change the owner of: a grading's temporary directory or something in
    /// one, or a cgroup the grading made. Pure.
    static func mayHandOver(_ path: String, temporary: String = NSTemporaryDirectory()) -> Bool {
        let standard = (path as NSString).standardizingPath
        let components = (standard as NSString).pathComponents
        guard !components.contains("..") else { return false }
        let base = (temporary as NSString).standardizingPath
        if standard.hasPrefix(base + "/") {
            let first = String(standard.dropFirst(base.count + 1)).split(separator: "/").first ?? ""
            return first.hasPrefix("contlab-grade-")
        }
        return standard.hasPrefix("/sys/fs/cgroup/") && components.contains { $0.hasPrefix("contlab-grade-") }
    }
}

/// A directory under $TMPDIR removed, with everything in it, when the grading is done.
struct TemporaryDirectory {
    let path: String

    init(prefix: String) throws {
        var template = Array((NSTemporaryDirectory() + prefix + "-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw GradingError.temporary(String(cString: strerror(errno)))
        }
        path = String(cString: made)
    }

    /// Whether `path` is a grading's temporary directory (not, say, a cgroup's parent).
    static func isOne(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        return (path as NSString).deletingLastPathComponent == (NSTemporaryDirectory() as NSString).standardizingPath
            && name.hasPrefix("contlab-grade-")
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

public enum GradingError: Error, CustomStringConvertible {
    case temporary(String)
    case noRootfs(String)
    case needsRoot

    public var description: String {
        switch self {
        case .temporary(let reason):
            return "cannot make a temporary directory for grading: \(reason); set TMPDIR to a writable directory"
        case .noRootfs(let reason): return "grading runs student work in a busybox container: \(reason)"
        case .needsRoot:
            return
                "grading runs student work in containers with cgroup limits (every exercise of stages 1 to 5 "
                + "and every level of the build track): run it as root (sudo contlab verify), or ask the machine's "
                + "admin for a cgroup subtree of your own (sudo contlab lab setup --users "
                + "\(UserDatabase.currentUserName())); only the history set (H.1…) is graded without either"
        }
    }
}
