// The checks the loader applies to single values: ids, kernel versions, sources.
import Foundation

let kebab = try! NSRegularExpression(pattern: "^[a-z0-9]+(-[a-z0-9]+)*$")
let eventID = try! NSRegularExpression(pattern: "^([0-9]{4})-[a-z0-9]+(-[a-z0-9]+)*$")
let kernelVersion = try! NSRegularExpression(pattern: "^[0-9]+\\.[0-9]+(\\.[0-9]+)?$")

func matches(_ regex: NSRegularExpression, _ text: String) -> Bool {
    regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
}

func isKebab(_ text: String) -> Bool { matches(kebab, text) }

/// Checks each source: a URL must be a real http(s) address; anything else must name a
/// primary document in a few words (a man page, a commit, a paper, a tag).
func checkSources(_ sources: [String], _ fields: Fields) {
    for (index, source) in sources.enumerated() {
        let field = "sources[\(index)]"
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            if source.contains(" ") || URL(string: source)?.host == nil {
                fields.log.add(
                    fields.file, line: fields.line, entry: fields.entry, field: field,
                    "'\(source)' is not a valid URL")
            }
        } else if source.split(separator: " ").count < 2 || source.count < 10 {
            fields.log.add(
                fields.file, line: fields.line, entry: fields.entry, field: field,
                "'\(source)' should be a URL or name a primary document, e.g. \"clone(2) man page\"")
        }
    }
}
