// Text for a terminal: the timeline, one technology, a comparison table, search results.
// Pure functions of the data and the options, so tests render at any width, in either
// language, with or without colour.
import ContlabCore
import TextKit

public struct RenderOptions: Sendable {
    public var language: Language
    /// Terminal columns; every line fits in it.
    public var width: Int
    public var style: Style

    public init(language: Language, width: Int, color: Bool) {
        self.language = language
        self.width = max(width, 40)
        self.style = Style(enabled: color)
    }
}

extension EventKind {
    /// A glyph per kind, so the kind still shows without colour.
    public var glyph: String {
        switch self {
        case .isolation: return "◆"
        case .resourceControl: return "■"
        case .kernelFeature: return "▲"
        case .runtime: return "●"
        case .standard: return "★"
        case .orchestration: return "✦"
        }
    }

    func paint(_ text: String, _ style: Style) -> String {
        switch self {
        case .isolation: return style.cyan(text)
        case .resourceControl: return style.yellow(text)
        case .kernelFeature: return style.green(text)
        case .runtime: return style.magenta(text)
        case .standard: return style.blue(text)
        case .orchestration: return style.red(text)
        }
    }
}

extension IsolationLevel {
    func paint(_ text: String, _ style: Style) -> String {
        switch self {
        case .yes: return style.green(text)
        case .partial: return style.yellow(text)
        case .optional: return style.cyan(text)
        case .no: return style.red(text)
        case .delegated: return style.dim(text)
        }
    }
}

public struct TerminalRenderer {
    public let data: HistoryData
    public let options: RenderOptions

    public init(data: HistoryData, options: RenderOptions) {
        self.data = data
        self.options = options
    }

    var lang: Language { options.language }
    var style: Style { options.style }
    var labels: Labels { data.labels }

    func yearRange(_ from: Int, _ to: Int?) -> String {
        "\(from)–\(to.map(String.init) ?? labels.text(.today, lang))"
    }

    func fit(_ line: String) -> String { Terminal.truncate(line, toWidth: options.width) }

    /// `text` in lines of `width` columns (at least 8), by TextKit's wrapper: Chinese breaks
    /// between characters but never before closing punctuation. An empty text is one empty line.
    func wrap(_ text: String, width: Int) -> [String] {
        let lines = TextWrapper.wrap(text, width: max(width, 8))
        return lines.isEmpty ? [""] : lines
    }

    // MARK: timeline

