// The timeline as a picture (TimeAxisLayout decides where things go): years along x, one lane
// per kind, eras as bands, arrows for what each technology borrowed. An event's card (date,
// title, what changed) shows on hover and on keyboard focus. Text widths are estimated from
// display columns, since an SVG has no layout engine; the estimate errs wide.
import ContlabCore
import TextKit

public struct SVGRenderer {
    public let data: HistoryData
    public let language: Language

    public init(data: HistoryData, language: Language) {
        self.data = data
        self.language = language
    }

    static let margin = 40
    static let fontFamily =
        "'Noto Sans', 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'DejaVu Sans', "
        + "sans-serif"

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

    /// `link`: where an event's mark leads (the lesson that tells it), for the lessons site.
    public func timeline(_ selection: TimelineSelection, link: (Event) -> String? = { _ in nil }) -> String {
        let labels = data.labels
        let layout = TimeAxisLayout(data: data, selection: selection)
        let width = Int(TimeAxisLayout.width)
        let margin = SVGRenderer.margin
        let left = TimeAxisLayout.plotLeft, right = TimeAxisLayout.plotRight
        let top = TimeAxisLayout.plotTop, bottom = layout.plotBottom
        var body: [String] = []

        // Heading, what is shown, and how to read the arrows.
        let heading = labels.text(
            .timelineHeading, language, ["from": String(selection.from), "to": String(selection.to)])
        var subtitle = labels.text(.eventCount, language, ["count": String(selection.events.count)])
        var filters: [String] = []
        if let technology = selection.technology { filters.append(technology) }
        if let tag = selection.tag { filters.append("#" + tag) }
        if !filters.isEmpty {
            subtitle += " · " + labels.text(.filteredBy, language, ["filter": filters.joined(separator: ", ")])
        }
        body.append(text(x: margin, y: 52, size: 28, weight: "bold", fill: "#1a202c", SVGRenderer.escape(heading)))
        body.append(
            text(
                x: margin, y: 80, size: 15, fill: "#4a5568",
                SVGRenderer.escape(subtitle + " · " + labels.text(.svgLinks, language))))

        // Eras: bands behind everything, their names above the plot.
        for (index, band) in layout.bands.enumerated() {
            let fill = index % 2 == 0 ? "#f7fafc" : "#edf2f7"
            let span = "\(band.era.from)–\(band.era.to.map(String.init) ?? labels.text(.today, language))"
            let name = SVGRenderer.fit("\(span) \(band.era.title[language])", size: 12, pixels: band.x1 - band.x0 - 8)
            body.append(
                "<g class=\"era\" data-era=\"\(SVGRenderer.escape(band.era.id))\">"
                    + "<title>\(SVGRenderer.escape(span + " " + band.era.title[language]))</title>"
                    + "<rect x=\"\(f(band.x0))\" y=\"\(f(top - 34))\" width=\"\(f(band.x1 - band.x0))\" "
                    + "height=\"\(f(bottom - top + 34))\" fill=\"\(fill)\"/>"
                    + text(
                        x: band.x0 + 4, y: top - 20, size: 12, weight: "bold", fill: "#4a5568", SVGRenderer.escape(name)
                    ) + "</g>")
        }

        // The time axis: a tick and a gridline every five years (fewer years, closer ticks).
        let span = selection.to + 1 - selection.from
        let step = span > 20 ? 5 : (span > 8 ? 2 : 1)
        // The first year is marked too, unless a regular tick is too close to it.
        for year in selection.from...(selection.to + 1)
        where year % step == 0 || (year == selection.from && year % step > 0 && step - year % step > 2) {
            let x = layout.x(Double(year))
            body.append(
                "<line class=\"tick\" x1=\"\(f(x))\" y1=\"\(f(top - 4))\" x2=\"\(f(x))\" y2=\"\(f(bottom + 6))\" "
                    + "stroke=\"#cbd5e0\" stroke-width=\"1\"/>"
            )
            body.append(text(x: x, y: bottom + 22, size: 12, fill: "#4a5568", anchor: "middle", String(year)))
        }

        // Lanes, one per kind, named at the left.
        for lane in layout.lanes {
            let color = SVGRenderer.color(lane.kind)
            let name = SVGRenderer.fit(labels.kind(lane.kind, language), size: 13, pixels: left - Double(margin) - 18)
            body.append(
                "<g class=\"lane\" data-kind=\"\(lane.kind.rawValue)\">"
                    + "<line x1=\"\(f(left))\" y1=\"\(f(lane.top))\" x2=\"\(f(right))\" y2=\"\(f(lane.top))\" "
                    + "stroke=\"#e2e8f0\" stroke-width=\"1\"/>"
                    + "<rect x=\"\(margin)\" y=\"\(f(lane.top + 6))\" width=\"5\" height=\"\(f(lane.height - 12))\" "
                    + "fill=\"\(color)\"/>"
                    + text(
                        x: Double(margin) + 12, y: lane.top + 20, size: 13, weight: "bold", fill: color,
                        SVGRenderer.escape(name))
                    + "</g>")
        }

        // Each technology's row, a thin line in its kind's colour from its first event to its last.
        for run in layout.runs where run.x1 > run.x0 {
            body.append(
                "<line class=\"run\" data-technology=\"\(SVGRenderer.escape(run.technology))\" x1=\"\(f(run.x0))\" "
                    + "y1=\"\(f(run.y))\" x2=\"\(f(run.x1))\" y2=\"\(f(run.y))\" "
                    + "stroke=\"\(SVGRenderer.color(run.kind))\" stroke-opacity=\"0.35\" stroke-width=\"2\"/>"
            )
        }

        // Links first, so that marks are drawn over their ends.
        body.append(
            "<defs><marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" markerWidth=\"6\" "
                + "markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#718096\"/></marker></defs>"
        )
        for link in layout.links {
            let (x0, y0) = link.start, (x1, y1) = link.end
            // Out to the right of the source, into the target from above or below: never through
            // the target's name, which sits left of its first mark.
            let bend = max(24, abs(x1 - x0) * 0.3)
            let rise = y1 > y0 ? -28.0 : 28.0
            let d =
                "M\(f(x0)),\(f(y0)) "
                + "C\(f(x0 + bend)),\(f(y0)) \(f(x1)),\(f(y1 + rise * 2)) \(f(x1)),\(f(y1 + rise * 0.2))"
            body.append(
                "<path class=\"link\" data-from=\"\(link.from)\" data-to=\"\(link.to)\" d=\"\(d)\" fill=\"none\" "
                    + "stroke=\"#718096\" stroke-opacity=\"0.45\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"/>"
            )
        }

        // Events: a mark at the date, the technology's name by its first. Each event's card is a
        // later sibling, shown by CSS while the mark is hovered or has the keyboard's focus, so
        // the picture needs no script; <title> keeps the card's text for screen readers.
        var cards: [String] = []
        var rules: [String] = []
        for mark in layout.marks {
            let event = mark.event
            var card = event.date.description + " — " + event.title[language]
            if let kernel = event.kernel {
                card += " (" + labels.text(.kernelVersion, language, ["version": kernel]) + ")"
            }
            card += "\n" + event.description[language]
            let id = SVGRenderer.escape(event.id)
            let href = link(event)
            let open =
                href.map {
                    "<a id=\"event-\(id)\" class=\"event \(event.kind.rawValue)\" data-date=\"\(event.date)\" "
                        + "href=\"\(SVGRenderer.escape($0))\">"
                }
                ?? "<g id=\"event-\(id)\" class=\"event \(event.kind.rawValue)\" data-date=\"\(event.date)\" "
                + "tabindex=\"0\">"
            cards.append(self.card(event, near: mark, width: Double(width), height: layout.height))
            rules.append("#event-\(id):hover ~ #card-\(id), #event-\(id):focus ~ #card-\(id)")
            body.append(
                open
                    + "<title>\(SVGRenderer.escape(card))</title>"
                    + "<circle cx=\"\(f(mark.x))\" cy=\"\(f(mark.y))\" r=\"\(TimeAxisLayout.markRadius)\" "
                    + "fill=\"\(SVGRenderer.color(event.kind))\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>"
                    + (mark.label.isEmpty
                        ? ""
                        : "<text class=\"label\" x=\"\(f(mark.labelX))\" y=\"\(f(mark.y + 4))\" "
                            + "font-size=\"\(TimeAxisLayout.labelSize)\" data-width=\"\(f(mark.labelWidth))\" "
                            + "fill=\"#1a202c\">\(SVGRenderer.escape(mark.label))</text>")
                    + (href == nil ? "</g>" : "</a>"))
        }
        body.append(contentsOf: cards)
        body.append(
            text(
                x: Double(margin), y: bottom + 50, size: 12, fill: "#718096",
                SVGRenderer.escape(labels.text(.svgFooter, language))))
        let height = Int(layout.height.rounded(.up))

        let lang = language == .zh ? "zh-Hans" : "en"
        var svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        svg +=
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 "
            + "0 \(width) \(height)\" xml:lang=\"\(lang)\" "
            + "font-family=\"\(SVGRenderer.escape(SVGRenderer.fontFamily))\">\n"
        svg += "<title>\(SVGRenderer.escape(heading))</title>\n"
        svg +=
            "<style>.event:focus circle, .event:hover circle { stroke: #1a202c; stroke-width: 2.5 } .event:focus { "
            + "outline: none }"
        svg +=
            " .card { display: none; pointer-events: none }\n" + rules.joined(separator: ",\n")
            + " { display: inline }</style>\n"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        svg += body.joined(separator: "\n")
        svg += "\n</svg>\n"
        return svg
    }

