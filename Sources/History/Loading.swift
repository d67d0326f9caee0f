// Reading lessons/history/*.yaml. The files are composed into Yams nodes and read field by
// field, rather than decoded with Codable, so that every problem can name its file, line,
// entry and field, and so that all problems are reported at once instead of the first one.
import ContlabCore
import Foundation
import TextKit
import Yams

/// The file names under lessons/history/ and how messages show them.
public struct HistoryFiles: Sendable {
    public var events: String
    public var technologies: String
    public var labels: String

    public static let standard = HistoryFiles(
        events: "lessons/history/events.yaml",
        technologies: "lessons/history/technologies.yaml",
        labels: "lessons/history/labels.yaml")

    public init(events: String, technologies: String, labels: String) {
        self.events = events
        self.technologies = technologies
        self.labels = labels
    }
}

extension HistoryData {
    /// Loads the history data from `directory` (the checkout's lessons/history), throwing
    /// `HistoryError.invalidData` with every problem if any rule is broken.
    public static func load(from directory: URL) throws -> HistoryData {
        let (data, issues) = try check(directory: directory)
        guard issues.isEmpty, let data else { throw HistoryError.invalidData(issues) }
        return data
    }

    /// Reads and checks the three files in `directory`; the data is returned whenever the
    /// files could be parsed at all, alongside the problems found.
    public static func check(directory: URL) throws -> (HistoryData?, [DataIssue]) {
        func read(_ name: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw HistoryError.dataMissing(path: url.path)
            }
            do {
                return try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw HistoryError.dataUnreadable(path: url.path, reason: error.localizedDescription)
            }
        }
        return check(
            events: try read("events.yaml"),
            technologies: try read("technologies.yaml"),
            labels: try read("labels.yaml"))
    }

    /// Parses and checks the three files' texts. Pure: tests feed it broken fixtures.
    public static func check(
        events eventsText: String, technologies technologiesText: String,
        labels labelsText: String,
        files: HistoryFiles = .standard
    ) -> (HistoryData?, [DataIssue]) {
        let log = IssueLog()
        let labelsRoot = compose(labelsText, file: files.labels, log: log)
        let technologiesRoot = compose(technologiesText, file: files.technologies, log: log)
        let eventsRoot = compose(eventsText, file: files.events, log: log)
        guard let labelsRoot, let technologiesRoot, let eventsRoot else { return (nil, log.issues) }

        let labels = readLabels(labelsRoot, file: files.labels, log: log)
        let technologies = readTechnologies(technologiesRoot, file: files.technologies, log: log)
        let (eras, events) = readEvents(eventsRoot, file: files.events, log: log)
        let data = HistoryData(eras: eras, events: events, technologies: technologies, labels: labels)
        Validator(data: data, files: files, log: log).run()
        return (data, log.issues)
    }
}

/// Collects problems in the order they are found.
final class IssueLog {
    private(set) var issues: [DataIssue] = []

    func add(_ file: String, line: Int?, entry: String, field: String, _ message: String) {
        issues.append(DataIssue(file: file, line: line, entry: entry, field: field, message: message))
    }
}

func compose(_ text: String, file: String, log: IssueLog) -> Node.Mapping? {
    do {
        guard let root = try Yams.compose(yaml: text) else {
            log.add(file, line: nil, entry: "file", field: "", "is empty")
            return nil
        }
        guard let mapping = root.mapping else {
            log.add(
                file, line: root.mark?.line, entry: "file", field: "",
                "should be a mapping of sections (e.g. `events:`), not a list or a single value")
            return nil
        }
        return mapping
    } catch let error as YamlError {
        var line: Int?
        var problem = error.description
        switch error {
        case .scanner(_, let p, let mark, _), .parser(_, let p, let mark, _), .composer(_, let p, let mark, _):
            line = mark.line
            problem = p
        default: break
        }
        log.add(file, line: line, entry: "file", field: "", "is not valid YAML: \(problem)")
        return nil
    } catch {
        log.add(file, line: nil, entry: "file", field: "", "is not valid YAML: \(error)")
        return nil
    }
}

func sections(_ root: Node.Mapping, file: String, expected: [String], log: IssueLog) -> Fields {
    let fields = Fields(root, file: file, entry: "file", log: log)
    fields.checkKeys(expected)
    return fields
}

