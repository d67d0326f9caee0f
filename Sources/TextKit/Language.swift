import Foundation

/// The two languages of every lesson, history text, walk-through and exercise.
public enum Language: String, CaseIterable, Sendable, Comparable {
    case en, zh

    /// The language a student's locale asks for: `zh` when the first of `LC_ALL`, `LC_MESSAGES`
    /// and `LANG` that is set starts with `zh` (POSIX gives them that precedence), else `en`.
    /// `CONTLAB_LANG` comes first: a walk-through sets it for the commands it runs, and `contlab
    /// run` passes it into the container, so `contlab inspect` there speaks the same language.
    public static let environmentKey = "CONTLAB_LANG"

    public static func preferred(environment: [String: String] = ProcessInfo.processInfo.environment) -> Language {
        for key in [environmentKey, "LC_ALL", "LC_MESSAGES", "LANG"] {
            if let value = environment[key], !value.isEmpty {
                return value.lowercased().hasPrefix("zh") ? .zh : .en
            }
        }
        return .en
    }

    public static func < (a: Language, b: Language) -> Bool { a.rawValue < b.rawValue }
}

/// A text in English and Simplified Chinese: every title, step, hint and history line.
public struct Localized: Codable, Equatable, Hashable, Sendable {
    public var en: String
    public var zh: String

    public init(en: String, zh: String) {
        self.en = en
        self.zh = zh
    }

    public subscript(language: Language) -> String { language == .zh ? zh : en }

    /// By the language's code, `en` or `zh` (anything but `zh` reads as English).
    public func callAsFunction(_ code: String) -> String { code == "zh" ? zh : en }
}
