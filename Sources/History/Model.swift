// The history explorer's data model: what lessons/history/*.yaml describe, as plain values.
// Loading and checking live in Loading.swift and Validation.swift; nothing here reads files.
import ContlabCore
import Foundation
import TextKit

/// A date known to the year, the month or the day. Sorting puts a bare year before the months
/// of that year, so an event known only by its year opens the year it belongs to.
public struct HistoryDate: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int?
    public let day: Int?

    public init(year: Int, month: Int? = nil, day: Int? = nil) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, rejecting months and days that do not exist.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count),
            parts[0].count == 4, let year = Int(parts[0]), year > 0
        else { return nil }
        var month: Int?
        var day: Int?
        if parts.count >= 2 {
            guard parts[1].count == 2, let m = Int(parts[1]), (1...12).contains(m) else { return nil }
            month = m
        }
        if parts.count == 3 {
            guard parts[2].count == 2, let d = Int(parts[2]),
                d >= 1, d <= HistoryDate.daysIn(month: month!, year: year)
            else { return nil }
            day = d
        }
        self.init(year: year, month: month, day: day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public var description: String {
        var text = String(format: "%04d", year)
        if let month { text += String(format: "-%02d", month) }
        if let day { text += String(format: "-%02d", day) }
        return text
    }

    public static func < (lhs: HistoryDate, rhs: HistoryDate) -> Bool {
        (lhs.year, lhs.month ?? 0, lhs.day ?? 0) < (rhs.year, rhs.month ?? 0, rhs.day ?? 0)
    }
}

/// What an event changed; the timeline colours events by it.
public enum EventKind: String, CaseIterable, Sendable {
    case isolation
    case resourceControl = "resource-control"
    case kernelFeature = "kernel-feature"
    case runtime
    case standard
    case orchestration
}

/// The five things `compare` asks of every technology.
public enum IsolationFeature: String, CaseIterable, Sendable {
    case filesystem, processes, network, users, resources
}

/// How far a technology isolates one feature. `delegated` marks managers and specifications
/// that leave the isolation to the runtime or kernel they drive.
public enum IsolationLevel: String, CaseIterable, Sendable {
    case yes, partial, optional, no, delegated
}

public enum LicenceModel: String, CaseIterable, Sendable {
    case openSource = "open-source"
    case proprietary
    case mixed
    case openSpecification = "open-specification"
}

public struct Era: Sendable {
    public let id: String
    public let from: Int
    /// nil for the era that runs to today.
    public let to: Int?
    public let title: Localized
}

public struct Event: Sendable {
    public let id: String
    public let date: HistoryDate
    public let technologies: [String]
    public let kind: EventKind
    /// The Linux version, for kernel features.
    public let kernel: String?
    public let title: Localized
    public let description: Localized
    public let sources: [String]
    public let lessons: [String]
    public let stages: [Int]
    public let tags: [String]
    /// Where the entry starts in events.yaml, for messages.
    public let line: Int?
}

public struct Licence: Sendable {
    public let model: LicenceModel
    /// The SPDX identifier, when the licence has one.
    public let spdx: String?
    public let note: Localized?

    /// "Apache-2.0 (note)" in `language`, or whichever of the two exists.
    public func detail(_ language: Language) -> String {
        switch (spdx, note) {
        case let (spdx?, note?):
            return language == .zh ? "\(spdx)（\(note[language])）" : "\(spdx) (\(note[language]))"
        case let (spdx?, nil): return spdx
        case let (nil, note?): return note[language]
        case (nil, nil): return ""
        }
    }
}

public struct Technology: Sendable {
    public let id: String
    public let name: String
    public let summary: Localized
    public let firstYear: Int
    /// nil while the technology is still alive.
    public let lastYear: Int?
    public let isolation: [IsolationFeature: IsolationLevel]
    public let needsSpecialKernel: Bool
    public let kernelNote: Localized?
    public let licence: Licence
    public let borrowedFrom: [String]
    public let ledTo: [String]
    public let lesson: String
    /// The stage of this lab that rebuilds it, if one does.
    public let stage: Int?
    public let sources: [String]
    public let line: Int?
}

/// Interface text that lives in labels.yaml so that it is translated with the data. The raw
/// values are the keys under `ui:`; the test suite checks every case exists in both languages.
public enum UIText: String, CaseIterable, Sendable {
    case timelineHeading = "timeline-heading"
    case eventCount = "event-count"
    case today
    case filteredBy = "filtered-by"
    case technology
    case tag
    case active
    case isolates
    case specialKernel = "special-kernel"
    case licence
    case borrowedFrom = "borrowed-from"
    case ledTo = "led-to"
    case lesson
    case labStage = "lab-stage"
    case stageNumber = "stage-number"
    case notRebuilt = "not-rebuilt"
    case events
    case sources
    case none
    case yes
    case no
    case year
    case kernelVersion = "kernel-version"
    case searchHeading = "search-heading"
    case searchTechnologies = "search-technologies"
    case svgWritten = "svg-written"
    case svgFooter = "svg-footer"
    case svgLinks = "svg-links"
}

/// The words printed around the data, from labels.yaml.
public struct Labels: Sendable {
    public let kinds: [EventKind: Localized]
    public let features: [IsolationFeature: Localized]
    public let levels: [IsolationLevel: Localized]
    public let licenceModels: [LicenceModel: Localized]
    public let stages: [Int: Localized]
    public let lessons: [String]
    public let ui: [UIText: Localized]

    public func kind(_ kind: EventKind, _ language: Language) -> String {
        kinds[kind]?[language] ?? kind.rawValue
    }
    public func feature(_ feature: IsolationFeature, _ language: Language) -> String {
        features[feature]?[language] ?? feature.rawValue
    }
    public func level(_ level: IsolationLevel, _ language: Language) -> String {
        levels[level]?[language] ?? level.rawValue
    }
    public func licenceModel(_ model: LicenceModel, _ language: Language) -> String {
        licenceModels[model]?[language] ?? model.rawValue
    }

    /// The interface text for `key`, with `{name}` placeholders filled from `values`.
    public func text(_ key: UIText, _ language: Language, _ values: [String: String] = [:]) -> String {
        var text = ui[key]?[language] ?? key.rawValue
        for (name, value) in values {
            text = text.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return text
    }
}

/// Everything under lessons/history/, loaded and checked.
public struct HistoryData: Sendable {
    public let eras: [Era]
    public let events: [Event]
    public let technologies: [Technology]
    public let labels: Labels

    let technologyIndex: [String: Int]

    public init(eras: [Era], events: [Event], technologies: [Technology], labels: Labels) {
        self.eras = eras
        self.events = events
        self.technologies = technologies
        self.labels = labels
        var index: [String: Int] = [:]
        for (position, technology) in technologies.enumerated() where index[technology.id] == nil {
            index[technology.id] = position
        }
        self.technologyIndex = index
    }

    public func technology(id: String) -> Technology? {
        technologyIndex[id].map { technologies[$0] }
    }

    /// The events that name `technologyID`, in date order.
    public func events(of technologyID: String) -> [Event] {
        events.filter { $0.technologies.contains(technologyID) }
    }

    /// Every tag used by some event, sorted.
    public var tags: [String] {
        Array(Set(events.flatMap(\.tags))).sorted()
    }
}
