import Foundation
import TextKit
import Yams

/// Splits a lesson file into its YAML front matter and Markdown body, and checks the fields.
public enum FrontMatter {
    /// The front matter as written: every field optional so that a missing one is reported by
    /// name (Codable's own `keyNotFound` would name it, but not say what the field is for).
    struct Raw {
        var id: String?
        var title: String?
        var kind: String?
        var stage: Int?
        var era: String?
        var order: Int?
        var events: [String]?
        var sources: [RawSource]?
    }

    struct RawSource {
        var title: String?
        var url: String?
    }

    /// Parses a whole lesson file. `file` is used in messages and, through its name, checked
    /// against the `id` field (`lessons/en/stage1-chroot.md` must say `id: stage1-chroot`).
    public static func parseLesson(text: String, file: String, language: Language) throws -> Lesson {
        let (yaml, body) = try split(text: text, file: file)
        let metadata = try parseMetadata(yaml: yaml, file: file)
        let stem = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        if metadata.id != stem {
            throw LessonsError.invalidField(
                file: file, field: "id", value: metadata.id,
                expected: "`\(stem)`, the file's name without .md (rename the file or fix the id)")
        }
        return Lesson(metadata: metadata, language: language, body: body, file: file)
    }

    /// Separates `---\n<yaml>\n---\n<body>`. Accepts a byte-order mark, CRLF line ends and `...`
    /// as the closing line, as YAML does.
    static func split(text: String, file: String) throws -> (yaml: String, body: String) {
        var normalized = text
        // Only a file with CR LF line ends pays for the copy; the search below runs on bytes, not
        // on the lines of the whole lesson (which cost milliseconds on every `lessons show`).
        if text.utf8.contains(13) { normalized = text.replacingOccurrences(of: "\r\n", with: "\n") }
        if normalized.hasPrefix("\u{FEFF}") { normalized.removeFirst() }
        let bytes = Array(normalized.utf8)
        func line(from start: Int) -> (text: String, next: Int) {
            var end = start
            while end < bytes.count && bytes[end] != 10 { end += 1 }
            let text = String(decoding: bytes[start..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            return (text, min(end + 1, bytes.count))
        }
        let first = line(from: 0)
        guard first.text == "---" else { throw LessonsError.missingFrontMatter(file: file) }
        var position = first.next
        let yamlStart = position
        while position < bytes.count {
            let current = line(from: position)
            if current.text == "---" || current.text == "..." {
                let yamlEnd = max(yamlStart, position - 1)
                let yaml = String(decoding: bytes[yamlStart..<yamlEnd], as: UTF8.self)
                let body = String(decoding: bytes[current.next...], as: UTF8.self)
                return (yaml, body)
            }
            position = current.next
        }
        throw LessonsError.missingFrontMatter(file: file)
    }

    /// The front matter read from Yams's node tree with the basic resolver (every scalar a
    /// string, no regular expressions) rather than through Codable: in the static binary each
    /// first-time dynamic cast scans all protocol conformances, and YAMLDecoder makes dozens,
    /// which cost more than rendering the whole lesson.
    static func readRaw(yaml: String, file: String) throws -> Raw {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml, .basic)
        } catch {
            throw LessonsError.invalidYAML(file: file, detail: "\(error)")
        }
        guard let root, case .mapping(let fields) = root else {
            throw LessonsError.invalidYAML(file: file, detail: "expected fields like `id: …`")
        }
        func scalar(_ node: Node?, _ field: String, _ expected: String) throws -> String? {
            guard let node else { return nil }
            guard case .scalar(let value) = node else {
                throw LessonsError.wrongType(file: file, field: field, expected: expected)
            }
            // A plain `~`, `null` or nothing is YAML's null: the same as leaving the field out.
            if value.style == .plain && ["", "~", "null", "Null", "NULL"].contains(value.string) { return nil }
            return value.string
        }
        func text(_ key: String) throws -> String? { try scalar(fields[key], key, expectedName(String.self)) }
        func number(_ key: String) throws -> Int? {
            guard let value = try scalar(fields[key], key, expectedName(Int.self)) else { return nil }
            guard let number = Int(value) else {
                throw LessonsError.wrongType(file: file, field: key, expected: expectedName(Int.self))
            }
            return number
        }
        var raw = Raw()
        raw.id = try text("id")
        raw.title = try text("title")
        raw.kind = try text("kind")
        raw.stage = try number("stage")
        raw.era = try text("era")
        raw.order = try number("order")
        if let events = fields["events"] {
            guard case .sequence(let items) = events else {
                throw LessonsError.wrongType(file: file, field: "events", expected: expectedName([String].self))
            }
            raw.events = try items.enumerated().map { index, item in
                try scalar(item, "events[\(index)]", expectedName(String.self)) ?? ""
            }
        }
        if let sources = fields["sources"] {
            guard case .sequence(let items) = sources else {
                throw LessonsError.wrongType(file: file, field: "sources", expected: expectedName([RawSource].self))
            }
            raw.sources = try items.enumerated().map { index, item in
                guard case .mapping(let source) = item else {
                    throw LessonsError.wrongType(file: file, field: "sources[\(index)]", expected: "a `title: …` entry")
                }
                return RawSource(
                    title: try scalar(source["title"], "sources[\(index)].title", expectedName(String.self)),
                    url: try scalar(source["url"], "sources[\(index)].url", expectedName(String.self)))
            }
        }
        return raw
    }

