import ContlabCore
import Foundation
import TextKit

/// One student's values for the exercises that take parameters: the hostname of 2.2 and 4.1, the
/// process limit of 3.2, the file 5.2's layer deletes, 6.1's addresses, 6.2's subnet and how H.1 letters its events.
/// Task texts, check titles and hints
/// write them as `{{hostname}}`, `{{pids}}`…; graders compare against them.
///
/// A teacher derives each student's variant from a class secret (`exercises init --student ID
/// --class-key FILE`), so two students get different values and an answer passed from one to
/// the other fails; without a student, every workspace gets `standard`, the values the texts
/// were first written with.
public struct Variant: Codable, Equatable, Sendable {
    /// Who it was made for; nil for the standard variant.
    public var student: String?
    public var values: [String: String]

    public init(student: String?, values: [String: String]) {
        self.student = student
        self.values = values
    }

    public static let standard = Variant(
        student: nil,
        values: [
            "hostname": "lab", "pids": "20", "pids-few": "10", "pids-many": "40", "delete": "vi",
            "address-a": "10.99.0.2", "address-b": "10.99.0.3", "cni-subnet": "172.30.62.0/24"
        ])

    /// The choices a derived variant draws from. Limits sit 8 apart and the grader starts 3
    /// fewer and 3 more processes than the limit, so another variant's limit always fails one
    /// side. The files are BusyBox applets every stage-5 image of the lab has in /bin.
    public static let hostnames = [
        "alder", "birch", "cedar", "elm", "fir", "hazel", "larch", "maple", "oak", "pine", "rowan", "willow"
    ]
    public static let pidLimits = [12, 20, 28, 36]
    public static let deletable = ["vi", "ed", "more", "rev", "watch", "cpio"]
    /// 6.1's subnets, 10.N.0.0/24: A takes .2 and B .3.
    public static let subnetOctets = [31, 47, 62, 77, 85, 113, 129, 142, 158, 171, 203, 226]
    /// 6.2's subnets, 172.30.N.0/24.
    public static let cniOctets = [11, 23, 37, 48, 59, 62, 74, 86, 97, 105, 118, 126]

    public subscript(name: String) -> String { values[name] ?? Self.standard.values[name] ?? "" }
    public var hostname: String { self["hostname"] }
    public var deleted: String { self["delete"] }
    public var pidsFew: Int { Int(self["pids-few"]) ?? 10 }
    public var pidsMany: Int { Int(self["pids-many"]) ?? 40 }

    /// The variant of `student` under the class's secret `key`: each value is chosen by an
    /// HMAC-SHA256 of the key over the student and the parameter's name, so it is the same
    /// every time, differs between students, and cannot be worked out without the key.
    public static func derive(student: String, key: [UInt8]) -> Variant {
        func pick<T>(_ name: String, _ choices: [T]) -> T {
            let mac = hmac(key: key, message: Array("contlab-variant-1\u{0}\(student)\u{0}\(name)".utf8))
            let number = mac.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return choices[Int(number % UInt64(choices.count))]
        }
        let limit = pick("pids", pidLimits)
        let octet = pick("subnet", subnetOctets)
        let letters = hmac(key: key, message: Array("contlab-variant-1\u{0}\(student)\u{0}letters".utf8)).prefix(6).map
        { String(format: "%02x", $0) }.joined()
        return Variant(
            student: student,
            values: [
                "letters": letters,
                "hostname": "lab-" + pick("hostname", hostnames),
                "pids": String(limit), "pids-few": String(limit - 3), "pids-many": String(limit + 3),
                "delete": pick("delete", deletable),
                "address-a": "10.\(octet).0.2", "address-b": "10.\(octet).0.3",
                "cni-subnet": "172.30.\(pick("cni-subnet", cniOctets)).0/24"
            ])
    }

    /// HMAC (RFC 2104) over SHA-256.
    static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var block =
            key.count > 64
            ? {
                var h = SHA256(); h.update(key); return h.finalize()
            }() : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
        outer.update(inner.finalize())
        return outer.finalize()
    }

    /// `text` with each `{{name}}` of this variant replaced by its value.
    public func fill(_ text: String) -> String {
        guard text.contains("{{") else { return text }
        var text = text
        for (name, value) in Self.standard.values.merging(values, uniquingKeysWith: { $1 }) {
            text = text.replacingOccurrences(of: "{{\(name)}}", with: value)
        }
        return text
    }

    public func fill(_ text: Localized) -> Localized { Localized(en: fill(text.en), zh: fill(text.zh)) }

    /// The exercise as this student reads it: titles and hints with their values.
    public func fill(_ exercise: Exercise) -> Exercise {
        var exercise = exercise
        exercise.title = fill(exercise.title)
        exercise.checks = exercise.checks.map { check in
            var check = check
            check.title = fill(check.title)
            check.hints = check.hints.map(fill)
            return check
        }
        return exercise
    }

    /// When a failing answer used a value of another variant, a sentence that says so.
    public func otherVariant(_ name: String, seen: String) -> String? {
        guard seen != self[name] else { return nil }
        let others: [String]
        switch name {
        case "hostname": others = ["lab"] + Self.hostnames.map { "lab-" + $0 }
        case "pids": others = Self.pidLimits.map(String.init) + ["20"]
        case "delete": others = Self.deletable
        case "cni-subnet": others = Self.cniOctets.map { "172.30.\($0).0/24" }
        case "address-a", "address-b":
            let host = name == "address-a" ? 2 : 3
            others = ([99] + Self.subnetOctets).map { "10.\($0).0.\(host)" }
        default: others = []
        }
        guard others.contains(seen) else { return nil }
        return "\(seen) is another variant's value: this workspace's task asks for \(self[name]) (see TASK.md)"
    }

    // MARK: the key and the workspace's copy

    /// The class secret: the file `--class-key` names, else `CONTLAB_CLASS_KEY` (the secret
    /// itself); nil when neither is given. A key shorter than 16 bytes is refused.
    public static func classKey(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> [UInt8]?
    {
        let key: [UInt8]
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ExerciseError.unreadable(
                    file,
                    reason: "no such file, or not readable (make one: head -c 32 /dev/urandom | base64 > class.key)")
            }
            key = Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        } else if let text = environment["CONTLAB_CLASS_KEY"], !text.isEmpty {
            key = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        } else {
            return nil
        }
        guard key.count >= 16 else {
            throw ExerciseError.malformed(
                file: file ?? "CONTLAB_CLASS_KEY",
                reason:
                    "a class key needs at least 16 characters (make one: head -c 32 /dev/urandom | base64 > class.key)")
        }
        return key
    }
}

extension Workspace {
    var variantFile: URL { stateDirectory.appendingPathComponent("variant.json") }

    /// The variant this workspace was made with; the standard one when it has none.
    public func loadVariant() -> Variant {
        guard let data = try? Data(contentsOf: variantFile),
            let variant = try? JSONDecoder().decode(Variant.self, from: data)
        else { return .standard }
        return variant
    }

    func saveVariant(_ variant: Variant) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(variant).write(to: variantFile)
    }
}
