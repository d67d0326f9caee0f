import Foundation
import ContlabCore
import TextKit

/// Renders a lesson for a terminal of a given width, with or without ANSI colour. Pure: the
/// caller measures the terminal and decides about colour (see `contlab lessons show`), so tests
/// render without one.
public struct TerminalRenderer: Sendable {
    public var width: Int
    public var color: Bool

    /// Narrower than this, nested blocks stop shrinking (their lines may then overflow).
    static let minimumWidth = 12

    public init(width: Int, color: Bool) {
        self.width = max(width, TerminalRenderer.minimumWidth)
        self.color = color
    }

    /// The whole lesson: a header line, the body, link references, and the sources.
    public func render(_ lesson: Lesson) -> String {
        var layout = Layout(renderer: self, labels: Labels.of(lesson.language))
        return layout.lesson(lesson).joined(separator: "\n") + "\n"
    }

    /// Just a Markdown body (no header or sources), as lines.
    public func render(_ document: MarkdownDocument, language: Language = .en) -> [String] {
        var layout = Layout(renderer: self, labels: Labels.of(language))
        var lines = layout.blocks(document.blocks, width: width, tight: false, depth: 0, listDepth: 0)
        layout.flushReferences(into: &lines)
        return lines
    }

    /// The target shown for a link: its URL, or for a link to another lesson
    /// (`stage2-namespaces.md`) the command that shows it.
    static func referenceTarget(_ url: String) -> String {
        if let id = lessonID(linkedBy: url) { return "contlab lessons show \(id)" }
        return url
    }

    /// The lesson id a relative link to `<id>.md` (optionally `../zh/<id>.md#part`) points at.
    static func lessonID(linkedBy url: String) -> String? {
        guard !url.contains(":") else { return nil }
        let path = url.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path.hasSuffix(".md"), let name = path.split(separator: "/").last else { return nil }
        let id = name.dropLast(3)
        return id.isEmpty ? nil : String(id)
    }
}

/// The state of one rendering: link references are numbered in reading order, each URL once,
/// and listed at the end of the section that first used them.
private struct Layout {
    let renderer: TerminalRenderer
    let labels: Labels
    let style: Style
    var numbers: [String: Int] = [:]
    var pending: [(number: Int, target: String)] = []

    init(renderer: TerminalRenderer, labels: Labels) {
        self.renderer = renderer
        self.labels = labels
        self.style = Style(enabled: renderer.color)
    }

    var width: Int { renderer.width }

    func styled(_ text: String, _ textStyle: TextStyle) -> String {
        textStyle.apply(to: text, with: style)
    }

    mutating func lesson(_ lesson: Lesson) -> [String] {
        let document = MarkdownDocument(parsing: lesson.body)
        var lines = wrap([.text("\(lesson.id) · \(labels.place(of: lesson.metadata))", .muted)], width: width)
        lines.append("")
        if case .heading(1, _)? = document.blocks.first {
        } else {
            lines += heading(level: 1, [.text(lesson.title)], width: width)
            lines.append("")
        }
        lines += blocks(document.blocks, width: width, tight: false, depth: 0, listDepth: 0)
        flushReferences(into: &lines)
        lines.append("")
        lines += heading(level: 2, [.text(labels.sources)], width: width)
        lines.append("")
        lines += sources(lesson.metadata.sources)
        return lines
    }

    // MARK: Blocks

    mutating func blocks(
        _ blocks: [MarkdownBlock], width: Int, tight: Bool, depth: Int,
        listDepth: Int
    ) -> [String] {
        var out: [String] = []
        for block in blocks {
            if depth == 0, case let .heading(level, _) = block, level <= 2 {
                flushReferences(into: &out)
            }
            let rendered = self.block(block, width: width, depth: depth, listDepth: listDepth)
            if rendered.isEmpty { continue }
            if !out.isEmpty && !tight { out.append("") }
            out += rendered
        }
        return out
    }

