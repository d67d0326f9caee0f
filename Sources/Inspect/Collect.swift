import CCap
import CLinux
import ContlabCore
import Foundation

extension IsolationReport {
    /// Look at this process. `hostNamespaces` are the host's ids when the runtime passed them.
    public static func collect(hostNamespaces: [String: String] = [:]) -> IsolationReport {
        let status = Sys.readText("/proc/self/status")
        let mountinfo = Sys.readText("/proc/self/mountinfo")
        let cgroupText = Sys.readText("/proc/self/cgroup") ?? ""
        var groupCount = getgroups(0, nil)
        var groups = [gid_t](repeating: 0, count: Int(max(groupCount, 0)))
        groupCount = getgroups(groupCount, &groups)

        let namespaces = Namespace.allCases.map { ns -> NamespaceEntry in
            let id = Sys.readLink("/proc/self/ns/\(ns.procName)")
            let host = hostNamespaces[ns.procName]
            return NamespaceEntry(
                kind: ns.procName, id: id,
                differsFromHost: (id != nil && host != nil) ? id != host : nil, hostId: host)
        }
        var uts = utsname()
        uname(&uts)
        let hostname = withUnsafePointer(to: &uts.nodename) {
            $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) }
        }
        var limits = (memory: String?.none, pids: String?.none)
        if let memory = cgroupPath(controller: "memory", in: cgroupText) {
            let file =
                memory.v2
                ? "/sys/fs/cgroup\(memory.path)/memory.max"
                : "/sys/fs/cgroup/memory\(memory.path)/memory.limit_in_bytes"
            limits.memory = Sys.readText(file)?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let pids = cgroupPath(controller: "pids", in: cgroupText) {
            let file = pids.v2 ? "/sys/fs/cgroup\(pids.path)/pids.max" : "/sys/fs/cgroup/pids\(pids.path)/pids.max"
            limits.pids = Sys.readText(file)?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let seccomp =
            status.flatMap(seccompMode(fromStatus:))
            ?? {
                switch cl_prctl(Int32(CL_PR_GET_SECCOMP), 0, 0, 0, 0) {
                case 0: return "disabled";
                case 2: return "filter";
                default: return "unknown"
                }
            }()
        return IsolationReport(
            pid: getpid(), ppid: getppid(), uid: getuid(), gid: getgid(),
            groups: Array(groups.prefix(Int(max(groupCount, 0)))), hostname: hostname,
            namespaces: namespaces,
            root: FileIdentity(path: "/")?.description ?? "unknown",
            rootMount: mountinfo.flatMap(rootMount(fromMountinfo:)),
            mountCount: mountinfo.map { $0.split(separator: "\n").count },
            procMounted: mountinfo != nil,
            capabilities: readCapabilities(),
            noNewPrivileges: cl_prctl(Int32(CL_PR_GET_NO_NEW_PRIVS), 0, 0, 0, 0) == 1,
            seccomp: seccomp,
            cgroups: cgroupText.split(separator: "\n").map(String.init),
            memoryLimit: limits.memory, pidsLimit: limits.pids,
            uidMap: Sys.readText("/proc/self/uid_map").map(mapLines),
            gidMap: Sys.readText("/proc/self/gid_map").map(mapLines))
    }

    static func mapLines(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
    }

    /// The five capability sets through libcap: the process's three from cap_get_proc, the
    /// bounding set from cap_get_bound and the ambient set from cap_get_ambient.
    static func readCapabilities() -> Capabilities? {
        guard let caps = cap_get_proc() else { return nil }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        let known = Int(cap_max_bits())
        var sets = (
            effective: [String](), permitted: [String](), inheritable: [String](), bounding: [String](),
            ambient: [String]()
        )
        for value in 0..<known {
            let cap = cap_value_t(value)
            let name = capabilityName(cap)
            var flag = cap_flag_value_t(0)
            if cap_get_flag(caps, cap, CAP_EFFECTIVE, &flag) == 0, flag == CAP_SET { sets.effective.append(name) }
            if cap_get_flag(caps, cap, CAP_PERMITTED, &flag) == 0, flag == CAP_SET { sets.permitted.append(name) }
            if cap_get_flag(caps, cap, CAP_INHERITABLE, &flag) == 0, flag == CAP_SET { sets.inheritable.append(name) }
            if cap_get_bound(cap) == 1 { sets.bounding.append(name) }
            if cap_get_ambient(cap) == 1 { sets.ambient.append(name) }
        }
        return Capabilities(
            effective: sets.effective, permitted: sets.permitted, inheritable: sets.inheritable,
            bounding: sets.bounding, ambient: sets.ambient, known: known)
    }

    /// `CAP_NET_ADMIN`, as the kernel's headers and the OCI spec spell it.
    public static func capabilityName(_ cap: cap_value_t) -> String {
        guard let text = cap_to_name(cap) else { return "CAP_\(cap)" }
        defer { cap_free(UnsafeMutableRawPointer(text)) }
        return String(cString: text).uppercased()
    }
}
