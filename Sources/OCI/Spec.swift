import Foundation

/// The OCI runtime-spec's config.json (v1.2), as plain Codable values named after the spec's
/// fields. Only what contlab implements is modelled; `SpecCheck` refuses the rest by name.
public struct Spec: Codable, Equatable, Sendable {
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var domainname: String?
    public var mounts: [Mount]?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(
        ociVersion: String, process: Process? = nil, root: Root? = nil, hostname: String? = nil,
        domainname: String? = nil, mounts: [Mount]? = nil, hooks: Hooks? = nil,
        annotations: [String: String]? = nil, linux: Linux? = nil
    ) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.domainname = domainname
        self.mounts = mounts
        self.hooks = hooks
        self.annotations = annotations
        self.linux = linux
    }

    public struct Process: Codable, Equatable, Sendable {
        public var terminal: Bool?
        public var consoleSize: ConsoleSize?
        public var user: User
        public var args: [String]?
        public var env: [String]?
        public var cwd: String
        public var capabilities: Capabilities?
        public var rlimits: [Rlimit]?
        public var noNewPrivileges: Bool?
        public var oomScoreAdj: Int?
        public var apparmorProfile: String?
        public var selinuxLabel: String?

        public init(
            terminal: Bool? = nil, user: User = User(uid: 0, gid: 0), args: [String], env: [String]? = nil,
            cwd: String = "/", capabilities: Capabilities? = nil, rlimits: [Rlimit]? = nil,
            noNewPrivileges: Bool? = nil
        ) {
            self.terminal = terminal
            self.user = user
            self.args = args
            self.env = env
            self.cwd = cwd
            self.capabilities = capabilities
            self.rlimits = rlimits
            self.noNewPrivileges = noNewPrivileges
        }
    }

    public struct ConsoleSize: Codable, Equatable, Sendable {
        public var height: UInt16
        public var width: UInt16
    }

    public struct User: Codable, Equatable, Sendable {
        public var uid: UInt32
        public var gid: UInt32
        public var umask: UInt32?
        public var additionalGids: [UInt32]?

        public init(uid: UInt32, gid: UInt32, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
            self.uid = uid
            self.gid = gid
            self.umask = umask
            self.additionalGids = additionalGids
        }
    }

    public struct Capabilities: Codable, Equatable, Sendable {
        public var bounding: [String]?
        public var effective: [String]?
        public var inheritable: [String]?
        public var permitted: [String]?
        public var ambient: [String]?

        public init(
            bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
            permitted: [String]? = nil, ambient: [String]? = nil
        ) {
            self.bounding = bounding
            self.effective = effective
            self.inheritable = inheritable
            self.permitted = permitted
            self.ambient = ambient
        }
    }

    public struct Rlimit: Codable, Equatable, Sendable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64
    }

    public struct Root: Codable, Equatable, Sendable {
        public var path: String
        public var readonly: Bool?

        public init(path: String, readonly: Bool? = nil) {
            self.path = path
            self.readonly = readonly
        }
    }

    public struct Mount: Codable, Equatable, Sendable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]?

        public init(destination: String, type: String?, source: String?, options: [String]? = nil) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }

    public struct Hook: Codable, Equatable, Sendable {
        public var path: String
        public var args: [String]?
        public var env: [String]?
        public var timeout: Int?
    }

    public struct Hooks: Codable, Equatable, Sendable {
        public var prestart: [Hook]?
        public var createRuntime: [Hook]?
        public var createContainer: [Hook]?
        public var startContainer: [Hook]?
        public var poststart: [Hook]?
        public var poststop: [Hook]?
    }

    public struct Linux: Codable, Equatable, Sendable {
        public var namespaces: [Namespace]?
        public var uidMappings: [IDMapping]?
        public var gidMappings: [IDMapping]?
        public var resources: Resources?
        public var cgroupsPath: String?
        public var maskedPaths: [String]?
        public var readonlyPaths: [String]?
        public var sysctl: [String: String]?
        public var devices: [Device]?
        public var rootfsPropagation: String?
        public var seccomp: Seccomp?
        public var mountLabel: String?

        public init(namespaces: [Namespace]? = nil) { self.namespaces = namespaces }
    }

    public struct Namespace: Codable, Equatable, Sendable {
        public var type: String
        public var path: String?

        public init(type: String, path: String? = nil) {
            self.type = type
            self.path = path
        }
    }

    public struct IDMapping: Codable, Equatable, Sendable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32

        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            self.containerID = containerID
            self.hostID = hostID
            self.size = size
        }
    }

    public struct Resources: Codable, Equatable, Sendable {
        public var memory: Memory?
        public var pids: Pids?
        public var cpu: CPU?
        public var devices: [DeviceRule]?
        public var blockIO: BlockIO?
        public var network: Network?
        /// cgroup v2 files by name (`memory.high`), written as given after the other settings.
        public var unified: [String: String]?

        public init(memory: Memory? = nil, pids: Pids? = nil, cpu: CPU? = nil, devices: [DeviceRule]? = nil) {
            self.memory = memory
            self.pids = pids
            self.cpu = cpu
            self.devices = devices
        }
    }

    public struct Memory: Codable, Equatable, Sendable {
        public var limit: Int64?
        public var reservation: Int64?
        public var swap: Int64?
        public var kernel: Int64?
        public var kernelTCP: Int64?
        public var swappiness: UInt64?
        public var disableOOMKiller: Bool?

        public init(limit: Int64? = nil, swap: Int64? = nil) {
            self.limit = limit
            self.swap = swap
        }
    }

    /// linux.resources.blockIO: weights (10 to 1000) and throttles, per device by major:minor.
    public struct BlockIO: Codable, Equatable, Sendable {
        public var weight: UInt16?
        public var leafWeight: UInt16?
        public var weightDevice: [WeightDevice]?
        public var throttleReadBpsDevice: [ThrottleDevice]?
        public var throttleWriteBpsDevice: [ThrottleDevice]?
        public var throttleReadIOPSDevice: [ThrottleDevice]?
        public var throttleWriteIOPSDevice: [ThrottleDevice]?

        public init(weight: UInt16? = nil) { self.weight = weight }
    }

    public struct WeightDevice: Codable, Equatable, Sendable {
        public var major: Int64
        public var minor: Int64
        public var weight: UInt16?
        public var leafWeight: UInt16?

        public init(major: Int64, minor: Int64, weight: UInt16? = nil, leafWeight: UInt16? = nil) {
            self.major = major
            self.minor = minor
            self.weight = weight
            self.leafWeight = leafWeight
        }
    }

    public struct ThrottleDevice: Codable, Equatable, Sendable {
        public var major: Int64
        public var minor: Int64
        public var rate: UInt64

        public init(major: Int64, minor: Int64, rate: UInt64) {
            self.major = major
            self.minor = minor
            self.rate = rate
        }
    }

    /// linux.resources.network: the net_cls class id and net_prio priorities (cgroup v1 only).
    public struct Network: Codable, Equatable, Sendable {
        public var classID: UInt32?
        public var priorities: [InterfacePriority]?

        public init(classID: UInt32? = nil, priorities: [InterfacePriority]? = nil) {
            self.classID = classID
            self.priorities = priorities
        }
    }

    public struct InterfacePriority: Codable, Equatable, Sendable {
        public var name: String
        public var priority: UInt32

        public init(name: String, priority: UInt32) {
            self.name = name
            self.priority = priority
        }
    }

    public struct Pids: Codable, Equatable, Sendable {
        public var limit: Int64

        public init(limit: Int64) { self.limit = limit }
    }

    public struct CPU: Codable, Equatable, Sendable {
        public var shares: UInt64?
        public var quota: Int64?
        public var period: UInt64?
        public var cpus: String?
        public var mems: String?
        /// cgroup v1's realtime bandwidth (cpu.rt_runtime_us of every cpu.rt_period_us).
        public var realtimeRuntime: Int64?
        public var realtimePeriod: UInt64?

        public init(shares: UInt64? = nil, quota: Int64? = nil, period: UInt64? = nil) {
            self.shares = shares
            self.quota = quota
            self.period = period
        }
    }

    public struct DeviceRule: Codable, Equatable, Sendable {
        public var allow: Bool
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        public var access: String?

        public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }
    }

    public struct Device: Codable, Equatable, Sendable {
        public var path: String
        public var type: String
        public var major: Int64?
        public var minor: Int64?
        public var fileMode: UInt32?
        public var uid: UInt32?
        public var gid: UInt32?

        public init(
            path: String, type: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil,
            uid: UInt32? = nil, gid: UInt32? = nil
        ) {
            self.path = path
            self.type = type
            self.major = major
            self.minor = minor
            self.fileMode = fileMode
            self.uid = uid
            self.gid = gid
        }
    }

    /// linux.seccomp: a filter of system calls, loaded by the init once it has taken the process's
    /// user, before it reports ready (runc's order), and by exec for each process it adds.
    public struct Seccomp: Codable, Equatable, Sendable {
        public var defaultAction: String
        public var defaultErrnoRet: UInt32?
        public var architectures: [String]?
        public var flags: [String]?
        /// A unix socket of a seccomp agent: the runtime sends it the filter's notification
        /// descriptor (SCMP_ACT_NOTIFY) with the container process state.
        public var listenerPath: String?
        /// Opaque to the runtime; handed to the agent as the process state's `metadata`.
        public var listenerMetadata: String?
        public var syscalls: [Syscall]?

        public init(defaultAction: String, architectures: [String]? = nil, syscalls: [Syscall]? = nil) {
            self.defaultAction = defaultAction
            self.architectures = architectures
            self.syscalls = syscalls
        }
    }

    public struct Syscall: Codable, Equatable, Sendable {
        public var names: [String]
        public var action: String
        public var errnoRet: UInt32?
        public var args: [SyscallArg]?

        public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [SyscallArg]? = nil) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
        }
    }

    public struct SyscallArg: Codable, Equatable, Sendable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: String

        public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }
}