    mutating func block(_ block: MarkdownBlock, width: Int, depth: Int, listDepth: Int) -> [String] {
        switch block {
        case let .paragraph(inlines):
            return wrap(runs(inlines, []), width: width)
        case let .heading(level, inlines):
            return heading(level: level, inlines, width: width)
        case let .blockQuote(children):
            let inner = blocks(
                children, width: narrower(width, by: 2), tight: false, depth: depth + 1,
                listDepth: listDepth)
            return inner.map { $0.isEmpty ? styled("│", .muted) : styled("│ ", .muted) + $0 }
        case let .list(ordered, start, delimiter, tight, items):
            return list(
                ordered: ordered, start: start, delimiter: delimiter, tight: tight, items: items,
                width: width, depth: depth, listDepth: listDepth)
        case let .codeBlock(info, code):
            return codeBlock(info: info, code: code)
        case let .htmlBlock(html):
            // Comments are notes to the lesson's writers; other raw HTML is shown as written.
            let trimmed = html.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.hasPrefix("<!--") && trimmed.hasSuffix("-->") { return [] }
            return trimmed.split(separator: "\n", omittingEmptySubsequences: false)
                .flatMap { line in line.isEmpty ? [""] : wrap([.text(String(line), .muted)], width: width) }
        case .thematicBreak:
            return [styled(String(repeating: "─", count: width), .muted)]
        }
    }

    func narrower(_ width: Int, by amount: Int) -> Int {
        max(width - amount, TerminalRenderer.minimumWidth)
    }

    mutating func heading(level: Int, _ inlines: [MarkdownInline], width: Int) -> [String] {
        let base: TextStyle
        switch level {
        case 1: base = .heading1
        case 2: base = .heading2
        case 3: base = .heading3
        default: base = .strong
        }
        let wrapped = TextWrapper.wrap(runs(inlines, base), width: width)
        var lines = wrapped.map { $0.rendered(style) }
        // Rules under the first three levels keep headings visible without colour.
        let rules = [1: "═", 2: "─", 3: "┄"]
        if let rule = rules[level] {
            let ruleWidth = min(wrapped.map(\.width).max() ?? 0, width)
            lines.append(styled(String(repeating: rule, count: ruleWidth), level == 3 ? .muted : base))
        }
        return lines
    }

    mutating func list(
        ordered: Bool, start: Int, delimiter: Character, tight: Bool,
        items: [[MarkdownBlock]], width: Int, depth: Int, listDepth: Int
    ) -> [String] {
        let bullets = ["•", "◦", "▪"]
        let markers = items.indices.map { index in
            ordered ? "\(start + index)\(delimiter)" : bullets[listDepth % bullets.count]
        }
        let markerWidth = (markers.map(Terminal.displayWidth).max() ?? 1) + 1
        var out: [String] = []
        for (index, item) in items.enumerated() {
            if index > 0 && !tight { out.append("") }
            let marker = markers[index]
            let padding = String(repeating: " ", count: markerWidth - 1 - Terminal.displayWidth(marker))
            let shown = (ordered ? padding + marker : marker + padding) + " "
            let inner = blocks(
                item, width: narrower(width, by: markerWidth), tight: tight,
                depth: depth + 1, listDepth: listDepth + 1)
            if inner.isEmpty { out.append(styled(marker, .muted)); continue }
            for (lineIndex, line) in inner.enumerated() {
                if lineIndex == 0 {
                    out.append(styled(shown, ordered ? [] : .muted) + line)
                } else {
                    out.append(line.isEmpty ? "" : String(repeating: " ", count: markerWidth) + line)
                }
            }
        }
        return out
    }

