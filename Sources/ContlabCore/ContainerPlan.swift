import CLinux
import Foundation

/// Everything the container's init needs, decided on the host before any process is made, and
/// handed to the re-executed init as JSON (through `PlanHandoff`, named by `CONTLAB_PLAN`).
public struct ContainerPlan: Equatable, Sendable {
    public var stage: Int
    /// The root filesystem, as an absolute host path.
    public var rootfs: String
    public var args: [String]
    public var env: [String]
    public var cwd: String
    public var uid: UInt32
    public var gid: UInt32
    public var additionalGids: [UInt32]
    public var hostname: String?
    public var namespaces: [Namespace]
    /// Running in a user namespace that maps the caller to root, with no other ids mapped.
    public var rootless: Bool
    /// The descriptor the init writes its record of system calls to, for `--explain`.
    public var recordFD: Int32?
    /// The host's root directory, so the escape probe can tell whether it reached it.
    public var hostRoot: FileIdentity?
    /// The host's namespace ids (`pid` → `pid:[4026531836]`), for `contlab inspect`.
    public var hostNamespaces: [String: String]
    /// Mounts a later stage adds inside the root after /proc, /dev and /sys (stage 3: cgroupfs).
    public var extraMounts: [PlannedMount] = []

    public init(
        stage: Int, rootfs: String, args: [String], env: [String] = [], cwd: String = "/",
        uid: UInt32 = 0, gid: UInt32 = 0, additionalGids: [UInt32] = [], hostname: String? = nil,
        namespaces: [Namespace] = [], rootless: Bool = false, recordFD: Int32? = nil,
        hostRoot: FileIdentity? = nil, hostNamespaces: [String: String] = [:]
    ) {
        self.stage = stage
        self.rootfs = rootfs
        self.args = args
        self.env = env
        self.cwd = cwd
        self.uid = uid
        self.gid = gid
        self.additionalGids = additionalGids
        self.hostname = hostname
        self.namespaces = namespaces
        self.rootless = rootless
        self.recordFD = recordFD
        self.hostRoot = hostRoot
        self.hostNamespaces = hostNamespaces
    }

    public static let environmentKey = "CONTLAB_PLAN"
    /// The arguments of a contlab probe, for where /proc (and so CommandLine.arguments) is missing.
    public static let argvKey = "CONTLAB_ARGV"

    /// JSON built by hand (see `JSONValue`): the init reads it back without Codable's cost.
    public func encoded() throws -> String {
        func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        func numbers<T: BinaryInteger>(_ list: [T]) -> JSONValue { .array(list.map { .number(String($0)) }) }
        func optional(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
        let mounts: [JSONValue] = extraMounts.map {
            .object([
                ("source", optional($0.source)), ("target", .string($0.target)), ("fstype", optional($0.fstype)),
                ("flags", .number(String($0.flags))), ("data", optional($0.data))
            ])
        }
        return JSONValue.object([
            ("stage", .number(String(stage))), ("rootfs", .string(rootfs)), ("args", strings(args)),
            ("env", strings(env)),
            ("cwd", .string(cwd)), ("uid", .number(String(uid))), ("gid", .number(String(gid))),
            ("additionalGids", numbers(additionalGids)), ("hostname", optional(hostname)),
            ("namespaces", strings(namespaces.map(\.rawValue))), ("rootless", .bool(rootless)),
            ("recordFD", recordFD.map { .number(String($0)) } ?? .null),
            (
                "hostRoot",
                hostRoot.map { .object([("device", .number(String($0.device))), ("inode", .number(String($0.inode)))]) }
                    ?? .null
            ),
            ("hostNamespaces", .object(hostNamespaces.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("extraMounts", .array(mounts))
        ]).serialized
    }

    public static func decode(_ text: String) throws -> ContainerPlan {
        let plan = try JSONValue.parse(text)
        var result = ContainerPlan(
            stage: try plan.number("stage"), rootfs: try plan.text("rootfs"), args: try plan.texts("args"),
            env: try plan.texts("env"),
            cwd: try plan.text("cwd"), uid: try plan.number("uid"), gid: try plan.number("gid"),
            additionalGids: try plan.list("additionalGids").map { try $0.number() },
            hostname: try plan.optionalText("hostname"),
            namespaces: try plan.texts("namespaces").map {
                guard let namespace = Namespace(rawValue: $0) else {
                    throw JSONValue.AccessError(path: "namespaces", expected: "a namespace name")
                }
                return namespace
            },
            rootless: try plan.flag("rootless"), recordFD: plan["recordFD"] == .null ? nil : try plan.number("recordFD")
        )
        if let root = plan["hostRoot"], root != .null {
            result.hostRoot = FileIdentity(device: try root.number("device"), inode: try root.number("inode"))
        }
        if case .object(let members)? = plan["hostNamespaces"] {
            for (key, value) in members { if case .string(let id) = value { result.hostNamespaces[key] = id } }
        }
        result.extraMounts = try plan.list("extraMounts").map {
            PlannedMount(
                source: try $0.optionalText("source"), target: try $0.text("target"),
                fstype: try $0.optionalText("fstype"),
                flags: MountFlags(rawValue: try $0.number("flags")), data: try $0.optionalText("data"))
        }
        return result
    }

    /// The PATH the command is looked up in: the plan's own, else the usual default.
    public var searchPath: String {
        for entry in env where entry.hasPrefix("PATH=") { return String(entry.dropFirst(5)) }
        return ContainerPlan.defaultPath
    }

    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

/// One mount(2) the init makes inside the new root; `target` is a path inside the container.
public struct PlannedMount: Codable, Equatable, Sendable {
    public var source: String?
    public var target: String
    public var fstype: String?
    public var flags: UInt
    public var data: String?

    public init(source: String?, target: String, fstype: String?, flags: MountFlags, data: String? = nil) {
        self.source = source
        self.target = target
        self.fstype = fstype
        self.flags = flags.rawValue
        self.data = data
    }
}

/// A file's device and inode: what "the same directory" means to the kernel.
public struct FileIdentity: Codable, Equatable, Sendable, CustomStringConvertible {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    public init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    public var description: String { "device \(device >> 8):\(device & 0xff), inode \(inode)" }
}

/// The host's namespace ids, read from /proc/self/ns.
public func currentNamespaceIDs() -> [String: String] {
    var ids: [String: String] = [:]
    for ns in Namespace.allCases {
        if let link = Sys.readLink("/proc/self/ns/\(ns.procName)") { ids[ns.procName] = link }
    }
    return ids
}
