import ContlabCore
import Foundation

/// One container's cgroup: a uniquely named directory under `contlab/` in each hierarchy that
/// holds a controller it needs, made before the container starts and removed after it ends.
public final class ContainerCgroup {
    public struct Directory: Equatable, Sendable {
        public var path: String
        public var version: Int
        public var controllers: [String]

        public init(path: String, version: Int, controllers: [String]) {
            self.path = path
            self.version = version
            self.controllers = controllers
        }
    }

    /// The cgroup's path below each hierarchy's root, such as `contlab/run-2081-d827d099`.
    public let relativePath: String
    public let limits: CgroupLimits
    public let hierarchy: CgroupHierarchy
    public private(set) var directories: [Directory] = []
    /// Directories that already held processes when this cgroup was made (with `sharing`).
    public private(set) var busyDirectories: [String] = []
    /// Every file written, with its value, for the report and the walk-through.
    public private(set) var writes: [String] = []
    /// Things the report should say plainly (swap not limited, and why).
    public private(set) var notes: [String] = []
    /// The same notes in Chinese, for the drawing in stage 3's Chinese lesson.
    public private(set) var notesZh: [String] = []

    static let parent = "contlab"

    public var name: String { (relativePath as NSString).lastPathComponent }

    /// Where this user's containers' cgroups go: `contlab` for root; for another user the
    /// subtree `contlab lab setup` gave them, when it did (else `contlab`, which then fails with
    /// the message that says how to get one).
    public static func basePath(hierarchy: CgroupHierarchy, uid: uid_t = geteuid(), gid: gid_t = getegid()) -> String {
        guard uid != 0 else { return parent }
        let delegation = UserDelegation(uid: uid, gid: gid)
        return delegation.isPrepared(in: hierarchy) ? delegation.relativePath : parent
    }

    /// The controllers every stage-3 container gets: memory and pids for their evidence even when
    /// not limited, cpu only when asked.
    public static func controllers(for limits: CgroupLimits) -> [String] {
        ["memory", "pids"] + (limits.cpus != nil ? ["cpu"] : [])
    }

