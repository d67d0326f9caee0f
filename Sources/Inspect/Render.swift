import CCap
import ContlabCore
import Foundation
import TextKit

extension IsolationReport {
    /// A two-column table for people: what, and what this process sees, in English or Chinese
    /// (the kernel's own words — pid, uid_map, seccomp, capability names — stay as they are).
    public func table(style: Style, language: Language = .preferred()) -> String {
        let zh = language == .zh
        func t(_ en: String, _ chinese: String) -> String { zh ? chinese : en }
        var rows: [(String, String)] = [
            ("pid / ppid", "\(pid) / \(ppid)" + (pid == 1 ? t("  (PID 1 of its namespace)", "  （所在命名空间的 PID 1）") : "")),
            (
                "uid / gid",
                "\(uid) / \(gid)"
                    + (groups.isEmpty ? "" : t("  groups ", "  附加组 ") + groups.map(String.init).joined(separator: ","))
            ),
            (t("hostname", "主机名"), hostname),
            (t("root", "根目录"), root + (rootMount.map { t("  mounted from ", "  挂载自 ") + $0 } ?? "")),
            (t("mounts", "挂载数"), mountCount.map(String.init) ?? t("unknown (no /proc mounted)", "未知（没有挂载 /proc）"))
        ]
        for ns in namespaces {
            var value = ns.id ?? t("unavailable", "不可用")
            switch ns.differsFromHost {
            case true?: value += "  " + style.green(t("own", "独有"))
            case false?: value += "  " + style.yellow(t("shared with host", "与宿主机共享"))
            case nil: break
            }
            rows.append((t("ns ", "命名空间 ") + ns.kind, value))
        }
        if let caps = capabilities {
            for (name, set) in [
                ("effective", caps.effective), ("permitted", caps.permitted), ("bounding", caps.bounding),
                ("inheritable", caps.inheritable), ("ambient", caps.ambient)
            ] {
                rows.append((t("cap ", "能力 ") + name, summarize(set, of: caps.known, language: language)))
            }
        }
        rows.append(("no_new_privs", noNewPrivileges ? "1" : "0"))
        rows.append(("seccomp", seccomp))
        rows.append(("cgroup", cgroups.isEmpty ? t("unknown", "未知") : cgroups.joined(separator: "\n")))
        rows.append((t("memory limit", "内存上限"), memoryLimit ?? t("not visible", "看不到")))
        rows.append((t("pids limit", "进程数上限"), pidsLimit ?? t("not visible", "看不到")))
        rows.append(("uid_map", uidMap?.joined(separator: "\n") ?? t("unknown", "未知")))
        rows.append(("gid_map", gidMap?.joined(separator: "\n") ?? t("unknown", "未知")))
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

    func summarize(_ names: [String], of known: Int, language: Language = .en) -> String {
        let zh = language == .zh
        if names.isEmpty { return zh ? "无" : "none" }
        if names.count == known { return zh ? "全部 \(known) 个" : "all \(known)" }
        let short = { (name: String) in name.replacingOccurrences(of: "CAP_", with: "") }
        if names.count > known / 2 {
            let missing = (0..<known).map { IsolationReport.capabilityName(cap_value_t($0)) }.filter {
                !names.contains($0)
            }
            return (zh ? "\(known) 个中的 \(names.count) 个，缺少：" : "\(names.count) of \(known), all but: ")
                + missing.map(short).joined(separator: " ")
        }
        return (zh ? "\(known) 个中的 \(names.count) 个：" : "\(names.count) of \(known): ")
            + names.map(short).joined(separator: " ")
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
