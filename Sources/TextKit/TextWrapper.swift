import Foundation

/// How a run of text looks in the terminal. The renderer maps these to ANSI codes only when
/// colour is on, so wrapping works on the same values with or without colour.
public struct TextStyle: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let strong = TextStyle(rawValue: 1 << 0)
    public static let emphasis = TextStyle(rawValue: 1 << 1)
    public static let code = TextStyle(rawValue: 1 << 2)
    public static let link = TextStyle(rawValue: 1 << 3)
    public static let reference = TextStyle(rawValue: 1 << 4)
    public static let image = TextStyle(rawValue: 1 << 5)
    public static let heading1 = TextStyle(rawValue: 1 << 6)
    public static let heading2 = TextStyle(rawValue: 1 << 7)
    public static let heading3 = TextStyle(rawValue: 1 << 8)
    public static let muted = TextStyle(rawValue: 1 << 9)

    /// The SGR parameters for this style, e.g. `1;35`; empty for plain text.
    public var ansiCodes: String {
        var codes: [String] = []
        if contains(.strong) || contains(.heading1) || contains(.heading2) || contains(.heading3) {
            codes.append("1")
        }
        if contains(.muted) || contains(.reference) { codes.append("2") }
        if contains(.emphasis) || contains(.image) { codes.append("3") }
        if contains(.link) { codes.append("4") }
        if contains(.code) {
            codes.append("32")
        } else if contains(.heading1) {
            codes.append("35")
        } else if contains(.heading2) {
            codes.append("36")
        } else if contains(.link) {
            codes.append("34")
        }
        return codes.joined(separator: ";")
    }
}

extension TextStyle {
    /// `text` in this style; plain text gets no escape codes at all.
    public func apply(to text: String, with style: Style) -> String {
        let codes = ansiCodes
        return codes.isEmpty ? text : style.apply(codes, text)
    }
}

/// A piece of inline text for the wrapper.
public enum TextRun: Equatable, Sendable {
    case text(String, TextStyle)
    /// A line end in the Markdown source inside a paragraph: a space in English, nothing
    /// between two Chinese characters (Chinese does not put spaces between words).
    case softBreak
    /// A hard line break (two spaces or `\` at the end of a Markdown line).
    case lineBreak
}

/// One line of wrapped output: styled pieces whose display widths add up to at most the width.
public struct WrappedLine: Equatable, Sendable {
    public var pieces: [(text: String, style: TextStyle)]

    public init(pieces: [(text: String, style: TextStyle)] = []) { self.pieces = pieces }

    public var plainText: String { pieces.map(\.text).joined() }
    public var width: Int { Terminal.displayWidth(plainText) }

    public func rendered(_ style: Style) -> String {
        pieces.map { $0.style.apply(to: $0.text, with: style) }.joined()
    }

    mutating func append(_ c: Character, _ style: TextStyle) {
        if let last = pieces.last, last.style == style {
            pieces[pieces.count - 1].text.append(c)
        } else {
            pieces.append((String(c), style))
        }
    }

    mutating func append(_ text: String, _ style: TextStyle) {
        if let last = pieces.last, last.style == style {
            pieces[pieces.count - 1].text += text
        } else {
            pieces.append((text, style))
        }
    }

    public static func == (a: WrappedLine, b: WrappedLine) -> Bool {
        a.pieces.count == b.pieces.count
            && zip(a.pieces, b.pieces).allSatisfy { $0.text == $1.text && $0.style == $1.style }
    }
}

/// Greedy line filling that measures text in terminal columns (a CJK character takes two) and
/// breaks where the script allows it: at spaces, and between any two CJK characters — except
/// before closing punctuation (`，。）」`…) or after opening punctuation (`（「`…), the rule
/// Chinese and Japanese typesetting call 禁则 / kinsoku.
public enum TextWrapper {
    /// Characters that must not start a line.
    static let noBreakBefore: Set<Character> = [
        "，", "。", "、", "；", "：", "！", "？", "）", "」", "』", "》", "〉", "】", "〕", "］", "｝",
        "”", "’", "…", "—", "～", "·", "・", "ー", "々",
        ",", ".", ";", ":", "!", "?", ")", "]", "}", "%"
    ]
    /// Characters that must not end a line.
    static let noBreakAfter: Set<Character> = [
        "（", "「", "『", "《", "〈", "【", "〔", "［", "｛", "“", "‘", "(", "[", "{"
    ]

