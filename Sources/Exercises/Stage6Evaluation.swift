import Foundation

/// Stage 6: two network namespaces wired by hand.
extension Evaluation {
    /// 6.1: what the grader saw after `wire.sh A B` ran: each namespace's IPv4 addresses on
    /// interfaces that are up, whether a ping from A to B's address was answered, and the
    /// interfaces left in the namespace the script ran in.
    public static func wireScript(probe: ProbeOutput, variant: Variant = .standard) -> [CheckOutcome] {
        let status =
            probe.values["status"].map { $0 == "0" ? "the script exited 0" : "the script exited \($0)" }
            ?? "the script did not finish"
        let log = probe.values["log"].map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let ran = status + (log.isEmpty ? "" : ", printing \(ProbeOutput.excerpt(log))")
        func addresses(_ side: String) -> [String] {
            (probe.values["\(side)-addresses"] ?? "").split(separator: " ").map(String.init)
        }
        func has(_ side: String) -> CheckOutcome {
            let wanted = variant["address-\(side)"] + "/24"
            let seen = addresses(side)
            let other = seen.compactMap {
                variant.otherVariant("address-\(side)", seen: $0.split(separator: "/").first.map(String.init) ?? $0)
            }.first
            let says =
                seen.isEmpty
                ? "no IPv4 address on an interface that is up"
                : "addresses on interfaces that are up: " + seen.joined(separator: ", ")
            return CheckOutcome(
                "\(side)-address", passed: seen.contains(wanted),
                expected: "\(side.uppercased())'s namespace has \(wanted) on an interface that is up",
                seen: says + (other.map { "; " + $0 } ?? "") + " (\(ran))")
        }
        let ping = probe.values["ping"]
        let links = (probe.values["host-links"] ?? "").split(separator: " ").map {
            String($0.split(separator: "@").first ?? $0)
        }
        return [
            has("a"),
            has("b"),
            CheckOutcome(
                "ping", passed: ping == "0", expected: "a ping from A to \(variant["address-b"]) is answered",
                seen: ping == nil
                    ? "the grader could not ping (\(ran))"
                    : ping == "0" ? "it was answered" : "no answer (ping exited \(ping!))"),
            CheckOutcome(
                "host-untouched", passed: links == ["lo"],
                expected: "the namespace the script ran in still has only lo: both ends of the cable are in A and B",
                seen: links.isEmpty ? "no list of its interfaces (\(ran))" : "it has " + links.joined(separator: ", "))
        ]
    }

    /// 6.2's configuration as the grader reads it before running anything: the plugin it names
    /// (a plain name, run from the plugins' folder) and the leases' folder if it moves them.
    /// Pure.
    public static func cniPlugin(configuration text: String) -> Result<
        (plugin: String, dataDir: String?), CNIConfigProblem
    > {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return .failure(.notJSON)
        }
        guard let type = object["type"] as? String, !type.isEmpty else { return .failure(.noType) }
        guard type.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" }),
            type.count <= 64
        else {
            return .failure(.badType(type))
        }
        let dataDir = (object["ipam"] as? [String: Any])?["dataDir"] as? String
        return .success((type, dataDir))
    }

    public enum CNIConfigProblem: Error, Equatable, CustomStringConvertible {
        case notJSON, noType, badType(String)
        public var description: String {
            switch self {
            case .notJSON: return "net.conf is not a JSON object"
            case .noType: return "net.conf names no plugin: it has no \"type\""
            case .badType(let type): return "\"type\": \"\(type)\" is not a plugin's name (a plain name such as bridge)"
            }
        }
    }

    /// 6.2: what the grader saw after ADD, a ping from the container to the gateway, and DEL.
    public static func cniConfig(probe: ProbeOutput, problem: String?, variant: Variant = .standard) -> [CheckOutcome] {
        let ids = ["add-succeeds", "address-in-subnet", "gateway-answers", "del-cleans-up"]
        if let problem {
            return ids.map {
                CheckOutcome($0, passed: false, expected: "a network configuration the plugins can read", seen: problem)
            }
        }
        let subnet = variant["cni-subnet"]
        let add = probe.values["add"]
        let result = (probe.values["result"] ?? "").trimmingCharacters(in: .whitespaces)
        let named = result.contains("\"ips\"") && result.contains("\"address\"")
        let addresses = (probe.values["addresses"] ?? "").split(separator: " ").map(String.init)
        let inside = addresses.filter { Self.address($0, isIn: subnet) }
        let other = addresses.compactMap { address -> String? in
            let net = Subnet24.of(address)
            return net.flatMap { variant.otherVariant("cni-subnet", seen: $0) }
        }.first
        let links = (probe.values["after"] ?? "").split(separator: " ").map {
            String($0.split(separator: "@").first ?? $0)
        }
        let leases = probe.values["leases"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return [
            CheckOutcome(
                "add-succeeds", passed: add == "0" && named,
                expected: "the plugin's ADD exits 0 with a result that names an address",
                seen: add == nil
                    ? "ADD did not run"
                    : "ADD exited \(add!)" + (result.isEmpty ? "" : ", printing \(ProbeOutput.excerpt(result))")),
            CheckOutcome(
                "address-in-subnet", passed: !inside.isEmpty, expected: "eth0 has an address in \(subnet)",
                seen: addresses.isEmpty
                    ? "eth0 has no IPv4 address"
                    : "eth0 has " + addresses.joined(separator: ", ") + (other.map { "; " + $0 } ?? "")),
            CheckOutcome(
                "gateway-answers", passed: probe.values["ping"] == "0",
                expected: "a ping from the container to \(Self.gateway(of: subnet)) answers",
                seen: probe.values["ping"] == "0" ? "it answered" : "no answer"),
            CheckOutcome(
                "del-cleans-up", passed: probe.values["del"] == "0" && links == ["lo"] && leases == 0,
                expected: "DEL exits 0, the container has only lo again and no lease is left",
                seen:
                    "DEL exited \(probe.values["del"] ?? "?"), the container has \(links.isEmpty ? "?" : links.joined(separator: ", ")), \(leases.map(String.init) ?? "?") lease(s) left"
            )
        ]
    }

    /// "172.30.62.0/24" → "172.30.62.1": the first address, which the bridge plugin gives the
    /// bridge when it is the gateway.
    public static func gateway(of subnet: String) -> String {
        let parts = (subnet.split(separator: "/").first ?? "").split(separator: ".")
        guard parts.count == 4 else { return subnet }
        return parts.prefix(3).joined(separator: ".") + ".1"
    }

    /// Whether "172.30.62.2/24" lies in "172.30.62.0/24" (the tasks' subnets are /24s).
    static func address(_ cidr: String, isIn subnet: String) -> Bool {
        guard let net = Subnet24.of(cidr) else { return false }
        return net == subnet
    }

    /// The /24 an address with its prefix lies in, written as the tasks write subnets.
    enum Subnet24 {
        static func of(_ cidr: String) -> String? {
            let parts = (cidr.split(separator: "/").first ?? "").split(separator: ".")
            guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return nil }
            return parts.prefix(3).joined(separator: ".") + ".0/24"
        }
    }
}
