/// linux.seccomp's words as the kernel and libseccomp number them. Pure, so the mapping is
/// tested without loading a filter.
public enum SeccompNames {
    /// SCMP_ACT_* as the filter's return values (SECCOMP_RET_* in <linux/seccomp.h>); ERRNO and
    /// TRACE carry their data in the low 16 bits. SCMP_ACT_NOTIFY hands the call to the agent at
    /// linux.seccomp.listenerPath.
    public static func action(_ name: String, errnoRet: UInt32?) -> UInt32? {
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return 0x0000_0000
        case "SCMP_ACT_KILL_PROCESS": return 0x8000_0000
        case "SCMP_ACT_TRAP": return 0x0003_0000
        // runtime-spec: without errnoRet, EPERM.
        case "SCMP_ACT_ERRNO": return 0x0005_0000 | ((errnoRet ?? 1) & 0xffff)
        case "SCMP_ACT_TRACE": return 0x7ff0_0000 | ((errnoRet ?? 1) & 0xffff)
        case "SCMP_ACT_NOTIFY": return 0x7fc0_0000
        case "SCMP_ACT_LOG": return 0x7ffc_0000
        case "SCMP_ACT_ALLOW": return 0x7fff_0000
        default: return nil
        }
    }

    /// The names `action`, `comparison` and `architecture` know, for `features`.
    public static let actions = [
        "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"
    ]
    public static let operators = [
        "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
        "SCMP_CMP_NE"
    ]
    public static var architectures: [String] { knownArchitectures.map { "SCMP_ARCH_" + $0 } }
    static let knownArchitectures = [
        "X86", "X86_64", "X32", "ARM", "AARCH64", "MIPS", "MIPS64", "MIPS64N32", "MIPSEL", "MIPSEL64",
        "MIPSEL64N32", "PPC", "PPC64", "PPC64LE", "S390", "S390X", "RISCV64"
    ]

    /// SCMP_CMP_* as libseccomp's enum scmp_compare.
    public static func comparison(_ name: String) -> UInt32? {
        [
            "SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6,
            "SCMP_CMP_MASKED_EQ": 7
        ][name]
    }

    /// SCMP_ARCH_X86_64 → "x86_64", the name seccomp_arch_resolve_name takes.
    public static func architecture(_ name: String) -> String? {
        guard name.hasPrefix("SCMP_ARCH_"), knownArchitectures.contains(String(name.dropFirst(10))) else { return nil }
        return name.dropFirst(10).lowercased()
    }

    /// The argument conditions of one rule, split as libseccomp needs them: it refuses two
    /// conditions on the same argument in one rule, so those become one rule each (either may
    /// match), as runc does.
    public static func ruleGroups(_ args: [Spec.SyscallArg]) -> [[Spec.SyscallArg]] {
        let indexes = args.map(\.index)
        if Set(indexes).count == indexes.count { return [args] }
        return args.map { [$0] }
    }
}

extension Spec.Seccomp {
    /// Whether a rule hands calls to an agent, so that the filter needs a listener.
    public var usesNotify: Bool { (syscalls ?? []).contains { $0.action == "SCMP_ACT_NOTIFY" } }
}

extension SpecCheck {
    /// linux.seccomp: every action, comparison and architecture must be one contlab can load.
    static func validateSeccomp(_ seccomp: Spec.Seccomp) throws {
        let path = "linux.seccomp"
        // The runtime's own calls after loading the filter (its reports to the host) would wait for an
        // agent that has no descriptor yet; runc refuses these two for that reason too.
        if seccomp.defaultAction == "SCMP_ACT_NOTIFY" {
            throw SpecError(
                path + ".defaultAction",
                "SCMP_ACT_NOTIFY cannot be used as the default action: the"
                    + " runtime's own calls after loading the filter would wait on the agent; name the calls to"
                    + " notify in syscalls")
        }
        if SeccompNames.action(seccomp.defaultAction, errnoRet: nil) == nil {
            let known = SeccompNames.actions.joined(separator: ", ")
            throw SpecError(
                path + ".defaultAction",
                "\"\(seccomp.defaultAction)\" is not an action contlab loads (\(known))")
        }
        if let flags = seccomp.flags, !flags.isEmpty {
            throw SpecError(path + ".flags", "filter flags are not implemented by contlab yet; remove them")
        }
        if seccomp.usesNotify && (seccomp.listenerPath ?? "").isEmpty {
            throw SpecError(
                path + ".listenerPath",
                "SCMP_ACT_NOTIFY needs an agent to answer the calls: give the"
                    + " path of its unix socket (the runtime connects there and sends it the filter's"
                    + " descriptor)")
        }
        for (i, arch) in (seccomp.architectures ?? []).enumerated() where SeccompNames.architecture(arch) == nil {
            throw SpecError("\(path).architectures[\(i)]", "unknown architecture \"\(arch)\"")
        }
        for (i, rule) in (seccomp.syscalls ?? []).enumerated() {
            if SeccompNames.action(rule.action, errnoRet: nil) == nil {
                throw SpecError("\(path).syscalls[\(i)].action", "\"\(rule.action)\" is not an action contlab loads")
            }
            if rule.action == "SCMP_ACT_NOTIFY" && rule.names.contains("write") {
                throw SpecError(
                    "\(path).syscalls[\(i)].names",
                    "SCMP_ACT_NOTIFY cannot be used for the write syscall:"
                        + " the runtime writes its reports to the host after loading the filter, before the"
                        + " agent has it; remove write")
            }
            for (j, arg) in (rule.args ?? []).enumerated() {
                if SeccompNames.comparison(arg.op) == nil {
                    throw SpecError("\(path).syscalls[\(i)].args[\(j)].op", "unknown comparison \"\(arg.op)\"")
                }
                if arg.index > 5 {
                    throw SpecError("\(path).syscalls[\(i)].args[\(j)].index", "a system call has arguments 0 to 5")
                }
            }
        }
    }
}