func readLabels(_ root: Node.Mapping, file: String, log: IssueLog) -> Labels {
    let top = sections(
        root, file: file,
        expected: ["kinds", "features", "levels", "licence-models", "stages", "lessons", "ui"],
        log: log)

    func table<Key: RawRepresentable & CaseIterable & Hashable>(
        _ section: String, _: Key.Type
    ) -> [Key: Localized] where Key.RawValue == String {
        guard let fields = top.nested(section) else { return [:] }
        let names = Key.allCases.map(\.rawValue)
        fields.checkKeys(names)
        var result: [Key: Localized] = [:]
        for key in Key.allCases {
            let entry = Fields(fields.mapping, file: file, entry: "\(section) label", log: log, prefix: "")
            if let text = entry.localized(key.rawValue) { result[key] = text }
        }
        return result
    }

    var stages: [Int: Localized] = [:]
    if let fields = top.nested("stages") {
        for (key, _) in fields.mapping {
            guard let name = key.string, let number = Int(name), number > 0 else {
                fields.report(key.string ?? "?", "stage keys are numbers 1, 2, 3, ...")
                continue
            }
            if let text = Fields(fields.mapping, file: file, entry: "stage \(number)", log: log).localized(name) {
                stages[number] = text
            }
        }
    }
    let lessons = top.strings("lessons", minimum: 1)
    for lesson in lessons where !isKebab(lesson) {
        top.report("lessons", "'\(lesson)' is not a kebab-case lesson id")
    }

    return Labels(
        kinds: table("kinds", EventKind.self),
        features: table("features", IsolationFeature.self),
        levels: table("levels", IsolationLevel.self),
        licenceModels: table("licence-models", LicenceModel.self),
        stages: stages,
        lessons: lessons,
        ui: table("ui", UIText.self))
}