    /// Code is shown as written — never wrapped, tabs expanded — behind a gutter, with the
    /// fence's language as a label.
    func codeBlock(info: String, code: String) -> [String] {
        // "diagram:FILE" names the data the site draws it from; here the drawing is the text.
        let language =
            (info.split(separator: " ").first.map(String.init) ?? "").split(separator: ":").first.map(String.init) ?? ""
        var codeLines = code.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if codeLines.last == "" { codeLines.removeLast() }
        var out = [styled("  ┌─" + (language.isEmpty ? "" : " " + language), .muted)]
        for line in codeLines {
            let expanded = line.replacingOccurrences(of: "\t", with: "    ")
            out.append(expanded.isEmpty ? styled("  │", .muted) : styled("  │ ", .muted) + expanded)
        }
        out.append(styled("  └─", .muted))
        return out
    }

    func sources(_ sources: [LessonSource]) -> [String] {
        let numberWidth = String(sources.count).count + 2
        var out: [String] = []
        for (index, source) in sources.enumerated() {
            let number = "\(index + 1)."
            let prefix = String(repeating: " ", count: numberWidth - 1 - number.count) + number + " "
            let indent = String(repeating: " ", count: numberWidth)
            let textWidth = narrower(width, by: numberWidth)
            let title = TextWrapper.wrap([.text(source.title, [])], width: textWidth).map { $0.rendered(style) }
            for (lineIndex, line) in title.enumerated() {
                out.append((lineIndex == 0 ? prefix : indent) + line)
            }
            if let url = source.url {
                out += TextWrapper.wrap([.text(url, .link)], width: textWidth).map { indent + $0.rendered(style) }
            }
        }
        return out
    }

    // MARK: Inline text

    func wrap(_ runs: [TextRun], width: Int) -> [String] {
        TextWrapper.wrap(runs, width: width).map { $0.rendered(style) }
    }

    mutating func runs(_ inlines: [MarkdownInline], _ base: TextStyle) -> [TextRun] {
        var out: [TextRun] = []
        for inline in inlines {
            switch inline {
            case let .text(text):
                out.append(.text(text, base))
            case .softBreak:
                out.append(.softBreak)
            case .lineBreak:
                out.append(.lineBreak)
            case let .code(code):
                // Without colour, backticks are the only sign that this is code.
                out.append(.text(renderer.color ? code : "`\(code)`", base.union(.code)))
            case .html:
                break  // tags such as <kbd> are markup, their text arrives as text nodes
            case let .emphasis(children):
                out += runs(children, base.union(.emphasis))
            case let .strong(children):
                out += runs(children, base.union(.strong))
            case let .link(url, _, children):
                out += runs(children, base.union(.link))
                let label = MarkdownInline.plainText(children)
                // An autolink already shows its URL.
                if url.isEmpty || label == url || "mailto:" + label == url { break }
                let number = reference(TerminalRenderer.referenceTarget(url))
                out.append(.text("[\(number)]", base.subtracting(.link).union(.reference)))
            case let .image(_, _, alt):
                let text = MarkdownInline.plainText(alt)
                out.append(.text("[\(labels.image(text))]", base.union(.image)))
            }
        }
        return out
    }

    mutating func reference(_ target: String) -> Int {
        if let number = numbers[target] { return number }
        let number = numbers.count + 1
        numbers[target] = number
        pending.append((number, target))
        return number
    }

    /// Lists the references made since the last flush under the text that made them.
    mutating func flushReferences(into lines: inout [String]) {
        guard !pending.isEmpty else { return }
        if !lines.isEmpty { lines.append("") }
        let labelWidth = "[\(pending.map(\.number).max() ?? 1)] ".count
        for (number, target) in pending {
            let label = "[\(number)]"
            let prefix = label + String(repeating: " ", count: labelWidth - label.count)
            let wrapped = TextWrapper.wrap([.text(target, .muted)], width: narrower(width, by: labelWidth))
            for (index, line) in wrapped.enumerated() {
                lines.append(
                    (index == 0 ? styled(prefix, .reference) : String(repeating: " ", count: labelWidth))
                        + line.rendered(style))
            }
        }
        pending.removeAll()
    }
}
