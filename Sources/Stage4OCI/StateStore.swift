import Cgroups
import ContlabCore
import Foundation
import OCI

/// Where a runc-compatible runtime keeps its containers: `<root>/<id>/state.json`, with the
/// exec fifo the created container waits on beside it. Separate invocations (create, start,
/// state, kill, delete) meet here, as runc's do under /run/runc.
public struct StateStore {
    public let root: String

    public init(root: String) { self.root = root }

    /// runc's convention: /run/contlab-runc for root, $XDG_RUNTIME_DIR/contlab-runc otherwise;
    /// without that variable (su, ssh without a session manager), the user's /run/user/UID
    /// when it is theirs, else a folder in their home: never a place another user chose.
    public static func defaultRoot(
        environment: [String: String] = ProcessInfo.processInfo.environment, uid: uid_t = geteuid()
    ) -> String {
        guard uid != 0 else { return "/run/contlab-runc" }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/contlab-runc" }
        var info = stat()
        if stat("/run/user/\(uid)", &info) == 0, info.st_uid == uid { return "/run/user/\(uid)/contlab-runc" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/state/contlab-runc"
    }

    public func directory(_ id: String) -> String { root + "/" + id }
    public func fifo(_ id: String) -> String { directory(id) + "/exec.fifo" }
    func stateFile(_ id: String) -> String { directory(id) + "/state.json" }

    /// What the runtime records of a container, beyond the spec's state.
    public struct Record: Codable, Equatable, Sendable {
        public var id: String
        public var pid: Int32
        /// Field 22 of /proc/PID/stat when the container started: a pid reused by another
        /// process later has another start time.
        public var startTime: UInt64?
        public var bundle: String
        public var rootfs: String
        public var created: String
        public var annotations: [String: String]?
        public var cgroupPath: String?
        public var cgroupDirectories: [CgroupDirectory]
        public var hooks: Spec.Hooks?
        /// True until the init has reported it is ready (a create that died half-way).
        public var creating: Bool
        /// The container has no mount namespace: its mounts are in the host's table, under
        /// rootfs, and delete unmounts them.
        public var hostMounts = false
        /// The container joined a cgroup that already had processes (runc 1.1 shares one with
        /// a warning): delete then leaves those processes, and the cgroup while it holds them.
        public var sharesCgroup: Bool?

        public struct CgroupDirectory: Codable, Equatable, Sendable {
            public var path: String
            public var version: Int
            public var controllers: [String]
        }
    }

    /// Validate an id as runc does: letters, digits and `_ + - .`, not `.` or `..`.
    public static func validate(id: String) throws {
        guard !id.isEmpty, id != ".", id != "..", id.count <= 1024,
            id.unicodeScalars.allSatisfy({
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_+-.".unicodeScalars.contains($0))
            })
        else {
            throw RuntimeError.invalidID(id)
        }
    }

    /// Make the container's directory; fails if the id is taken.
    public func reserve(_ id: String) throws {
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        if mkdir(directory(id), 0o711) != 0 {
            if errno == EEXIST { throw RuntimeError.exists(id) }
            throw RuntimeError.system(SystemCallError("mkdir(\"\(directory(id))\")", errno: errno))
        }
    }

    public func save(_ record: Record) throws {
        do {
            try Sys.replaceFile(stateFile(record.id), Array(record.json.serialized.utf8))
        } catch let error as SystemCallError {
            throw RuntimeError.system(error)
        }
    }

    public func load(_ id: String) throws -> Record {
        guard Sys.isDirectory(directory(id)) else { throw RuntimeError.notFound(id) }
        guard let data = FileManager.default.contents(atPath: stateFile(id)),
            let record = try? Record(json: try JSONValue.parse([UInt8](data)))
        else {
            // A create that died before writing anything: only its directory is left.
            return Record(
                id: id, pid: 0, startTime: nil, bundle: "", rootfs: "", created: "", annotations: nil,
                cgroupPath: nil, cgroupDirectories: [], hooks: nil, creating: true)
        }
        return record
    }

    public func remove(_ id: String) {
        try? FileManager.default.removeItem(atPath: directory(id))
    }

    public func ids() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { Sys.isDirectory(directory($0)) }
            .sorted()
    }

    /// The spec's status: stopped once the process is gone (or another has its pid), created
    /// while it waits on the exec fifo, paused when its freezer is frozen, else running.
    public func status(of record: Record) -> String {
        guard record.pid > 0, Self.isAlive(pid: record.pid, startTime: record.startTime) else {
            return record.creating && record.pid == 0 ? "creating" : "stopped"
        }
        if record.creating { return "creating" }
        if Sys.exists(fifo(record.id)) { return "created" }
        if let freezer = Freezer.of(record.cgroupDirectories), freezer.isFrozen { return "paused" }
        return "running"
    }

    /// Alive, not exiting, and started when we recorded it.
    public static func isAlive(pid: Int32, startTime: UInt64?) -> Bool {
        guard let stat = Sys.readText("/proc/\(pid)/stat"), let fields = statFields(stat) else { return false }
        return fields.isRunning(startedAt: startTime)
    }

    /// What /proc/PID/stat says of a process: state (field 3), the kernel's task flags (field 9)
    /// and start time (field 22).
    public struct ProcessStat: Equatable, Sendable {
        public var state: String
        public var flags: UInt64
        public var startTime: UInt64

        /// PF_EXITING in <linux/sched.h>: set once the process called exit, before it is a zombie.
        static let exiting: UInt64 = 0x4

