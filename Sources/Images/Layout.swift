import Foundation

/// The OCI image-spec documents, with the spec's own field names so they encode as written.
public enum MediaType {
    public static let index = "application/vnd.oci.image.index.v1+json"
    public static let manifest = "application/vnd.oci.image.manifest.v1+json"
    public static let config = "application/vnd.oci.image.config.v1+json"
    public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let layerTar = "application/vnd.oci.image.layer.v1.tar"
    public static let layerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    // Docker's names for the same things, which skopeo and podman may write.
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
}

/// The annotation that gives a manifest in `index.json` its name (`busybox:latest`).
public let refNameAnnotation = "org.opencontainers.image.ref.name"

public struct Descriptor: Codable, Equatable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int
    public var annotations: [String: String]?
    public var platform: Platform?

    public init(
        mediaType: String, digest: Digest, size: Int, annotations: [String: String]? = nil, platform: Platform? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }
}

public struct Platform: Codable, Equatable, Sendable {
    public var architecture: String
    public var os: String
}

public struct ImageLayoutFile: Codable, Equatable {
    public var imageLayoutVersion = "1.0.0"
    public init() {}
}

public struct ImageIndex: Codable, Equatable {
    public var schemaVersion = 2
    public var mediaType: String? = MediaType.index
    public var manifests: [Descriptor] = []
    public init(manifests: [Descriptor] = []) { self.manifests = manifests }
}

public struct Manifest: Codable, Equatable {
    public var schemaVersion = 2
    public var mediaType: String? = MediaType.manifest
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(config: Descriptor, layers: [Descriptor]) {
        self.config = config
        self.layers = layers
    }
}

/// The image configuration: what to run and the layers' uncompressed digests (`diff_ids`).
public struct ImageConfig: Codable, Equatable {
    public struct Execution: Codable, Equatable {
        public var User: String?
        public var ExposedPorts: [String: EmptyObject]?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var Volumes: [String: EmptyObject]?
        public var WorkingDir: String?
        public var Labels: [String: String]?
        public var StopSignal: String?
        public init() {}
    }

    public struct RootFS: Codable, Equatable {
        public var type = "layers"
        public var diff_ids: [Digest]
        public init(diff_ids: [Digest]) { self.diff_ids = diff_ids }
    }

    public struct History: Codable, Equatable {
        public var created: String?
        public var created_by: String?
        public var author: String?
        public var comment: String?
        public var empty_layer: Bool?
        public init(created: String?, created_by: String?, comment: String? = nil, empty_layer: Bool? = nil) {
            self.created = created
            self.created_by = created_by
            self.comment = comment
            self.empty_layer = empty_layer
        }
    }

    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var config: Execution?
    public var rootfs: RootFS
    public var history: [History]?

    public init(architecture: String, os: String, config: Execution?, rootfs: RootFS) {
        self.architecture = architecture
        self.os = os
        self.config = config
        self.rootfs = rootfs
    }
}

/// `{}`: the value type of the spec's set-like maps (ExposedPorts, Volumes).
public struct EmptyObject: Codable, Equatable, Sendable {
    public init() {}
}

/// The machine's architecture in Go's names, as image-spec uses them.
public func hostArchitecture() -> String {
    var name = utsname()
    uname(&name)
    let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    switch machine {
    case "x86_64": return "amd64"
    case "aarch64": return "arm64"
    case "i686", "i386": return "386"
    case "armv7l": return "arm"
    default: return machine
    }
}

enum JSON {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(value))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let DecodingError.dataCorrupted(context) {
            throw ImageError.badDocument(
                what: what,
                path(context.codingPath) + (context.underlyingError.map { "\($0)" } ?? context.debugDescription))
        } catch let DecodingError.keyNotFound(key, context) {
            throw ImageError.badDocument(what: what, path(context.codingPath + [key]) + "is required but missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw ImageError.badDocument(what: what, path(context.codingPath) + context.debugDescription)
        } catch let DecodingError.valueNotFound(_, context) {
            throw ImageError.badDocument(what: what, path(context.codingPath) + "is null")
        } catch let error as ImageError {
            throw error
        } catch {
            throw ImageError.badDocument(what: what, "\(error)")
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty
            ? "" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." } + ": "
    }
}

/// The image documents' reader, for what decodes them outside the store (the fuzz targets).
public enum ImageDocuments {
    public static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws -> T {
        try JSON.decode(type, bytes, what: what)
    }
}
