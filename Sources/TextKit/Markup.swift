/// Text made safe for HTML, SVG and XML: element content and quoted attributes alike.
public enum Markup {
    /// `&`, `<`, `>` and both quotes as entities; `'` as `&#39;`, which HTML and XML both read
    /// (HTML 4 has no `&apos;`).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            if let entity = entity(character) { out += entity } else { out.append(character) }
        }
        return out
    }

    /// `escape` for an XML 1.0 document read by other programs (a JUnit report): line ends and
    /// tabs also become character references, since a parser normalises them to spaces inside an
    /// attribute, and what XML 1.0 cannot hold at all (most C0 controls, U+FFFE, U+FFFF, which a
    /// student's program may print) becomes U+FFFD.
    public static func escapeXML(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let entity = entity(Character(scalar)) {
                out += entity
                continue
            }
            switch scalar.value {
            case 0x9, 0xA, 0xD: out += "&#\(scalar.value);"
            case 0..<0x20, 0xFFFE, 0xFFFF: out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func entity(_ character: Character) -> String? {
        switch character {
        case "&": return "&amp;"
        case "<": return "&lt;"
        case ">": return "&gt;"
        case "\"": return "&quot;"
        case "'": return "&#39;"
        default: return nil
        }
    }
}
