import CCap
import CLinux
import Foundation

/// A capability as the kernel numbers it and capabilities(7) names it.
public struct Capability: Equatable, Sendable {
    public var value: Int32
    public var name: String

    public init(_ value: Int32, _ name: String) {
        self.value = value
        self.name = name
    }
}

/// The calls that give a process its identity (credentials(7): user, groups, capabilities) and
/// its limits, each recorded in C notation like the rest of `Sys`. In the recording mode they
/// only note themselves: a unit test may "become" uid 1000 without changing its own process.
extension Sys {
    /// setrlimit(2) of `resource` (an RLIMIT_* value, `name` its name).
    public static func setrlimit(_ resource: Int32, name: String, soft: UInt64, hard: UInt64) throws {
        let call = "setrlimit(\(name), {\(soft), \(hard)})"
        guard record(call) else { return }
        var value = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        if Glibc.setrlimit(__rlimit_resource_t(UInt32(resource)), &value) != 0 {
            throw SystemCallError(call, errno: errno)
        }
    }

    /// umask(2); it cannot fail.
    public static func umask(_ mask: mode_t) {
        guard record("umask(0\(String(mask, radix: 8)))") else { return }
        _ = Glibc.umask(mask)
    }

    public static func setgroups(_ groups: [gid_t]) throws {
        let list = groups.isEmpty ? "NULL" : "{" + groups.map(String.init).joined(separator: ", ") + "}"
        let call = "setgroups(\(groups.count), \(list))"
        guard record(call) else { return }
        if Glibc.setgroups(groups.count, groups) != 0 { throw SystemCallError(call, errno: errno) }
    }

    public static func setgid(_ gid: gid_t) throws {
        let call = "setgid(\(gid))"
        guard record(call) else { return }
        if Glibc.setgid(gid) != 0 { throw SystemCallError(call, errno: errno) }
    }

    public static func setuid(_ uid: uid_t) throws {
        let call = "setuid(\(uid))"
        guard record(call) else { return }
        if Glibc.setuid(uid) != 0 { throw SystemCallError(call, errno: errno) }
    }

    public static func fchown(_ fd: Int32, uid: uid_t, gid: gid_t) throws {
        let call = "fchown(\(fd), \(uid), \(gid))"
        guard record(call) else { return }
        if Glibc.fchown(fd, uid, gid) != 0 { throw SystemCallError(call, errno: errno) }
    }

    /// prctl(PR_SET_KEEPCAPS): whether the permitted set survives a setuid away from root.
    public static func keepCapabilities(_ keep: Bool) throws {
        try prctl("PR_SET_KEEPCAPS, \(keep ? 1 : 0)", Int32(CL_PR_SET_KEEPCAPS), keep ? 1 : 0)
    }

    /// prctl(PR_SET_PDEATHSIG): `signal` when the parent dies (0: none).
    public static func setParentDeathSignal(_ signal: Int32) throws {
        let name = signal == 0 ? "0" : Signals.name(signal)
        try prctl("PR_SET_PDEATHSIG, \(name)", Int32(CL_PR_SET_PDEATHSIG), UInt(signal))
    }

    /// prctl(PR_SET_NO_NEW_PRIVS, 1): no exec from here on grants more than this process has.
    public static func setNoNewPrivileges() throws {
        try prctl("PR_SET_NO_NEW_PRIVS, 1", Int32(CL_PR_SET_NO_NEW_PRIVS), 1)
    }

    static func prctl(_ arguments: String, _ option: Int32, _ argument: UInt) throws {
        let call = "prctl(\(arguments))"
        guard record(call) else { return }
        if cl_prctl(option, argument, 0, 0, 0) != 0 { throw SystemCallError(call, errno: errno) }
    }

    /// prctl(PR_CAPBSET_DROP) of each of `capabilities`, in order, noted as one line (a bounding
    /// set is a few dozen drops). A capability this kernel does not know (EINVAL) is skipped;
    /// any other failure stops at that capability.
    public static func dropFromBoundingSet(_ capabilities: [Capability]) throws {
        guard !capabilities.isEmpty else { return }
        let names = capabilities.map(\.name).joined(separator: ", ")
        guard record("prctl(PR_CAPBSET_DROP, cap) for each cap of {\(names)}") else { return }
        for capability in capabilities where cap_drop_bound(cap_value_t(capability.value)) != 0 && errno != EINVAL {
            throw SystemCallError("prctl(PR_CAPBSET_DROP, \(capability.name))", errno: errno)
        }
    }

    /// capset(2) of the effective, permitted and inheritable sets (libcap's cap_set_proc).
    public static func setCapabilities(
        effective: [Capability], permitted: [Capability],
        inheritable: [Capability]
    ) throws {
        func set(_ capabilities: [Capability]) -> String {
            capabilities.isEmpty ? "0" : capabilities.map(\.name).joined(separator: "|")
        }
        let call = "capset(effective \(set(effective)), permitted \(set(permitted)), inheritable \(set(inheritable)))"
        guard record(call) else { return }
        guard let state = cap_init() else { throw SystemCallError("cap_init()", errno: errno) }
        defer { cap_free(UnsafeMutableRawPointer(state)) }
        let sets = [(CAP_EFFECTIVE, effective), (CAP_PERMITTED, permitted), (CAP_INHERITABLE, inheritable)]
        for (flag, capabilities) in sets {
            var values = capabilities.map { cap_value_t($0.value) }
            if !values.isEmpty { cap_set_flag(state, flag, Int32(values.count), &values, CAP_SET) }
        }
        if cap_set_proc(state) != 0 { throw SystemCallError(call, errno: errno) }
    }

    /// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE): kept across exec, where the kernel allows it
    /// (the capability must be permitted and inheritable).
    public static func raiseAmbient(_ capability: Capability) throws {
        let call = "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, \(capability.name))"
        guard record(call) else { return }
        if cap_set_ambient(cap_value_t(capability.value), CAP_SET) != 0 { throw SystemCallError(call, errno: errno) }
    }
}
