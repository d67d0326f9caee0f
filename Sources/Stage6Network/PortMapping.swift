import Foundation

/// One `-p HOSTPORT:CONTAINERPORT`: a TCP port on the network's host side that reaches a port of
/// the container. Pure. Lesson: stage6-network.
public struct PortMapping: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var hostPort: UInt16
    public var containerPort: UInt16

    public init(hostPort: UInt16, containerPort: UInt16) {
        self.hostPort = hostPort
        self.containerPort = containerPort
    }

    /// Docker's short form, as far as contlab's forwarder goes: `8080:80`, or `8080:80/tcp`.
    /// Docker's other forms are refused, each saying what to write instead.
    public init(parsing spec: String) throws {
        var text = Substring(spec)
        if let slash = text.firstIndex(of: "/") {
            let proto = text[text.index(after: slash)...]
            guard proto == "tcp" else {
                throw NetworkError.badPublish(
                    spec, "only TCP is published (contlab's forwarder copies TCP streams); leave out /\(proto)")
            }
            text = text[..<slash]
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 3 {
            throw NetworkError.badPublish(
                spec,
                "contlab publishes on every address of the network's host side (127.0.0.1 and the bridge's); "
                    + "leave the address out: -p \(parts[1]):\(parts[2])")
        }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw NetworkError.badPublish(spec, "write it as HOSTPORT:CONTAINERPORT, such as -p 8080:80")
        }
        self.init(hostPort: try Self.port(parts[0], spec: spec), containerPort: try Self.port(parts[1], spec: spec))
    }

    static func port(_ text: Substring, spec: String) throws -> UInt16 {
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw NetworkError.badPublish(
                spec, "\"\(text)\" is not a port number; write HOSTPORT:CONTAINERPORT, such as -p 8080:80")
        }
        // Port 0 would ask the kernel for any free port, which nobody could then find.
        guard let value = Int(text), (1...65535).contains(value) else {
            throw NetworkError.badPublish(spec, "port \(text) is out of range: a TCP port is 1 to 65535")
        }
        return UInt16(value)
    }

    /// Every `-p` of one run; two asking for the same host port are refused.
    public static func parseAll(_ specs: [String]) throws -> [PortMapping] {
        var mappings: [PortMapping] = []
        for spec in specs {
            let mapping = try PortMapping(parsing: spec)
            if let other = mappings.first(where: { $0.hostPort == mapping.hostPort }) {
                throw NetworkError.badPublish(
                    spec, "-p \(other) publishes host port \(mapping.hostPort) already; give each -p its own HOSTPORT")
            }
            mappings.append(mapping)
        }
        return mappings
    }

    public var description: String { "\(hostPort):\(containerPort)" }

    // Stored as "8080:80", as it was typed.
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not HOSTPORT:CONTAINERPORT: \(text)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
