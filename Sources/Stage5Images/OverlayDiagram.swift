import ContlabCore
import Foundation
import TextKit

/// A stage-5 container's overlay as a stack, from the data of a real run: the image's layers at
/// the bottom (read-only, shared by every container of the image), the container's upper
/// directory above them (its own, the only place it writes), and on top what the container sees
/// (the merged view). One column per path the container touched, and one it did not, so the
/// picture shows a lookup falling through, a copy-up and a whiteout. `contlab diff --json`
/// writes the report; `--diagram` draws it.
public struct OverlayReport: Codable, Equatable, Sendable {
    public struct Row: Codable, Equatable, Sendable {
        public var path: String
        /// Whether each layer holds the path, bottom layer first.
        public var layers: [Bool]
        /// The upper directory's entry: "file", "directory", "opaque", "whiteout", "symlink" or
        /// "other"; nil when the container did not touch the path.
        public var upper: String?

        public init(path: String, layers: [Bool], upper: String?) {
            self.path = path
            self.layers = layers
            self.upper = upper
        }

        /// Where the merged view finds the path: the upper directory, a layer (its index), or
        /// nowhere (deleted by a whiteout, or in no layer).
        public enum Source: Equatable, Sendable { case upper, layer(Int), hidden, absent }

        public var source: Source {
            if upper == "whiteout" { return .hidden }
            if upper != nil { return .upper }
            if let top = layers.lastIndex(of: true) { return .layer(top) }
            return .absent
        }
    }

    public var container: String
    public var image: String
    /// The layers' digests, bottom first.
    public var layers: [String]
    public var rows: [Row]

    public init(container: String, image: String, layers: [String], rows: [Row]) {
        self.container = container
        self.image = image
        self.layers = layers
        self.rows = rows
    }

    /// The rows for a container: every path its upper directory holds, except directories that
    /// are there only to hold a change below them (overlayfs copies the parent up with the
    /// child), then `untouched` paths the layers hold and the container did not change, to show
    /// a lookup falling through. At most `limit` rows, the container's changes first. Pure: the
    /// caller says which layer holds what.
    public static func rows(
        upper: [(path: String, kind: String)], untouched: [String], layerCount: Int,
        inLayer: (Int, String) -> Bool, limit: Int = 6
    ) -> [Row] {
        let touched = upper.filter { entry in
            guard entry.kind == "directory" else { return true }
            let holdsChange = upper.contains { $0.path.hasPrefix(entry.path + "/") }
            let inLayers = (0..<layerCount).contains { inLayer($0, entry.path) }
            return !(holdsChange && inLayers)
        }
        var rows = touched.map { entry in
            Row(path: "/" + entry.path, layers: (0..<layerCount).map { inLayer($0, entry.path) }, upper: entry.kind)
        }
        for path in untouched where !upper.contains(where: { $0.path == path }) {
            let layers = (0..<layerCount).map { inLayer($0, path) }
            if layers.contains(true) { rows.append(Row(path: "/" + path, layers: layers, upper: nil)) }
        }
        let changes = rows.filter { $0.upper != nil }.prefix(limit - 1)
        let others = rows.filter { $0.upper == nil }.prefix(limit - changes.count)
        return Array(changes) + Array(others)
    }
}

extension OverlayReport {
    /// The report of a container in `store`: its upper directory and its image's layers.
    public static func of(_ container: ImageContainer, in store: ContainerStore) throws -> OverlayReport {
        let lowers = store.lowerDirectories(container)
        // lowerDirectories lists the top layer first, as overlayfs's lowerdir does.
        let bottomFirst = Array(lowers.reversed())
        let upper = try store.upperEntries(container).map { entry -> (path: String, kind: String) in
            switch entry.kind {
            case .whiteout: return (entry.path, "whiteout")
            case .directory(let opaque): return (entry.path, opaque ? "opaque" : "directory")
            case .file: return (entry.path, "file")
            case .symlink: return (entry.path, "symlink")
            case .other: return (entry.path, "other")
            }
        }
        let rows = rows(
            upper: upper, untouched: ["bin/sh", "usr/bin/unshare", "etc/passwd"], layerCount: bottomFirst.count
        ) { index, path in
            var info = stat()
            guard lstat(bottomFirst[index] + "/" + path, &info) == 0 else { return false }
            // A layer's own whiteout (a 0:0 device unpacked from .wh.NAME) holds nothing.
            return !((info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0)
        }
        return OverlayReport(
            container: container.id, image: container.image,
            layers: container.layers.map(\.description), rows: rows)
    }
}

public struct OverlayDiagram: Sendable {
    public var report: OverlayReport

    public init(report: OverlayReport) { self.report = report }

