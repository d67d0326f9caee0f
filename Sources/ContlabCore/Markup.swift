/// Text made safe for HTML, SVG and XML: element content and quoted attributes alike.
public enum Markup {
    /// `&`, `<`, `>` and both quotes as entities; `'` as `&#39;`, which HTML and XML both read
    /// (HTML 4 has no `&apos;`).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
