import ContlabCore
import TextKit
import Foundation

/// The container's namespaces beside the host's, drawn from an inspect report: as text for the
/// terminal (at most 80 columns) and as SVG for the lessons site. A namespace the container
/// shares with the host is joined across; one of its own stands apart.
public struct NamespaceDiagram: Sendable {
    public struct Row: Equatable, Sendable {
        public var kind: String
        public var host: String
        public var container: String
        /// nil when the runtime did not pass the host's ids in.
        public var shared: Bool?
    }

    public var rows: [Row]

    public init(report: IsolationReport) {
        rows = report.namespaces.map { entry in
            Row(
                kind: entry.kind, host: Self.number(entry.hostId) ?? "?", container: Self.number(entry.id) ?? "?",
                shared: entry.differsFromHost.map { !$0 })
        }
    }

    /// "net:[4026531840]" is drawn as 4026531840: the kind is the row's name already.
    static func number(_ id: String?) -> String? {
        guard let id else { return nil }
        guard let open = id.firstIndex(of: "["), id.hasSuffix("]") else { return id }
        return String(id[id.index(after: open)..<id.index(before: id.endIndex)])
    }

    public func text(style: Style, language: Language) -> String {
        let zh = language == .zh
        let kindWidth = max(6, rows.map { Terminal.displayWidth($0.kind) }.max() ?? 0)
        let idWidth = max(
            10, rows.flatMap { [Terminal.displayWidth($0.host), Terminal.displayWidth($0.container)] }.max() ?? 0)
        let inner = kindWidth + idWidth + 3
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - Terminal.displayWidth(text)))
        }
        func box(_ kind: String, _ id: String) -> String { "│ " + pad(kind, kindWidth) + " " + pad(id, idWidth) + " │" }
        let rule = String(repeating: "─", count: inner)
        let gap = 7
        var lines = ["  " + pad(zh ? "宿主机" : "host", inner + 2 + gap) + (zh ? "容器" : "container")]
        lines.append("┌" + rule + "┐" + String(repeating: " ", count: gap) + "┌" + rule + "┐")
        for row in rows {
            let bridge: String, note: String
            switch row.shared {
            case true?:
                bridge = " ═════ "
                note = style.yellow(zh ? "共享" : "shared")
            case false?:
                bridge = String(repeating: " ", count: gap)
                note = style.green(zh ? "独有" : "own")
            case nil:
                bridge = "   ?   "
                note = zh ? "未知" : "unknown"
            }
            lines.append(box(row.kind, row.host) + bridge + box(row.kind, row.container) + " " + note)
        }
        lines.append("└" + rule + "┘" + String(repeating: " ", count: gap) + "└" + rule + "┘")
        return lines.joined(separator: "\n") + "\n"
    }

    public func svg(language: Language) -> String {
        let zh = language == .zh
        let rowHeight = 30, top = 46, boxWidth = 230, gap = 120, left = 20
        let height = top + rows.count * rowHeight + 20
        let width = left * 2 + boxWidth * 2 + gap + 70
        let right = left + boxWidth + gap
        var parts: [String] = []
        func text(
            _ x: Int, _ y: Int, _ content: String, size: Int = 14, weight: String = "normal", fill: String = "#1a202c"
        ) -> String {
            "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" font-weight=\"\(weight)\" "
                + "fill=\"\(fill)\">\(Markup.escape(content))</text>"
        }
        parts.append(text(left, 28, zh ? "宿主机" : "host", size: 16, weight: "bold"))
        parts.append(text(right, 28, zh ? "容器" : "container", size: 16, weight: "bold"))
        parts.append(
            "<rect x=\"\(left)\" y=\"\(top - 8)\" width=\"\(boxWidth)\" height=\"\(rows.count * rowHeight + 8)\" "
                + "rx=\"6\" fill=\"#f7fafc\" stroke=\"#a0aec0\"/>"
        )
        parts.append(
            "<rect x=\"\(right)\" y=\"\(top - 8)\" width=\"\(boxWidth)\" height=\"\(rows.count * rowHeight + 8)\" "
                + "rx=\"6\" fill=\"#f7fafc\" stroke=\"#a0aec0\"/>"
        )
        for (index, row) in rows.enumerated() {
            let y = top + index * rowHeight + 16
            let own = row.shared == false
            let color = own ? "#2f855a" : (row.shared == true ? "#b7791f" : "#718096")
            parts.append(
                "<g class=\"namespace \(own ? "own" : (row.shared == true ? "shared" : "unknown"))\" data-kind=\"\(Markup.escape(row.kind))\">"
            )
            parts.append(text(left + 12, y, row.kind, weight: "bold"))
            parts.append(text(left + 80, y, row.host, fill: "#4a5568"))
            parts.append(text(right + 12, y, row.kind, weight: "bold", fill: own ? color : "#1a202c"))
            parts.append(text(right + 80, y, row.container, fill: own ? color : "#4a5568"))
            if row.shared == true {
                parts.append(
                    "<line x1=\"\(left + boxWidth)\" y1=\"\(y - 5)\" x2=\"\(right)\" y2=\"\(y - 5)\" "
                        + "stroke=\"\(color)\" stroke-width=\"3\"/>"
                )
            }
            let note =
                own ? (zh ? "独有" : "own") : (row.shared == true ? (zh ? "共享" : "shared") : (zh ? "未知" : "unknown"))
            parts.append(text(right + boxWidth + 10, y, note, size: 13, fill: color))
            parts.append("</g>")
        }
        let font = "'Noto Sans', 'Noto Sans CJK SC', 'DejaVu Sans', sans-serif"
        return
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram namespaces\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"\(Markup.escape(font))\" role=\"img\" aria-label=\"\(zh ? "容器与宿主机的命名空间" : "The container's namespaces beside the host's")\">"
            + parts.joined() + "</svg>"
    }
}
