import Foundation

/// What can go wrong with images, each naming the image, the blob or the entry, and what to do.
public enum ImageError: Error, CustomStringConvertible, Equatable {
    case badDigest(String, String)
    case compression(String)
    case badTar(String)
    case badReference(String, String)
    case notFound(String, known: [String])
    case missingBlob(Digest, what: String)
    case tampered(what: String, expected: Digest, found: Digest)
    case sizeMismatch(what: String, expected: Int, found: Int)
    case badDocument(what: String, String)
    case unsafeEntry(layer: String, entry: String, String)
    /// An entry the kernel would not make (a full disk, a name it refuses), with its reason.
    case entryFailed(layer: String, entry: String, String)
    case unsupported(String)
    case inUse(String, by: [String])
    case container(String)

    public var description: String {
        switch self {
        case let .badDigest(text, why): return "\"\(text)\" is not a digest: \(why)"
        case let .compression(why): return "gzip: \(why)"
        case let .badTar(why): return "tar: \(why)"
        case let .badReference(text, why): return "\"\(text)\" is not an image name: \(why)"
        case let .notFound(name, known):
            return "no image \(name) in the store"
                + (known.isEmpty
                    ? "; build one: contlab image build --rootfs busybox busybox:latest"
                    : " (have: \(known.joined(separator: ", "))); see contlab image list")
        case let .missingBlob(digest, what):
            return
                "\(what) names blob \(digest), which is not in the store: the image is incomplete; import or build it "
                + "again"
        case let .tampered(what, expected, found):
            return
                "\(what): blob content does not match its name: expected \(expected), found \(found); the file was "
                + "changed after it was written — remove the image and import or build it again"
        case let .sizeMismatch(what, expected, found):
            return "\(what): the descriptor says \(expected) bytes, the blob has \(found)"
        case let .badDocument(what, why): return "\(what) is not a valid document: \(why)"
        case let .unsafeEntry(layer, entry, why):
            return "layer \(layer): entry \"\(Self.shortened(entry))\" \(why); refusing to unpack it"
        case let .entryFailed(layer, entry, why):
            return "layer \(layer): entry \"\(Self.shortened(entry))\" could not be unpacked: \(why)"
        case let .unsupported(why): return why
        case let .inUse(what, users):
            return "\(what) is used by \(users.joined(separator: ", ")): remove those first (contlab container rm ID)"
        case let .container(why): return why
        }
    }

    /// A hostile layer's names can be kilobytes long: the message keeps both ends.
    static func shortened(_ text: String) -> String {
        guard text.count > 120 else { return text }
        return text.prefix(80) + "…(\(text.utf8.count) bytes)…" + text.suffix(30)
    }
}
