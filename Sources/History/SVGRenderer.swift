// The timeline as an SVG picture a teacher can project: one row per event down a vertical
// axis, eras as bands, kinds as colours (with the legend on top). Hovering an event in a
// browser shows its description. Text widths are estimated from display columns, since an
// SVG has no layout engine; the estimate errs wide so text does not run off the image.
import ContlabCore
import TextKit

public struct SVGRenderer {
    public let data: HistoryData
    public let language: Language

    public init(data: HistoryData, language: Language) {
        self.data = data
        self.language = language
    }

    static let width = 1200
    static let margin = 40
    static let axisX = 170
    static let rowHeight = 28
    static let eraHeader = 38
    static let eraGap = 16
    static let fontFamily = "'Noto Sans', 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'DejaVu Sans', sans-serif"

    public static func color(_ kind: EventKind) -> String {
        switch kind {
        case .isolation: return "#0e7c86"
        case .resourceControl: return "#b7791f"
        case .kernelFeature: return "#2f855a"
        case .runtime: return "#805ad5"
        case .standard: return "#2b6cb0"
        case .orchestration: return "#c53030"
        }
    }

    /// Escapes text for XML content and attribute values.
    public static func escape(_ text: String) -> String { Markup.escape(text) }

    /// Estimated pixel width of `text` at `size` px: half an em per column.
    static func estimate(_ text: String, size: Double) -> Double {
        Double(Terminal.displayWidth(text)) * size * 0.56
    }

    static func fit(_ text: String, size: Double, pixels: Double) -> String {
        guard estimate(text, size: size) > pixels else { return text }
        let columns = Int(pixels / (size * 0.56))
        return Terminal.truncate(text, toWidth: max(columns, 1))
    }

    public func timeline(_ selection: TimelineSelection) -> String {
        let labels = data.labels
        let width = SVGRenderer.width
        let margin = SVGRenderer.margin
        var body: [String] = []

        // Header and legend.
        let heading = labels.text(.timelineHeading, language, ["from": String(selection.from), "to": String(selection.to)])
        var subtitle = labels.text(.eventCount, language, ["count": String(selection.events.count)])
        var filters: [String] = []
        if let technology = selection.technology { filters.append(technology) }
        if let tag = selection.tag { filters.append("#" + tag) }
        if !filters.isEmpty {
            subtitle += " · " + labels.text(.filteredBy, language, ["filter": filters.joined(separator: ", ")])
        }
        body.append(text(x: margin, y: 58, size: 30, weight: "bold", fill: "#1a202c", SVGRenderer.escape(heading)))
        body.append(text(x: margin, y: 88, size: 16, fill: "#4a5568", SVGRenderer.escape(subtitle)))
        var legendX = Double(margin)
        for kind in EventKind.allCases {
            let name = labels.kind(kind, language)
            body.append("<circle cx=\"\(Int(legendX) + 7)\" cy=\"116\" r=\"7\" fill=\"\(SVGRenderer.color(kind))\"/>")
            body.append(text(x: Int(legendX) + 20, y: 121, size: 15, fill: "#2d3748", SVGRenderer.escape(name)))
            legendX += 20 + SVGRenderer.estimate(name, size: 15) * 0.9 + 24
        }

        // Columns: date right-aligned before the axis, technology, then the title.
        let techLabels = selection.events.map { $0.technologies.joined(separator: ", ") }
        let techPixels = min(260, (techLabels.map { SVGRenderer.estimate($0, size: 14) }.max() ?? 60) + 8)
        let techX = SVGRenderer.axisX + 20
        let titleX = techX + Int(techPixels) + 16
        let titlePixels = Double(width - margin - 12 - titleX)

        var y = 150
        var axis: [String] = []
        var rows: [String] = []
        for (index, group) in selection.groups.enumerated() {
            let bandHeight = SVGRenderer.eraHeader + group.events.count * SVGRenderer.rowHeight + 10
            let fill = index % 2 == 0 ? "#f7fafc" : "#edf2f7"
            body.append("<rect x=\"\(margin)\" y=\"\(y)\" width=\"\(width - 2 * margin)\" height=\"\(bandHeight)\" rx=\"8\" fill=\"\(fill)\"/>")
            let span = "\(group.era.from)–\(group.era.to.map(String.init) ?? labels.text(.today, language))"
            body.append(text(x: margin + 16, y: y + 26, size: 18, weight: "bold", fill: "#2d3748",
                             SVGRenderer.escape("\(span)  \(group.era.title[language])")))
            // The axis runs through each era's events, below its heading.
            axis.append("<line x1=\"\(SVGRenderer.axisX)\" y1=\"\(y + SVGRenderer.eraHeader)\" x2=\"\(SVGRenderer.axisX)\" y2=\"\(y + bandHeight - 6)\" stroke=\"#a0aec0\" stroke-width=\"2\"/>")
            var rowY = y + SVGRenderer.eraHeader + 18
            for event in group.events {
                rows.append(row(event, y: rowY, techX: techX, techPixels: techPixels, titleX: titleX, titlePixels: titlePixels))
                rowY += SVGRenderer.rowHeight
            }
            y += bandHeight + SVGRenderer.eraGap
        }
        let axisBottom = y - SVGRenderer.eraGap
        body.append(contentsOf: axis)
        body.append(contentsOf: rows)
        body.append(text(x: margin, y: axisBottom + 36, size: 13, fill: "#718096",
                         SVGRenderer.escape(labels.text(.svgFooter, language))))
        let height = axisBottom + 60

        let lang = language == .zh ? "zh-Hans" : "en"
        var svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" xml:lang=\"\(lang)\" font-family=\"\(SVGRenderer.escape(SVGRenderer.fontFamily))\">\n"
        svg += "<title>\(SVGRenderer.escape(heading))</title>\n"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        svg += body.joined(separator: "\n")
        svg += "\n</svg>\n"
        return svg
    }