    /// A name no other run uses, carrying the owner's pid so stale ones can be recognised.
    public static func uniqueName() -> String {
        "run-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Stage 3: make `contlab/<name>` and write `limits`. On any failure, what was made is removed.
    public static func create(
        limits: CgroupLimits, hierarchy: CgroupHierarchy = .current(),
        name: String = uniqueName()
    ) throws -> ContainerCgroup {
        let cgroup = ContainerCgroup(
            relativePath: basePath(hierarchy: hierarchy) + "/" + name, limits: limits, hierarchy: hierarchy)
        do {
            try cgroup.makeDirectories(required: controllers(for: limits), optional: [])
            try cgroup.applyLimits()
        } catch {
            cgroup.destroy()
            throw error
        }
        return cgroup
    }

    /// A cgroup at `relativePath` with the `required` controllers (an error when missing) and the
    /// `optional` ones the host has, for runtimes that write their own settings (stage 4).
    /// `sharing`: a directory that exists with processes in it is joined (and listed in
    /// `busyDirectories`) rather than refused, as runc 1.1 does with a warning.
    public static func create(
        relativePath: String, required: [String], optional: [String],
        hierarchy: CgroupHierarchy = .current(), sharing: Bool = false
    ) throws -> ContainerCgroup {
        let trimmed = relativePath.split(separator: "/").joined(separator: "/")
        guard !trimmed.isEmpty, !trimmed.split(separator: "/").contains("..") else {
            throw CgroupError.path(relativePath)
        }
        let cgroup = ContainerCgroup(relativePath: trimmed, limits: CgroupLimits(), hierarchy: hierarchy)
        do {
            try cgroup.makeDirectories(required: required, optional: optional, sharing: sharing)
        } catch {
            cgroup.destroy()
            throw error
        }
        return cgroup
    }

    /// Reattach to directories made earlier (a runtime's later command: kill, delete).
    public init(relativePath: String, directories: [Directory], hierarchy: CgroupHierarchy) {
        self.relativePath = relativePath
        self.directories = directories
        self.hierarchy = hierarchy
        self.limits = CgroupLimits()
    }

    init(relativePath: String, limits: CgroupLimits, hierarchy: CgroupHierarchy) {
        self.relativePath = relativePath
        self.limits = limits
        self.hierarchy = hierarchy
    }

    func makeDirectories(required: [String], optional: [String], sharing: Bool = false) throws {
        var byMount: [String: Directory] = [:]
        var order: [String] = []
        for controller in required + optional {
            guard let placement = hierarchy.placement(of: controller) else {
                if required.contains(controller) { throw CgroupError.noController(controller, mode: hierarchy.mode) }
                continue
            }
            let path = placement.mountPoint + "/" + relativePath
            if byMount[path] == nil {
                byMount[path] = Directory(path: path, version: placement.version, controllers: [])
                order.append(path)
            }
            byMount[path]!.controllers.append(controller)
        }
        var skipped = false
        for path in order {
            let directory = byMount[path]!
            let mountPoint = String(path.dropLast(relativePath.count + 1))
            var current = mountPoint
            let components = relativePath.split(separator: "/").map(String.init)
            // Another run may remove contlab's shared parent just as we make our directory under
            // it (see destroy): start the chain again when that happens.
            for attempt in 1...3 {
                current = mountPoint
                do {
                    for (i, component) in components.enumerated() {
                        if directory.version == 2 {
                            // v2 hands a controller to children only when each ancestor's
                            // subtree_control enables it, and a parent must hold no processes itself.
                            // devices and freezer are built into v2 (BPF, cgroup.freeze): nothing to enable.
                            let enable = directory.controllers.filter { !CgroupHierarchy.builtIntoV2.contains($0) }
                                .map { "+" + $0 }.joined(separator: " ")
                            if !enable.isEmpty { try write(current + "/cgroup.subtree_control", enable) }
                        }
                        current += "/" + component
                        let last = i == components.count - 1
                        if try !makeDirectory(current, mustBeNew: last && !sharing), last {
                            busyDirectories.append(current)
                        }
                        if directory.version == 1 && directory.controllers.contains("cpuset") {
                            try inheritCpuset(current)
                        }
                    }
                    break
                } catch CgroupError.create(_, let errno) where errno == ENOENT && attempt < 3 {
                    continue
                } catch CgroupError.create(_, let errno)
                    where [EACCES, EPERM, EROFS].contains(errno)
                    && directory.controllers.allSatisfy({ !required.contains($0) })
                {
                    // Optional controllers this user may not use (one without root holds only
                    // the hierarchies delegated to them): the container goes without.
                    skipped = true
                    break
                }
            }
            if skipped { skipped = false; continue }
            // A frozen cgroup (one prepared frozen, or under a frozen parent) stops any process
            // put in it, the runtime's own child included, which then never reports back. Checked
            // before the directory is counted as the container's, so a failed create leaves it.
            if let state = Self.frozenState(directory) { throw CgroupError.frozen(directory.path, state: state) }
            directories.append(directory)
        }
    }

    /// The freezer's word for a cgroup that stops its processes, or nil when it lets them run:
    /// v1's freezer.state (FREEZING or FROZEN, also when a parent is frozen); v2's cgroup.freeze
    /// set on the cgroup itself, or cgroup.events' `frozen 1` when a parent holds the freeze.
    static func frozenState(_ directory: Directory) -> String? {
        if directory.version == 1 {
            guard directory.controllers.contains("freezer") else { return nil }
            let state = (Sys.readText(directory.path + "/freezer.state") ?? "").trimmingCharacters(
                in: .whitespacesAndNewlines)
            return state == "FROZEN" || state == "FREEZING" ? "freezer.state \(state)" : nil
        }
        if (Sys.readText(directory.path + "/cgroup.freeze") ?? "").hasPrefix("1") { return "cgroup.freeze 1" }
        let events = (Sys.readText(directory.path + "/cgroup.events") ?? "").split(separator: "\n")
        return events.contains("frozen 1") ? "cgroup.events frozen 1" : nil
    }

    /// False when `path` existed with processes in it (allowed unless `mustBeNew`).
    @discardableResult
    func makeDirectory(_ path: String, mustBeNew: Bool) throws -> Bool {
        CallRecord.shared.note("mkdir(\"\(path)\", 0755)")
        if mkdir(path, 0o755) != 0 {
            // An existing, empty cgroup (a runtime's leftover, or one prepared for us) is taken
            // over, as runc does; one with processes in it belongs to someone else.
            guard errno == EEXIST else { throw CgroupError.create(path, errno: errno) }
            let empty = !Self.isPopulated(path)
            if empty || !mustBeNew { return empty }
            throw CgroupError.create(path, errno: EEXIST)
        }
        Self.kernelFilesForTesting?(path)
        return true
    }

    /// A new v1 cpuset has no CPUs and no memory nodes, and the kernel puts no process in it
    /// until it has some: it takes its parent's, as runc copies them down (v2 inherits by itself).
    func inheritCpuset(_ path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let own = Sys.readText(path + "/" + file)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard own.isEmpty,
                let inherited = Sys.readText(parent + "/" + file)?.trimmingCharacters(in: .whitespacesAndNewlines),
                !inherited.isEmpty
            else { continue }
            try write(path + "/" + file, inherited)
        }
    }

