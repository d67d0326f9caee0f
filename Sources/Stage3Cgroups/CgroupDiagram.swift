import Cgroups
import ContlabCore
import Foundation
import TextKit

/// Where a stage-3 container's cgroup sat in each of the host's hierarchies: the data of the
/// cgroup diagram, kept in the run's report (`contlab run --stage 3 --report-json FILE`).
/// Lesson: stage3-cgroups.
public struct CgroupTree: Codable, Equatable, Sendable {
    public struct Hierarchy: Codable, Equatable, Sendable {
        public var version: Int
        public var mountPoint: String
        /// The controllers this hierarchy holds on the host (a v2 root's cgroup.controllers).
        public var controllers: [String]
        /// The controllers the container's directory in this hierarchy was made for; empty where
        /// the run made no directory.
        public var used: [String]

        public init(version: Int, mountPoint: String, controllers: [String], used: [String]) {
            self.version = version
            self.mountPoint = mountPoint
            self.controllers = controllers
            self.used = used
        }
    }

    /// The container's cgroup below each hierarchy's root, such as `contlab/run-2081-d827d099`.
    public var path: String
    /// The hierarchies the run used, in the order it made its directories, then the others.
    public var hierarchies: [Hierarchy]

    public init(path: String, hierarchies: [Hierarchy]) {
        self.path = path
        self.hierarchies = hierarchies
    }

    /// The tree of a cgroup made in `hierarchy`: every mount point once (a v1 mount may hold
    /// several controllers, such as cpu,cpuacct), with what the run's directories used there.
    public static func of(hierarchy: CgroupHierarchy, path: String, directories: [ContainerCgroup.Directory])
        -> CgroupTree
    {
        var byMount: [String: [String]] = [:]
        for (controller, mount) in hierarchy.v1 { byMount[mount, default: []].append(controller) }
        var result: [Hierarchy] = directories.map { directory in
            let mount = String(directory.path.dropLast(path.count + 1))
            let held = directory.version == 1 ? (byMount[mount] ?? []).sorted() : hierarchy.v2Controllers.sorted()
            return Hierarchy(
                version: directory.version, mountPoint: mount, controllers: held, used: directory.controllers)
        }
        let usedMounts = Set(result.map(\.mountPoint))
        for (mount, controllers) in byMount.sorted(by: { $0.key < $1.key }) where !usedMounts.contains(mount) {
            result.append(Hierarchy(version: 1, mountPoint: mount, controllers: controllers.sorted(), used: []))
        }
        if let v2 = hierarchy.v2, !usedMounts.contains(v2) {
            result.append(
                Hierarchy(version: 2, mountPoint: v2, controllers: hierarchy.v2Controllers.sorted(), used: []))
        }
        return CgroupTree(path: path, hierarchies: result)
    }
}

/// A stage-3 run's cgroup drawn from its report: in each hierarchy the run used, the container's
/// cgroup under its parents, with the files contlab wrote in each directory (the limits, and on
/// v2 the parents' cgroup.subtree_control) and the counters the kernel kept; as text for the
/// terminal (at most 80 columns) and as SVG for the lessons site.
public struct CgroupDiagram: Sendable {
    /// One directory on the way from a hierarchy's root to the container's cgroup.
    public struct Node: Equatable, Sendable {
        public var name: String
        public var path: String
        public var depth: Int
        /// What contlab wrote there, file and value, in the order it wrote them.
        public var writes: [Write]
        public var isContainer: Bool
    }

    public struct Write: Equatable, Sendable {
        public var file: String
        public var value: String
    }

    /// A counter the kernel kept, with the file it was read from.
    public struct Counter: Equatable, Sendable {
        public enum Kind: Equatable, Sendable { case memoryPeak, limitHits, oomKills, pidsPeak, forksRefused }
        public var kind: Kind
        public var value: UInt64
        public var file: String

        /// An OOM kill or a refused fork is the limit acting: the drawing marks it.
        public var acted: Bool { value > 0 && (kind == .oomKills || kind == .forksRefused || kind == .limitHits) }
    }

    public var report: Stage3Run.Report
    public var tree: CgroupTree

    /// nil for a report written before reports carried the tree.
    public init?(report: Stage3Run.Report) {
        guard let tree = report.tree else { return nil }
        self.report = report
        self.tree = tree
    }

    public var usedHierarchies: [CgroupTree.Hierarchy] { tree.hierarchies.filter { !$0.used.isEmpty } }

