import ContlabCore
import Foundation
import TextKit

extension Language {
    /// The other language, for the "read this in …" switch.
    public var other: Language { self == .en ? .zh : .en }

    /// The value of HTML's `lang` attribute.
    public var htmlTag: String { self == .en ? "en" : "zh-Hans" }

    /// The language's own name, as shown on a link to it.
    public var nativeName: String { self == .en ? "English" : "中文" }
}

public enum LessonKind: String, Sendable, CaseIterable {
    /// A lesson that goes with one stage of the runtime (`contlab stage N`).
    case stage
    /// A lesson about the history of containers, tied to events in lessons/history/.
    case history
}

/// One entry of a lesson's `sources:` list: a document, with a link when it is online.
public struct LessonSource: Codable, Equatable, Sendable {
    public var title: String
    public var url: String?

    public init(title: String, url: String? = nil) {
        self.title = title
        self.url = url
    }
}

/// A lesson's front matter, validated: every required field is present.
public struct LessonMetadata: Equatable, Sendable {
    public var id: String
    public var title: String
    public var kind: LessonKind
    /// The stage number, for stage lessons.
    public var stage: Int?
    /// The period covered, for history lessons (e.g. "1979–2000").
    public var era: String?
    /// Sort key in the list of lessons.
    public var order: Int
    /// Ids of history events (lessons/history/) this lesson tells about.
    public var events: [String]
    public var sources: [LessonSource]
}

/// A lesson file: its metadata, its Markdown body, and where it came from.
public struct Lesson: Equatable, Sendable {
    public var metadata: LessonMetadata
    public var language: Language
    /// The CommonMark text after the front matter.
    public var body: String
    /// The file's path, for messages.
    public var file: String

    public var id: String { metadata.id }
    public var title: String { metadata.title }
}