    /// "sha256:0123456789ab…" as its first 8 hex digits.
    static func short(_ digest: String) -> String {
        String((digest.split(separator: ":").last ?? Substring(digest)).prefix(8))
    }

    /// What a layer holds at a path: something, or nothing.
    static func cell(_ held: Bool, zh: Bool) -> String { held ? (zh ? "有" : "yes") : "·" }

    static func upperCell(_ kind: String?, zh: Bool) -> String {
        switch kind {
        case nil: return "·"
        case "whiteout"?: return zh ? "✗ 白化" : "✗ whiteout"
        case "opaque"?: return zh ? "不透明目录" : "opaque dir"
        case "directory"?: return zh ? "目录" : "dir"
        case "symlink"?: return zh ? "链接" : "link"
        case "other"?: return "?"
        default: return zh ? "文件" : "file"
        }
    }

    func mergedCell(_ row: OverlayReport.Row, zh: Bool) -> String {
        switch row.source {
        case .upper: return zh ? "↑ 上层" : "↑ upper"
        case .layer(let index): return zh ? "↑ 第 \(index + 1) 层" : "↑ layer \(index + 1)"
        case .hidden: return zh ? "（已删除）" : "(deleted)"
        case .absent: return "·"
        }
    }

    /// The stack as text, at most 80 columns: the merged view on top, the layers at the bottom.
    public func text(style: Style, language: Language) -> String {
        let zh = language == .zh
        let rows = report.rows
        var table: [(label: String, cells: [String], note: String)] = []
        table.append(
            (zh ? "合并视图" : "merged", rows.map { mergedCell($0, zh: zh) }, zh ? "容器看到的" : "what the container sees"))
        table.append(
            (zh ? "上层" : "upper", rows.map { Self.upperCell($0.upper, zh: zh) }, zh ? "容器自己的，可写" : "its own, writable"))
        for index in report.layers.indices.reversed() {
            let name = zh ? "第 \(index + 1) 层" : "layer \(index + 1)"
            table.append(
                (
                    name, rows.map { Self.cell($0.layers.indices.contains(index) && $0.layers[index], zh: zh) },
                    Self.short(report.layers[index]) + (zh ? "，只读，共享" : ", read-only, shared")
                ))
        }
        let labelWidth = max(8, table.map { Terminal.displayWidth($0.label) }.max() ?? 0)
        let widths = rows.indices.map { column in
            max(
                Terminal.displayWidth(rows[column].path),
                table.map { Terminal.displayWidth($0.cells[column]) }.max() ?? 0)
        }
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - Terminal.displayWidth(text)))
        }
        func line(_ label: String, _ cells: [String]) -> String {
            "  " + pad(label, labelWidth) + "  " + zip(cells, widths).map { pad($0, $1) }.joined(separator: "  ")
        }
        var lines = [line("", rows.map(\.path))]
        let ruleWidth = labelWidth + widths.reduce(0) { $0 + $1 + 2 }
        for (index, row) in table.enumerated() {
            var text = line(row.label, row.cells).replacingOccurrences(
                of: #"\s+$"#, with: "", options: .regularExpression)
            // The note goes under the row, where it has the width of all the columns.
            text += "\n  " + String(repeating: " ", count: labelWidth + 2) + style.dim(row.note)
            lines.append(text)
            if index == 0 || index == 1 { lines.append("  " + String(repeating: "─", count: min(76, ruleWidth))) }
        }
        lines.append(
            style.dim(
                zh
                    ? "  work：overlayfs 在上层旁边的暂存目录，两次操作之间是空的"
                    : "  work: overlayfs's scratch beside the upper one, empty between operations"))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The stack as SVG: a slab per layer, bottom first, the upper directory and the merged view
    /// above; in each column, a box where a layer holds the path, a cross for a whiteout, and
    /// an arrow from the merged view down to the layer the container reads it from.
    public func svg(language: Language) -> String {
        let zh = language == .zh
        let rows = report.rows
        let left = 20, labelWidth = 150, column = 120, slab = 44, gap = 14, top = 40
        let slabs = 2 + report.layers.count
        let width = left * 2 + labelWidth + column * max(1, rows.count)
        let height = top + slabs * (slab + gap) + 40
        var parts: [String] = []
        func text(
            _ x: Int, _ y: Int, _ content: String, size: Int = 13, weight: String = "normal", fill: String = "#1a202c",
            anchor: String = "start"
        ) -> String {
            "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(fill)\" "
                + "text-anchor=\"\(anchor)\">\(Markup.escape(content))</text>"
        }
        func slabY(_ level: Int) -> Int { top + (slabs - 1 - level) * (slab + gap) }  // level 0: the bottom layer
        func columnX(_ index: Int) -> Int { left + labelWidth + index * column + column / 2 }
        for (index, row) in rows.enumerated() {
            parts.append(text(columnX(index), top - 14, row.path, weight: "bold", anchor: "middle"))
        }
        // The slabs: layers (grey), upper (green), merged (blue).
        var levels: [(name: String, note: String, fill: String, stroke: String)] = report.layers.indices.map { index in
            (
                (zh ? "第 \(index + 1) 层" : "layer \(index + 1)"),
                Self.short(report.layers[index]) + (zh ? " 只读" : " read-only"), "#edf2f7", "#a0aec0"
            )
        }
        levels.append((zh ? "上层" : "upper", zh ? "容器自己的，可写" : "its own, writable", "#f0fff4", "#68d391"))
        levels.append((zh ? "合并视图" : "merged", zh ? "容器看到的" : "what it sees", "#ebf8ff", "#63b3ed"))
        for (level, info) in levels.enumerated() {
            let y = slabY(level)
            parts.append("<g class=\"slab\" data-level=\"\(level)\">")
            parts.append(
                "<rect x=\"\(left)\" y=\"\(y)\" width=\"\(width - left * 2)\" height=\"\(slab)\" rx=\"5\" "
                    + "fill=\"\(info.fill)\" stroke=\"\(info.stroke)\"/>"
            )
            parts.append(text(left + 10, y + 19, info.name, size: 14, weight: "bold"))
            parts.append(text(left + 10, y + 35, info.note, size: 11, fill: "#4a5568"))
            parts.append("</g>")
        }
        for (index, row) in rows.enumerated() {
            let x = columnX(index)
            let name = String(row.path.split(separator: "/").last ?? "/")
            for (level, held) in row.layers.enumerated() where held {
                parts.append(
                    "<rect class=\"entry\" x=\"\(x - 30)\" y=\"\(slabY(level) + 12)\" width=\"60\" height=\"20\" "
                        + "rx=\"3\" fill=\"#ffffff\" stroke=\"#718096\"/>"
                )
                parts.append(text(x, slabY(level) + 26, name, size: 11, fill: "#4a5568", anchor: "middle"))
            }
            let upperLevel = report.layers.count
            if let kind = row.upper {
                if kind == "whiteout" {
                    parts.append(
                        "<g class=\"whiteout\">"
                            + text(
                                x, slabY(upperLevel) + 28, Self.upperCell("whiteout", zh: zh), size: 13, weight: "bold",
                                fill: "#c53030", anchor: "middle") + "</g>")
                } else {
                    parts.append(
                        "<rect class=\"entry\" x=\"\(x - 30)\" y=\"\(slabY(upperLevel) + 12)\" width=\"60\" "
                            + "height=\"20\" rx=\"3\" fill=\"#ffffff\" stroke=\"#2f855a\"/>"
                    )
                    parts.append(
                        text(
                            x, slabY(upperLevel) + 26, Self.upperCell(kind, zh: zh), size: 11, fill: "#2f855a",
                            anchor: "middle"))
                }
            }
            let mergedY = slabY(upperLevel + 1)
            switch row.source {
            case .hidden:
                parts.append(
                    text(x, mergedY + 27, zh ? "（已删除）" : "(deleted)", size: 12, fill: "#c53030", anchor: "middle"))
            case .absent:
                break
            case .upper, .layer:
                let level: Int
                if case .layer(let index) = row.source { level = index } else { level = upperLevel }
                parts.append(
                    "<rect class=\"entry seen\" x=\"\(x - 30)\" y=\"\(mergedY + 12)\" width=\"60\" height=\"20\" "
                        + "rx=\"3\" fill=\"#ffffff\" stroke=\"#2b6cb0\"/>"
                )
                parts.append(text(x, mergedY + 26, name, size: 11, fill: "#2b6cb0", anchor: "middle"))
                parts.append(
                    "<line class=\"lookup\" x1=\"\(x)\" y1=\"\(mergedY + 32)\" x2=\"\(x)\" "
                        + "y2=\"\(slabY(level) + 12)\" stroke=\"#2b6cb0\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>"
                )
            }
        }
        parts.append(
            text(
                left, height - 14,
                zh ? "work：overlayfs 的暂存目录，两次操作之间是空的" : "work: overlayfs's scratch directory, empty between operations",
                size: 11, fill: "#4a5568"))
        let font = "'Noto Sans', 'Noto Sans CJK SC', 'DejaVu Sans', sans-serif"
        let label = zh ? "容器的 overlay：各层、上层与合并视图" : "The container's overlay: layers, upper directory and merged view"
        return
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram overlay\" width=\"\(width)\" "
            + "height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"\(Markup.escape(font))\" "
            + "role=\"img\" aria-label=\"\(label)\">"
            + parts.joined() + "</svg>"
    }
}
