import ContlabCore
import Foundation

/// One container's cgroup: a uniquely named directory under `contlab/` in each hierarchy that
/// holds a controller it needs, made before the container starts and removed after it ends.
public final class ContainerCgroup {
    public struct Directory: Equatable, Sendable {
        public var path: String
        public var version: Int
        public var controllers: [String]
    }

    public let name: String
    public let limits: CgroupLimits
    public let hierarchy: CgroupHierarchy
    public private(set) var directories: [Directory] = []
    /// Every file written, with its value, for the report and the walk-through.
    public private(set) var writes: [String] = []
    /// Things the report should say plainly (swap not limited, and why).
    public private(set) var notes: [String] = []

    static let parent = "contlab"

    /// The controllers every stage-3 container gets: memory and pids for their evidence even when
    /// not limited, cpu only when asked.
    public static func controllers(for limits: CgroupLimits) -> [String] {
        ["memory", "pids"] + (limits.cpus != nil ? ["cpu"] : [])
    }

    /// A name no other run uses, carrying the owner's pid so stale ones can be recognised.
    public static func uniqueName() -> String {
        "run-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Make the directories and write the limits. On any failure, what was made is removed.
    public static func create(limits: CgroupLimits, hierarchy: CgroupHierarchy = .current(),
                              name: String = uniqueName()) throws -> ContainerCgroup {
        let cgroup = ContainerCgroup(name: name, limits: limits, hierarchy: hierarchy)
        do {
            try cgroup.makeDirectories()
            try cgroup.applyLimits()
        } catch {
            cgroup.destroy()
            throw error
        }
        return cgroup
    }

    init(name: String, limits: CgroupLimits, hierarchy: CgroupHierarchy) {
        self.name = name
        self.limits = limits
        self.hierarchy = hierarchy
    }

    func makeDirectories() throws {
        var byMount: [String: Directory] = [:]
        var order: [String] = []
        for controller in Self.controllers(for: limits) {
            guard let placement = hierarchy.placement(of: controller) else {
                throw CgroupError.noController(controller, mode: hierarchy.mode)
            }
            let path = placement.mountPoint + "/" + Self.parent + "/" + name
            if byMount[path] == nil {
                byMount[path] = Directory(path: path, version: placement.version, controllers: [])
                order.append(path)
            }
            byMount[path]!.controllers.append(controller)
        }
        for path in order {
            let directory = byMount[path]!
            let parentDir = (path as NSString).deletingLastPathComponent
            let mountPoint = (parentDir as NSString).deletingLastPathComponent
            try makeDirectory(parentDir)
            if directory.version == 2 {
                // v2 hands a controller to children only when each ancestor's subtree_control
                // enables it, and the parent must hold no processes itself.
                let enable = directory.controllers.map { "+" + $0 }.joined(separator: " ")
                try write(mountPoint + "/cgroup.subtree_control", enable)
                try write(parentDir + "/cgroup.subtree_control", enable)
            }
            try makeDirectory(path)
            directories.append(directory)
        }
    }

    func makeDirectory(_ path: String) throws {
        CallRecord.shared.note("mkdir(\"\(path)\", 0755)")
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw CgroupError.create(path, errno: errno)
        }
    }

    func write(_ path: String, _ value: String) throws {
        writes.append("\(path) = \(value)")
        do {
            try Sys.writeFile(path, value)
        } catch let error as SystemCallError {
            throw CgroupError.write(path, value: value, errno: error.errno)
        }
    }

    func backend(_ version: Int) -> CgroupBackend { version == 1 ? CgroupV1() : CgroupV2() }

    func directory(for controller: String) -> Directory? {
        directories.first { $0.controllers.contains(controller) }
    }

    func applyLimits() throws {
        var planned: [(Directory, LimitWrite)] = []
        if let bytes = limits.memoryBytes, let dir = directory(for: "memory") {
            planned += backend(dir.version).memoryWrites(bytes).map { (dir, $0) }
        }
        if let pids = limits.pids, let dir = directory(for: "pids") {
            planned += backend(dir.version).pidsWrites(pids).map { (dir, $0) }
        }
        if let quota = limits.cpuQuota, let dir = directory(for: "cpu") {
            planned += backend(dir.version).cpuWrites(quota: quota, period: CgroupLimits.cpuPeriod).map { (dir, $0) }
        }
        for (dir, item) in planned {
            let path = dir.path + "/" + item.file
            if item.optional && !Sys.exists(path) {
                let swapOn = (Sys.readText("/proc/swaps") ?? "").split(separator: "\n").count > 1
                notes.append("\(item.file) is missing (\(item.why)): " + (swapOn
                    ? "this kernel does not account swap, so the container may use swap beyond the limit; boot with swapaccount=1"
                    : "no matter here, this host has no swap"))
                continue
            }
            try write(path, item.value)
        }
    }

