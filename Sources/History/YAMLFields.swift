// Reading a YAML mapping field by field, each problem reported against its file, line, entry
// and field (see Loading.swift for why not Codable).
import ContlabCore
import Foundation
import TextKit
import Yams

/// Reads one mapping's fields, reporting each problem against the file, entry and field.
struct Fields {
    let mapping: Node.Mapping
    let file: String
    let entry: String
    let line: Int?
    let log: IssueLog
    var prefix = ""

    init(_ mapping: Node.Mapping, file: String, entry: String, log: IssueLog, prefix: String = "") {
        self.mapping = mapping
        self.file = file
        self.entry = entry
        self.line = mapping.mark?.line
        self.log = log
        self.prefix = prefix
    }

    /// The value under `key`. Compared by text, because Yams' own subscript does not find a
    /// quoted key such as "yes" (quoted so YAML 1.1 does not read it as a boolean).
    func value(_ key: String) -> Node? {
        mapping.first { $0.key.string == key }?.value
    }

    func report(_ key: String, _ message: String) {
        log.add(file, line: value(key)?.mark?.line ?? line, entry: entry, field: prefix + key, message)
    }

    /// Flags keys that are not in `allowed`, which are almost always typos.
    func checkKeys(_ allowed: [String]) {
        for (key, value) in mapping {
            let name = key.string ?? "?"
            if !allowed.contains(name) {
                log.add(
                    file, line: value.mark?.line ?? key.mark?.line, entry: entry, field: prefix + name,
                    "unknown field; expected one of: \(allowed.joined(separator: ", "))")
            }
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    func has(_ key: String) -> Bool {
        guard let node = value(key) else { return false }
        return !Fields.isNull(node)
    }

    func scalar(_ key: String, required: Bool) -> String? {
        guard let node = value(key), !Fields.isNull(node) else {
            if required { report(key, "is missing") }
            return nil
        }
        guard let scalar = node.scalar else {
            report(key, "should be a single value, not a list or a mapping")
            return nil
        }
        let text = scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty {
            report(key, "is empty")
            return nil
        }
        return text
    }

    func string(_ key: String, required: Bool = true) -> String? {
        scalar(key, required: required)
    }

    func int(_ key: String, required: Bool = true) -> Int? {
        guard let text = scalar(key, required: required) else { return nil }
        guard let value = Int(text) else {
            report(key, "'\(text)' is not a whole number")
            return nil
        }
        return value
    }

    func bool(_ key: String) -> Bool? {
        guard let text = scalar(key, required: true) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            report(key, "'\(text)' should be true or false")
            return nil
        }
    }

    func list(_ key: String, required: Bool) -> [Node]? {
        guard let node = value(key), !Fields.isNull(node) else {
            if required { report(key, "is missing") }
            return nil
        }
        guard let sequence = node.sequence else {
            report(key, "should be a list, e.g. [a, b]")
            return nil
        }
        return Array(sequence)
    }

    /// A list of texts; `minimum` says how many entries it must have.
    func strings(_ key: String, required: Bool = true, minimum: Int = 0) -> [String] {
        guard let nodes = list(key, required: required) else { return [] }
        var values: [String] = []
        for (index, node) in nodes.enumerated() {
            guard let text = node.scalar?.string.trimmingCharacters(in: .whitespacesAndNewlines),
                !text.isEmpty, !Fields.isNull(node)
            else {
                log.add(
                    file, line: node.mark?.line ?? line, entry: entry, field: "\(prefix)\(key)[\(index)]",
                    "should be a non-empty value")
                continue
            }
            values.append(text)
        }
        if nodes.count < minimum {
            report(key, nodes.isEmpty ? "is empty; give at least \(minimum)" : "needs at least \(minimum) entries")
        }
        return values
    }

    func ints(_ key: String) -> [Int] {
        strings(key, required: false).compactMap { text in
            guard let value = Int(text) else {
                report(key, "'\(text)' is not a whole number")
                return nil
            }
            return value
        }
    }

    func nested(_ key: String, required: Bool = true) -> Fields? {
        guard let node = value(key), !Fields.isNull(node) else {
            if required { report(key, "is missing") }
            return nil
        }
        guard let inner = node.mapping else {
            report(key, "should be a mapping of named fields")
            return nil
        }
        return Fields(inner, file: file, entry: entry, log: log, prefix: prefix + key + ".")
    }

    /// A `{en: ..., zh: ...}` text. Chinese must contain Chinese characters and English must
    /// not, which catches a text pasted into the wrong language.
    func localized(_ key: String, required: Bool = true) -> Localized? {
        guard let fields = nested(key, required: required) else { return nil }
        fields.checkKeys(["en", "zh"])
        let en = fields.string("en").map(TextForm.unfold)
        let zh = fields.string("zh").map(TextForm.unfold)
        if let en, TextForm.containsCJK(en) {
            fields.report("en", "contains Chinese characters; put them under zh")
        }
        if let zh, !TextForm.containsCJK(zh) {
            fields.report("zh", "has no Chinese characters; write the Simplified Chinese text here")
        }
        guard let en, let zh else { return nil }
        return Localized(en: en, zh: zh)
    }
}
