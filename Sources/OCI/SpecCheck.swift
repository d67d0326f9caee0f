import ContlabCore
import Foundation

/// A problem in config.json, at a JSON path (`process.capabilities.bounding[2]`).
public struct SpecError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? "config.json: \(message)" : "config.json: \(path): \(message)" }
}

/// Reading and checking config.json: JSON syntax, then fields the spec defines that contlab does
/// not implement (refused by name, never ignored), then types, then the rules of the spec's prose.
/// Unknown fields outside the spec are ignored, as the spec's extensibility clause requires.
public enum SpecCheck {
    /// Spec fields contlab does not implement. A document that sets one is refused.
    static let unsupported: [(path: [String], why: String)] = [
        (["linux", "intelRdt"], "Intel RDT is not implemented"),
        (["linux", "personality"], "personality(2) settings are not implemented"),
        (["linux", "timeOffsets"], "time namespaces are not implemented"),
        (["linux", "memoryPolicy"], "memory policies are not implemented"),
        (["linux", "mountLabel"], "SELinux labels are not implemented"),
        (["process", "selinuxLabel"], "SELinux labels are not implemented"),
        (["process", "apparmorProfile"], "AppArmor profiles are not implemented"),
        (["process", "ioPriority"], "I/O priorities are not implemented"),
        (["process", "scheduler"], "scheduling policies are not implemented"),
        (["process", "execCPUAffinity"], "CPU affinity is not implemented"),
        (["linux", "resources", "hugepageLimits"], "hugetlb limits are not implemented"),
        (["linux", "resources", "rdma"], "RDMA limits are not implemented"),
        (["linux", "resources", "cpu", "idle"], "SCHED_IDLE cgroups are not implemented")
    ]

    public static let namespaceTypes: Set<String> = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"]

    /// Parse and check a config.json document.
    public static func decode(_ data: Data) throws -> Spec { try decodeDocument(data).spec }

    /// decode, and the document's tree, read once: the tree the checks, the spec and the init
    /// (which is handed it) all use.
    public static func decodeDocument(_ data: Data) throws -> (spec: Spec, document: JSONValue) {
        try refuseWrongEncodingOrKind([UInt8](data.prefix(64)))
        let document: JSONValue
        do {
            document = try JSONValue.parse([UInt8](data))
        } catch {
            throw SpecError("", "not valid JSON: \(error)")
        }
        guard case .object = document else { throw SpecError("", "must be a JSON object") }
        try refuseUnsupported(document)
        try refuseNUL(document)
        let spec = try SpecReader.spec(document)
        try validate(spec)
        return (spec, document)
    }

    /// No string of a config may hold NUL (`\u0000`): JSON allows it, but the kernel reads a
    /// path or an argument only up to it, so `"/etc\u0000…"` would act on /etc. Refused, as
    /// runc does, with the field's path.
    static func refuseNUL(_ value: JSONValue, path: String = "") throws {
        switch value {
        case .string(let text) where text.utf8.contains(0):
            throw SpecError(
                path, "holds a NUL character (\\u0000), which would cut it short where it reaches the kernel; remove it"
            )
        case .array(let items):
            for (i, item) in items.enumerated() { try refuseNUL(item, path: path + "[\(i)]") }
        case .object(let members):
            for (key, member) in members {
                let child = path.isEmpty ? key : path + "." + key
                if key.utf8.contains(0) {
                    throw SpecError(path, "has a key holding a NUL character (\\u0000); remove it")
                }
                try refuseNUL(member, path: child)
            }
        default:
            return
        }
    }

