import ContlabCore

/// config.json's tree turned into a `Spec`, field by field, with the JSON path of any problem
/// (`process.user.uid: expected a non-negative integer`). It reads what `Spec`'s Codable
/// conformance would, without its cost (see `JSONValue`); a test holds the two to the same result.
public enum SpecReader {
    public static func spec(_ document: JSONValue) throws -> Spec {
        let root = Field(document, "")
        var spec = Spec(ociVersion: try root.required("ociVersion").string())
        spec.process = try root["process"].map(process)
        spec.root = try root["root"].map {
            Spec.Root(path: try $0.required("path").string(), readonly: try $0["readonly"]?.bool())
        }
        spec.hostname = try root["hostname"]?.string()
        spec.domainname = try root["domainname"]?.string()
        spec.mounts = try root["mounts"]?.array().map { item in
            var mount = Spec.Mount(
                destination: try item.required("destination").string(), type: try item["type"]?.string(),
                source: try item["source"]?.string())
            mount.options = try item["options"]?.strings()
            return mount
        }
        spec.hooks = try root["hooks"].map(hooks)
        spec.annotations = try root["annotations"]?.stringMap()
        spec.linux = try root["linux"].map(linux)
        return spec
    }

    /// A process object on its own (runc exec's --process file); paths start at `process`.
    public static func process(_ document: JSONValue) throws -> Spec.Process {
        try process(Field(document, "process"))
    }

    static func process(_ field: Field) throws -> Spec.Process {
        let userField = try field.required("user")
        var user = Spec.User(
            uid: try userField.required("uid").unsigned(UInt32.self),
            gid: try userField.required("gid").unsigned(UInt32.self))
        user.umask = try userField["umask"]?.unsigned(UInt32.self)
        user.additionalGids = try userField["additionalGids"]?.array().map { try $0.unsigned(UInt32.self) }
        var process = Spec.Process(args: [], cwd: try field.required("cwd").string())
        process.args = try field["args"]?.strings()
        process.terminal = try field["terminal"]?.bool()
        process.consoleSize = try field["consoleSize"].map {
            Spec.ConsoleSize(
                height: try $0.required("height").unsigned(UInt16.self),
                width: try $0.required("width").unsigned(UInt16.self))
        }
        process.user = user
        process.env = try field["env"]?.strings()
        process.capabilities = try field["capabilities"].map {
            Spec.Capabilities(
                bounding: try $0["bounding"]?.strings(), effective: try $0["effective"]?.strings(),
                inheritable: try $0["inheritable"]?.strings(), permitted: try $0["permitted"]?.strings(),
                ambient: try $0["ambient"]?.strings())
        }
        process.rlimits = try field["rlimits"]?.array().map {
            Spec.Rlimit(
                type: try $0.required("type").string(), hard: try $0.required("hard").unsigned(UInt64.self),
                soft: try $0.required("soft").unsigned(UInt64.self))
        }
        process.noNewPrivileges = try field["noNewPrivileges"]?.bool()
        process.oomScoreAdj = try field["oomScoreAdj"]?.signed(Int.self)
        process.apparmorProfile = try field["apparmorProfile"]?.string()
        process.selinuxLabel = try field["selinuxLabel"]?.string()
        return process
    }

    public static func hooks(_ field: Field) throws -> Spec.Hooks {
        func list(_ name: String) throws -> [Spec.Hook]? {
            try field[name]?.array().map {
                Spec.Hook(
                    path: try $0.required("path").string(), args: try $0["args"]?.strings(),
                    env: try $0["env"]?.strings(),
                    timeout: try $0["timeout"]?.signed(Int.self))
            }
        }
        return Spec.Hooks(
            prestart: try list("prestart"), createRuntime: try list("createRuntime"),
            createContainer: try list("createContainer"),
            startContainer: try list("startContainer"), poststart: try list("poststart"), poststop: try list("poststop")
        )
    }

