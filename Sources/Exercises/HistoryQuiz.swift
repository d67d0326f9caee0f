import ContlabCore
import Foundation
import History
import Lessons
import TextKit
import Yams

/// The history set: questions drawn from lessons/history/events.yaml and answered in the
/// exercise's answers.yaml. The answer key is the data itself, so a corrected date in the data
/// corrects the quiz. Pure.
public enum HistoryQuiz {
    public enum Kind: String, Sendable {
        /// Put the check's events in date order (answers: letters).
        case order = "history-order"
        /// Which Linux version first had it (answers: "2.6.24").
        case kernel = "history-kernel"
        /// Which year it happened (answers: 2015).
        case year = "history-year"
    }

    /// The check's events, lettered A, B, … in order of their English titles, so the letters
    /// say nothing about the dates; a student's variant letters them in an order of its own
    /// (its `letters` value hashed with each event's id), so one student's answer is not another's.
    public static func lettered(_ check: Check, data: HistoryData, variant: Variant = .standard) -> [(
        letter: String, event: Event
    )] {
        let events = (check.events ?? []).compactMap { id in data.events.first { $0.id == id } }
        let letters = "ABCDEFGHIJ".map(String.init)
        let ordered: [Event]
        if let seed = variant.values["letters"] {
            ordered = events.map { (SHA256.hex(seed + "/" + $0.id), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
        } else {
            ordered = events.sorted { $0.title.en < $1.title.en }
        }
        return ordered.enumerated().map { (letters[$0.offset], $0.element) }
    }

    /// Checks that the exercise's events exist and can be asked about (distinct dates to order,
    /// a kernel version to name).
    public static func validate(_ exercise: Exercise, data: HistoryData) -> [String] {
        guard let kind = Kind(rawValue: exercise.grader) else {
            return ["\(exercise.id): unknown history grader \(exercise.grader)"]
        }
        var problems: [String] = []
        for check in exercise.checks {
            let ids = check.events ?? []
            for id in ids where !data.events.contains(where: { $0.id == id }) {
                problems.append("\(exercise.id) \(check.id): no event \(id) in the history data")
            }
            let events = ids.compactMap { id in data.events.first { $0.id == id } }
            switch kind {
            case .order:
                if events.count < 3 {
                    problems.append("\(exercise.id) \(check.id): an ordering needs at least 3 events")
                }
                if Set(events.map(\.date)).count != events.count {
                    problems.append("\(exercise.id) \(check.id): two events share a date")
                }
            case .kernel:
                if events.count != 1 || events.first?.kernel == nil {
                    problems.append("\(exercise.id) \(check.id): needs one event with a kernel version")
                }
            case .year:
                if events.count != 1 { problems.append("\(exercise.id) \(check.id): needs one event") }
            }
        }
        return problems
    }

    /// The questions, as Markdown for the task statement (replacing `{{questions}}`).
    public static func questions(
        _ exercise: Exercise, data: HistoryData, language: Language, variant: Variant = .standard
    ) -> String {
        let lang: Language = language == .zh ? .zh : .en
        var out = ""
        for check in exercise.checks {
            let items = lettered(check, data: data, variant: variant)
            out += "- `\(check.id)`: \(check.title[language])\n"
            if Kind(rawValue: exercise.grader) == .order {
                for item in items { out += "  - \(item.letter): \(item.event.title[lang])\n" }
            } else if let event = items.first?.event {
                out += "  — \(event.title[lang])\n"
            }
        }
        return out
    }

    /// Grade answers.yaml's text against the data.
    public static func grade(
        _ exercise: Exercise, answers text: String?, data: HistoryData, variant: Variant = .standard
    ) -> [CheckOutcome] {
        guard let text else {
            return CheckOutcome.allFailed(
                exercise, expected: "answers.yaml", seen: "answers.yaml is missing or not UTF-8 text")
        }
        // Read as a node tree, not through Yams.load: a key that is itself a list or a mapping
        // made load trap, and a version such as 3.10 must not turn into the number 3.1.
        var parsed: [String: Node] = [:]
        do {
            for (key, value) in (try Yams.compose(yaml: text))?.mapping ?? [:] {
                if let name = key.scalar?.string { parsed[name] = value }
            }
        } catch {
            return CheckOutcome.allFailed(
                exercise, expected: "answers.yaml as YAML (check: answer)", seen: "it does not parse: \(error)")
        }
        let kind = Kind(rawValue: exercise.grader) ?? .year
        return exercise.checks.map { check in
            let items = lettered(check, data: data, variant: variant)
            let answer = parsed[check.id]
            switch kind {
            case .order:
                let key = items.sorted { $0.event.date < $1.event.date }.map(\.letter)
                let given =
                    answer?.sequence?.map {
                        ($0.scalar?.string ?? "?").trimmingCharacters(in: .whitespaces).uppercased()
                    } ?? []
                return CheckOutcome(
                    check.id, passed: given == key, expected: "the \(items.count) letters, earliest first",
                    seen: given.isEmpty
                        ? "no answer"
                        : given.joined(separator: ", ") + (given == key ? "" : " (not the order of their dates)"))
            case .kernel:
                let key = items.first?.event.kernel ?? "?"
                let given = answer?.scalar.map { normalizeVersion($0.string) } ?? ""
                return CheckOutcome(
                    check.id, passed: given == normalizeVersion(key), expected: "a Linux version such as 3.8",
                    seen: given.isEmpty ? "no answer" : "\(given) (not the version that first had it)")
            case .year:
                let key = items.first?.event.date.year ?? 0
                let given = answer?.scalar.flatMap { Int($0.string.trimmingCharacters(in: .whitespaces)) }
                return CheckOutcome(
                    check.id, passed: given == key, expected: "a year such as 1999",
                    seen: given.map { "\($0)" + ($0 == key ? "" : (($0 < key ? " (too early)" : " (too late)"))) }
                        ?? "no answer")
            }
        }
    }

    /// "v2.6.24", "Linux 2.6.24" and "2.6.24" are the same answer; "4.5.0" is "4.5".
    static func normalizeVersion(_ text: String) -> String {
        var t = text.lowercased().trimmingCharacters(in: .whitespaces)
        for prefix in ["linux", "v"] where t.hasPrefix(prefix) {
            t = String(t.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        }
        var parts = t.split(separator: ".").map(String.init)
        while parts.count > 2, parts.last == "0" { parts.removeLast() }
        return parts.joined(separator: ".")
    }
}
