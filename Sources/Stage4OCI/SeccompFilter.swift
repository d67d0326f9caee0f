import CSeccomp
import ContlabCore
import Foundation
import OCI

/// linux.seccomp compiled by libseccomp into a BPF program and loaded into this process; the
/// filter is inherited across exec, so the container's process runs under it.
enum SeccompFilter {
    static func load(_ seccomp: Spec.Seccomp) throws {
        guard let defaultAction = SeccompNames.action(seccomp.defaultAction, errnoRet: seccomp.defaultErrnoRet) else {
            throw OCIInit.Failure("linux.seccomp.defaultAction \(seccomp.defaultAction): unknown")
        }
        guard let filter = seccomp_init(defaultAction) else { throw OCIInit.Failure("linux.seccomp: seccomp_init failed") }
        defer { seccomp_release(filter) }
        // Loading a filter must not set no_new_privs by itself: process.noNewPrivileges decides
        // that (libseccomp sets it by default; runc turns that off too).
        _ = seccomp_attr_set(filter, SCMP_FLTATR_CTL_NNP, 0)
        for (i, name) in (seccomp.architectures ?? []).enumerated() {
            guard let arch = SeccompNames.architecture(name) else { continue }
            let token = seccomp_arch_resolve_name(arch)
            if token == 0 { throw OCIInit.Failure("linux.seccomp.architectures[\(i)]: libseccomp does not know \(name)") }
            let rc = seccomp_arch_add(filter, token)
            if rc != 0 && rc != -EEXIST { throw OCIInit.Failure("linux.seccomp.architectures[\(i)] \(name): \(String(cString: strerror(-rc)))") }
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
                        scmp_arg_cmp(arg: arg.index, op: scmp_compare(rawValue: SeccompNames.comparison(arg.op) ?? 4),
                                     datum_a: arg.value, datum_b: arg.valueTwo ?? 0)
                    }
                    let rc = seccomp_rule_add_array(filter, action, number, UInt32(conditions.count), &conditions)
                    if rc != 0 {
                        throw OCIInit.Failure("linux.seccomp.syscalls[\(i)] \(name): libseccomp refused the rule: \(String(cString: strerror(-rc)))")
                    }
                    rules += 1
                }
            }
        }
        CallRecord.shared.note("seccomp(SECCOMP_SET_MODE_FILTER, \(rules) rules, default \(seccomp.defaultAction))")
        let rc = seccomp_load(filter)
        if rc != 0 {
            throw OCIInit.Failure("linux.seccomp: loading the filter failed: \(String(cString: strerror(-rc)))"
                                  + (rc == -EACCES ? " — without process.noNewPrivileges it needs CAP_SYS_ADMIN" : ""))
        }
    }
}