func readTechnologies(_ root: Node.Mapping, file: String, log: IssueLog) -> [Technology] {
    let top = sections(root, file: file, expected: ["technologies"], log: log)
    guard let nodes = top.list("technologies", required: true) else { return [] }
    var technologies: [Technology] = []
    for (index, node) in nodes.enumerated() {
        guard let mapping = node.mapping else {
            log.add(
                file, line: node.mark?.line, entry: "technology #\(index + 1)", field: "",
                "should be a mapping with id, name, summary, ...")
            continue
        }
        let id = mapping["id"]?.scalar?.string
        let fields = Fields(mapping, file: file, entry: "technology \(id ?? "#\(index + 1)")", log: log)
        fields.checkKeys([
            "id", "name", "summary", "years", "isolates", "needs-special-kernel", "kernel-note",
            "licence", "borrowed-from", "led-to", "lesson", "stage", "sources"
        ])
        if let id, !isKebab(id) { fields.report("id", "'\(id)' should be lowercase kebab-case, e.g. cri-o") }
        let name = fields.string("name")
        let summary = fields.localized("summary")
        let years = fields.nested("years")
        years?.checkKeys(["from", "to"])
        let firstYear = years?.int("from")
        let lastYear = years?.int("to", required: false)
        var isolation: [IsolationFeature: IsolationLevel] = [:]
        if let isolates = fields.nested("isolates") {
            isolates.checkKeys(IsolationFeature.allCases.map(\.rawValue))
            for feature in IsolationFeature.allCases {
                guard let text = isolates.string(feature.rawValue) else { continue }
                if let level = IsolationLevel(rawValue: text) {
                    isolation[feature] = level
                } else {
                    isolates.report(
                        feature.rawValue,
                        "'\(text)' should be one of: \(IsolationLevel.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
            }
        }
        let special = fields.bool("needs-special-kernel")
        let kernelNote = fields.localized("kernel-note", required: false)
        var licence: Licence?
        if let licenceFields = fields.nested("licence") {
            licenceFields.checkKeys(["model", "spdx", "note"])
            let modelText = licenceFields.string("model")
            let model = modelText.flatMap(LicenceModel.init(rawValue:))
            if let modelText, model == nil {
                licenceFields.report(
                    "model",
                    "'\(modelText)' should be one of: \(LicenceModel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let spdx = licenceFields.string("spdx", required: false)
            let note = licenceFields.localized("note", required: false)
            if spdx == nil && note == nil && !licenceFields.has("note") {
                fields.report("licence", "needs an spdx identifier, a note, or both")
            }
            if let model {
                licence = Licence(model: model, spdx: spdx, note: note)
            }
        }
        let borrowed = fields.strings("borrowed-from")
        let ledTo = fields.strings("led-to")
        let lesson = fields.string("lesson")
        let stage = fields.int("stage", required: false)
        if !mapping.keys.contains(where: { $0.string == "stage" }) {
            fields.report("stage", "is missing; write `stage: null` if no stage of the lab rebuilds it")
        }
        let sources = fields.strings("sources", minimum: 1)
        checkSources(sources, fields)

        guard let id, let name, let summary, let firstYear, let special, let licence, let lesson,
            isolation.count == IsolationFeature.allCases.count
        else { continue }
        technologies.append(
            Technology(
                id: id, name: name, summary: summary, firstYear: firstYear, lastYear: lastYear,
                isolation: isolation, needsSpecialKernel: special, kernelNote: kernelNote, licence: licence,
                borrowedFrom: borrowed, ledTo: ledTo, lesson: lesson, stage: stage, sources: sources,
                line: mapping.mark?.line))
    }
    return technologies
}

func readEvents(_ root: Node.Mapping, file: String, log: IssueLog) -> ([Era], [Event]) {
    let top = sections(root, file: file, expected: ["eras", "events"], log: log)

    var eras: [Era] = []
    for (index, node) in (top.list("eras", required: true) ?? []).enumerated() {
        guard let mapping = node.mapping else {
            log.add(file, line: node.mark?.line, entry: "era #\(index + 1)", field: "", "should be a mapping")
            continue
        }
        let id = mapping["id"]?.scalar?.string
        let fields = Fields(mapping, file: file, entry: "era \(id ?? "#\(index + 1)")", log: log)
        fields.checkKeys(["id", "from", "to", "title"])
        if let id, !isKebab(id) { fields.report("id", "'\(id)' should be kebab-case") }
        let from = fields.int("from")
        let to = fields.int("to", required: false)
        let title = fields.localized("title")
        guard let id, let from, let title else { continue }
        eras.append(Era(id: id, from: from, to: to, title: title))
    }

    var events: [Event] = []
    for (index, node) in (top.list("events", required: true) ?? []).enumerated() {
        guard let mapping = node.mapping else {
            log.add(
                file, line: node.mark?.line, entry: "event #\(index + 1)", field: "",
                "should be a mapping with id, date, tech, kind, title, ...")
            continue
        }
        let id = mapping["id"]?.scalar?.string
        let fields = Fields(mapping, file: file, entry: "event \(id ?? "#\(index + 1)")", log: log)
        fields.checkKeys([
            "id", "date", "tech", "kind", "kernel", "title", "description", "sources",
            "lessons", "stages", "tags"
        ])
        _ = fields.string("id")

        var date: HistoryDate?
        if let text = fields.string("date") {
            date = HistoryDate(parsing: text)
            if date == nil {
                fields.report(
                    "date", "'\(text)' is not a date; write YYYY, YYYY-MM or YYYY-MM-DD with a real month and day")
            }
        }
        if let id {
            if let match = eventID.firstMatch(in: id, range: NSRange(id.startIndex..., in: id)),
                let yearRange = Range(match.range(at: 1), in: id)
            {
                if let date, Int(id[yearRange]) != date.year {
                    fields.report(
                        "id",
                        "'\(id)' starts with \(id[yearRange]) but the date is in \(date.year); event ids are YYYY-slug")
                }
            } else {
                fields.report("id", "'\(id)' should be YYYY-slug in kebab-case, e.g. 2008-lxc")
            }
        }
        let technologies = fields.strings("tech", minimum: 1)
        var kind: EventKind?
        if let text = fields.string("kind") {
            kind = EventKind(rawValue: text)
            if kind == nil {
                fields.report(
                    "kind", "'\(text)' should be one of: \(EventKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        let kernel = fields.string("kernel", required: false)
        if let kernel, !matches(kernelVersion, kernel) {
            fields.report("kernel", "'\(kernel)' should be a Linux version such as 2.6.24 or 3.8 (quote it in YAML)")
        }
        if kind == .kernelFeature, kernel == nil, !fields.has("kernel") {
            fields.report("kernel", "is missing; a kernel-feature event names the Linux version it arrived in")
        }
        let title = fields.localized("title")
        let description = fields.localized("description")
        let sources = fields.strings("sources", minimum: 1)
        checkSources(sources, fields)
        let lessons = fields.strings("lessons", minimum: 1)
        let stages = fields.ints("stages")
        let tags = fields.strings("tags", required: false)
        for tag in tags where !isKebab(tag) {
            fields.report("tags", "'\(tag)' should be kebab-case")
        }

        guard let id, let date, let kind, let title, let description else { continue }
        events.append(
            Event(
                id: id, date: date, technologies: technologies, kind: kind, kernel: kernel,
                title: title, description: description, sources: sources, lessons: lessons,
                stages: stages, tags: tags, line: mapping.mark?.line))
    }
    return (eras, events)
}
