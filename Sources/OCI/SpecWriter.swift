import ContlabCore

/// The parts of a spec that contlab hands between its own processes (exec's process and
/// seccomp filter) as JSON trees, the mirror of `SpecReader`; absent fields are left out.
public enum SpecWriter {
    public static func process(_ process: Spec.Process) -> JSONValue {
        var members: [(String, JSONValue)] = []
        func add(_ key: String, _ value: JSONValue?) { if let value { members.append((key, value)) } }
        add("terminal", process.terminal.map(JSONValue.bool))
        add(
            "consoleSize",
            process.consoleSize.map { .object([("height", number($0.height)), ("width", number($0.width))]) })
        var user: [(String, JSONValue)] = [("uid", number(process.user.uid)), ("gid", number(process.user.gid))]
        if let umask = process.user.umask { user.append(("umask", number(umask))) }
        if let gids = process.user.additionalGids { user.append(("additionalGids", .array(gids.map(number)))) }
        add("user", .object(user))
        add("args", process.args.map(strings))
        add("env", process.env.map(strings))
        add("cwd", .string(process.cwd))
        add(
            "capabilities",
            process.capabilities.map { caps in
                var sets: [(String, JSONValue)] = []
                for (name, list) in [
                    ("bounding", caps.bounding), ("effective", caps.effective), ("inheritable", caps.inheritable),
                    ("permitted", caps.permitted), ("ambient", caps.ambient)
                ] {
                    if let list { sets.append((name, strings(list))) }
                }
                return .object(sets)
            })
        add(
            "rlimits",
            process.rlimits.map {
                .array(
                    $0.map {
                        .object([("type", .string($0.type)), ("hard", number($0.hard)), ("soft", number($0.soft))])
                    })
            })
        add("noNewPrivileges", process.noNewPrivileges.map(JSONValue.bool))
        add("oomScoreAdj", process.oomScoreAdj.map(number))
        add("apparmorProfile", process.apparmorProfile.map(JSONValue.string))
        add("selinuxLabel", process.selinuxLabel.map(JSONValue.string))
        return .object(members)
    }

    public static func seccomp(_ seccomp: Spec.Seccomp) -> JSONValue {
        var members: [(String, JSONValue)] = [("defaultAction", .string(seccomp.defaultAction))]
        if let ret = seccomp.defaultErrnoRet { members.append(("defaultErrnoRet", number(ret))) }
        if let architectures = seccomp.architectures { members.append(("architectures", strings(architectures))) }
        if let flags = seccomp.flags { members.append(("flags", strings(flags))) }
        if let path = seccomp.listenerPath { members.append(("listenerPath", .string(path))) }
        if let metadata = seccomp.listenerMetadata { members.append(("listenerMetadata", .string(metadata))) }
        if let syscalls = seccomp.syscalls {
            members.append(
                (
                    "syscalls",
                    .array(
                        syscalls.map { rule in
                            var fields: [(String, JSONValue)] = [
                                ("names", strings(rule.names)), ("action", .string(rule.action))
                            ]
                            if let ret = rule.errnoRet { fields.append(("errnoRet", number(ret))) }
                            if let args = rule.args {
                                fields.append(
                                    (
                                        "args",
                                        .array(
                                            args.map { arg in
                                                var items: [(String, JSONValue)] = [
                                                    ("index", number(arg.index)), ("value", number(arg.value))
                                                ]
                                                if let two = arg.valueTwo { items.append(("valueTwo", number(two))) }
                                                items.append(("op", .string(arg.op)))
                                                return .object(items)
                                            })
                                    ))
                            }
                            return .object(fields)
                        })
                ))
        }
        return .object(members)
    }

    static func number<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }
    static func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
}