    /// The directories from `hierarchy`'s root down to the container's cgroup, each with what
    /// the report says contlab wrote in it.
    public func nodes(_ hierarchy: CgroupTree.Hierarchy) -> [Node] {
        let components = tree.path.split(separator: "/").map(String.init)
        var writes: [String: [Write]] = [:]
        for line in report.writes {
            guard let separator = line.range(of: " = ") else { continue }
            let path = String(line[..<separator.lowerBound])
            let directory = (path as NSString).deletingLastPathComponent
            writes[directory, default: []].append(
                Write(
                    file: (path as NSString).lastPathComponent,
                    value: String(line[separator.upperBound...])))
        }
        var nodes = [
            Node(
                name: "/", path: hierarchy.mountPoint, depth: 0, writes: writes[hierarchy.mountPoint] ?? [],
                isContainer: components.isEmpty)
        ]
        var path = hierarchy.mountPoint
        for (index, component) in components.enumerated() {
            path += "/" + component
            nodes.append(
                Node(
                    name: component, path: path, depth: index + 1, writes: writes[path] ?? [],
                    isContainer: index == components.count - 1))
        }
        return nodes
    }

    /// The counters read from the container's directory in `hierarchy`: memory's where the
    /// memory controller was, pids' where the pids controller was. The files are each version's.
    public func counters(_ hierarchy: CgroupTree.Hierarchy) -> [Counter] {
        let stats = report.stats
        let v1 = hierarchy.version == 1
        var counters: [Counter] = []
        func add(_ kind: Counter.Kind, _ value: UInt64?, _ file: String) {
            if let value { counters.append(Counter(kind: kind, value: value, file: file)) }
        }
        if hierarchy.used.contains("memory") {
            add(.memoryPeak, stats.memoryPeak, v1 ? "memory.max_usage_in_bytes" : "memory.peak")
            add(.limitHits, stats.memoryLimitHits, v1 ? "memory.failcnt" : "memory.events max")
            add(.oomKills, stats.oomKills, v1 ? "memory.oom_control oom_kill" : "memory.events oom_kill")
        }
        if hierarchy.used.contains("pids") {
            add(.pidsPeak, stats.pidsPeak, "pids.peak")
            add(.forksRefused, stats.pidsLimitHits, "pids.events max")
        }
        return counters
    }

    static func title(_ hierarchy: CgroupTree.Hierarchy) -> String {
        let names = hierarchy.used.filter { !CgroupHierarchy.builtIntoV2.contains($0) }
        return (names.isEmpty ? hierarchy.used : names).joined(separator: ", ") + " · cgroup v\(hierarchy.version) · "
            + hierarchy.mountPoint
    }

    /// A value as written, and as a size where it is one (memory files hold bytes).
    static func value(_ write: Write) -> String {
        guard write.file.hasPrefix("memory."), let bytes = UInt64(write.value), bytes >= 1024 else {
            return write.value
        }
        return write.value + " (" + ByteSize.format(bytes) + ")"
    }

    static func counterText(_ counter: Counter, zh: Bool) -> String {
        switch counter.kind {
        case .memoryPeak: return (zh ? "内存峰值 " : "peak ") + ByteSize.format(counter.value)
        case .limitHits: return (zh ? "触及上限 " : "limit hits ") + "\(counter.value)"
        case .oomKills: return (zh ? "OOM 杀死 " : "OOM kills ") + "\(counter.value)"
        case .pidsPeak:
            return zh ? "进程数峰值 \(counter.value)" : "peak \(counter.value) process" + (counter.value == 1 ? "" : "es")
        case .forksRefused: return (zh ? "被拒的 fork " : "forks refused ") + "\(counter.value)"
        }
    }

    /// The hierarchies the run made no directory in, one phrase each.
    /// How the command ended, in the drawing's language: the report keeps it in English, and its
    /// exit code (128+N for signal N, as a shell says it) gives it again in Chinese.
    func ended(zh: Bool) -> String {
        guard zh else { return "ended: " + report.exit + (report.oomKilled ? ", OOM-killed" : "") }
        let code = Int32(report.exitCode)
        let how =
            code > 128 && code < 128 + 65
            ? "命令被 \(Signals.name(code - 128)) 杀死（退出码 \(code)）" : "命令以退出码 \(code) 结束"
        return "结束：" + how + (report.oomKilled ? "，被 OOM 杀死" : "")
    }