    static func parseMetadata(yaml: String, file: String) throws -> LessonMetadata {
        let raw = try readRaw(yaml: yaml, file: file)

        func required(_ value: String?, _ field: String, _ hint: String) throws -> String {
            guard let value else { throw LessonsError.missingField(file: file, field: field, hint: hint) }
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty {
                throw LessonsError.invalidField(file: file, field: field, value: "", expected: hint)
            }
            return trimmed
        }

        let id = try required(raw.id, "id", "add `id: <file name without .md>`")
        let title = try required(raw.title, "title", "add `title: \"…\"`, the lesson's title")
        let kindText = try required(raw.kind, "kind", "add `kind: stage` or `kind: history`")
        guard let kind = LessonKind(rawValue: kindText) else {
            throw LessonsError.invalidField(
                file: file, field: "kind", value: kindText,
                expected: "`stage` or `history`")
        }
        guard let order = raw.order else {
            throw LessonsError.missingField(
                file: file, field: "order",
                hint: "add `order: <number>`, the lesson's place in the list")
        }
        switch kind {
        case .stage:
            guard let stage = raw.stage else {
                throw LessonsError.missingField(
                    file: file, field: "stage",
                    hint: "a stage lesson needs `stage: <number>`, the stage it explains")
            }
            if stage < 0 {
                throw LessonsError.invalidField(
                    file: file, field: "stage", value: String(stage),
                    expected: "a stage number, 0 or more")
            }
        case .history:
            _ = try required(raw.era, "era", "a history lesson needs `era: \"…\"`, e.g. `era: \"1979–2000\"`")
        }
        guard let rawSources = raw.sources else {
            throw LessonsError.missingField(
                file: file, field: "sources",
                hint:
                    "list the documents the lesson draws on, each with `- title: \"…\"` and, if online, `url: "
                    + "https://…`"
            )
        }
        if rawSources.isEmpty {
            throw LessonsError.invalidField(
                file: file, field: "sources", value: "",
                expected: "at least one source (`- title: \"…\"`, `url: https://…`)")
        }
        var sources: [LessonSource] = []
        for (index, source) in rawSources.enumerated() {
            let field = "sources[\(index)]"
            let title = try required(source.title, "\(field).title", "each source needs a `title:`")
            var url: String?
            if let text = source.url?.trimmingCharacters(in: .whitespacesAndNewlines) {
                guard isWebURL(text) else {
                    throw LessonsError.invalidField(
                        file: file, field: "\(field).url", value: text,
                        expected: "an http:// or https:// address, or no `url:` for a document that is not online")
                }
                url = text
            }
            sources.append(LessonSource(title: title, url: url))
        }
        let era = raw.era?.trimmingCharacters(in: .whitespacesAndNewlines)
        return LessonMetadata(
            id: id, title: title, kind: kind,
            stage: kind == .stage ? raw.stage : nil,
            era: kind == .history ? era : nil,
            order: order, events: raw.events ?? [], sources: sources)
    }

    /// Whether `text` is an absolute http(s) URL with a host.
    public static func isWebURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return false }
        return true
    }

    static func expectedName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "a whole number"
        case is String.Type: return "text"
        case is [String].Type: return "a list like `[a, b]`"
        case is [RawSource].Type: return "a list of `- title: …` entries"
        default: return "a value of type \(type)"
        }
    }
}
