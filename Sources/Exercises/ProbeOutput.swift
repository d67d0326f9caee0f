import Foundation
import Inspect

/// What the grader's probe printed from inside a container or namespace: `key=value` lines,
/// `contlab inspect --json` between `inspect-begin` and `inspect-end`, and mountinfo between
/// `mountinfo-begin` and `mountinfo-end`. Student programs print around it, possibly bytes that
/// are not UTF-8; those are decoded with U+FFFD in their place. Pure.
public struct ProbeOutput: Equatable, Sendable {
    public var values: [String: String] = [:]
    public var inspect: IsolationReport?
    public var mountinfo: [String] = []
    public var text: String = ""

    public init(
        values: [String: String] = [:], inspect: IsolationReport? = nil, mountinfo: [String] = [], text: String = ""
    ) {
        self.values = values
        self.inspect = inspect
        self.mountinfo = mountinfo
        self.text = text
    }

    public static func parse(_ bytes: Data) -> ProbeOutput {
        parse(String(decoding: bytes, as: UTF8.self))
    }

    public static func parse(_ text: String) -> ProbeOutput {
        var output = ProbeOutput(text: text)
        var block: String?
        var collected: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let current = block {
                if line == "\(current)-end" {
                    if current == "inspect" {
                        output.inspect = try? JSONDecoder().decode(
                            IsolationReport.self, from: Data(collected.joined(separator: "\n").utf8))
                    } else {
                        output.mountinfo = collected.map(String.init)
                    }
                    block = nil
                    collected = []
                } else {
                    collected.append(line)
                }
                continue
            }
            if line == "inspect-begin" || line == "mountinfo-begin" {
                block = String(line.dropLast(6))
                continue
            }
            if let eq = line.firstIndex(of: "="), line.first != " " {
                let key = String(line[..<eq])
                // A probe's keys are simple words; other lines are the student's output.
                if !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
                    output.values[key] = String(line[line.index(after: eq)...])
                }
            }
        }
        return output
    }

    /// The mount at `mountPoint` in `mountinfo` lines: its filesystem type, if mounted.
    public static func filesystem(at mountPoint: String, in mountinfo: [String]) -> String? {
        var found: String?
        for line in mountinfo {
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == Substring(mountPoint),
                let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count
            else { continue }
            found = String(fields[dash + 1])
        }
        return found
    }

    /// A short, printable excerpt of what the student's program printed, for "seen".
    public static func excerpt(_ text: String, limit: Int = 160) -> String {
        let flat = text.unicodeScalars.map { $0.value < 0x20 ? " " : String($0) }.joined()
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        if flat.isEmpty { return "no output" }
        return flat.count > limit ? "\"" + flat.prefix(limit) + "…\"" : "\"" + flat + "\""
    }
}