    /// Tests against a plain directory set this to make the files cgroupfs would show in a new
    /// cgroup; on a real cgroupfs the kernel makes them.
    nonisolated(unsafe) static var kernelFilesForTesting: ((String) -> Void)?

    /// Write one setting of a runtime's own (stage 4) to the directory holding `controller`.
    /// A file the kernel does not offer (a scheduler's weights, a v1-only setting) is an error
    /// that names it and the controller, unless the write is optional.
    public func apply(_ item: LimitWrite, controller: String) throws {
        guard let dir = directory(for: controller) else {
            throw CgroupError.noController(controller, mode: hierarchy.mode)
        }
        let path = dir.path + "/" + item.file
        if !Sys.exists(path) {
            if item.optional { return }
            if let fallback = item.fallback, Sys.exists(dir.path + "/" + fallback.file) {
                try write(dir.path + "/" + fallback.file, fallback.value)
                return
            }
            throw CgroupError.missingFile(
                path, controller: controller, version: dir.version, alternative: item.fallback?.file, why: item.why)
        }
        try write(path, item.value)
    }

    /// The backend of the directory that holds `controller`.
    public func backendFor(_ controller: String) -> CgroupBackend? {
        directory(for: controller).map { backend($0.version) }
    }

    /// The processes in the cgroup (read from its first directory).
    public func processes() -> [pid_t] {
        guard let dir = directories.first else { return [] }
        return (Sys.readText(dir.path + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { pid_t($0) }
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

    public func directory(for controller: String) -> Directory? {
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
                notes.append(
                    "\(item.file) is missing (\(item.why)): "
                        + (swapOn
                            ? "this kernel does not account swap, so the container may use swap beyond the limit; "
                                + "boot with swapaccount=1"
                            : "no matter here, this host has no swap"))
                notesZh.append(
                    "缺少 \(item.file)（\(item.whyZh ?? item.why)）："
                        + (swapOn
                            ? "这个内核不统计交换区，容器可能超出限制使用交换区；启动时加上 swapaccount=1"
                            : "在这里无妨，这台主机没有交换区"))
                continue
            }
            try write(path, item.value)
            if item.file == "memory.memsw.limit_in_bytes" {
                notes.append(
                    "memory+swap is limited too, and the kernel then counts limit hits in neither failcnt: read the "
                        + "OOM kills"
                )
                notesZh.append("内存加交换区也受了限制，这时内核在两个 failcnt 里都不记触及限制的次数：看 OOM 杀死的次数")
            }
        }
    }

    /// Add `controllers` to a cgroup made without them (a runtime's update of a limit it was
    /// not created with). On v1 each gets its directory at the same relative path in
    /// `hierarchy`, and every process already in the cgroup is moved in; on v2, where the
    /// container's directory exists already, the controller is enabled in its ancestors'
    /// cgroup.subtree_control, which makes its files appear there. A controller the host lacks
    /// is an error naming it.
    public func join(controllers: [String], hierarchy: CgroupHierarchy) throws {
        let pids = processes()
        var newOnes: [String] = []
        for controller in controllers {
            guard let placement = hierarchy.placement(of: controller) else {
                throw CgroupError.noController(controller, mode: hierarchy.mode)
            }
            guard placement.version == 2, let index = directories.firstIndex(where: { $0.version == 2 }) else {
                newOnes.append(controller)
                continue
            }
            var current = placement.mountPoint
            for component in relativePath.split(separator: "/") {
                try write(current + "/cgroup.subtree_control", "+" + controller)
                current += "/" + component
            }
            directories[index].controllers.append(controller)
        }
        guard !newOnes.isEmpty else { return }
        let added = ContainerCgroup(relativePath: relativePath, limits: CgroupLimits(), hierarchy: hierarchy)
        do {
            try added.makeDirectories(required: newOnes, optional: [])
            for directory in added.directories {
                for pid in pids { try added.write(directory.path + "/cgroup.procs", "\(pid)") }
            }
        } catch {
            added.destroy()
            throw error
        }
        directories += added.directories
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
            let s = backend(dir.version).stats { Sys.readText(dir.path + "/" + $0) }
            total.pidsLimitHits = s.pidsLimitHits
            total.pidsPeak = s.pidsPeak
        }
        return total
    }

