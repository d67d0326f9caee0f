// The Chinese texts' written forms: telling CJK from Latin, and unfolding a YAML line end
// between two Chinese characters (where Chinese puts no space).
import Foundation

enum TextForm {
    static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3000...0x303F, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0xFF00...0xFFEF:
            return true
        default:
            return false
        }
    }

    static func isIdeograph(_ scalar: Unicode.Scalar) -> Bool {
        (0x3400...0x4DBF).contains(scalar.value) || (0x4E00...0x9FFF).contains(scalar.value)
            || (0xF900...0xFAFF).contains(scalar.value)
    }

    static func containsCJK(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isIdeograph)
    }

    static func isFullWidthPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        (0x3000...0x303F).contains(scalar.value) || (0xFF00...0xFFEF).contains(scalar.value)
    }

    /// YAML folds a line break into a space, which is right between English words and wrong
    /// in Chinese: drop a space next to full-width punctuation, or between two Chinese
    /// characters (curly quotes, dashes and ellipses count as Chinese there).
    static func unfold(_ text: String) -> String {
        func chinese(_ scalar: Unicode.Scalar) -> Bool {
            isCJK(scalar) || ["\u{201C}", "\u{201D}", "\u{2014}", "\u{2026}"].contains(scalar)
        }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (index, scalar) in scalars.enumerated() {
            if scalar == " ", index > 0, index + 1 < scalars.count {
                let before = scalars[index - 1], after = scalars[index + 1]
                if isFullWidthPunctuation(before) || isFullWidthPunctuation(after)
                    || (chinese(before) && chinese(after))
                {
                    continue
                }
            }
            out.append(scalar)
        }
        return String(out)
    }
}
