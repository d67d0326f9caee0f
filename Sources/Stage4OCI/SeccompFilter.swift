import CLinux
import CSeccomp
import ContlabCore
import Foundation
import OCI

/// linux.seccomp compiled by libseccomp into a BPF program and loaded into this process; the
/// filter is inherited across exec, so the container's process runs under it.
enum SeccompFilter {
    /// Loads the filter; with an SCMP_ACT_NOTIFY rule, returns the new listener's descriptor
    /// (the kernel makes one only at load time, SECCOMP_FILTER_FLAG_NEW_LISTENER), which the
    /// caller must get to the agent and close.
    static func load(_ seccomp: Spec.Seccomp) throws -> Int32? {
        guard let defaultAction = SeccompNames.action(seccomp.defaultAction, errnoRet: seccomp.defaultErrnoRet) else {
            throw InitError.field("linux.seccomp.defaultAction \(seccomp.defaultAction)", "unknown")
        }
        guard let filter = seccomp_init(defaultAction) else {
            throw InitError.field("linux.seccomp", "seccomp_init failed")
        }
        defer { seccomp_release(filter) }
        // Loading a filter must not set no_new_privs by itself: process.noNewPrivileges decides
        // that (libseccomp sets it by default; runc turns that off too).
        _ = seccomp_attr_set(filter, SCMP_FLTATR_CTL_NNP, 0)
        for (i, name) in (seccomp.architectures ?? []).enumerated() {
            guard let arch = SeccompNames.architecture(name) else { continue }
            let token = seccomp_arch_resolve_name(arch)
            if token == 0 {
                throw InitError.field("linux.seccomp.architectures[\(i)]", "libseccomp does not know \(name)")
            }
            let rc = seccomp_arch_add(filter, token)
            if rc != 0 && rc != -EEXIST {
                throw InitError.field("linux.seccomp.architectures[\(i)] \(name)", String(cString: strerror(-rc)))
            }
        }
        var rules = 0
        for (i, rule) in (seccomp.syscalls ?? []).enumerated() {
            guard let action = SeccompNames.action(rule.action, errnoRet: rule.errnoRet) else { continue }
            // libseccomp refuses a rule that repeats the default action; it would change nothing.
            if action == defaultAction { continue }
            let groups = SeccompNames.ruleGroups(rule.args ?? [])
            for name in rule.names {
                // A call this libseccomp (or this architecture) does not know cannot be made
                // here either; runc skips it the same way.
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR { continue }
                for group in groups {
                    var conditions = group.map { arg in
                        scmp_arg_cmp(
                            arg: arg.index, op: scmp_compare(rawValue: SeccompNames.comparison(arg.op) ?? 4),
                            datum_a: arg.value, datum_b: arg.valueTwo ?? 0)
                    }
                    let rc = seccomp_rule_add_array(filter, action, number, UInt32(conditions.count), &conditions)
                    if rc != 0 {
                        throw InitError.field(
                            "linux.seccomp.syscalls[\(i)] \(name)",
                            "libseccomp refused the rule: \(String(cString: strerror(-rc)))")
                    }
                    rules += 1
                }
            }
        }
        if SeccompENOSYS.wanted(seccomp) {
            let stub = SeccompENOSYS.stub(SeccompENOSYS.limits(architectureNumbers(seccomp)))
            if !stub.isEmpty {
                let program = stub + (try exported(filter))
                let call =
                    "seccomp(SECCOMP_SET_MODE_FILTER, \(rules) rules, default \(seccomp.defaultAction),"
                    + " \(stub.count) instructions first for ENOSYS)"
                guard program.count <= 4096 else {
                    throw InitError.field(
                        "linux.seccomp",
                        "the filter has \(program.count) BPF instructions, over the kernel's 4096; name fewer calls")
                }
                do {
                    let bytes = program.flatMap(\.bytes)
                    return try Sys.loadSeccompProgram(bytes, listener: seccomp.usesNotify, call: call)
                } catch let error as SystemCallError {
                    throw loadFailure(error)
                }
            }
        }
        do {
            let call = "seccomp(SECCOMP_SET_MODE_FILTER, \(rules) rules, default \(seccomp.defaultAction))"
            guard try Sys.libraryCall(call, { seccomp_load(filter) }) else { return nil }
        } catch let error as SystemCallError {
            throw loadFailure(error)
        }
        // libseccomp asks for a listener itself when a rule notifies, and keeps its descriptor.
        guard seccomp.usesNotify else { return nil }
        let fd = seccomp_notify_fd(filter)
        if fd < 0 {
            throw InitError.field(
                "linux.seccomp",
                "the filter was loaded without a notification descriptor:"
                    + " \(String(cString: strerror(-fd)))")
        }
        return fd
    }

    static func loadFailure(_ error: SystemCallError) -> InitError {
        InitError.field(
            "linux.seccomp",
            "loading the filter failed: \(String(cString: strerror(error.errno)))"
                + (error.errno == EACCES ? " — without process.noNewPrivileges it needs CAP_SYS_ADMIN" : ""))
    }

    /// Each listed architecture's libseccomp token, and the numbers there of every call the
    /// profile names (whatever its action), for the ENOSYS stub.
    static func architectureNumbers(_ seccomp: Spec.Seccomp) -> [(token: UInt32, numbers: [Int32])] {
        let names = Set((seccomp.syscalls ?? []).flatMap(\.names))
        return (seccomp.architectures ?? []).compactMap { name in
            guard let arch = SeccompNames.architecture(name) else { return nil }
            let token = seccomp_arch_resolve_name(arch)
            guard token != 0 else { return nil }
            return (token, names.map { seccomp_syscall_resolve_name_arch(token, $0) })
        }
    }

    /// libseccomp's program for `filter`, as the kernel takes it: written to a pipe and read
    /// back (libseccomp 2.5 exports only to a descriptor). The kernel's limit of 4096
    /// instructions is 32 KiB, within a pipe's 64 KiB; the write end does not block, so a larger
    /// program fails here rather than hanging.
    static func exported(_ filter: scmp_filter_ctx) throws -> [SeccompENOSYS.Instruction] {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw InitError.field(
                "linux.seccomp", "pipe for the filter's program failed: \(String(cString: strerror(errno)))")
        }
        Sys.setCloexec(fds[0], true)
        Sys.setCloexec(fds[1], true)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        let rc = seccomp_export_bpf(filter, fds[1])
        close(fds[1])
        defer { close(fds[0]) }
        guard rc == 0 else {
            throw InitError.field(
                "linux.seccomp", "libseccomp could not export the filter's program: \(String(cString: strerror(-rc)))")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return SeccompENOSYS.Instruction.decode(bytes)
    }
}
