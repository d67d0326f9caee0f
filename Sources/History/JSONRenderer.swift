// `--json` output. Texts come in the requested language; ids, kinds and levels stay as the
// data spells them, so scripts can rely on them in either language.
import ContlabCore
import Foundation
import TextKit

public struct JSONRenderer {
    public let data: HistoryData
    public let language: Language

    public init(data: HistoryData, language: Language) {
        self.data = data
        self.language = language
    }

    struct EventJSON: Encodable {
        let id: String
        let date: String
        let year: Int
        let month: Int?
        let technologies: [String]
        let kind: String
        let kernel: String?
        let title: String
        let description: String
        let sources: [String]
        let lessons: [String]
        let stages: [Int]
        let tags: [String]
    }

    struct EraJSON: Encodable {
        let id: String
        let from: Int
        let to: Int?
        let title: String
        let events: [EventJSON]
    }

    struct TimelineJSON: Encodable {
        let language: String
        let from: Int
        let to: Int
        let technology: String?
        let tag: String?
        let count: Int
        let eras: [EraJSON]
    }

    struct LicenceJSON: Encodable {
        let model: String
        let spdx: String?
        let note: String?
    }

    struct TechnologyJSON: Encodable {
        let id: String
        let name: String
        let summary: String
        let yearsFrom: Int
        let yearsTo: Int?
        let isolates: [String: String]
        let needsSpecialKernel: Bool
        let kernelNote: String?
        let licence: LicenceJSON
        let borrowedFrom: [String]
        let ledTo: [String]
        let lesson: String
        let stage: Int?
        let sources: [String]
        let events: [EventJSON]?
    }

    struct ComparisonJSON: Encodable {
        let language: String
        let features: [String]
        let technologies: [TechnologyJSON]
    }

    struct SearchHitJSON: Encodable {
        let event: EventJSON
        let matchedIn: [String]
    }

    struct SearchJSON: Encodable {
        let language: String
        let query: String
        let events: [SearchHitJSON]
        let technologies: [TechnologyJSON]
    }

    func event(_ event: Event) -> EventJSON {
        EventJSON(
            id: event.id, date: event.date.description, year: event.date.year, month: event.date.month,
            technologies: event.technologies, kind: event.kind.rawValue, kernel: event.kernel,
            title: event.title[language], description: event.description[language],
            sources: event.sources, lessons: event.lessons, stages: event.stages, tags: event.tags)
    }

    func technology(_ technology: Technology, withEvents: Bool) -> TechnologyJSON {
        var isolates: [String: String] = [:]
        for (feature, level) in technology.isolation { isolates[feature.rawValue] = level.rawValue }
        return TechnologyJSON(
            id: technology.id, name: technology.name, summary: technology.summary[language],
            yearsFrom: technology.firstYear, yearsTo: technology.lastYear, isolates: isolates,
            needsSpecialKernel: technology.needsSpecialKernel, kernelNote: technology.kernelNote?[language],
            licence: LicenceJSON(
                model: technology.licence.model.rawValue, spdx: technology.licence.spdx,
                note: technology.licence.note?[language]),
            borrowedFrom: technology.borrowedFrom, ledTo: technology.ledTo, lesson: technology.lesson,
            stage: technology.stage, sources: technology.sources,
            events: withEvents ? data.events(of: technology.id).map(event) : nil)
    }

    func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public func timeline(_ selection: TimelineSelection) throws -> String {
        let eras = selection.groups.map { group in
            EraJSON(
                id: group.era.id, from: group.era.from, to: group.era.to, title: group.era.title[language],
                events: group.events.map(event))
        }
        return try encode(
            TimelineJSON(
                language: language.rawValue, from: selection.from, to: selection.to,
                technology: selection.technology, tag: selection.tag,
                count: selection.events.count, eras: eras))
    }

    public func technology(_ technology: Technology) throws -> String {
        try encode(self.technology(technology, withEvents: true))
    }

    public func comparison(_ technologies: [Technology]) throws -> String {
        try encode(
            ComparisonJSON(
                language: language.rawValue,
                features: IsolationFeature.allCases.map(\.rawValue),
                technologies: technologies.map { technology($0, withEvents: false) }))
    }

    public func search(_ result: SearchResult) throws -> String {
        try encode(
            SearchJSON(
                language: language.rawValue, query: result.query,
                events: result.events.map { SearchHitJSON(event: event($0.event), matchedIn: $0.fields) },
                technologies: result.technologies.map { technology($0, withEvents: false) }))
    }
}
