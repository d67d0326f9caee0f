// Fitting text into terminal columns. Widths come from Terminal.displayWidth, so Chinese
// characters count two columns and ANSI styles none.
import ContlabCore

public enum TextLayout {
    /// `text` cut to at most `width` columns, ending in "…" when something was cut.
    public static func truncate(_ text: String, toWidth width: Int) -> String {
        guard width > 0 else { return "" }
        guard Terminal.displayWidth(text) > width else { return text }
        var out = ""
        var used = 0
        for character in text {
            let w = Terminal.displayWidth(String(character))
            if used + w > width - 1 { break }
            out.append(character)
            used += w
        }
        return out + "…"
    }

    /// `text` followed by spaces up to `width` columns.
    public static func pad(_ text: String, toWidth width: Int) -> String {
        let missing = width - Terminal.displayWidth(text)
        return missing > 0 ? text + String(repeating: " ", count: missing) : text
    }

    /// Lines of at most `width` columns. English breaks at spaces; Chinese may break between
    /// any two characters, but never before closing punctuation. A word longer than a line is
    /// cut.
    public static func wrap(_ text: String, width: Int) -> [String] {
        let width = max(width, 8)
        var lines: [String] = []
        var line = ""
        var lineWidth = 0

        func flush() {
            lines.append(String(line.reversed().drop(while: { $0 == " " }).reversed()))
            line = ""
            lineWidth = 0
        }

        for token in tokens(text) {
            let tokenWidth = Terminal.displayWidth(token)
            if token == " " {
                if lineWidth > 0 && lineWidth < width { line += " "; lineWidth += 1 }
                continue
            }
            if lineWidth + tokenWidth > width && lineWidth > 0 {
                flush()
            }
            if tokenWidth > width {
                var rest = Substring(token)
                while Terminal.displayWidth(String(rest)) > width {
                    let piece = truncate(String(rest), toWidth: width + 1).dropLast()
                    lines.append(String(piece))
                    rest = rest.dropFirst(piece.count)
                }
                line = String(rest)
                lineWidth = Terminal.displayWidth(line)
                continue
            }
            line += token
            lineWidth += tokenWidth
        }
        if !line.isEmpty || lines.isEmpty { flush() }
        return lines
    }

    /// Splits text into breakable units: runs of non-Chinese letters, single spaces, and single
    /// Chinese characters with any closing punctuation that must stay on their line.
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var word = ""
        func endWord() {
            if !word.isEmpty { tokens.append(word); word = "" }
        }
        for character in text {
            let scalar = character.unicodeScalars.first!
            if character == " " || character == "\n" {
                endWord()
                tokens.append(" ")
            } else if TextForm.isCJK(scalar) {
                endWord()
                if isClosing(character), let last = tokens.last, last != " " {
                    tokens[tokens.count - 1] = last + String(character)
                } else {
                    tokens.append(String(character))
                }
            } else {
                word.append(character)
            }
        }
        endWord()
        return tokens
    }

    static func isClosing(_ character: Character) -> Bool {
        "，。、；：！？）」』】》".contains(character)
    }
}