    /// Whether `c` takes two columns (a CJK character): such text needs no spaces to break.
    public static func isWide(_ c: Character) -> Bool { width(of: c) >= 2 }

    /// A character's columns; ASCII without building a String.
    static func width(of c: Character) -> Int {
        if let ascii = c.asciiValue { return ascii >= 0x20 && ascii < 0x7F ? 1 : 0 }
        return Terminal.displayWidth(String(c))
    }

    static func isSpace(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\n" }

    /// Whether a line may end between `a` and `b` when no space separates them.
    static func canBreak(between a: Character, and b: Character) -> Bool {
        (isWide(a) || isWide(b)) && !noBreakBefore.contains(b) && !noBreakAfter.contains(a)
    }

    /// A unit that is never split unless it alone is wider than the line.
    struct Unit {
        var line = WrappedLine()
        var width = 0
        /// Whether a space separates this unit from the one before.
        var spaceBefore = false
        var spaceStyle: TextStyle = []
        var hardBreakBefore = false
        /// The unit's last character (what a break after it would follow).
        var last: Glyph?
    }

    /// A character with what the wrapper asks of it again and again, worked out once: its
    /// columns and, for ASCII, its byte (most of every lesson, even the Chinese ones).
    struct Glyph {
        var char: Character
        var style: TextStyle
        var ascii: UInt8
        var width: Int

        init(_ char: Character, _ style: TextStyle) {
            self.char = char
            self.style = style
            ascii = char.asciiValue ?? 0
            width = ascii != 0 ? (ascii >= 0x20 && ascii < 0x7F ? 1 : 0) : Terminal.displayWidth(String(char))
        }

        var isSpace: Bool { ascii == 32 || ascii == 9 || ascii == 10 }
        var isWide: Bool { width >= 2 }
    }

    static func canBreak(between a: Glyph, and b: Glyph) -> Bool {
        (a.isWide || b.isWide) && !noBreakBefore.contains(b.char) && !noBreakAfter.contains(a.char)
    }

    /// Wraps `runs` into lines of at most `width` columns. A single character wider than the
    /// line (a CJK character at width 1) is the only thing that can exceed it.
    public static func wrap(_ runs: [TextRun], width: Int) -> [WrappedLine] {
        let width = max(width, 1)
        // Characters with their styles; "\n" stands for a soft break, nil for a hard one.
        var chars: [Glyph?] = []
        for run in runs {
            switch run {
            case let .text(text, style):
                chars.reserveCapacity(chars.count + text.utf8.count)
                for c in text { chars.append(Glyph(c, style)) }
            case .softBreak: chars.append(Glyph("\n", []))
            case .lineBreak: chars.append(nil)
            }
        }

        var units: [Unit] = []
        var current: Unit?
        var pendingSpace = false
        var pendingSpaceStyle: TextStyle = []
        var pendingHardBreak = false
        var previous: Glyph?  // last non-space character seen

        func finish() {
            if let unit = current { units.append(unit) }
            current = nil
        }

        for (index, entry) in chars.enumerated() {
            guard let glyph = entry else {
                finish()
                pendingHardBreak = true
                pendingSpace = false
                previous = nil
                continue
            }
            if glyph.isSpace {
                finish()
                // A soft break between two wide characters joins them without a space.
                if glyph.ascii == 10, let before = previous, before.isWide,
                    let after = chars[(index + 1)...].first(where: { $0.map { !$0.isSpace } ?? true }) ?? nil,
                    after.isWide
                {
                    continue
                }
                if !pendingSpace { pendingSpaceStyle = glyph.style }
                pendingSpace = true
                continue
            }
            if let unit = current, let last = unit.last, !canBreak(between: last, and: glyph) {
                // Glued to the unit being built.
            } else if current != nil {
                finish()
            } else if let before = previous, !pendingSpace, !pendingHardBreak,
                !canBreak(between: before, and: glyph), var last = units.popLast()
            {
                // Punctuation after a soft break that was dropped: keep it with what precedes.
                last.line.append(glyph.char, glyph.style)
                last.width += glyph.width
                last.last = glyph
                current = last
                previous = glyph
                continue
            }
            if current == nil {
                current = Unit(
                    spaceBefore: pendingSpace, spaceStyle: pendingSpaceStyle,
                    hardBreakBefore: pendingHardBreak)
                pendingSpace = false
                pendingHardBreak = false
            }
            current!.line.append(glyph.char, glyph.style)
            current!.width += glyph.width
            current!.last = glyph
            previous = glyph
        }
        finish()

        var lines: [WrappedLine] = []
        var line = WrappedLine()
        var lineWidth = 0
        var lineStarted = false

        func endLine() {
            lines.append(line)
            line = WrappedLine()
            lineWidth = 0
            lineStarted = false
        }

        for unit in units {
            if unit.hardBreakBefore { endLine() }
            let gap = unit.spaceBefore && lineStarted ? 1 : 0
            if lineWidth + gap + unit.width <= width {
                if gap == 1 { line.append(" ", unit.spaceStyle) }
                for piece in unit.line.pieces { line.append(piece.text, piece.style) }
                lineWidth += gap + unit.width
                lineStarted = true
                continue
            }
            if lineStarted { endLine() }
            if unit.width <= width {
                for piece in unit.line.pieces { line.append(piece.text, piece.style) }
                lineWidth = unit.width
                lineStarted = true
                continue
            }
            // Wider than a whole line (a long URL or path): cut it into line-sized pieces,
            // after a `/`, `-`, `.` or `_` where one falls in the second half of the line.
            let chars = unit.line.pieces.flatMap { piece in piece.text.map { ($0, piece.style) } }
            var start = 0
            while start < chars.count {
                var end = start, used = 0
                while end < chars.count {
                    let w = Terminal.displayWidth(String(chars[end].0))
                    if used + w > width && end > start { break }
                    used += w
                    end += 1
                }
                if end < chars.count,
                    let cut = (start..<end).last(where: { "/-._?&=".contains(chars[$0].0) }),
                    cut + 1 > start + (end - start) / 2
                {
                    end = cut + 1
                }
                if lineStarted { endLine() }
                for (c, style) in chars[start..<end] {
                    line.append(String(c), style)
                    lineWidth += Terminal.displayWidth(String(c))
                }
                lineStarted = true
                start = end
            }
        }
        if lineStarted { endLine() }
        return lines
    }

    /// `wrap` for unstyled text, one string per line (none for an empty text).
    public static func wrap(_ text: String, width: Int) -> [String] {
        wrap([.text(text, [])], width: width).map(\.plainText)
    }
}

extension Terminal {
    /// `prefix` and `text` as one line, or, where that is wider than `width`, `text` wrapped
    /// (CJK-aware) with its later lines under its first. A text never gets fewer than 24 columns.
    /// `paint` colours each line's text after the wrapping, so that escape codes never count.
    public static func hanging(
        _ prefix: String, _ text: String, width: Int?, paint: (String) -> String = { $0 }
    ) -> String {
        guard let width, Terminal.displayWidth(prefix + text) > width else { return prefix + paint(text) + "\n" }
        let indent = Terminal.displayWidth(prefix)
        let lines = TextWrapper.wrap([.text(text, [])], width: max(width - indent, 24))
        let plain = Style(enabled: false)
        return lines.enumerated().map { index, line in
            (index == 0 ? prefix : String(repeating: " ", count: indent)) + paint(line.rendered(plain))
        }.joined(separator: "\n") + "\n"
    }
}