    /// Where each controller was placed, for the report: `memory: v1 /sys/fs/cgroup/memory/contlab/run-…`.
    public var placements: [String] {
        directories.flatMap { dir in dir.controllers.map { "\($0): v\(dir.version) \(dir.path)" } }
    }

    /// Whether a process is in the cgroup at `path` or in one below it: v2's cgroup.events says
    /// so in one line; on v1 the tree is walked. A slice with no process of its own but busy
    /// children is populated.
    static func isPopulated(_ path: String) -> Bool {
        if let events = Sys.readText(path + "/cgroup.events") {
            return events.split(separator: "\n").contains("populated 1")
        }
        if !(Sys.readText(path + "/cgroup.procs") ?? "x").isEmpty { return true }
        let children = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return children.contains { Sys.isDirectory(path + "/" + $0) && isPopulated(path + "/" + $0) }
    }

    /// Remove the directories, killing anything still in them first. Safe to call twice. A
    /// directory that already held processes when this cgroup was made (`busyDirectories`) is
    /// someone else's: it is only removed if it is empty, and nothing in it is killed.
    public func destroy() {
        for dir in directories.reversed() {
            if busyDirectories.contains(dir.path) {
                rmdir(dir.path)
                continue
            }
            Self.removeCgroup(dir.path, version: dir.version)
            Self.removeOwnParents(of: dir.path)
        }
        directories.removeAll()
    }

    /// Remove the directories that no process holds any more, and contlab's parents once empty;
    /// kill nothing. For a cgroup shared with another container, whose processes stay. A
    /// directory holding nothing but `dying` (this container's init, killed) is given a moment:
    /// the kernel releases a cgroup a little after the last process has gone.
    public func removeIfEmpty(dying: pid_t = 0) {
        func removed(_ path: String) -> Bool {
            for _ in 0..<100 {
                if rmdir(path) == 0 || errno == ENOENT { return true }
                let members = (Sys.readText(path + "/cgroup.procs") ?? "").split(separator: "\n").compactMap {
                    pid_t($0)
                }
                let children = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).contains {
                    Sys.isDirectory(path + "/" + $0)
                }
                // Someone else's processes or cgroups: theirs to keep.
                guard !children, members.allSatisfy({ $0 == dying }) else { return false }
                usleep(10_000)
            }
            return false
        }
        for dir in directories.reversed() where removed(dir.path) { Self.removeOwnParents(of: dir.path) }
    }

    /// contlab's own parents of `path` go too once empty, so the host is left as it was; rmdir
    /// fails (and the walk stops) while another container is still under them.
    static func removeOwnParents(of path: String) {
        var parent = (path as NSString).deletingLastPathComponent
        while ownParents.contains((parent as NSString).lastPathComponent), rmdir(parent) == 0 {
            parent = (parent as NSString).deletingLastPathComponent
        }
    }

    /// The parent directories contlab makes for its containers by default.
    static let ownParents: Set<String> = [parent, "contlab-runc"]

    /// Empty a cgroup (v2's cgroup.kill where the kernel has it, else SIGKILL to each member) and
    /// rmdir it, retrying while the kernel finishes tearing the processes down. Cgroups made
    /// below it (a container may make its own, in a writable cgroup mount) go first, deepest
    /// first: rmdir refuses a cgroup with children (EBUSY), as runc's removal knows.
    static func removeCgroup(_ path: String, version: Int) {
        guard Sys.isDirectory(path) else { return }
        for child in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        where Sys.isDirectory(path + "/" + child) {
            removeCgroup(path + "/" + child, version: version)
        }
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
        Sys.warn(
            "contlab: could not remove the cgroup \(path) (\(String(cString: strerror(errno)))); remove it with rmdir "
                + "once its processes are gone"
        )
    }

    /// Remove cgroups left by contlab processes that no longer exist (a contlab killed with
    /// SIGKILL cannot clean up after itself). Only empty ones: a pid seen from another PID
    /// namespace, or reused, must not cost a live container its cgroup.
    public static func removeStale(hierarchy: CgroupHierarchy = .current()) {
        var parents = Set(hierarchy.v1.values)
        if let v2 = hierarchy.v2 { parents.insert(v2) }
        for mount in parents {
            let dir = mount + "/" + parent
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where entry.hasPrefix("run-")
            {
                let owner = entry.split(separator: "-").dropFirst().first.flatMap { pid_t($0) }
                let path = dir + "/" + entry
                let empty = (Sys.readText(path + "/cgroup.procs") ?? "x").isEmpty
                if let owner, empty, kill(owner, 0) != 0 && errno == ESRCH {
                    CallRecord.shared.note("rmdir(\"\(path)\")")
                    rmdir(path)
                }
            }
        }
    }
}

