import Cgroups
import ContlabCore
import Foundation
import OCI

/// What the host hands the OCI init, in `CONTLAB_OCI_PLAN`: the checked spec and the host-side
/// facts the init cannot find for itself once it is inside its namespaces.
public struct OCIInitPlan: Codable, Sendable {
    public var id: String
    public var bundle: String
    /// root.path made absolute.
    public var rootfs: String
    public var spec: Spec
    /// The exec fifo the init blocks on until `start`, opened O_PATH on the host (nil for a run
    /// that starts at once). Descriptors, not paths, as runc hands them: in a joined mount
    /// namespace the runtime's state folder may not exist.
    public var fifoFD: Int32?
    /// The init writes its progress here ("ready", "hooks", "error …"); the host answers on `fromHostFD`.
    public var toHostFD: Int32
    public var fromHostFD: Int32
    /// The caller's --console-socket, connected on the host, to send the pty master over when
    /// process.terminal is set.
    public var consoleFD: Int32?
    /// The container's cgroup directories, for a `cgroup` mount.
    public var cgroupDirectories: [StateStore.Record.CgroupDirectory]
    /// Whether a user namespace is new here (device nodes must then be bind mounts).
    public var inUserNamespace: Bool
    /// Whether the host has createRuntime or prestart hooks to run once the mounts are made.
    public var hostHooks: Bool
    /// Record system calls and send them to the host.
    public var record: Bool
    /// A foreground run: the container dies with its caller (PR_SET_PDEATHSIG, set again after
    /// every change of user, which clears it).
    public var dieWithCaller: Bool
    /// Descriptors 3 … 3+N-1 stay open into the container's process (--preserve-fds).
    public var preserveFDs: Int = 0
    /// The `mounts` entries whose sources the host opens for the init (a new user namespace)
    /// and sends down `toHostFD`, in this order, before the init makes any mount.
    public var bindSources: [Int] = []

    public static let environmentKey = "CONTLAB_OCI_PLAN"
    public static let initArgument = "__oci-init"
}

/// The namespaces a spec asks for, as contlab's `Namespace` values (new ones only; joined ones
/// have a path and are entered by the init with setns).
extension Spec {
    public var newNamespaces: [ContlabCore.Namespace] {
        (linux?.namespaces ?? []).filter { $0.path == nil }.compactMap { Self.namespace(forType: $0.type) }
    }

    public static func namespace(forType type: String) -> ContlabCore.Namespace? {
        switch type {
        case "pid": return .pid
        case "network": return .network
        case "mount": return .mount
        case "ipc": return .ipc
        case "uts": return .uts
        case "user": return .user
        case "cgroup": return .cgroup
        default: return nil
        }
    }
}

/// The plan as JSON text, written and read by hand (see `JSONValue` for why not Codable: the
/// init would otherwise pay again, in a process of its own, what the host paid to decode
/// config.json). The spec travels as config.json's own tree and is read by `SpecReader`.
extension OCIInitPlan {
    public func payload(specDocument: JSONValue) -> String {
        func number(_ value: Int32?) -> JSONValue { value.map { .number(String($0)) } ?? .null }
        let directories: [JSONValue] = cgroupDirectories.map {
            .object([
                ("path", .string($0.path)), ("version", .number(String($0.version))),
                ("controllers", .array($0.controllers.map { .string($0) }))
            ])
        }
        return JSONValue.object([
            ("id", .string(id)), ("bundle", .string(bundle)), ("rootfs", .string(rootfs)), ("spec", specDocument),
            ("fifoFD", number(fifoFD)), ("consoleFD", number(consoleFD)),
            ("toHostFD", .number(String(toHostFD))), ("fromHostFD", .number(String(fromHostFD))),
            ("cgroupDirectories", .array(directories)),
            ("inUserNamespace", .bool(inUserNamespace)), ("hostHooks", .bool(hostHooks)), ("record", .bool(record)),
            ("dieWithCaller", .bool(dieWithCaller)), ("preserveFDs", .number(String(preserveFDs))),
            ("bindSources", .array(bindSources.map { .number(String($0)) }))
        ]).serialized
    }

    public static func decode(payload: String) throws -> OCIInitPlan {
        let document = try JSONValue.parse(payload)
        let plan = SpecReader.Field(document, "plan")
        func optionalFD(_ key: String) throws -> Int32? { try plan[key]?.signed(Int32.self) }
        return OCIInitPlan(
            id: try plan.required("id").string(), bundle: try plan.required("bundle").string(),
            rootfs: try plan.required("rootfs").string(), spec: try SpecReader.spec(try plan.required("spec").value),
            fifoFD: try optionalFD("fifoFD"), toHostFD: try plan.required("toHostFD").signed(Int32.self),
            fromHostFD: try plan.required("fromHostFD").signed(Int32.self), consoleFD: try optionalFD("consoleFD"),
            cgroupDirectories: try plan.required("cgroupDirectories").array().map {
                StateStore.Record.CgroupDirectory(
                    path: try $0.required("path").string(), version: try $0.required("version").signed(Int.self),
                    controllers: try $0.required("controllers").strings())
            },
            inUserNamespace: try plan.required("inUserNamespace").bool(),
            hostHooks: try plan.required("hostHooks").bool(),
            record: try plan.required("record").bool(), dieWithCaller: try plan.required("dieWithCaller").bool(),
            preserveFDs: try plan["preserveFDs"]?.signed(Int.self) ?? 0,
            bindSources: try plan["bindSources"]?.array().map { try $0.signed(Int.self) } ?? [])
    }
}