    private func row(_ event: Event, y: Int, techX: Int, techPixels: Double, titleX: Int, titlePixels: Double) -> String {
        let color = SVGRenderer.color(event.kind)
        var title = event.title[language]
        var suffix = ""
        if let kernel = event.kernel, !title.contains(kernel) {
            let candidate = " · " + data.labels.text(.kernelVersion, language, ["version": kernel])
            if SVGRenderer.estimate(title + candidate, size: 16) <= titlePixels { suffix = candidate }
        }
        title = SVGRenderer.fit(title, size: 16, pixels: titlePixels)
        let tech = SVGRenderer.fit(event.technologies.joined(separator: ", "), size: 14, pixels: techPixels)
        var parts: [String] = []
        parts.append("<g id=\"event-\(SVGRenderer.escape(event.id))\" class=\"event \(event.kind.rawValue)\" data-date=\"\(event.date)\">")
        parts.append("<title>\(SVGRenderer.escape(event.date.description + " — " + event.description[language]))</title>")
        parts.append(text(x: SVGRenderer.axisX - 18, y: y + 5, size: 15, fill: "#4a5568", anchor: "end", event.date.description))
        parts.append("<circle cx=\"\(SVGRenderer.axisX)\" cy=\"\(y)\" r=\"7\" fill=\"\(color)\" stroke=\"#ffffff\" stroke-width=\"2\"/>")
        parts.append(text(x: techX, y: y + 5, size: 14, weight: "bold", fill: color, SVGRenderer.escape(tech)))
        var titleText = SVGRenderer.escape(title)
        if !suffix.isEmpty {
            titleText += "<tspan fill=\"#718096\">\(SVGRenderer.escape(suffix))</tspan>"
        }
        parts.append(text(x: titleX, y: y + 5, size: 16, fill: "#1a202c", titleText))
        parts.append("</g>")
        return parts.joined()
    }

    /// A `<text>` element; `content` must already be escaped.
    private func text(x: Int, y: Int, size: Int, weight: String? = nil, fill: String, anchor: String? = nil,
                      _ content: String) -> String {
        var attributes = "x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" fill=\"\(fill)\""
        if let weight { attributes += " font-weight=\"\(weight)\"" }
        if let anchor { attributes += " text-anchor=\"\(anchor)\"" }
        return "<text \(attributes)>\(content)</text>"
    }
}