public enum CgroupError: Error, CustomStringConvertible, Equatable {
    case noController(String, mode: String)
    case path(String)
    case create(String, errno: Int32)
    case write(String, value: String, errno: Int32)
    case missingFile(String, controller: String, version: Int, alternative: String?, why: String)
    case frozen(String, state: String)

    public var description: String {
        switch self {
        case .noController(let controller, let mode):
            return
                "this host has no \(controller) cgroup controller (cgroups: \(mode)); on v2 it must be listed in "
                + "/sys/fs/cgroup/cgroup.controllers, on v1 mounted under /sys/fs/cgroup"
        case .path(let path):
            return
                "cgroup path \"\(path)\": give a path below the hierarchy's root without \"..\", like "
                + "/mygroup/container1"
        case .create(let path, let errno):
            if errno == EEXIST {
                return
                    "the cgroup \(path) exists already and has processes in it: another container uses it; pick "
                    + "another id or cgroupsPath"
            }
            let base = "cannot create the cgroup \(path): \(String(cString: strerror(errno))) (\(Errno.name(errno)))"
            if errno == EACCES || errno == EPERM || errno == EROFS {
                return base
                    + " — creating cgroups needs root, or a cgroup subtree delegated to you: on a lab server, ask its "
                    + "admin to run sudo contlab lab setup --users \(UserDatabase.currentUserName()); elsewhere, "
                    + "systemd-run --user -p Delegate=yes"
            }
            return base
        case .missingFile(let path, let controller, let version, let alternative, let why):
            let file = (path as NSString).lastPathComponent
            let either = alternative.map { " (nor \($0))" } ?? ""
            return
                "\(why): this kernel's \(controller) controller (cgroup v\(version)) has no \(file)\(either), so the "
                + "setting cannot be "
                + "applied: \(path) is missing; remove the setting from config.json, or run on a host whose kernel "
                + "offers it"
        case .frozen(let path, let state):
            // The first words are the ones runc prints, which tools and runc's tests look for.
            let thaw =
                state.hasPrefix("freezer")
                ? "echo THAWED > \(path)/freezer.state" : "echo 0 > \(path)/cgroup.freeze (or its frozen parent's)"
            return
                "container's cgroup unexpectedly frozen: \(path) reads \(state), and a process put there would stop "
                + "before "
                + "it starts; thaw it (\(thaw)) or give the container another cgroupsPath"
        case .write(let path, let value, let errno):
            let base = "cannot write \(value) to \(path): \(String(cString: strerror(errno))) (\(Errno.name(errno)))"
            if errno == EINVAL || errno == EBUSY {
                return base
                    + " — the kernel refused this value; a memory limit below what is in use, or below the kernel's "
                    + "minimum, is refused"
            }
            return base
        }
    }
}
