import Foundation
import TextKit

/// Everything that can go wrong reading, finding or exporting lessons. Each message names the
/// file (and the front-matter field) involved and says what to do about it.
public enum LessonsError: Error, CustomStringConvertible, Equatable {
    /// The file does not start with a `---` line, or the closing `---` is missing.
    case missingFrontMatter(file: String)
    /// The front matter is not valid YAML; `detail` is the YAML parser's own message.
    case invalidYAML(file: String, detail: String)
    /// A required field is absent (or empty).
    case missingField(file: String, field: String, hint: String)
    /// A field is present but its value is wrong.
    case invalidField(file: String, field: String, value: String, expected: String)
    /// A field has a value of the wrong type (text where a number belongs, …).
    case wrongType(file: String, field: String, expected: String)
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// No lesson with this id in this language (`existsIn`: the other language has it).
    case unknownLesson(
        id: String, language: Language, suggestions: [String], directory: String,
        existsIn: Language? = nil)
    /// `--lang` got something other than `en` or `zh`.
    case unknownLanguage(String)
    /// Writing the HTML site failed.
    case exportFailed(path: String, reason: String)
    /// Several lessons are broken at once; each is reported.
    case several([LessonsError])

    public var description: String {
        switch self {
        case let .missingFrontMatter(file):
            return
                "\(file): no front matter — a lesson starts with a line `---`, then YAML fields (id, title, kind, "
                + "order, sources, …), then another `---` line, then the Markdown text"
        case let .invalidYAML(file, detail):
            return "\(file): the front matter is not valid YAML: \(detail)"
        case let .missingField(file, field, hint):
            return "\(file): front matter field `\(field)` is missing — \(hint)"
        case let .invalidField(file, field, value, expected):
            return
                "\(file): front matter field `\(field)` is \(value.isEmpty ? "empty" : "`\(value)`") — expected \(expected)"
        case let .wrongType(file, field, expected):
            return "\(file): front matter field `\(field)` has the wrong type — expected \(expected)"
        case let .unreadable(file, reason):
            return "\(file): cannot read the lesson: \(reason)"
        case let .unknownLesson(id, language, suggestions, directory, existsIn):
            var text = "no lesson `\(id)` in \(directory)"
            if let other = existsIn {
                text += " — it is not translated yet; read it in \(other.nativeName) with `--lang \(other.rawValue)`"
            } else if suggestions.isEmpty {
                text += " — `contlab lessons --lang \(language.rawValue)` lists the lessons there"
            } else {
                text +=
                    " — did you mean "
                    + suggestions.map { "`\($0)`" }.joined(separator: " or ") + "?"
            }
            return text
        case let .unknownLanguage(value):
            return "unknown language `\(value)` — lessons exist in `en` (English) and `zh` (中文)"
        case let .exportFailed(path, reason):
            return "cannot write \(path): \(reason) — pick a directory you can write to, e.g. --html /tmp/contlab-site"
        case let .several(errors):
            return "\(errors.count) lessons have problems:\n"
                + errors.map { "  - \($0.description)" }.joined(separator: "\n")
        }
    }
}
