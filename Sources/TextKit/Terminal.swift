import Foundation

/// When to colour output: `auto` colours only a terminal and never when `NO_COLOR` is set
/// (https://no-color.org), `always` and `never` say so.
public enum ColorMode: String, CaseIterable, Sendable {
    case auto, always, never

    /// Whether output to `fd` gets ANSI styles under this mode and environment.
    public func enabled(
        fd: Int32 = STDOUT_FILENO,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
            if environment["TERM"] == "dumb" { return false }
            return isatty(fd) == 1
        }
    }
}

/// ANSI styles, applied only when enabled: callers build text once and never test for colour.
public struct Style: Sendable {
    public let enabled: Bool
    public init(enabled: Bool) { self.enabled = enabled }

    public func apply(_ codes: String, _ text: String) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(codes)m\(text)\u{1B}[0m" : text
    }
    public func bold(_ s: String) -> String { apply("1", s) }
    public func dim(_ s: String) -> String { apply("2", s) }
    public func italic(_ s: String) -> String { apply("3", s) }
    public func underline(_ s: String) -> String { apply("4", s) }
    public func red(_ s: String) -> String { apply("31", s) }
    public func green(_ s: String) -> String { apply("32", s) }
    public func yellow(_ s: String) -> String { apply("33", s) }
    public func blue(_ s: String) -> String { apply("34", s) }
    public func magenta(_ s: String) -> String { apply("35", s) }
    public func cyan(_ s: String) -> String { apply("36", s) }
}

public enum Terminal {
    /// Columns of the terminal on `fd`, else `$COLUMNS`, else 80.
    public static func columns(
        fd: Int32 = STDOUT_FILENO,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Int {
        var size = winsize()
        if ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let text = environment["COLUMNS"], let n = Int(text), n > 0 { return n }
        return 80
    }

    /// How many terminal columns `text` takes: East Asian wide and fullwidth characters take two,
    /// combining marks and ANSI escape sequences none.
    /// Whole words into lines of at most `width` columns (by display width), each starting with
    /// `indent`; a word wider than the line gets a line of its own.
    public static func wrapWords(_ words: [String], width: Int, indent: String) -> [String] {
        var lines: [String] = []
        var line = indent
        for word in words {
            if line != indent && displayWidth(line) + 1 + displayWidth(word) > width {
                lines.append(line)
                line = indent
            }
            line += (line == indent ? "" : " ") + word
        }
        if line != indent { lines.append(line) }
        return lines
    }

    public static func displayWidth(_ text: String) -> Int {
        var width = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if (0x40...0x7E).contains(scalar.value) && scalar != "[" { inEscape = false }
                continue
            }
            if scalar == "\u{1B}" { inEscape = true; continue }
            width += scalarWidth(scalar)
        }
        return width
    }

    /// `text` cut to at most `width` columns, ending in "…" when something was cut.
    public static func truncate(_ text: String, toWidth width: Int) -> String {
        guard width > 0 else { return "" }
        guard displayWidth(text) > width else { return text }
        var out = ""
        var used = 0
        for character in text {
            let w = displayWidth(String(character))
            if used + w > width - 1 { break }
            out.append(character)
            used += w
        }
        return out + "…"
    }

    /// `text` followed by spaces up to `width` columns.
    public static func pad(_ text: String, toWidth width: Int) -> String {
        let missing = width - displayWidth(text)
        return missing > 0 ? text + String(repeating: " ", count: missing) : text
    }

    public static func scalarWidth(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v >= 0x20 && v < 0x7F { return 1 }  // ASCII, most of every lesson: no table lookups
        if v == 0 || v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if v == 0x200B { return 0 }
        // Wide and fullwidth ranges (UAX #11): Hangul Jamo, CJK, Hangul syllables, compatibility
        // ideographs, fullwidth forms, CJK extensions, and emoji presentation blocks.
        return wideRanges.contains { $0.contains(v) } ? 2 : 1
    }

    static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
        0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
        0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD
    ]
}
