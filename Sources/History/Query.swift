import ContlabCore
// Selecting from the data: the timeline's filters, technology lookup, and full-text search.
// Every function is pure; the command layer passes the current year in.
import Foundation
import TextKit

public struct TimelineQuery: Sendable, Equatable {
    public var from: Int?
    public var to: Int?
    public var technology: String?
    public var tag: String?

    public init(from: Int? = nil, to: Int? = nil, technology: String? = nil, tag: String? = nil) {
        self.from = from
        self.to = to
        self.technology = technology
        self.tag = tag
    }
}

/// The events a timeline shows, grouped by era, with the range actually covered.
public struct TimelineSelection: Sendable {
    public let from: Int
    public let to: Int
    /// The resolved technology id, when filtering by technology.
    public let technology: String?
    public let tag: String?
    public let groups: [(era: Era, events: [Event])]

    public var events: [Event] { groups.flatMap(\.events) }
}

public struct SearchHit: Sendable {
    public let event: Event
    /// The fields that contain the query, e.g. `title.en`, `description.zh`.
    public let fields: [String]
}

public struct SearchResult: Sendable {
    public let query: String
    public let events: [SearchHit]
    public let technologies: [Technology]
}

extension HistoryData {
    /// This year; SOURCE_DATE_EPOCH's year when it is set (the reproducible-builds variable),
    /// so that a site exported with it draws the same timeline in any year.
    public static func currentYear(_ now: Date = sourceDate()) -> Int {
        Calendar(identifier: .gregorian).component(.year, from: now)
    }

    public static func sourceDate(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Date {
        environment["SOURCE_DATE_EPOCH"].flatMap(TimeInterval.init).map(Date.init(timeIntervalSince1970:)) ?? Date()
    }

    /// The first year of the timeline: the start of the first era.
    public var firstYear: Int { eras.first?.from ?? events.first?.date.year ?? 1979 }

    /// Resolves what a student typed to a technology: its id, or its name, ignoring case.
    public func resolveTechnology(_ text: String) throws -> Technology {
        let needle = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let technology = technologies.first(where: { $0.id == needle || $0.name.lowercased() == needle }) {
            return technology
        }
        let ids = technologies.map(\.id)
        throw HistoryError.unknownTechnology(text, suggestions: Suggestions.nearest(to: needle, among: ids), known: ids)
    }

    public func timeline(_ query: TimelineQuery, currentYear: Int) throws -> TimelineSelection {
        let from = query.from ?? firstYear
        let to = query.to ?? currentYear
        if from > to {
            switch (query.from, query.to) {
            case (.some, .some):
                throw HistoryError.emptyRange(from: from, to: to)
            case (.some, nil):
                throw HistoryError.noEvents(
                    filters: "from \(from) on",
                    hint:
                        "The timeline runs from \(firstYear) to \(currentYear); give --from \(currentYear) or earlier.")
            default:
                throw HistoryError.noEvents(
                    filters: "up to \(to)",
                    hint: "The timeline starts in \(firstYear) with chroot; give --to \(firstYear) or later.")
            }
        }
        let technology = try query.technology.map { try resolveTechnology($0).id }
        var tag: String?
        if let wanted = query.tag {
            let lower = wanted.lowercased()
            guard tags.contains(lower) else {
                throw HistoryError.unknownTag(
                    wanted, suggestions: Suggestions.nearest(to: lower, among: tags), known: tags)
            }
            tag = lower
        }

        let byFilters = events.filter { event in
            (technology.map { event.technologies.contains($0) } ?? true)
                && (tag.map { event.tags.contains($0) } ?? true)
        }
        let selected = byFilters.filter { (from...to).contains($0.date.year) }
        guard !selected.isEmpty else {
            throw HistoryError.noEvents(
                filters: describe(from: from, to: to, technology: technology, tag: tag),
                hint: hint(for: byFilters, from: from, to: to))
        }
        let groups = eras.compactMap { era -> (era: Era, events: [Event])? in
            let inEra = selected.filter { era.contains($0.date.year) }
            return inEra.isEmpty ? nil : (era, inEra)
        }
        return TimelineSelection(from: from, to: to, technology: technology, tag: tag, groups: groups)
    }

    private func describe(from: Int, to: Int, technology: String?, tag: String?) -> String {
        var parts = ["between \(from) and \(to)"]
        if let technology { parts.append("for technology \(technology)") }
        if let tag { parts.append("tagged \(tag)") }
        return parts.joined(separator: " ")
    }

    /// Where the events the filters allow actually are, so the student can widen the range.
    private func hint(for candidates: [Event], from: Int, to: Int) -> String {
        guard let first = candidates.first, let last = candidates.last else {
            return "No event matches both filters; drop --tech or --tag."
        }
        let before = candidates.last { $0.date.year < from }
        let after = candidates.first { $0.date.year > to }
        var hint = "The matching events run from \(first.date.year) to \(last.date.year)"
        switch (before, after) {
        case let (before?, after?):
            hint += "; the nearest are \(before.date) (\(before.id)) and \(after.date) (\(after.id))"
        case let (before?, nil):
            hint += "; the latest is \(before.date) (\(before.id))"
        case let (nil, after?):
            hint += "; the earliest is \(after.date) (\(after.id))"
        case (nil, nil):
            break
        }
        return hint + ". Try --from \(first.date.year) --to \(last.date.year)."
    }

    /// Events whose titles or descriptions, in either language, contain every word of `text`
    /// (ignoring case, accents and full/half width), and technologies whose names or
    /// summaries do.
    public func search(_ text: String) throws -> SearchResult {
        let terms = text.split(whereSeparator: \.isWhitespace).map { HistoryData.fold(String($0)) }
        guard !terms.isEmpty else { throw HistoryError.emptySearch }

        func containsAll(_ haystacks: [String]) -> Bool {
            let folded = haystacks.map(HistoryData.fold)
            return terms.allSatisfy { term in folded.contains { $0.contains(term) } }
        }

        var hits: [SearchHit] = []
        for event in events {
            let fields: [(String, String)] = [
                ("title.en", event.title.en), ("title.zh", event.title.zh),
                ("description.en", event.description.en), ("description.zh", event.description.zh)
            ]
            guard containsAll(fields.map(\.1)) else { continue }
            let matched = fields.filter { field in
                terms.contains { HistoryData.fold(field.1).contains($0) }
            }.map(\.0)
            hits.append(SearchHit(event: event, fields: matched))
        }
        let matchingTechnologies = technologies.filter {
            containsAll([$0.id, $0.name, $0.summary.en, $0.summary.zh])
        }
        if hits.isEmpty && matchingTechnologies.isEmpty { throw HistoryError.noMatches(query: text) }
        return SearchResult(query: text, events: hits, technologies: matchingTechnologies)
    }

    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
    }
}