    /// Put `pid` (and the children it will have) into every directory.
    public func add(pid: pid_t) throws {
        for dir in directories { try write(dir.path + "/cgroup.procs", "\(pid)") }
    }

    /// The kernel's counters for this cgroup.
    public func stats() -> CgroupStats {
        var total = CgroupStats()
        if let dir = directory(for: "memory") {
            let s = backend(dir.version).stats { Sys.readText(dir.path + "/" + $0) }
            total.memoryPeak = s.memoryPeak
            total.memoryLimitHits = s.memoryLimitHits
            total.oomKills = s.oomKills
        }
        if let dir = directory(for: "pids") {
            total.pidsLimitHits = backend(dir.version).stats { Sys.readText(dir.path + "/" + $0) }.pidsLimitHits
        }
        return total
    }

    /// Where each controller was placed, for the report: `memory: v1 /sys/fs/cgroup/memory/contlab/run-…`.
    public var placements: [String] {
        directories.flatMap { dir in dir.controllers.map { "\($0): v\(dir.version) \(dir.path)" } }
    }

    /// Remove the directories, killing anything still in them first. Safe to call twice.
    public func destroy() {
        for dir in directories.reversed() {
            Self.removeCgroup(dir.path, version: dir.version)
        }
        directories.removeAll()
    }

    /// Empty a cgroup (v2's cgroup.kill where the kernel has it, else SIGKILL to each member) and
    /// rmdir it, retrying while the kernel finishes tearing the processes down.
    static func removeCgroup(_ path: String, version: Int) {
        guard Sys.isDirectory(path) else { return }
        for attempt in 0..<200 {
            let members = (Sys.readText(path + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { pid_t($0) }
            if !members.isEmpty {
                if version == 2 && Sys.exists(path + "/cgroup.kill") {
                    try? Sys.writeFile(path + "/cgroup.kill", "1", record: false)
                } else {
                    for pid in members { kill(pid, SIGKILL) }
                }
            }
            if rmdir(path) == 0 || errno == ENOENT { return }
            usleep(attempt < 20 ? 1_000 : 10_000)
        }
        Sys.warn("contlab: could not remove the cgroup \(path) (\(String(cString: strerror(errno)))); remove it with rmdir once its processes are gone")
    }

    /// Remove cgroups left by contlab processes that no longer exist (a contlab killed with
    /// SIGKILL cannot clean up after itself).
    public static func removeStale(hierarchy: CgroupHierarchy = .current()) {
        var parents = Set(hierarchy.v1.values)
        if let v2 = hierarchy.v2 { parents.insert(v2) }
        for mount in parents {
            let dir = mount + "/" + parent
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where entry.hasPrefix("run-") {
                let owner = entry.split(separator: "-").dropFirst().first.flatMap { pid_t($0) }
                if let owner, kill(owner, 0) != 0 && errno == ESRCH {
                    removeCgroup(dir + "/" + entry, version: mount == hierarchy.v2 ? 2 : 1)
                }
            }
        }
    }
}

public enum CgroupError: Error, CustomStringConvertible, Equatable {
    case noController(String, mode: String)
    case create(String, errno: Int32)
    case write(String, value: String, errno: Int32)

    public var description: String {
        switch self {
        case .noController(let controller, let mode):
            return "this host has no \(controller) cgroup controller (cgroups: \(mode)); on v2 it must be listed in /sys/fs/cgroup/cgroup.controllers, on v1 mounted under /sys/fs/cgroup"
        case .create(let path, let errno):
            let base = "cannot create the cgroup \(path): \(String(cString: strerror(errno))) (\(Errno.name(errno)))"
            if errno == EACCES || errno == EPERM || errno == EROFS {
                return base + " — creating cgroups needs root, or a cgroup subtree delegated to you (systemd-run --user -p Delegate=yes)"
            }
            return base
        case .write(let path, let value, let errno):
            let base = "cannot write \(value) to \(path): \(String(cString: strerror(errno))) (\(Errno.name(errno)))"
            if errno == EINVAL || errno == EBUSY {
                return base + " — the kernel refused this value; a memory limit below what is in use, or below the kernel's minimum, is refused"
            }
            return base
        }
    }
}
