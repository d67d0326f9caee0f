import ContlabCore
import Foundation

/// A content address, `sha256:<64 hex digits>`: the name of every blob in an OCI image, so a
/// blob that changed no longer matches its name and is refused.
public struct Digest: Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    public let hex: String

    public init(hex: String) { self.hex = hex }

    /// Parse `sha256:...`; other algorithms are named in the error (image-spec allows sha512 too).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ImageError.badDigest(text, "expected ALGORITHM:HEX, such as sha256:…") }
        guard parts[0] == "sha256" else {
            throw ImageError.badDigest(text, "only sha256 digests are supported by this lab")
        }
        guard parts[1].count == 64, parts[1].allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) else {
            throw ImageError.badDigest(text, "a sha256 digest is 64 lower-case hex digits")
        }
        hex = parts[1]
    }

    public static func of(_ bytes: [UInt8]) -> Digest { Digest(hex: SHA256.hex(bytes)) }

    public static func of(_ data: Data) -> Digest { of([UInt8](data)) }

    /// A digest taken a chunk at a time, for a blob or an uncompressed layer too big to hold.
    public struct Hasher {
        private var sha = SHA256()
        public private(set) var count = 0

        public init() {}

        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            sha.update(buffer: bytes)
            count += bytes.count
        }

        public mutating func finalize() -> Digest {
            Digest(hex: sha.finalize().map { String(format: "%02x", $0) }.joined())
        }
    }

    public var description: String { "sha256:" + hex }
    /// The first 12 hex digits, as Docker shows image ids.
    public var short: String { String(hex.prefix(12)) }

    public static func < (a: Digest, b: Digest) -> Bool { a.hex < b.hex }

    public init(from decoder: Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