    public func timeline(_ selection: TimelineSelection) -> String {
        var lines: [String] = []
        var heading = labels.text(.timelineHeading, lang, ["from": String(selection.from), "to": String(selection.to)])
        heading += " · " + labels.text(.eventCount, lang, ["count": String(selection.events.count)])
        var filters: [String] = []
        if let technology = selection.technology { filters.append(technology) }
        if let tag = selection.tag { filters.append("#" + tag) }
        if !filters.isEmpty {
            heading += " · " + labels.text(.filteredBy, lang, ["filter": filters.joined(separator: ", ")])
        }
        lines.append(style.bold(fit(heading)))
        lines.append(contentsOf: legend())
        lines.append("")

        let events = selection.events
        let dateWidth = events.map { $0.date.description.count }.max() ?? 4
        let techWidth = min(14, events.map { Terminal.displayWidth(techLabel($0)) }.max() ?? 6)

        for (index, group) in selection.groups.enumerated() {
            if index > 0 { lines.append(style.dim(String(repeating: " ", count: dateWidth + 2) + "│")) }
            let span = yearRange(group.era.from, group.era.to)
            lines.append(style.bold(fit("━━ \(span) · \(group.era.title[lang])")))
            for event in group.events {
                lines.append(line(for: event, dateWidth: dateWidth, techWidth: techWidth))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The first technology's id, with "+N" for the others.
    func techLabel(_ event: Event) -> String {
        let first = event.technologies.first ?? ""
        return event.technologies.count > 1 ? "\(first)+\(event.technologies.count - 1)" : first
    }

    func line(for event: Event, dateWidth: Int, techWidth: Int) -> String {
        let date = Terminal.pad(event.date.description, toWidth: dateWidth)
        let tech = Terminal.pad(Terminal.truncate(techLabel(event), toWidth: techWidth), toWidth: techWidth)
        let prefixWidth = dateWidth + 2 + 2 + 2 + techWidth + 2
        let room = options.width - prefixWidth
        var title = event.title[lang]
        if let kernel = event.kernel, !title.contains(kernel) {
            let suffix = " · " + labels.text(.kernelVersion, lang, ["version": kernel])
            if Terminal.displayWidth(title + suffix) <= room {
                return prefix(date, event, tech) + title + style.dim(suffix)
            }
        }
        title = Terminal.truncate(title, toWidth: max(room, 1))
        return prefix(date, event, tech) + title
    }

    private func prefix(_ date: String, _ event: Event, _ tech: String) -> String {
        style.dim(date) + "  " + style.dim("│") + " " + event.kind.paint(event.kind.glyph, style) + " "
            + event.kind.paint(tech, style) + "  "
    }

    func legend() -> [String] {
        var lines: [String] = []
        var line = ""
        var lineWidth = 0
        for kind in EventKind.allCases {
            let item = kind.glyph + " " + labels.kind(kind, lang)
            let itemWidth = Terminal.displayWidth(item)
            if lineWidth > 0 && lineWidth + 2 + itemWidth > options.width {
                lines.append(line)
                line = ""
                lineWidth = 0
            }
            if lineWidth > 0 { line += "  "; lineWidth += 2 }
            line += kind.paint(item, style)
            lineWidth += itemWidth
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    // MARK: show

    public func technology(_ technology: Technology) -> String {
        var lines: [String] = []
        let title = technology.name == technology.id ? technology.name : "\(technology.name) (\(technology.id))"
        lines.append(style.bold(fit(title)))
        lines.append(contentsOf: wrap(technology.summary[lang], width: options.width - 2).map { "  " + $0 })
        lines.append("")

        // Each row is a label and a value; a value made of items (the isolation levels, the
        // linked ids) wraps between items so that each keeps its colour.
        var rows: [(label: String, items: [(plain: String, styled: String)], separator: String)] = []
        func row(_ key: UIText, _ value: String) {
            rows.append((labels.text(key, lang), [(value, value)], ""))
        }
        func row(_ key: UIText, items: [(plain: String, styled: String)]) {
            rows.append((labels.text(key, lang), items, " · "))
        }
        row(.active, yearRange(technology.firstYear, technology.lastYear))
        row(
            .isolates,
            items: IsolationFeature.allCases.map { feature in
                let level = technology.isolation[feature] ?? .no
                let name = labels.feature(feature, lang).lowercased()
                let text = labels.level(level, lang)
                return ("\(name) \(text)", "\(name) " + level.paint(text, style))
            })
        var kernel = labels.text(technology.needsSpecialKernel ? .yes : .no, lang)
        if let note = technology.kernelNote { kernel += " — " + note[lang] }
        row(.specialKernel, kernel)
        let licenceDetail = technology.licence.detail(lang)
        row(
            .licence,
            labels.licenceModel(technology.licence.model, lang) + (licenceDetail.isEmpty ? "" : " — " + licenceDetail))
        for (key, ids) in [(UIText.borrowedFrom, technology.borrowedFrom), (UIText.ledTo, technology.ledTo)] {
            if ids.isEmpty {
                row(key, labels.text(.none, lang))
            } else {
                row(key, items: ids.map { ($0, $0) })
            }
        }
        row(.lesson, technology.lesson)
        if let stage = technology.stage, let name = labels.stages[stage] {
            row(.labStage, labels.text(.stageNumber, lang, ["number": String(stage), "name": name[lang]]))
        } else {
            row(.labStage, labels.text(.notRebuilt, lang))
        }

        let labelWidth = rows.map { Terminal.displayWidth($0.label) }.max() ?? 0
        let valueWidth = options.width - 2 - labelWidth - 2
        let indent = String(repeating: " ", count: 2 + labelWidth + 2)
        for row in rows {
            var valueLines: [String] = []
            if row.items.count == 1 {
                // A single text wraps by words; it keeps its style only if it fits on one line.
                let wrapped = wrap(row.items[0].plain, width: valueWidth)
                valueLines = wrapped.count == 1 ? [row.items[0].styled] : wrapped
            } else {
                var line = "", used = 0
                for item in row.items {
                    let need = Terminal.displayWidth(item.plain) + (used == 0 ? 0 : row.separator.count)
                    if used > 0 && used + need > valueWidth {
                        valueLines.append(line)
                        line = ""
                        used = 0
                    }
                    line += (used == 0 ? "" : row.separator) + item.styled
                    used += used == 0 ? Terminal.displayWidth(item.plain) : need
                }
                valueLines.append(line)
            }
            lines.append("  " + style.bold(Terminal.pad(row.label, toWidth: labelWidth)) + "  " + valueLines[0])
            lines.append(contentsOf: valueLines.dropFirst().map { indent + $0 })
        }

        lines.append("")
        lines.append(style.bold(labels.text(.events, lang)))
        let events = data.events(of: technology.id)
        let dateWidth = events.map { $0.date.description.count }.max() ?? 4
        for event in events {
            let head =
                "  " + style.dim(Terminal.pad(event.date.description, toWidth: dateWidth)) + "  "
                + event.kind.paint(event.kind.glyph, style) + " "
            let room = options.width - (2 + dateWidth + 2 + 2)
            lines.append(head + Terminal.truncate(event.title[lang], toWidth: room))
        }

        lines.append("")
        lines.append(style.bold(labels.text(.sources, lang)))
        for source in technology.sources {
            let wrapped = wrap(source, width: options.width - 4)
            lines.append("  - " + wrapped[0])
            lines.append(contentsOf: wrapped.dropFirst().map { "    " + $0 })
        }
        return lines.joined(separator: "\n")
    }

    // MARK: compare

    /// One column per technology, one row per question; the licence identifier wraps inside its
    /// column, and columns that do not fit the width go into a further table below.
    public func comparison(_ technologies: [Technology]) -> String {
        struct Cell { let plain: String; let styled: String }
        let rowLabels: [String] =
            IsolationFeature.allCases.map { labels.feature($0, lang) }
            + [labels.text(.specialKernel, lang), labels.text(.year, lang), labels.text(.licence, lang)]
        let labelWidth = rowLabels.map(Terminal.displayWidth).max() ?? 0

        struct Column { let header: String; let cells: [Cell]; let licenceName: String; let width: Int }
        let columns: [Column] = technologies.map { technology in
            var cells = IsolationFeature.allCases.map { feature -> Cell in
                let level = technology.isolation[feature] ?? .no
                let text = labels.level(level, lang)
                return Cell(plain: text, styled: level.paint(text, style))
            }
            let special = labels.text(technology.needsSpecialKernel ? .yes : .no, lang)
            cells.append(Cell(plain: special, styled: technology.needsSpecialKernel ? style.yellow(special) : special))
            cells.append(Cell(plain: String(technology.firstYear), styled: String(technology.firstYear)))
            let model = labels.licenceModel(technology.licence.model, lang)
            cells.append(Cell(plain: model, styled: model))
            // Long names are replaced by the id the student typed, to keep columns narrow.
            let cellWidth = max(12, cells.map { Terminal.displayWidth($0.plain) }.max() ?? 0)
            let header = Terminal.displayWidth(technology.name) <= max(cellWidth, 16) ? technology.name : technology.id
            let width = min(24, max(cellWidth, Terminal.displayWidth(header)))
            return Column(header: header, cells: cells, licenceName: technology.licence.spdx ?? "", width: width)
        }

        // Split the columns into tables that fit the terminal.
        var tables: [[Int]] = [[]]
        var used = labelWidth
        for index in columns.indices {
            let need = 2 + columns[index].width
            if !tables[tables.count - 1].isEmpty && used + need > options.width {
                tables.append([])
                used = labelWidth
            }
            tables[tables.count - 1].append(index)
            used += need
        }

        func trimmed(_ line: String) -> String {
            String(line.reversed().drop(while: { $0 == " " }).reversed())
        }

        var lines: [String] = []
        for (tableIndex, table) in tables.enumerated() {
            if tableIndex > 0 { lines.append("") }
            // A single column wider than the terminal shrinks to fit.
            func width(_ index: Int) -> Int {
                min(columns[index].width, max(8, options.width - labelWidth - 2))
            }
            var header = Terminal.pad(labels.text(.technology, lang), toWidth: labelWidth)
            for index in table {
                header +=
                    "  "
                    + Terminal.pad(
                        Terminal.truncate(columns[index].header, toWidth: width(index)), toWidth: width(index))
            }
            lines.append(style.bold(trimmed(header)))
            for (row, label) in rowLabels.enumerated() {
                var line = Terminal.pad(label, toWidth: labelWidth)
                for index in table {
                    let cell = columns[index].cells[row]
                    let w = width(index)
                    let shown =
                        Terminal.displayWidth(cell.plain) <= w ? cell.styled : Terminal.truncate(cell.plain, toWidth: w)
                    line += "  " + Terminal.pad(shown, toWidth: w)
                }
                lines.append(trimmed(line))
            }
            // The licence identifiers, wrapped within their columns.
            let wrapped = table.map { wrap(columns[$0].licenceName, width: width($0)) }
            for lineIndex in 0..<(wrapped.map(\.count).max() ?? 0) {
                var line = String(repeating: " ", count: labelWidth)
                for (position, index) in table.enumerated() {
                    let piece = lineIndex < wrapped[position].count ? wrapped[position][lineIndex] : ""
                    line += "  " + Terminal.pad(style.dim(piece), toWidth: width(index))
                }
                lines.append(trimmed(line))
            }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: search

    public func search(_ result: SearchResult) -> String {
        var lines: [String] = []
        lines.append(
            style.bold(
                fit(
                    labels.text(
                        .searchHeading, lang,
                        ["count": String(result.events.count), "query": result.query]))))
        let dateWidth = result.events.map { $0.event.date.description.count }.max() ?? 4
        let terms = result.query.split(whereSeparator: \.isWhitespace).map(String.init)
        for hit in result.events {
            let event = hit.event
            let head =
                style.dim(Terminal.pad(event.date.description, toWidth: dateWidth)) + "  "
                + event.kind.paint(event.kind.glyph, style) + " "
            let room = options.width - dateWidth - 4
            lines.append(head + Terminal.truncate(event.title[lang], toWidth: room))
            if let snippet = snippet(for: hit, terms: terms, width: options.width - dateWidth - 4) {
                lines.append(String(repeating: " ", count: dateWidth + 4) + snippet)
            }
        }
        if !result.technologies.isEmpty {
            lines.append("")
            lines.append(style.bold(labels.text(.searchTechnologies, lang)))
            let idWidth = result.technologies.map { $0.id.count }.max() ?? 0
            for technology in result.technologies {
                let room = options.width - 2 - idWidth - 2
                lines.append(
                    "  " + Terminal.pad(technology.id, toWidth: idWidth) + "  "
                        + Terminal.truncate(technology.summary[lang], toWidth: room))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A window of the first matching field around the first term, the match highlighted.
    /// The student's language is preferred; a match only in the other language still shows,
    /// so that a Chinese query reveals why an English result came up.
    func snippet(for hit: SearchHit, terms: [String], width: Int) -> String? {
        let event = hit.event
        let order =
            lang == .en
            ? ["description.en", "title.en", "description.zh", "title.zh"]
            : ["description.zh", "title.zh", "description.en", "title.en"]
        let texts = [
            "title.en": event.title.en, "title.zh": event.title.zh,
            "description.en": event.description.en, "description.zh": event.description.zh
        ]
        for field in order where hit.fields.contains(field) {
            guard let text = texts[field] else { continue }
            for term in terms {
                guard
                    let range = text.range(
                        of: term, options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive])
                else { continue }
                return window(text, around: range, width: width)
            }
        }
        return nil
    }

    func window(_ text: String, around range: Range<String.Index>, width: Int) -> String {
        let match = String(text[range])
        let matchWidth = Terminal.displayWidth(match)
        let side = max(4, (width - matchWidth - 2) / 2)
        var before = ""
        for character in text[..<range.lowerBound].reversed() {
            if Terminal.displayWidth(before) + Terminal.displayWidth(String(character)) > side { break }
            before = String(character) + before
        }
        var after = ""
        let afterBudget = width - 2 - Terminal.displayWidth(before) - matchWidth
        for character in text[range.upperBound...] {
            if Terminal.displayWidth(after) + Terminal.displayWidth(String(character)) > afterBudget { break }
            after.append(character)
        }
        let open = before.count < text.distance(from: text.startIndex, to: range.lowerBound) ? "…" : ""
        let close = after.count < text.distance(from: range.upperBound, to: text.endIndex) ? "…" : ""
        let plain = open + before + match + after + close
        if Terminal.displayWidth(plain) > width {
            return Terminal.truncate(plain, toWidth: width)
        }
        return open + style.dim(before) + style.apply("1;4", match) + style.dim(after) + close
    }
}