    static func linux(_ field: Field) throws -> Spec.Linux {
        var linux = Spec.Linux(
            namespaces: try field["namespaces"]?.array().map {
                Spec.Namespace(type: try $0.required("type").string(), path: try $0["path"]?.string())
            })
        func mappings(_ name: String) throws -> [Spec.IDMapping]? {
            try field[name]?.array().map {
                Spec.IDMapping(
                    containerID: try $0.required("containerID").unsigned(UInt32.self),
                    hostID: try $0.required("hostID").unsigned(UInt32.self),
                    size: try $0.required("size").unsigned(UInt32.self))
            }
        }
        linux.uidMappings = try mappings("uidMappings")
        linux.gidMappings = try mappings("gidMappings")
        linux.resources = try field["resources"].map(resources)
        linux.cgroupsPath = try field["cgroupsPath"]?.string()
        linux.maskedPaths = try field["maskedPaths"]?.strings()
        linux.readonlyPaths = try field["readonlyPaths"]?.strings()
        linux.sysctl = try field["sysctl"]?.stringMap()
        linux.devices = try field["devices"]?.array().map {
            Spec.Device(
                path: try $0.required("path").string(), type: try $0.required("type").string(),
                major: try $0["major"]?.signed(Int64.self), minor: try $0["minor"]?.signed(Int64.self),
                fileMode: try $0["fileMode"]?.unsigned(UInt32.self), uid: try $0["uid"]?.unsigned(UInt32.self),
                gid: try $0["gid"]?.unsigned(UInt32.self))
        }
        linux.rootfsPropagation = try field["rootfsPropagation"]?.string()
        linux.seccomp = try field["seccomp"].map(seccomp)
        linux.mountLabel = try field["mountLabel"]?.string()
        return linux
    }

    /// A seccomp object on its own; paths start at `linux.seccomp`.
    public static func seccomp(_ document: JSONValue) throws -> Spec.Seccomp {
        try seccomp(Field(document, "linux.seccomp"))
    }

    static func seccomp(_ field: Field) throws -> Spec.Seccomp {
        var seccomp = Spec.Seccomp(
            defaultAction: try field.required("defaultAction").string(),
            architectures: try field["architectures"]?.strings())
        seccomp.defaultErrnoRet = try field["defaultErrnoRet"]?.unsigned(UInt32.self)
        seccomp.flags = try field["flags"]?.strings()
        seccomp.listenerPath = try field["listenerPath"]?.string()
        seccomp.listenerMetadata = try field["listenerMetadata"]?.string()
        seccomp.syscalls = try field["syscalls"]?.array().map { rule in
            Spec.Syscall(
                names: try rule.required("names").strings(), action: try rule.required("action").string(),
                errnoRet: try rule["errnoRet"]?.unsigned(UInt32.self),
                args: try rule["args"]?.array().map { arg in
                    Spec.SyscallArg(
                        index: try arg.required("index").unsigned(UInt32.self),
                        value: try arg.required("value").unsigned(UInt64.self),
                        valueTwo: try arg["valueTwo"]?.unsigned(UInt64.self), op: try arg.required("op").string())
                })
        }
        return seccomp
    }

