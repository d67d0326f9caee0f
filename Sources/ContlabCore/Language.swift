import Foundation

/// The two languages of every lesson, history text, walk-through and exercise.
public enum Language: String, CaseIterable, Sendable, Comparable {
    case en, zh

    /// The language a student's locale asks for: `zh` when the first of `LC_ALL`, `LC_MESSAGES`
    /// and `LANG` that is set starts with `zh` (POSIX gives them that precedence), else `en`.
    public static func preferred(environment: [String: String] = ProcessInfo.processInfo.environment) -> Language {
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let value = environment[key], !value.isEmpty {
                return value.lowercased().hasPrefix("zh") ? .zh : .en
            }
        }
        return .en
    }

    public static func < (a: Language, b: Language) -> Bool { a.rawValue < b.rawValue }
}