    /// What a parser would report in its own words, said in ours with the fix: a byte order
    /// mark, UTF-16 or UTF-32 text, and a document that is not an object.
    static func refuseWrongEncodingOrKind(_ head: [UInt8]) throws {
        if head.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw SpecError(
                "",
                "starts with a UTF-8 byte order mark; save it as UTF-8 without one (in most editors \"UTF-8\", "
                    + "not \"UTF-8 with BOM\")"
            )
        }
        if head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF]) || head.prefix(4).contains(0) {
            throw SpecError(
                "",
                "is UTF-16 or UTF-32 text; the runtime spec's JSON is UTF-8: convert it (iconv -f UTF-16 -t UTF-8 "
                    + "config.json)"
            )
        }
        guard let first = head.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first != UInt8(ascii: "{")
        else { return }
        let kind: String
        switch first {
        case UInt8(ascii: "["): kind = "an array"
        case UInt8(ascii: "\""): kind = "a string"
        case UInt8(ascii: "n"): kind = "null"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): kind = "a boolean"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): kind = "a number"
        default: return
        }
        throw SpecError(
            "",
            "must be a JSON object ({ \"ociVersion\": …, \"process\": … }), but it holds \(kind); contlab-runc spec "
                + "writes one to start from"
        )
    }

    /// Fields where 0 is a real setting (swappiness 0: never swap), not "leave it alone".
    static let zeroMatters: Set<String> = ["linux.resources.memory.swappiness"]

    /// Whether a field asks for something. Docker writes the fields it knows with zero values
    /// (`"blockIO": {"weight": 0}`, `"disableOOMKiller": false`), which runc reads as "not set";
    /// so does contlab, except where zero is a value of its own.
    static func isSet(_ value: JSONValue, zeroMatters: Bool = false) -> Bool {
        switch value {
        case .null: return false
        case .bool(let flag): return zeroMatters || flag
        case .string(let text): return !text.isEmpty
        case .array(let items): return !items.isEmpty
        case .object(let members): return members.contains { isSet($0.1) }
        case .number(let text): return zeroMatters || (Double(text) ?? 1) != 0
        }
    }

    static func refuseUnsupported(_ root: JSONValue) throws {
        for item in unsupported {
            var node: JSONValue? = root
            for key in item.path { node = node?[key] }
            let path = item.path.joined(separator: ".")
            if let node, isSet(node, zeroMatters: zeroMatters.contains(path)) { throw SpecError(path, item.why) }
        }
    }

    /// `process.capabilities.bounding[2]` from a coding path.
    public static func jsonPath(_ path: [CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text
    }

    static func describe(_ error: DecodingError) -> SpecError {
        switch error {
        case .keyNotFound(let key, let context):
            return SpecError(jsonPath(context.codingPath + [key]), "required by the spec but missing")
        case .typeMismatch(let type, let context):
            return SpecError(jsonPath(context.codingPath), "expected \(typeName(type))")
        case .valueNotFound(let type, let context):
            return SpecError(jsonPath(context.codingPath), "expected \(typeName(type)), found null")
        case .dataCorrupted(let context):
            return SpecError(jsonPath(context.codingPath), context.debugDescription)
        @unknown default:
            return SpecError("", "\(error)")
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is UInt32.Type, is UInt64.Type, is UInt16.Type: return "a non-negative integer"
        case is Int.Type, is Int64.Type: return "an integer"
        case is [Any].Type: return "an array"
        default:
            let name = "\(type)"
            return name.hasPrefix("Array")
                ? "an array" : name.hasPrefix("Dictionary") ? "an object" : "an object (\(name))"
        }
    }

    /// The rules of the spec's prose that the schema does not express, and contlab's own limits.
    public static func validate(_ spec: Spec) throws {
        guard spec.ociVersion.hasPrefix("1.") else {
            throw SpecError("ociVersion", "\"\(spec.ociVersion)\" is not a 1.x version this runtime implements")
        }
        if let seccomp = spec.linux?.seccomp { try validateSeccomp(seccomp) }
        if let process = spec.process {
            guard let args = process.args, !args.isEmpty, !args[0].isEmpty else {
                throw SpecError("process.args", "must name the program to run (for example [\"sh\"])")
            }
            guard process.cwd.hasPrefix("/") else { throw SpecError("process.cwd", "must be an absolute path") }
            for (i, entry) in (process.env ?? []).enumerated() where !entry.contains("=") {
                throw SpecError("process.env[\(i)]", "\"\(entry)\" is not KEY=VALUE")
            }
            if let caps = process.capabilities {
                for (set, names) in [
                    ("bounding", caps.bounding), ("effective", caps.effective), ("inheritable", caps.inheritable),
                    ("permitted", caps.permitted), ("ambient", caps.ambient)
                ] {
                    for (i, name) in (names ?? []).enumerated() where CapabilityNames.value(of: name) == nil {
                        throw SpecError("process.capabilities.\(set)[\(i)]", "unknown capability \"\(name)\"")
                    }
                }
            }
            for (i, limit) in (process.rlimits ?? []).enumerated() {
                guard ResourceLimits.value(of: limit.type) != nil else {
                    throw SpecError("process.rlimits[\(i)].type", "unknown resource limit \"\(limit.type)\"")
                }
                guard limit.soft <= limit.hard else {
                    throw SpecError(
                        "process.rlimits[\(i)]", "soft limit \(limit.soft) is above the hard limit \(limit.hard)")
                }
            }
            if let adj = process.oomScoreAdj, !(-1000...1000).contains(adj) {
                throw SpecError("process.oomScoreAdj", "must be between -1000 and 1000")
            }
        }
        guard let root = spec.root, !root.path.isEmpty else {
            throw SpecError("root.path", "required by the spec but missing")
        }
        _ = root
        let hooks = spec.hooks
        for (kind, list) in [
            ("prestart", hooks?.prestart), ("createRuntime", hooks?.createRuntime),
            ("createContainer", hooks?.createContainer), ("startContainer", hooks?.startContainer),
            ("poststart", hooks?.poststart), ("poststop", hooks?.poststop)
        ] {
            for (i, hook) in (list ?? []).enumerated() {
                guard hook.path.hasPrefix("/") else {
                    throw SpecError(
                        "hooks.\(kind)[\(i)].path",
                        "\"\(hook.path)\" must be an absolute path, such as /usr/bin/\(hook.path)")
                }
                if let timeout = hook.timeout, timeout <= 0 {
                    throw SpecError(
                        "hooks.\(kind)[\(i)].timeout", "must be greater than zero (seconds), or left out for no limit")
                }
            }
        }
        var types = Set<String>()
        let namespaces = spec.linux?.namespaces ?? []
        for (i, ns) in namespaces.enumerated() {
            guard namespaceTypes.contains(ns.type) else {
                throw SpecError(
                    "linux.namespaces[\(i)].type",
                    "unknown namespace type \"\(ns.type)\" (one of \(namespaceTypes.sorted().joined(separator: ", ")))")
            }
            guard types.insert(ns.type).inserted else {
                throw SpecError(
                    "linux.namespaces[\(i)]",
                    "the \(ns.type) namespace is listed twice; keep one entry (with a path to join one, without to "
                        + "make a new one)"
                )
            }
            if ns.type == "time" { throw SpecError("linux.namespaces[\(i)]", "time namespaces are not implemented") }
            if let path = ns.path, !path.hasPrefix("/") {
                throw SpecError(
                    "linux.namespaces[\(i)].path",
                    "\"\(path)\" must be an absolute path, such as /proc/PID/ns/\(ns.type == "network" ? "net" : ns.type == "mount" ? "mnt" : ns.type)"
                )
            }
        }
        let newUser = namespaces.contains { $0.type == "user" && $0.path == nil }
        if (spec.linux?.uidMappings?.isEmpty == false || spec.linux?.gidMappings?.isEmpty == false) && !newUser {
            throw SpecError("linux.uidMappings", "id mappings need a new user namespace in linux.namespaces")
        }
        // A joined uts namespace (a pod's) takes the hostname too; the runtime refuses a path
        // that leads to the host's own, which it can tell only on the host.
        if spec.hostname?.isEmpty == false && !namespaces.contains(where: { $0.type == "uts" }) {
            throw SpecError(
                "hostname",
                "setting a hostname needs a uts namespace in linux.namespaces (a new one, or one to join by path)")
        }
        // No namespace at all: the container shares the host's mount table (root.path entered
        // with chroot), where hiding or locking a path would hide or lock it for the host too.
        if spec.linux?.namespaces?.isEmpty ?? true {
            let why =
                "the container has no mount namespace of its own (linux.namespaces is empty), and this would change "
                + "the host's mounts;"
                + " add {\"type\": \"mount\"} to linux.namespaces, or remove it"
            if !(spec.linux?.maskedPaths ?? []).isEmpty { throw SpecError("linux.maskedPaths", why) }
            if !(spec.linux?.readonlyPaths ?? []).isEmpty { throw SpecError("linux.readonlyPaths", why) }
            if spec.root?.readonly == true { throw SpecError("root.readonly", why) }
            if !(spec.linux?.rootfsPropagation ?? "").isEmpty { throw SpecError("linux.rootfsPropagation", why) }
        }
        for (i, mount) in (spec.mounts ?? []).enumerated() where !mount.destination.hasPrefix("/") {
            throw SpecError("mounts[\(i)].destination", "must be an absolute path inside the container")
        }
        if let propagation = spec.linux?.rootfsPropagation,
            !["private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable", ""].contains(
                propagation)
        {
            throw SpecError("linux.rootfsPropagation", "\"\(propagation)\" is not a propagation type")
        }
        for key in (spec.linux?.sysctl ?? [:]).keys.sorted() {
            // A joined namespace may be the host's own: only a new one is the container's.
            if key.hasPrefix("net.") && !namespaces.contains(where: { $0.type == "network" && $0.path == nil }) {
                throw SpecError(
                    "linux.sysctl.\(key)", "a net.* sysctl needs a new network namespace of the container's own")
            }
            let ipc = ["kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue."]
            if ipc.contains(where: { key.hasPrefix($0) })
                && !namespaces.contains(where: { $0.type == "ipc" && $0.path == nil })
            {
                throw SpecError(
                    "linux.sysctl.\(key)",
                    "an IPC sysctl needs a new ipc namespace of the container's own, or it changes the host")
            }
            let namespaced = ["net.", "kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue."]
            if !namespaced.contains(where: { key.hasPrefix($0) }) {
                throw SpecError("linux.sysctl.\(key)", "not a namespaced sysctl: setting it would change the host")
            }
        }
        for (i, rule) in (spec.linux?.resources?.devices ?? []).enumerated() {
            if let type = rule.type, !["a", "b", "c"].contains(type) {
                throw SpecError("linux.resources.devices[\(i)].type", "must be a, b or c")
            }
            // Letters other than r, w and m are skipped, as runc skips them; a rule must keep one.
            if let access = rule.access, !access.contains(where: { "rwm".contains($0) }) {
                throw SpecError(
                    "linux.resources.devices[\(i)].access",
                    "\"\(access)\" has none of r, w and m: give a combination of them, such as rwm")
            }
        }
        for (i, device) in (spec.linux?.devices ?? []).enumerated() {
            guard ["c", "b", "u", "p"].contains(device.type) else {
                throw SpecError("linux.devices[\(i)].type", "must be c, b, u or p")
            }
            guard device.path.hasPrefix("/dev/") else {
                throw SpecError("linux.devices[\(i)].path", "must be under /dev")
            }
        }
    }
}

extension SpecCheck {
    /// A process object on its own (runc exec's `--process FILE`, as containerd and conmon write
    /// it), checked by the same rules as config.json's `process`; problems name `process.…`.
    public static func decodeProcess(_ data: Data) throws -> Spec.Process {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw SpecError(
                "process",
                "not valid JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)")")
        }
        guard var process = object as? [String: Any] else { throw SpecError("process", "must be a JSON object") }
        // config.json must say who the process runs as; exec's process file may leave it out,
        // and runc then runs it as root (uid 0, gid 0), as runc's tty.bats does.
        if process["user"] == nil { process["user"] = ["uid": 0, "gid": 0] }
        let wrapped = try JSONSerialization.data(withJSONObject: [
            "ociVersion": "1.0.2", "root": ["path": "/"], "process": process
        ])
        guard let process = try decode(wrapped).process else { throw SpecError("process", "missing") }
        return process
    }
}