    static func resources(_ field: Field) throws -> Spec.Resources {
        var resources = Spec.Resources()
        resources.memory = try field["memory"].map {
            var memory = Spec.Memory(
                limit: try $0["limit"]?.signed(Int64.self), swap: try $0["swap"]?.signed(Int64.self))
            memory.reservation = try $0["reservation"]?.signed(Int64.self)
            memory.kernel = try $0["kernel"]?.signed(Int64.self)
            memory.kernelTCP = try $0["kernelTCP"]?.signed(Int64.self)
            memory.swappiness = try $0["swappiness"]?.unsigned(UInt64.self)
            memory.disableOOMKiller = try $0["disableOOMKiller"]?.bool()
            return memory
        }
        resources.pids = try field["pids"].map { Spec.Pids(limit: try $0.required("limit").signed(Int64.self)) }
        resources.cpu = try field["cpu"].map {
            var cpu = Spec.CPU(
                shares: try $0["shares"]?.unsigned(UInt64.self), quota: try $0["quota"]?.signed(Int64.self),
                period: try $0["period"]?.unsigned(UInt64.self))
            cpu.cpus = try $0["cpus"]?.string()
            cpu.mems = try $0["mems"]?.string()
            cpu.realtimeRuntime = try $0["realtimeRuntime"]?.signed(Int64.self)
            cpu.realtimePeriod = try $0["realtimePeriod"]?.unsigned(UInt64.self)
            return cpu
        }
        resources.blockIO = try field["blockIO"].map { io in
            func throttles(_ key: String) throws -> [Spec.ThrottleDevice]? {
                try io[key]?.array().map {
                    Spec.ThrottleDevice(
                        major: try $0.required("major").signed(Int64.self),
                        minor: try $0.required("minor").signed(Int64.self),
                        rate: try $0.required("rate").unsigned(UInt64.self))
                }
            }
            var blockIO = Spec.BlockIO(weight: try io["weight"]?.unsigned(UInt16.self))
            blockIO.leafWeight = try io["leafWeight"]?.unsigned(UInt16.self)
            blockIO.weightDevice = try io["weightDevice"]?.array().map {
                Spec.WeightDevice(
                    major: try $0.required("major").signed(Int64.self),
                    minor: try $0.required("minor").signed(Int64.self),
                    weight: try $0["weight"]?.unsigned(UInt16.self),
                    leafWeight: try $0["leafWeight"]?.unsigned(UInt16.self))
            }
            blockIO.throttleReadBpsDevice = try throttles("throttleReadBpsDevice")
            blockIO.throttleWriteBpsDevice = try throttles("throttleWriteBpsDevice")
            blockIO.throttleReadIOPSDevice = try throttles("throttleReadIOPSDevice")
            blockIO.throttleWriteIOPSDevice = try throttles("throttleWriteIOPSDevice")
            return blockIO
        }
        resources.network = try field["network"].map {
            Spec.Network(
                classID: try $0["classID"]?.unsigned(UInt32.self),
                priorities: try $0["priorities"]?.array().map {
                    Spec.InterfacePriority(
                        name: try $0.required("name").string(),
                        priority: try $0.required("priority").unsigned(UInt32.self))
                })
        }
        resources.unified = try field["unified"]?.stringMap()
        resources.devices = try field["devices"]?.array().map {
            Spec.DeviceRule(
                allow: try $0.required("allow").bool(), type: try $0["type"]?.string(),
                major: try $0["major"]?.signed(Int64.self),
                minor: try $0["minor"]?.signed(Int64.self), access: try $0["access"]?.string())
        }
        return resources
    }

    /// A value with the path that leads to it, for messages.
    public struct Field {
        public let value: JSONValue
        public let path: String

        public init(_ value: JSONValue, _ path: String) {
            self.value = value
            self.path = path
        }

        func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

        /// A member; a missing one and `null` both read as absent, as Codable's optionals do.
        public subscript(key: String) -> Field? {
            guard let member = value[key] else { return nil }
            if case .null = member { return nil }
            return Field(member, child(key))
        }

        public func required(_ key: String) throws -> Field {
            guard let member = value[key] else {
                guard case .object = value else { throw SpecError(path, "expected an object") }
                throw SpecError(child(key), "required by the spec but missing")
            }
            if case .null = member { throw SpecError(child(key), "expected a value, found null") }
            return Field(member, child(key))
        }

        public func string() throws -> String {
            guard case .string(let text) = value else { throw SpecError(path, "expected a string") }
            return text
        }

        public func bool() throws -> Bool {
            guard case .bool(let flag) = value else { throw SpecError(path, "expected true or false") }
            return flag
        }

        public func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) throws -> T {
            guard case .number(let text) = value, let number = T(text) else {
                throw SpecError(
                    path,
                    isNumber
                        ? "\(numberText) does not fit: expected a non-negative integer up to \(T.max)"
                        : "expected a non-negative integer")
            }
            return number
        }

        public func signed<T: FixedWidthInteger & SignedInteger>(_ type: T.Type) throws -> T {
            guard case .number(let text) = value, let number = T(text) else {
                throw SpecError(
                    path,
                    isNumber
                        ? "\(numberText) does not fit: expected an integer from \(T.min) to \(T.max)"
                        : "expected an integer")
            }
            return number
        }

        var isNumber: Bool { if case .number = value { return true } else { return false } }
        var numberText: String { if case .number(let text) = value { return text } else { return "" } }

        public func array() throws -> [Field] {
            guard case .array(let items) = value else { throw SpecError(path, "expected an array") }
            return items.enumerated().map { Field($0.element, path + "[\($0.offset)]") }
        }

        public func strings() throws -> [String] { try array().map { try $0.string() } }

        public func stringMap() throws -> [String: String] {
            guard case .object(let members) = value else { throw SpecError(path, "expected an object") }
            var map: [String: String] = [:]
            for (key, member) in members {
                if case .null = member { continue }
                map[key] = try Field(member, child(key)).string()
            }
            return map
        }
    }
}
