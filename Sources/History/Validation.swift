import ContlabCore
// Rules that span entries and files: order, uniqueness, references, both sides of a link.
// Per-field rules (formats, required fields, both languages) are checked while reading.
import Foundation
import TextKit

struct Validator {
    let data: HistoryData
    let files: HistoryFiles
    let log: IssueLog
    var currentYear = Calendar(identifier: .gregorian).component(.year, from: Date())

    func run() {
        checkEvents()
        checkEras()
        checkTechnologies()
    }

    private func eventIssue(_ event: Event, _ field: String, _ message: String) {
        log.add(files.events, line: event.line, entry: "event \(event.id)", field: field, message)
    }

    private func technologyIssue(_ technology: Technology, _ field: String, _ message: String) {
        log.add(files.technologies, line: technology.line, entry: "technology \(technology.id)", field: field, message)
    }

    private func checkEvents() {
        let knownTechnologies = data.technologies.map(\.id)
        let knownLessons = Set(data.labels.lessons)
        let knownStages = Set(data.labels.stages.keys)
        var seenIDs: [String: Event] = [:]
        var seenTitles: [String: Event] = [:]
        var seenDateAndTechnologies: [String: Event] = [:]

        for (index, event) in data.events.enumerated() {
            if index > 0, event.date < data.events[index - 1].date {
                let previous = data.events[index - 1]
                eventIssue(
                    event, "date",
                    "\(event.date) comes after \(previous.id) (\(previous.date)) in the file; keep events in date order"
                )
            }
            if event.date.year > currentYear {
                eventIssue(event, "date", "\(event.date) is in the future")
            }
            if let first = seenIDs[event.id] {
                eventIssue(event, "id", "duplicates the id of the event at line \(first.line.map(String.init) ?? "?")")
            }
            seenIDs[event.id] = event
            for (language, title) in [("en", event.title.en), ("zh", event.title.zh)] {
                let key = language + ":" + title.lowercased()
                if let first = seenTitles[key] {
                    eventIssue(
                        event, "title.\(language)",
                        "is the same as the title of \(first.id); is this a duplicate event?")
                }
                seenTitles[key] = event
            }
            let signature = "\(event.date)|" + event.technologies.sorted().joined(separator: ",")
            if let first = seenDateAndTechnologies[signature] {
                eventIssue(
                    event, "", "has the same date and technologies as \(first.id); merge duplicates or tell them apart")
            }
            seenDateAndTechnologies[signature] = event

            for technology in event.technologies where data.technology(id: technology) == nil {
                let near = Suggestions.nearest(to: technology, among: knownTechnologies)
                eventIssue(
                    event, "tech",
                    "'\(technology)' is not in technologies.yaml"
                        + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?"))
            }
            if Set(event.technologies).count != event.technologies.count {
                eventIssue(event, "tech", "lists a technology twice")
            }
            for lesson in event.lessons where !knownLessons.contains(lesson) {
                let near = Suggestions.nearest(to: lesson, among: data.labels.lessons)
                eventIssue(
                    event, "lessons",
                    "'\(lesson)' is not a lesson id listed in labels.yaml"
                        + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?"))
            }
            for stage in event.stages where !knownStages.contains(stage) {
                eventIssue(
                    event, "stages",
                    "\(stage) is not a stage of this lab (\(knownStages.sorted().map(String.init).joined(separator: ", ")))"
                )
            }
        }
    }

    private func checkEras() {
        guard !data.eras.isEmpty else {
            log.add(files.events, line: nil, entry: "file", field: "eras", "needs at least one era")
            return
        }
        let firstEventYear = data.events.map(\.date.year).min() ?? data.eras[0].from
        if data.eras[0].from > firstEventYear {
            log.add(
                files.events, line: nil, entry: "era \(data.eras[0].id)", field: "from",
                "starts in \(data.eras[0].from), after the first event (\(firstEventYear))")
        }
        for (index, era) in data.eras.enumerated() {
            if let to = era.to, to < era.from {
                log.add(
                    files.events, line: nil, entry: "era \(era.id)", field: "to", "\(to) is before from (\(era.from))")
            }
            if index + 1 < data.eras.count {
                let next = data.eras[index + 1]
                guard let to = era.to else {
                    log.add(
                        files.events, line: nil, entry: "era \(era.id)", field: "to",
                        "only the last era may run to today (to: null)")
                    continue
                }
                if next.from != to + 1 {
                    log.add(
                        files.events, line: nil, entry: "era \(next.id)", field: "from",
                        "should be \(to + 1), the year after era \(era.id) ends, so the eras leave no gap or overlap")
                }
            } else if era.to != nil {
                log.add(
                    files.events, line: nil, entry: "era \(era.id)", field: "to",
                    "the last era runs to today; write `to: null`")
            }
            let count = data.events.filter { era.contains($0.date.year) }.count
            if count == 0 {
                log.add(files.events, line: nil, entry: "era \(era.id)", field: "", "has no events")
            }
        }
    }

    private func checkTechnologies() {
        let known = data.technologies.map(\.id)
        let knownLessons = Set(data.labels.lessons)
        var seen: Set<String> = []
        for technology in data.technologies {
            if !seen.insert(technology.id).inserted {
                technologyIssue(technology, "id", "appears twice in technologies.yaml")
            }
            if let last = technology.lastYear, last < technology.firstYear {
                technologyIssue(technology, "years.to", "\(last) is before years.from (\(technology.firstYear))")
            }
            if technology.firstYear > currentYear || (technology.lastYear ?? 0) > currentYear {
                technologyIssue(technology, "years", "lies in the future")
            }
            if !knownLessons.contains(technology.lesson) {
                let near = Suggestions.nearest(to: technology.lesson, among: data.labels.lessons)
                technologyIssue(
                    technology, "lesson",
                    "'\(technology.lesson)' is not a lesson id listed in labels.yaml"
                        + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?"))
            }
            if let stage = technology.stage, data.labels.stages[stage] == nil {
                technologyIssue(technology, "stage", "\(stage) is not a stage of this lab")
            }
            if data.events(of: technology.id).isEmpty {
                technologyIssue(technology, "", "no event in events.yaml names it; add one, or remove the entry")
            }
            for (field, ids) in [("borrowed-from", technology.borrowedFrom), ("led-to", technology.ledTo)] {
                for id in ids {
                    if id == technology.id {
                        technologyIssue(technology, field, "names the technology itself")
                    } else if data.technology(id: id) == nil {
                        let near = Suggestions.nearest(to: id, among: known)
                        technologyIssue(
                            technology, field,
                            "'\(id)' is not in technologies.yaml"
                                + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?"))
                    }
                }
            }
            // Both sides of a link must agree, so `show` tells the same story from either end.
            for id in technology.ledTo {
                if let other = data.technology(id: id), !other.borrowedFrom.contains(technology.id) {
                    technologyIssue(
                        technology, "led-to",
                        "names \(id), but \(id)'s borrowed-from does not name \(technology.id); add it there too")
                }
            }
            for id in technology.borrowedFrom {
                if let other = data.technology(id: id), !other.ledTo.contains(technology.id) {
                    technologyIssue(
                        technology, "borrowed-from",
                        "names \(id), but \(id)'s led-to does not name \(technology.id); add it there too")
                }
            }
        }
    }
}

extension Era {
    public func contains(_ year: Int) -> Bool {
        year >= from && (to.map { year <= $0 } ?? true)
    }
}
