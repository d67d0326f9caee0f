import Cgroups
import ContlabCore
import Foundation
import Stage2Namespaces
import TextKit

/// Stage 3: stage 2's container inside a cgroup of its own with limits. Lesson: stage3-cgroups.
///
/// The host makes the cgroup and writes the limits before the container exists, puts the init
/// into it while the init still waits on its pipe (so nothing the container runs escapes the
/// limit), and after the container ends reads the kernel's counters and removes the cgroup.
public enum Stage3Run {
    public struct Report: Codable, Equatable, Sendable {
        public var limits: CgroupLimits
        public var stats: CgroupStats
        public var exit: String
        public var exitCode: Int32
        /// The kernel's OOM killer killed a process of the container (its own counter says so;
        /// the command itself may have survived the loss of a worker, as stress-ng does).
        public var oomKilled: Bool
        public var hierarchy: String
        public var placements: [String]
        public var writes: [String]
        public var evidenceFiles: [String]
        public var notes: [String]
        /// The container's cgroup in each hierarchy, for `--diagram`; nil in older reports.
        public var tree: CgroupTree? = nil
        /// `notes` in Chinese, for the drawing; nil in older reports (which then show them in English).
        public var notesZh: [String]? = nil

        /// The report as `--report-json` saves it: keys sorted, one field a line.
        public func json() throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return try encoder.encode(self)
        }

        /// A report saved by `json()`.
        public static func decode(_ data: Data) throws -> Report {
            try JSONDecoder().decode(Report.self, from: data)
        }
    }

    /// The cgroupfs view the container gets: a tmpfs on /sys/fs/cgroup with each hierarchy it
    /// uses mounted read-only under it, rooted at its own cgroup by the cgroup namespace — so
    /// `contlab inspect` inside reads its limits as the kernel shows them there.
    public static func cgroupMounts(for cgroup: ContainerCgroup) -> [PlannedMount] {
        let readOnly: MountFlags = [.readOnly, .noSUID, .noDev, .noExec]
        let v1 = cgroup.directories.filter { $0.version == 1 }
        // Where everything is v2, programs expect the cgroup2 filesystem at /sys/fs/cgroup itself.
        if v1.isEmpty {
            return [PlannedMount(source: "cgroup2", target: "/sys/fs/cgroup", fstype: "cgroup2", flags: readOnly)]
        }
        var mounts = [
            PlannedMount(
                source: "cgroup-root", target: "/sys/fs/cgroup", fstype: "tmpfs",
                flags: [.noSUID, .noDev, .noExec], data: "mode=755,size=64k")
        ]
        for dir in v1 {
            let name = dir.controllers.joined(separator: ",")
            mounts.append(
                PlannedMount(
                    source: "cgroup", target: "/sys/fs/cgroup/" + name, fstype: "cgroup",
                    flags: readOnly, data: name))
        }
        if cgroup.directories.contains(where: { $0.version == 2 }) {
            mounts.append(
                PlannedMount(source: "cgroup2", target: "/sys/fs/cgroup/unified", fstype: "cgroup2", flags: readOnly))
        }
        mounts.append(
            PlannedMount(
                source: nil, target: "/sys/fs/cgroup", fstype: nil,
                flags: [.remount, .readOnly, .noSUID, .noDev, .noExec], data: "mode=755,size=64k"))
        return mounts
    }

    /// Run `plan` (a stage-2 plan) in a new cgroup with `limits`; the cgroup is gone when this
    /// returns or throws. `beforeRelease` runs after the init is in its cgroup (stage 6 wires
    /// its network there).
    public static func run(
        plan inputPlan: ContainerPlan, limits: CgroupLimits, explain: Bool,
        onRecord: ([String]) -> Void = { _ in },
        beforeRelease: [ContainerProcess.Step] = []
    ) throws -> Report {
        // Block the forwarded signals before anything exists, so a Ctrl-C now still cleans up.
        Signals.block(Signals.forwarded + [SIGCHLD])
        let hierarchy = CgroupHierarchy.current()
        ContainerCgroup.removeStale(hierarchy: hierarchy)
        let cgroup = try ContainerCgroup.create(limits: limits, hierarchy: hierarchy)
        defer { cgroup.destroy() }
        var plan = inputPlan
        plan.extraMounts += cgroupMounts(for: cgroup)
        let process = try ContainerProcess.start(
            plan: plan, explain: explain,
            beforeRelease: [{ try cgroup.add(pid: $0) }] + beforeRelease)
        onRecord(process.record)
        let status = process.wait()
        let stats = cgroup.stats()
        let backend: CgroupBackend =
            cgroup.directories.first { $0.controllers.contains("memory") }?.version == 2 ? CgroupV2() : CgroupV1()
        return Report(
            limits: limits, stats: stats, exit: describe(status), exitCode: status.shellCode,
            oomKilled: (stats.oomKills ?? 0) > 0,
            hierarchy: hierarchy.mode, placements: cgroup.placements, writes: cgroup.writes,
            evidenceFiles: backend.evidenceFiles, notes: cgroup.notes,
            tree: CgroupTree.of(hierarchy: hierarchy, path: cgroup.relativePath, directories: cgroup.directories),
            notesZh: cgroup.notesZh)
    }
}