    /// An event's card: date and title, what changed, how many sources; beside the mark, kept
    /// inside the picture.
    private func card(_ event: Event, near mark: TimeAxisLayout.Mark, width: Double, height: Double) -> String {
        let cardWidth = 380.0, size = 12.0, line = 16.0
        let columns = Int((cardWidth - 20) / (size * 0.56))
        var title = event.date.description + " — " + event.title[language]
        if let kernel = event.kernel {
            title += " · " + data.labels.text(.kernelVersion, language, ["version": kernel])
        }
        let heading = TextWrapper.wrap(title, width: columns)
        let body = Array(TextWrapper.wrap(event.description[language], width: columns).prefix(7))
        let footer = data.labels.text(.sources, language) + ": \(event.sources.count)"
        let cardHeight = Double(heading.count + body.count + 1) * line + 22
        let x = min(mark.x + 12, width - cardWidth - 10)
        let y = mark.y + 14 + cardHeight < height - 10 ? mark.y + 14 : max(10, mark.y - 14 - cardHeight)
        var parts = [
            "<g id=\"card-\(SVGRenderer.escape(event.id))\" class=\"card\">",
            "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cardWidth))\" height=\"\(f(cardHeight))\" rx=\"6\" "
                + "fill=\"#ffffff\" stroke=\"\(SVGRenderer.color(event.kind))\" stroke-width=\"1.5\"/>"
        ]
        var baseline = y + 18
        for text in heading {
            parts.append(
                self.text(
                    x: x + 10, y: baseline, size: Int(size), weight: "bold", fill: "#1a202c", SVGRenderer.escape(text)))
            baseline += line
        }
        for text in body {
            parts.append(self.text(x: x + 10, y: baseline, size: Int(size), fill: "#2d3748", SVGRenderer.escape(text)))
            baseline += line
        }
        parts.append(self.text(x: x + 10, y: baseline, size: 11, fill: "#718096", SVGRenderer.escape(footer)))
        return parts.joined() + "</g>"
    }

    /// A coordinate with one decimal, as the SVG's numbers are written.
    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// A `<text>` element; `content` must already be escaped.
    private func text(
        x: Int, y: Int, size: Int, weight: String? = nil, fill: String, anchor: String? = nil,
        _ content: String
    ) -> String {
        text(x: Double(x), y: Double(y), size: size, weight: weight, fill: fill, anchor: anchor, content)
    }

    private func text(
        x: Double, y: Double, size: Int, weight: String? = nil, fill: String, anchor: String? = nil,
        _ content: String
    ) -> String {
        var attributes = "x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(size)\" fill=\"\(fill)\""
        if let weight { attributes += " font-weight=\"\(weight)\"" }
        if let anchor { attributes += " text-anchor=\"\(anchor)\"" }
        return "<text \(attributes)>\(content)</text>"
    }
}
