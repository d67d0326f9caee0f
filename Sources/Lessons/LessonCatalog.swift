import ContlabCore
import Foundation
import TextKit

/// The lessons found under a `lessons/` directory, per language, in list order.
public struct LessonCatalog: Sendable {
    public var directory: URL
    public private(set) var lessons: [Language: [Lesson]]

    public init(directory: URL, lessons: [Language: [Lesson]]) {
        self.directory = directory
        self.lessons = lessons.mapValues(LessonCatalog.sorted)
    }

    /// Reads and checks every `<lang>/*.md` under `directory` for the given languages. A missing
    /// language directory holds no lessons; every broken lesson is reported, not just the first.
    public static func load(
        from directory: URL,
        languages: [Language] = Language.allCases
    ) throws -> LessonCatalog {
        var lessons: [Language: [Lesson]] = [:]
        var errors: [LessonsError] = []
        for language in languages {
            var found: [Lesson] = []
            for file in lessonFiles(in: directory.appendingPathComponent(language.rawValue)) {
                do {
                    found.append(try loadLesson(at: file, language: language))
                } catch let error as LessonsError {
                    errors.append(error)
                }
            }
            lessons[language] = found
        }
        if errors.count == 1 { throw errors[0] }
        if errors.count > 1 { throw LessonsError.several(errors) }
        return LessonCatalog(directory: directory, lessons: lessons)
    }

    public static func loadLesson(at file: URL, language: Language) throws -> Lesson {
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw LessonsError.unreadable(
                file: file.path, reason: "not a readable UTF-8 file (\(error.localizedDescription))")
        }
        return try FrontMatter.parseLesson(text: text, file: file.path, language: language)
    }

    /// The `*.md` files of one language directory, by name; a README there is about the
    /// directory, not a lesson.
    public static func lessonFiles(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return
            names
            .filter { $0.hasSuffix(".md") && !$0.hasPrefix(".") && $0.lowercased() != "readme.md" }
            .sorted()
            .map { directory.appendingPathComponent($0) }
    }

    static func sorted(_ lessons: [Lesson]) -> [Lesson] {
        lessons.sorted { ($0.metadata.order, $0.id) < ($1.metadata.order, $1.id) }
    }

    public func lessons(in language: Language) -> [Lesson] { lessons[language] ?? [] }

    /// The lesson `id` in `language`, or an error suggesting the ids closest to it.
    public func lesson(id: String, language: Language) throws -> Lesson {
        let available = lessons(in: language)
        if let lesson = available.first(where: { $0.id == id }) { return lesson }
        if let lesson = available.first(where: { $0.id.lowercased() == id.lowercased() }) { return lesson }
        let otherFile = directory.appendingPathComponent("\(language.other.rawValue)/\(id).md")
        throw LessonsError.unknownLesson(
            id: id, language: language, suggestions: LessonCatalog.suggestions(for: id, among: available.map(\.id)),
            directory: directory.appendingPathComponent(language.rawValue).path,
            existsIn: FileManager.default.fileExists(atPath: otherFile.path) ? language.other : nil)
    }

    /// Up to three ids near `id`: those containing it (`chroot` → `stage1-chroot`), then those
    /// within a few edits of it (`stage1-chrot`), closest first.
    public static func suggestions(for id: String, among ids: [String]) -> [String] {
        let query = id.lowercased()
        guard !query.isEmpty else { return [] }
        let containing = ids.filter { $0.lowercased().contains(query) }
        let limit = max(2, query.count / 3)
        let near =
            ids
            .map { ($0, Suggestions.editDistance(query, $0.lowercased())) }
            .filter { $0.1 <= limit && !containing.contains($0.0) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
            .map(\.0)
        return Array((containing + near).prefix(3))
    }
}

/// Checks a whole `lessons/` tree the way the lesson writers need it: every file parses, every
/// English lesson has a Chinese one with the same id, metadata and number of sections (and the
/// other way round), and every source is a titled document with an http(s) link if any.
public enum CorpusCheck {
    public struct Report: Sendable {
        /// Every lesson file looked at, whether it passed or not.
        public var checkedFiles: [String] = []
        public var problems: [String] = []
        /// The lessons that parsed.
        public var lessons: [Lesson] = []
    }

    public static func run(lessonsDirectory: URL) -> Report {
        var report = Report()
        var byLanguage: [Language: [String: Lesson]] = [:]
        for language in Language.allCases {
            for file in LessonCatalog.lessonFiles(in: lessonsDirectory.appendingPathComponent(language.rawValue)) {
                report.checkedFiles.append(file.path)
                do {
                    let lesson = try LessonCatalog.loadLesson(at: file, language: language)
                    byLanguage[language, default: [:]][file.deletingPathExtension().lastPathComponent] = lesson
                    report.lessons.append(lesson)
                    report.problems += sourceProblems(lesson)
                } catch {
                    report.problems.append("\(error)")
                }
            }
        }
        let english = byLanguage[.en] ?? [:], chinese = byLanguage[.zh] ?? [:]
        for name in Set(english.keys).union(chinese.keys).sorted() {
            guard let en = english[name] else {
                report.problems.append("lessons/zh/\(name).md has no English version lessons/en/\(name).md")
                continue
            }
            guard let zh = chinese[name] else {
                report.problems.append("lessons/en/\(name).md has no Chinese version lessons/zh/\(name).md")
                continue
            }
            report.problems += pairProblems(en: en, zh: zh)
        }
        return report
    }

    static func sourceProblems(_ lesson: Lesson) -> [String] {
        lesson.metadata.sources.enumerated().compactMap { index, source in
            if source.title.trimmingCharacters(in: .whitespaces).isEmpty {
                return "\(lesson.file): sources[\(index)] has no title"
            }
            if let url = source.url, !FrontMatter.isWebURL(url) {
                return "\(lesson.file): sources[\(index)].url `\(url)` is not an http(s) address"
            }
            return nil
        }
    }

    /// The two versions of a lesson must describe the same thing in the same shape.
    static func pairProblems(en: Lesson, zh: Lesson) -> [String] {
        var problems: [String] = []
        let a = en.metadata, b = zh.metadata
        func differs(_ field: String, _ x: String, _ y: String) {
            if x != y {
                problems.append(
                    "\(zh.file): `\(field)` is \(y.isEmpty ? "missing" : "`\(y)`") but \(en.file) says \(x.isEmpty ? "nothing" : "`\(x)`")"
                )
            }
        }
        differs("id", a.id, b.id)
        differs("kind", a.kind.rawValue, b.kind.rawValue)
        differs("stage", a.stage.map(String.init) ?? "", b.stage.map(String.init) ?? "")
        differs("order", String(a.order), String(b.order))
        differs("events", a.events.joined(separator: ", "), b.events.joined(separator: ", "))
        let enSections = MarkdownDocument(parsing: en.body).sectionTitles
        let zhSections = MarkdownDocument(parsing: zh.body).sectionTitles
        if enSections.count != zhSections.count {
            problems.append(
                "\(zh.file) has \(zhSections.count) sections (## headings) but \(en.file) has \(enSections.count): "
                    + "the translations should follow the same outline"
            )
        }
        return problems
    }
}