extension Stage3Run {
    /// The init passes on its command's end as 128+N; say it as the signal it was.
    static func describe(_ status: ExitStatus) -> String {
        if case .exited(let code) = status, code > 128, code < 128 + 65 {
            return "the command was killed by \(Signals.name(code - 128)) (exit code \(code))"
        }
        return status.description
    }
}

extension Stage3Run.Report {
    /// The report printed after a stage-3 run.
    public func text(style: Style) -> String {
        func bytes(_ v: UInt64?) -> String {
            v.map { ByteSize.format($0) + " (\($0) bytes)" } ?? "not reported by this kernel"
        }
        func count(_ v: UInt64?) -> String { v.map(String.init) ?? "not reported by this kernel" }
        var rows: [(String, String)] = [
            ("memory limit", limits.memoryBytes.map { ByteSize.format($0) } ?? "none (usage measured only)"),
            ("pids limit", limits.pids.map(String.init) ?? "none"),
            (
                "cpu limit",
                limits.cpus.map { "\($0) CPU (quota \(limits.cpuQuota ?? 0) µs per \(CgroupLimits.cpuPeriod) µs)" }
                    ?? "none"
            ),
            ("peak memory", bytes(stats.memoryPeak)),
            ("limit hits", count(stats.memoryLimitHits)),
            ("OOM kills", count(stats.oomKills)),
            ("forks refused", count(stats.pidsLimitHits)),
            ("ended", exit + (oomKilled ? "  " + style.red(style.bold("OOM-killed")) : "")),
            ("cgroups", hierarchy)
        ]
        rows += placements.map { ("placed", $0) }
        rows += writes.map { ("wrote", $0) }
        rows.append(("evidence from", evidenceFiles.joined(separator: ", ")))
        rows += notes.map { ("note", $0) }
        let width = rows.map { $0.0.count }.max() ?? 0
        return rows.map { style.bold($0.0.padding(toLength: width, withPad: " ", startingAt: 0)) + "  " + $0.1 }
            .joined(separator: "\n") + "\n"
    }
}

extension Stage3Run {
    /// Two runs' evidence next to each other: the stage-3 demo's proof that the limit holds.
    public static func sideBySide(_ runs: [(title: String, report: Report)], style: Style) -> String {
        func bytes(_ v: UInt64?) -> String { v.map { ByteSize.format($0) } ?? "n/a" }
        let labels = ["workload", "memory limit", "peak memory", "limit hits", "OOM kills", "ended", "verdict"]
        let columns: [[String]] = runs.map { run in
            let r = run.report
            return [
                run.title, bytes(r.limits.memoryBytes), bytes(r.stats.memoryPeak),
                r.stats.memoryLimitHits.map(String.init) ?? "n/a", r.stats.oomKills.map(String.init) ?? "n/a",
                r.exitCode == 0 ? "exit 0" : "exit \(r.exitCode)",
                r.oomKilled ? "OOM-killed" : (r.exitCode == 0 ? "survived" : "failed")
            ]
        }
        let labelWidth = labels.map { $0.count }.max() ?? 0
        let widths = columns.map { $0.map(Terminal.displayWidth).max() ?? 0 }
        var out = ""
        for (row, label) in labels.enumerated() {
            out += style.bold(label.padding(toLength: labelWidth, withPad: " ", startingAt: 0))
            for (c, column) in columns.enumerated() {
                var cell = column[row]
                let pad = String(repeating: " ", count: widths[c] - Terminal.displayWidth(cell))
                if row == labels.count - 1 {
                    cell =
                        cell == "OOM-killed"
                        ? style.red(style.bold(cell)) : cell == "survived" ? style.green(style.bold(cell)) : cell
                }
                out += "   " + cell + pad
            }
            out += "\n"
        }
        return out
    }
}
