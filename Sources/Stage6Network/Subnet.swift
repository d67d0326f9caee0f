import Foundation

/// An IPv4 address as the kernel stores it: 32 bits, most significant octet first. Pure.
public struct IPv4Address: Comparable, Hashable, Codable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    /// Dotted quad: four decimal octets 0–255, no leading zeros beyond "0" (so "010" is refused,
    /// which inet_aton would read as octal).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part == "0" || !part.hasPrefix("0"), let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not an IPv4 address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An IPv4 subnet in CIDR notation (10.88.1.0/24). Pure.
public struct Subnet: Hashable, Codable, Sendable, CustomStringConvertible {
    public var network: IPv4Address
    public var prefixLength: Int

    /// Lab networks are /16 to /29: a /30 would leave the bridge and one container.
    public static let prefixRange = 16...29

    public init(network: IPv4Address, prefixLength: Int) {
        self.network = network
        self.prefixLength = prefixLength
    }

    /// "10.88.1.0/24". The address must be the network's own (no host bits set): "10.88.1.7/24"
    /// is refused naming 10.88.1.0/24, as a typo there would put two networks on one range.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(String(parts[0])),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]), length <= 32
        else {
            throw NetworkError.badSubnet(text, "write it as an IPv4 address and a prefix length, such as 10.88.7.0/24")
        }
        guard Self.prefixRange.contains(length) else {
            throw NetworkError.badSubnet(
                text, "use a prefix length from /\(Self.prefixRange.lowerBound) to /\(Self.prefixRange.upperBound)")
        }
        let subnet = Subnet(network: IPv4Address(address.value & Self.mask(length)), prefixLength: length)
        guard subnet.network == address else {
            throw NetworkError.badSubnet(text, "the address has host bits set; the network is \(subnet)")
        }
        guard Self.isPrivate(subnet) else {
            throw NetworkError.badSubnet(
                text,
                "use a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16), as lab addresses never leave the "
                    + "lab"
            )
        }
        self = subnet
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }

    public var mask: UInt32 { Self.mask(prefixLength) }
    public var broadcast: IPv4Address { IPv4Address(network.value | ~mask) }
    /// The bridge's address in the network's host side: the first host address.
    public var gateway: IPv4Address { IPv4Address(network.value + 1) }
    /// The addresses containers may hold: after the gateway, before the broadcast address.
    public var containerAddresses: ClosedRange<UInt32> { (network.value + 2)...(broadcast.value - 1) }

    public func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

    public func overlaps(_ other: Subnet) -> Bool {
        let shorter = min(prefixLength, other.prefixLength)
        return network.value & Self.mask(shorter) == other.network.value & Self.mask(shorter)
    }

    public var description: String { "\(network)/\(prefixLength)" }

    /// RFC 1918.
    static func isPrivate(_ subnet: Subnet) -> Bool {
        let blocks = [
            Subnet(network: IPv4Address(10 << 24), prefixLength: 8),
            Subnet(network: IPv4Address(172 << 24 | 16 << 16), prefixLength: 12),
            Subnet(network: IPv4Address(192 << 24 | 168 << 16), prefixLength: 16)
        ]
        return blocks.contains { $0.prefixLength <= subnet.prefixLength && $0.contains(subnet.network) }
    }

    /// Where `network create` without --subnet looks: 10.88.1.0/24, 10.88.2.0/24, … 10.88.255.0/24.
    public static let defaultPool = (1...255).map {
        Subnet(network: IPv4Address(10 << 24 | 88 << 16 | UInt32($0) << 8), prefixLength: 24)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try Subnet(parsing: text)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Which addresses go to whom. Pure: the store calls these under its lock.
public enum AddressPlan {
    /// The first default subnet that overlaps none of `taken`.
    public static func freeSubnet(avoiding taken: [Subnet]) -> Subnet? {
        Subnet.defaultPool.first { candidate in !taken.contains { $0.overlaps(candidate) } }
    }

    /// The lowest container address of `subnet` that no lease holds.
    public static func nextAddress(in subnet: Subnet, leased: [IPv4Address]) -> IPv4Address? {
        let used = Set(leased.map(\.value))
        return subnet.containerAddresses.first { !used.contains($0) }.map(IPv4Address.init)
    }
}

/// A container's name on a lab network: a hostname label, since /etc/hosts and the UTS
/// namespace carry it.
public enum ContainerName {
    public static func validate(_ name: String) throws {
        guard !name.isEmpty, name.count <= 63, !name.hasPrefix("-"), !name.hasSuffix("-"),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else {
            throw NetworkError.badName(name, what: "container")
        }
    }

    /// A lab network's name: it names a folder, so letters, digits, - and _, up to 32.
    public static func validateNetwork(_ name: String) throws {
        guard !name.isEmpty, name.count <= 32, !name.hasPrefix("-"),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw NetworkError.badName(name, what: "network")
        }
    }
}

/// The /etc/hosts every container on a network sees (one file, bind-mounted read-only into
/// each, rewritten in place as containers come and go). Pure.
public enum HostsFile {
    public static func render(network: String, gateway: IPv4Address, entries: [(name: String, address: IPv4Address)])
        -> String
    {
        var text = "# contlab network \(network): rewritten as containers start and stop\n"
        text += "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
        text += "\(gateway)\tgateway\n"
        for entry in entries.sorted(by: { $0.address < $1.address }) {
            text += "\(entry.address)\t\(entry.name)\n"
        }
        return text
    }
}