    /// The run's notes in the drawing's language: a report saved before they were kept in
    /// Chinese too has them in English only.
    func notes(zh: Bool) -> [String] {
        zh ? (report.notesZh ?? report.notes) : report.notes
    }

    func unusedPhrases() -> [String] {
        tree.hierarchies.filter(\.used.isEmpty).map { hierarchy in
            hierarchy.version == 1
                ? hierarchy.controllers.joined(separator: ",")
                : "cgroup2 " + hierarchy.mountPoint + " ("
                    + (hierarchy.controllers.isEmpty ? "-" : hierarchy.controllers.joined(separator: " ")) + ")"
        }
    }

    /// The text's width: 76 columns, so that a lesson's code block, 4 columns in, fits 80.
    static let width = 76

    /// The tree as text, at most 76 columns: one block per hierarchy the run used.
    public func text(style: Style, language: Language) -> String {
        let zh = language == .zh
        var lines: [String] = []
        for hierarchy in usedHierarchies {
            if !lines.isEmpty { lines.append("") }
            lines.append("  " + style.bold(Self.title(hierarchy)))
            for node in nodes(hierarchy) {
                let branch = node.depth == 0 ? "" : String(repeating: "   ", count: node.depth - 1) + "└─ "
                var line = "  " + branch + node.name
                if node.depth == 0 { line += "  " + style.dim(zh ? "层级的根" : "the hierarchy's root") }
                if node.isContainer {
                    line =
                        "  " + branch + style.bold(node.name) + "  "
                        + style.cyan(zh ? "◀ 容器的 cgroup" : "◀ the container's cgroup")
                }
                lines.append(line)
                // Under a parent, the branch to its child goes on past the files written there.
                let indent = "  " + String(repeating: "   ", count: node.depth) + (node.isContainer ? "   " : "│  ")
                for (index, write) in node.writes.enumerated() {
                    let label = index == 0 ? (zh ? "写入" : "set ") : "    "
                    lines.append(indent + style.dim(label) + "  " + write.file + " = " + Self.value(write))
                }
                guard node.isContainer else { continue }
                for (index, counter) in counters(hierarchy).enumerated() {
                    let label = index == 0 ? (zh ? "计数" : "kept") : "    "
                    let text = Self.counterText(counter, zh: zh)
                    let width = zh ? 16 : 18
                    let padded = text + String(repeating: " ", count: max(1, width - Terminal.displayWidth(text)))
                    lines.append(
                        indent + style.dim(label) + "  "
                            + (counter.acted
                                ? style.red(style.bold(text)) + String(padded.dropFirst(text.count)) : padded)
                            + style.dim(counter.file))
                }
            }
        }
        lines.append("")
        lines += Terminal.hanging("  ", ended(zh: zh), width: Self.width).split(separator: "\n").map(String.init)
        for note in notes(zh: zh) {
            lines += Terminal.hanging("  ", (zh ? "注：" : "note: ") + note, width: Self.width)
                .split(separator: "\n").map(String.init)
        }
        let unused = unusedPhrases()
        if !unused.isEmpty {
            let sentence = (zh ? "本次运行未用：" : "not used by this run: ") + unused.joined(separator: "; ")
            lines += Terminal.wrapWords(
                sentence.split(separator: " ").map(String.init), width: Self.width, indent: "  "
            ).map(
                style.dim)
        }
        return lines.map { $0.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) }.joined(
            separator: "\n") + "\n"
    }
}

