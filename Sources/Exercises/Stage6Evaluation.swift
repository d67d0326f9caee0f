import Foundation

/// Stage 6: two network namespaces wired by hand.
extension Evaluation {
    /// 6.1: what the grader saw after `wire.sh A B` ran: each namespace's IPv4 addresses on
    /// interfaces that are up, whether a ping from A to B's address was answered, and the
    /// interfaces left in the namespace the script ran in.
    public static func wireScript(probe: ProbeOutput, variant: Variant = .standard) -> [CheckOutcome] {
        let status = probe.values["status"].map { $0 == "0" ? "the script exited 0" : "the script exited \($0)" } ?? "the script did not finish"
        let log = probe.values["log"].map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let ran = status + (log.isEmpty ? "" : ", printing \(ProbeOutput.excerpt(log))")
        func addresses(_ side: String) -> [String] {
            (probe.values["\(side)-addresses"] ?? "").split(separator: " ").map(String.init)
        }
        func has(_ side: String) -> CheckOutcome {
            let wanted = variant["address-\(side)"] + "/24"
            let seen = addresses(side)
            let other = seen.compactMap { variant.otherVariant("address-\(side)", seen: $0.split(separator: "/").first.map(String.init) ?? $0) }.first
            let says = seen.isEmpty ? "no IPv4 address on an interface that is up" : "addresses on interfaces that are up: " + seen.joined(separator: ", ")
            return CheckOutcome("\(side)-address", passed: seen.contains(wanted),
                                expected: "\(side.uppercased())'s namespace has \(wanted) on an interface that is up",
                                seen: says + (other.map { "; " + $0 } ?? "") + " (\(ran))")
        }
        let ping = probe.values["ping"]
        let links = (probe.values["host-links"] ?? "").split(separator: " ").map { String($0.split(separator: "@").first ?? $0) }
        return [
            has("a"),
            has("b"),
            CheckOutcome("ping", passed: ping == "0", expected: "a ping from A to \(variant["address-b"]) is answered",
                         seen: ping == nil ? "the grader could not ping (\(ran))" : ping == "0" ? "it was answered" : "no answer (ping exited \(ping!))"),
            CheckOutcome("host-untouched", passed: links == ["lo"],
                         expected: "the namespace the script ran in still has only lo: both ends of the cable are in A and B",
                         seen: links.isEmpty ? "no list of its interfaces (\(ran))" : "it has " + links.joined(separator: ", ")),
        ]
    }
}
