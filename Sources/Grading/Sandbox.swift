import ContlabCore
import Foundation
import OCI

/// A stage-4 container for running a student's code: its own PID, mount, UTS, IPC, network and
/// cgroup namespaces (no network), memory and pids limits, a size-limited tmpfs as the only
/// writable place, a time limit; run through this contlab's runc-compatible runtime and
/// deleted afterwards, whatever happened.
struct Sandbox {
    /// A host directory bound into the container. Give it a destination under /tmp: the tmpfs
    /// there is mounted first, so the mount point is made in it, not in the shared busybox tree
    /// every container starts from.
    struct Bind {
        var source: String
        var destination: String
        var readOnly = true
    }

    var rootfs: String
    var readOnlyRoot = true
    var args: [String]
    var env: [String] = []
    var binds: [Bind] = []
    var hostname = "grader"
    var memoryBytes: Int64 = 256 << 20
    var pids: Int64 = 256
    /// A tmpfs at /tmp of this size, the container's only writable place; nil for none.
    var tmpfsSize: String? = "64m"
    /// This contlab bound read-only at /usr/local/bin/contlab, for `contlab inspect` inside.
    var bindContlab = true
    /// Every capability this grader holds, for containers that run containers (stage 1 and 2
    /// inside); otherwise runc's default three.
    var allCapabilities = false
    var timeout: Int

    /// Capabilities in this process's bounding set (this grader may itself lack some, such as
    /// CAP_SYS_RESOURCE; asking for one it lacks would fail the container).
    static func boundingCapabilities(status: String = Sys.readText("/proc/self/status") ?? "") -> [String] {
        let line = status.split(separator: "\n").first { $0.hasPrefix("CapBnd:") }
        guard let hex = line?.split(separator: "\t").last, let mask = UInt64(hex.trimmingCharacters(in: .whitespaces), radix: 16) else {
            return DefaultSpec.capabilities
        }
        return CapabilityNames.all.enumerated().filter { mask & (1 << UInt64($0.offset)) != 0 }.map(\.element)
    }

    func spec(bundleRoot: String) -> Spec {
        var spec = DefaultSpec.make(rootless: false)
        spec.root = Spec.Root(path: rootfs, readonly: readOnlyRoot)
        spec.hostname = hostname
        spec.process?.terminal = false
        spec.process?.args = args
        spec.process?.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "SWIFT_ROOT=/"] + env
        if allCapabilities {
            let all = Self.boundingCapabilities()
            spec.process?.capabilities = Spec.Capabilities(bounding: all, effective: all, inheritable: nil, permitted: all, ambient: nil)
            spec.process?.noNewPrivileges = false
            // A nested runtime mounts a fresh /proc; the kernel refuses that while parts of the
            // outer /proc are masked by mounts over them.
            spec.linux?.maskedPaths = []
            spec.linux?.readonlyPaths = []
        }
        if let tmpfsSize {
            spec.mounts?.append(Spec.Mount(destination: "/tmp", type: "tmpfs", source: "tmpfs",
                                           options: ["nosuid", "nodev", "mode=1777", "size=\(tmpfsSize)"]))
        }
        if bindContlab {
            spec.mounts?.append(Spec.Mount(destination: "/usr/local/bin/contlab", type: "bind", source: ChildProcess.contlab, options: ["bind", "ro"]))
        }
        for bind in binds {
            spec.mounts?.append(Spec.Mount(destination: bind.destination, type: "bind", source: bind.source,
                                           options: ["bind"] + (bind.readOnly ? ["ro"] : [])))
        }
        // OCI's resource types have no public initialisers; they are made from their JSON.
        let limits = "{\"memory\": {\"limit\": \(memoryBytes), \"swap\": \(memoryBytes)}, \"pids\": {\"limit\": \(pids)}, \"devices\": [{\"allow\": false, \"access\": \"rwm\"}]}"
        spec.linux?.resources = try? JSONDecoder().decode(Spec.Resources.self, from: Data(limits.utf8))
        return spec
    }

    /// Run it and collect what it printed; the container and its state are gone afterwards.
    func run() throws -> ChildResult {
        try Self.run(spec: spec(bundleRoot: ""), timeout: timeout)
    }

    /// Run a ready spec (a student's config.json, amended) under `runtime`: this contlab's
    /// `runc` or another runc-compatible program.
    static func run(spec: Spec, timeout: Int, runtime: [String]? = nil) throws -> ChildResult {
        let work = try TemporaryDirectory(prefix: "contlab-grade-bundle")
        defer { work.remove() }
        let bundle = work.path + "/bundle"
        let state = work.path + "/state"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        try DefaultSpec.encode(spec).write(to: URL(fileURLWithPath: bundle + "/config.json"))
        let id = "contlab-grade-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let command = runtime ?? [ChildProcess.contlab, "runc"]
        defer {
            _ = try? ChildProcess.run(command + ["--root", state, "delete", "--force", id], timeout: 20)
        }
        return try ChildProcess.run(command + ["--root", state, "run", "--bundle", bundle, id], timeout: timeout)
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
        case .temporary(let reason): return "cannot make a temporary directory for grading: \(reason); set TMPDIR to a writable directory"
        case .noRootfs(let reason): return "grading runs student work in a busybox container: \(reason)"
        case .needsRoot: return "grading stages 1 to 4 runs student work in containers and cgroups: run it as root (sudo contlab verify); the history set (H.1…) grades without"
        }
    }
}
