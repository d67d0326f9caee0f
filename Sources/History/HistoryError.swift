// What can go wrong in the history explorer, said so that a student knows what to type next.
import Foundation

/// One problem in the data files: which file, which entry, which field, and what is wrong.
public struct DataIssue: Equatable, Sendable, CustomStringConvertible {
    /// The file's path relative to the checkout, e.g. `lessons/history/events.yaml`.
    public let file: String
    public let line: Int?
    /// The entry, e.g. `event 2008-lxc` or `technology docker`; `file` for the whole file.
    public let entry: String
    /// The field, e.g. `date` or `title.zh`; empty when the entry itself is wrong.
    public let field: String
    public let message: String

    public init(file: String, line: Int?, entry: String, field: String, message: String) {
        self.file = file
        self.line = line
        self.entry = entry
        self.field = field
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        let what = field.isEmpty ? entry : "\(entry), field \(field)"
        return "\(location): \(what): \(message)"
    }
}

public enum HistoryError: Error, CustomStringConvertible, Equatable {
    /// A data file is not where contlab looks for it.
    case dataMissing(path: String)
    case dataUnreadable(path: String, reason: String)
    /// The data files parse but break the rules in their headers.
    case invalidData([DataIssue])
    case unknownTechnology(String, suggestions: [String], known: [String])
    case unknownTag(String, suggestions: [String], known: [String])
    /// `--from` is later than `--to`.
    case emptyRange(from: Int, to: Int)
    /// The filters are consistent but select nothing; `hint` says where the events are.
    case noEvents(filters: String, hint: String)
    case compareNeedsTwo(given: [String])
    case emptySearch
    case noMatches(query: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .dataMissing(let path):
            return
                "cannot find \(path): run contlab from its checkout, or set CONTLAB_HOME to the directory that holds "
                + "lessons/ and rootfs-recipes/"
        case .dataUnreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .invalidData(let issues):
            let shown = issues.prefix(20).map { "  " + $0.description }.joined(separator: "\n")
            let more = issues.count > 20 ? "\n  … and \(issues.count - 20) more" : ""
            return
                "the history data has \(issues.count) problem\(issues.count == 1 ? "" : "s"); fix the file named in each line (swift test --filter HistoryTests lists them all):\n\(shown)\(more)"
        case .unknownTechnology(let given, let suggestions, let known):
            return "unknown technology \"\(given)\"" + HistoryError.hint(suggestions, known, noun: "technology ids")
        case .unknownTag(let given, let suggestions, let known):
            return "unknown tag \"\(given)\"" + HistoryError.hint(suggestions, known, noun: "tags")
        case .emptyRange(let from, let to):
            return
                "the range --from \(from) --to \(to) is empty: no year is both \(from) or later and \(to) or earlier. "
                + "Put the earlier year first: --from \(to) --to \(from)"
        case .noEvents(let filters, let hint):
            return "no events \(filters). \(hint)"
        case .compareNeedsTwo(let given):
            let got = given.isEmpty ? "none" : given.joined(separator: " ")
            return
                "compare needs at least two different technologies (got: \(got)); for example: contlab history "
                + "compare chroot jail docker"
        case .emptySearch:
            return "search needs some text to look for, for example: contlab history search namespace"
        case .noMatches(let query):
            return
                "no event or technology mentions \"\(query)\" in English or Chinese; try a shorter word, or list "
                + "everything with: contlab history timeline"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason); check that the directory exists and is writable"
        }
    }

    static func hint(_ suggestions: [String], _ known: [String], noun: String) -> String {
        if !suggestions.isEmpty {
            return
                ". Did you mean \(suggestions.joined(separator: ", "))? (known \(noun): \(known.joined(separator: ", ")))"
        }
        return ". Known \(noun): \(known.joined(separator: ", "))"
    }
}
