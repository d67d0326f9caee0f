import CCap
import ContlabCore
import Foundation

extension IsolationReport {
    /// A two-column table for people: what, and what this process sees.
    public func table(style: Style) -> String {
        var rows: [(String, String)] = [
            ("pid / ppid", "\(pid) / \(ppid)" + (pid == 1 ? "  (PID 1 of its namespace)" : "")),
            ("uid / gid", "\(uid) / \(gid)" + (groups.isEmpty ? "" : "  groups \(groups.map(String.init).joined(separator: ","))")),
            ("hostname", hostname),
            ("root", root + (rootMount.map { "  mounted from \($0)" } ?? "")),
            ("mounts", mountCount.map(String.init) ?? "unknown (no /proc mounted)"),
        ]
        for ns in namespaces {
            var value = ns.id ?? "unavailable"
            switch ns.differsFromHost {
            case true?: value += "  " + style.green("own")
            case false?: value += "  " + style.yellow("shared with host")
            case nil: break
            }
            rows.append(("ns \(ns.kind)", value))
        }
        if let caps = capabilities {
            rows.append(("cap effective", summarize(caps.effective, of: caps.known)))
            rows.append(("cap permitted", summarize(caps.permitted, of: caps.known)))
            rows.append(("cap bounding", summarize(caps.bounding, of: caps.known)))
            rows.append(("cap inheritable", summarize(caps.inheritable, of: caps.known)))
            rows.append(("cap ambient", summarize(caps.ambient, of: caps.known)))
        }
        rows.append(("no_new_privs", noNewPrivileges ? "1" : "0"))
        rows.append(("seccomp", seccomp))
        rows.append(("cgroup", cgroups.isEmpty ? "unknown" : cgroups.joined(separator: "\n")))
        rows.append(("memory limit", memoryLimit ?? "not visible"))
        rows.append(("pids limit", pidsLimit ?? "not visible"))
        rows.append(("uid_map", uidMap?.joined(separator: "\n") ?? "unknown"))
        rows.append(("gid_map", gidMap?.joined(separator: "\n") ?? "unknown"))
        let width = rows.map { Terminal.displayWidth($0.0) }.max() ?? 0
        var out = ""
        for (key, value) in rows {
            let pad = String(repeating: " ", count: width - Terminal.displayWidth(key))
            let lines = value.split(separator: "\n", omittingEmptySubsequences: false)
            out += style.bold(key) + pad + "  " + (lines.first.map(String.init) ?? "") + "\n"
            for line in lines.dropFirst() { out += String(repeating: " ", count: width + 2) + line + "\n" }
        }
        return out
    }

    func summarize(_ names: [String], of known: Int) -> String {
        if names.isEmpty { return "none" }
        if names.count == known { return "all \(known)" }
        let short = { (name: String) in name.replacingOccurrences(of: "CAP_", with: "") }
        if names.count > known / 2 {
            let missing = (0..<known).map { IsolationReport.capabilityName(cap_value_t($0)) }.filter { !names.contains($0) }
            return "\(names.count) of \(known), all but: " + missing.map(short).joined(separator: " ")
        }
        return "\(names.count) of \(known): " + names.map { $0.replacingOccurrences(of: "CAP_", with: "") }.joined(separator: " ")
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Only the namespaces, as JSON: the ids that say what this process shares.
    public func namespacesJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(["namespaces": namespaces]), as: UTF8.self)
    }
}