extension CgroupDiagram {
    /// The tree as SVG: a column per hierarchy the run used, each directory a box below its
    /// parent with the files written there, the container's box with the kernel's counters.
    public func svg(language: Language) -> String {
        let zh = language == .zh
        let hierarchies = usedHierarchies
        let left = 20, top = 24, columnWidth = 400, indentStep = 26, line = 16, gap = 14
        var parts: [String] = []
        func text(
            _ x: Int, _ y: Int, _ content: String, size: Int = 12, weight: String = "normal", fill: String = "#1a202c",
            mono: Bool = false
        ) -> String {
            let family = mono ? " font-family=\"'DejaVu Sans Mono', monospace\"" : ""
            return
                "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" font-weight=\"\(weight)\" "
                + "fill=\"\(fill)\"\(family)>\(Markup.escape(content))</text>"
        }
        var bottom = top
        for (column, hierarchy) in hierarchies.enumerated() {
            let x0 = left + column * (columnWidth + 20)
            parts.append("<g class=\"hierarchy\" data-version=\"\(hierarchy.version)\">")
            parts.append(text(x0, top, Self.title(hierarchy), size: 13, weight: "bold"))
            var y = top + 14
            var previous: (x: Int, bottom: Int)?
            for node in nodes(hierarchy) {
                let x = x0 + node.depth * indentStep
                let counters = node.isContainer ? counters(hierarchy) : []
                let height = 26 + line * node.writes.count + (counters.isEmpty ? 0 : 8 + line * counters.count)
                if let previous {
                    // The tree's branch: down from the parent's box, then across to this one.
                    parts.append(
                        "<path class=\"branch\" d=\"M\(previous.x + 12) \(previous.bottom) V\(y + 13) H\(x)\" "
                            + "fill=\"none\" stroke=\"#a0aec0\" stroke-width=\"1.5\"/>"
                    )
                }
                let (fill, stroke) = node.isContainer ? ("#ebf8ff", "#3182ce") : ("#f7fafc", "#a0aec0")
                parts.append("<g class=\"\(node.isContainer ? "cgroup container" : "cgroup")\">")
                parts.append(
                    "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(x0 + columnWidth - x)\" height=\"\(height)\" rx=\"5\" "
                        + "fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(node.isContainer ? 2 : 1)\"/>"
                )
                parts.append(
                    text(
                        x + 8, y + 18, node.depth == 0 ? "/" : node.name, size: 12,
                        weight: node.isContainer ? "bold" : "normal"))
                let note =
                    node.depth == 0
                    ? (zh ? "层级的根" : "the hierarchy's root")
                    : node.isContainer ? (zh ? "容器的 cgroup" : "the container's cgroup") : ""
                if !note.isEmpty {
                    // After the name, at about 7 px a character of 12 px text (bold a little more).
                    parts.append(
                        text(
                            x + 8 + (node.depth == 0 ? 1 : node.name.count) * (node.isContainer ? 8 : 7) + 10, y + 18,
                            note, size: 11,
                            fill: node.isContainer ? "#2b6cb0" : "#718096"))
                }
                var lineY = y + 18
                for write in node.writes {
                    lineY += line
                    parts.append(
                        "<g class=\"write\">"
                            + text(
                                x + 14, lineY, write.file + " = " + Self.value(write), size: 11, fill: "#2d3748",
                                mono: true) + "</g>")
                }
                if !counters.isEmpty { lineY += 8 }
                for counter in counters {
                    lineY += line
                    let fill = counter.acted ? "#c53030" : "#2f855a"
                    parts.append(
                        "<g class=\"counter\">"
                            + text(
                                x + 14, lineY, Self.counterText(counter, zh: zh), size: 12,
                                weight: counter.acted ? "bold" : "normal", fill: fill)
                            + text(x + 140, lineY, counter.file, size: 11, fill: "#718096", mono: true) + "</g>")
                }
                parts.append("</g>")
                previous = (x, y + height)
                y += height + gap
            }
            parts.append("</g>")
            bottom = max(bottom, y)
        }
        var notes = [
            ended(zh: zh)
        ]
        notes += self.notes(zh: zh).map { (zh ? "注：" : "note: ") + $0 }
        let unused = unusedPhrases()
        if !unused.isEmpty {
            notes.append((zh ? "本次运行未用：" : "not used by this run: ") + unused.joined(separator: "; "))
        }
        let width = left * 2 + max(1, hierarchies.count) * columnWidth + max(0, hierarchies.count - 1) * 20
        // The notes wrap to the picture's width, at about 6.5 px a character of 12 px text.
        var noteLines: [String] = []
        let plain = Style(enabled: false)
        for note in notes {
            noteLines += TextWrapper.wrap([.text(note, [])], width: (width - left * 2) * 10 / 65).map {
                $0.rendered(plain)
            }
        }
        for (index, note) in noteLines.enumerated() {
            parts.append(text(left, bottom + 10 + index * 17, note, size: 12, fill: "#4a5568"))
        }
        let height = bottom + 10 + noteLines.count * 17
        let font = "'Noto Sans', 'Noto Sans CJK SC', 'DejaVu Sans', sans-serif"
        let label =
            zh
            ? "容器的 cgroup 在各层级中的位置，写入的上限和内核的计数"
            : "The container's cgroup in each hierarchy, with the limits written and the kernel's counters"
        return
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram cgroups\" width=\"\(width)\" "
            + "height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"\(Markup.escape(font))\" "
            + "role=\"img\" aria-label=\"\(label)\">"
            + parts.joined() + "</svg>"
    }
}