        /// Whether the process still runs code of its own. A zombie (Z) or a dead task (X) has
        /// exited; so has one with PF_EXITING but still sleeping (S): the PID 1 of a namespace
        /// waits in exit until every other process of that namespace has been reaped, which
        /// takes as long as their parent outside (the host's PID 1, a shim) takes to reap them.
        /// Such a container has stopped: nothing it runs is left but the wait.
        public func isRunning(startedAt recorded: UInt64?) -> Bool {
            if state == "Z" || state == "X" || flags & Self.exiting != 0 { return false }
            if let recorded, startTime != recorded { return false }
            return true
        }
    }

    /// /proc/PID/stat's fields; the command name in field 2 may hold spaces and parentheses,
    /// so fields are counted after its last ")".
    public static func statFields(_ text: String) -> ProcessStat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard rest.count > 19, let flags = UInt64(rest[6]), let start = UInt64(rest[19]) else { return nil }
        return ProcessStat(state: String(rest[0]), flags: flags, startTime: start)
    }

    public static func startTime(of pid: Int32) -> UInt64? {
        Sys.readText("/proc/\(pid)/stat").flatMap(statFields)?.startTime
    }

    public func state(of record: Record) -> ContainerState {
        let status = status(of: record)
        return ContainerState(
            id: record.id, status: status, pid: status == "stopped" || record.pid == 0 ? nil : record.pid,
            bundle: record.bundle, annotations: record.annotations)
    }

    public func cgroup(of record: Record) -> ContainerCgroup? {
        guard let path = record.cgroupPath else { return nil }
        if record.cgroupDirectories.isEmpty {
            // A create killed before it recorded the directories it made: look for them by path
            // in every hierarchy.
            let hierarchy = CgroupHierarchy.current()
            var mounts: [(String, Int)] = Set(hierarchy.v1.values).sorted().map { ($0, 1) }
            if let v2 = hierarchy.v2 { mounts.append((v2, 2)) }
            let found = mounts.filter { Sys.isDirectory($0.0 + "/" + path) }
                .map { ContainerCgroup.Directory(path: $0.0 + "/" + path, version: $0.1, controllers: []) }
            return found.isEmpty ? nil : ContainerCgroup(relativePath: path, directories: found, hierarchy: hierarchy)
        }
        return ContainerCgroup(
            relativePath: path,
            directories: record.cgroupDirectories.map {
                .init(path: $0.path, version: $0.version, controllers: $0.controllers)
            },
            // The directories are known; the host's layout is not needed to remove them.
            hierarchy: CgroupHierarchy(v1: [:], v2: nil, v2Controllers: []))
    }
}

/// The state file written and read by hand, as the init plan is (each create saves it three
/// times; JSONEncoder's first use of each type costs a scan of the binary's conformances).
extension StateStore.Record {
    var json: JSONValue {
        func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        func hookList(_ hooks: [Spec.Hook]?) -> JSONValue {
            guard let hooks else { return .null }
            return .array(
                hooks.map { hook in
                    .object([
                        ("path", .string(hook.path)),
                        ("args", hook.args.map { .array($0.map { .string($0) }) } ?? .null),
                        ("env", hook.env.map { .array($0.map { .string($0) }) } ?? .null),
                        ("timeout", hook.timeout.map { .number(String($0)) } ?? .null)
                    ])
                })
        }
        let hooksValue: JSONValue =
            hooks.map { h in
                .object([
                    ("prestart", hookList(h.prestart)), ("createRuntime", hookList(h.createRuntime)),
                    ("createContainer", hookList(h.createContainer)), ("startContainer", hookList(h.startContainer)),
                    ("poststart", hookList(h.poststart)), ("poststop", hookList(h.poststop))
                ])
            } ?? .null
        return .object([
            ("id", .string(id)), ("pid", .number(String(pid))),
            ("startTime", startTime.map { .number(String($0)) } ?? .null),
            ("bundle", .string(bundle)), ("rootfs", .string(rootfs)), ("created", .string(created)),
            (
                "annotations",
                annotations.map { .object($0.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }) } ?? .null
            ),
            ("cgroupPath", text(cgroupPath)),
            (
                "cgroupDirectories",
                .array(
                    cgroupDirectories.map {
                        .object([
                            ("path", .string($0.path)), ("version", .number(String($0.version))),
                            ("controllers", .array($0.controllers.map { .string($0) }))
                        ])
                    })
            ),
            ("hooks", hooksValue), ("creating", .bool(creating)), ("hostMounts", .bool(hostMounts)),
            ("sharesCgroup", sharesCgroup.map { .bool($0) } ?? .null)
        ])
    }

    init(json: JSONValue) throws {
        let record = SpecReader.Field(json, "state")
        id = try record.required("id").string()
        pid = try record.required("pid").signed(Int32.self)
        startTime = try record["startTime"]?.unsigned(UInt64.self)
        bundle = try record.required("bundle").string()
        rootfs = try record.required("rootfs").string()
        created = try record.required("created").string()
        annotations = try record["annotations"]?.stringMap()
        cgroupPath = try record["cgroupPath"]?.string()
        cgroupDirectories = try record.required("cgroupDirectories").array().map {
            CgroupDirectory(
                path: try $0.required("path").string(), version: try $0.required("version").signed(Int.self),
                controllers: try $0.required("controllers").strings())
        }
        hooks = try record["hooks"].map { try SpecReader.hooks($0) }
        creating = try record.required("creating").bool()
        hostMounts = try record["hostMounts"]?.bool() ?? false
        sharesCgroup = try record["sharesCgroup"]?.bool()
    }
}
