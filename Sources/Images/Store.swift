import ContlabCore
import Foundation

/// `NAME[:TAG]`, as Docker spells it; the tag defaults to `latest`.
public struct ImageReference: Hashable, CustomStringConvertible, Sendable {
    public var name: String
    public var tag: String

    public init(name: String, tag: String = "latest") {
        self.name = name
        self.tag = tag
    }

    public init(parsing text: String) throws {
        var name = text
        var tag = "latest"
        if let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") {
            name = String(text[..<colon])
            tag = String(text[text.index(after: colon)...])
        }
        let nameOK =
            !name.isEmpty && name.count <= 255 && name.first!.isLetterOrDigit && name.last!.isLetterOrDigit
            && name.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-/".contains($0) }
        guard nameOK else {
            throw ImageError.badReference(
                text, "a name is lower-case letters, digits and . _ - /, starting and ending with a letter or digit")
        }
        guard !tag.isEmpty, tag.count <= 128, tag.first != ".", tag.first != "-",
            tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        else {
            throw ImageError.badReference(
                text, "a tag is up to 128 letters, digits, . _ and -, not starting with . or -")
        }
        self.name = name
        self.tag = tag
    }

    public var description: String { name + ":" + tag }
}

private extension Character {
    var isLetterOrDigit: Bool { ("a"..."z").contains(self) || ("0"..."9").contains(self) }
}

/// An image as the store holds it: its name, manifest and config, with their descriptors.
public struct StoredImage {
    public var reference: ImageReference
    public var descriptor: Descriptor
    public var manifest: Manifest
    public var config: ImageConfig
    public var size: Int { manifest.layers.reduce(manifest.config.size) { $0 + $1.size } + descriptor.size }

    public init(reference: ImageReference, descriptor: Descriptor, manifest: Manifest, config: ImageConfig) {
        self.reference = reference
        self.descriptor = descriptor
        self.manifest = manifest
        self.config = config
    }
}

/// The local image store: one OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`)
/// that skopeo and umoci can read as it is, plus each layer unpacked once, by its diff_id, for
/// overlayfs to stack (`layers/<hex>`).
public struct ImageStore {
    public let directory: String
    public let layersDirectory: String
    /// How much of a layer is read, inflated and written at a time (small in tests, to cross
    /// chunk boundaries everywhere).
    public var chunkSize = 256 << 10
    /// The most bytes a gzip'd layer may inflate to (`CONTLAB_LAYER_LIMIT`).
    public var layerLimit = Gzip.limit()

    public init(directory: String, layersDirectory: String) {
        self.directory = directory
        self.layersDirectory = layersDirectory
    }

    public static func standard() -> ImageStore {
        let data = ProjectFiles.dataDirectory().path
        return ImageStore(directory: data + "/images", layersDirectory: data + "/layers")
    }

    var blobsDirectory: String { directory + "/blobs/sha256" }
    public func blobPath(_ digest: Digest) -> String { blobsDirectory + "/" + digest.hex }

    /// Make the layout if it is not there yet.
    public func prepare() throws {
        for path in [directory, blobsDirectory, layersDirectory] { try Sys.mkdirs(path) }
        // An image's layers may hold device nodes and setuid files: unpacked, they must be out of
        // every other user's reach (containerd keeps its snapshots under 0700 for this). Only
        // the store's owner, and the overlay it mounts, go in.
        if chmod(layersDirectory, 0o700) != 0 {
            throw SystemCallError("chmod(\"\(layersDirectory)\", 0700)", errno: errno)
        }
        if !Sys.exists(directory + "/oci-layout") {
            try Sys.replaceFile(directory + "/oci-layout", try JSON.encode(ImageLayoutFile()))
        }
        if !Sys.exists(directory + "/index.json") {
            try Sys.replaceFile(directory + "/index.json", try JSON.encode(ImageIndex()))
        }
    }

    /// Hold the store's lock for a change to `index.json` or the blobs, so two builds at once
    /// do not lose each other's names.
    public func locked<T>(_ body: () throws -> T) throws -> T {
        try prepare()
        return try Sys.withFileLock(directory + "/.lock", body)
    }

    public func index() throws -> ImageIndex {
        guard let bytes = try? readBytes(directory + "/index.json") else { return ImageIndex() }
        return try JSON.decode(ImageIndex.self, bytes, what: "\(directory)/index.json")
    }

    func writeIndex(_ index: ImageIndex) throws {
        try Sys.replaceFile(directory + "/index.json", try JSON.encode(index))
    }

    /// Store `bytes` under their digest; returns the descriptor.
    @discardableResult
    public func putBlob(_ bytes: [UInt8], mediaType: String) throws -> Descriptor {
        let digest = Digest.of(bytes)
        if !Sys.isDirectory(blobsDirectory) { try prepare() }
        if !Sys.exists(blobPath(digest)) { try Sys.replaceFile(blobPath(digest), bytes) }
        return Descriptor(mediaType: mediaType, digest: digest, size: bytes.count)
    }

    /// A blob's bytes, checked against the digest and size the descriptor names.
    public func blob(_ descriptor: Descriptor, what: String) throws -> [UInt8] {
        guard let bytes = try? readBytes(blobPath(descriptor.digest)) else {
            throw ImageError.missingBlob(descriptor.digest, what: what)
        }
        let found = Digest.of(bytes)
        guard found == descriptor.digest else {
            throw ImageError.tampered(what: what, expected: descriptor.digest, found: found)
        }
        guard bytes.count == descriptor.size else {
            throw ImageError.sizeMismatch(what: what, expected: descriptor.size, found: bytes.count)
        }
        return bytes
    }

    public func images() throws -> [StoredImage] {
        try index().manifests.compactMap { descriptor in
            guard let name = descriptor.annotations?[refNameAnnotation],
                let reference = try? ImageReference(parsing: name)
            else { return nil }
            return try load(reference, descriptor)
        }
    }

    public func image(_ reference: ImageReference) throws -> StoredImage {
        let index = try index()
        guard
            let descriptor = index.manifests.last(where: { $0.annotations?[refNameAnnotation] == reference.description }
            )
        else {
            throw ImageError.notFound(
                reference.description, known: index.manifests.compactMap { $0.annotations?[refNameAnnotation] })
        }
        return try load(reference, descriptor)
    }

    func load(_ reference: ImageReference, _ descriptor: Descriptor) throws -> StoredImage {
        let manifest = try JSON.decode(
            Manifest.self, try blob(descriptor, what: "image \(reference) manifest"),
            what: "image \(reference) manifest \(descriptor.digest)")
        let config = try JSON.decode(
            ImageConfig.self, try blob(manifest.config, what: "image \(reference) config"),
            what: "image \(reference) config \(manifest.config.digest)")
        guard config.rootfs.diff_ids.count == manifest.layers.count else {
            throw ImageError.badDocument(
                what: "image \(reference) config",
                "rootfs.diff_ids has \(config.rootfs.diff_ids.count) entries for \(manifest.layers.count) layers")
        }
        return StoredImage(reference: reference, descriptor: descriptor, manifest: manifest, config: config)
    }

    /// Write the manifest and config of a new image and give it `reference` (replacing any
    /// image of that name); `adding`, a new gzip'd layer stored in the same locked step, goes
    /// on top of `layers`.
    @discardableResult
    public func save(
        _ reference: ImageReference, config: ImageConfig, layers: [Descriptor], adding newLayer: [UInt8]? = nil
    ) throws -> StoredImage {
        try locked {
            let layers = try layers + (newLayer.map { [try putBlob($0, mediaType: MediaType.layerGzip)] } ?? [])
            let configDescriptor = try putBlob(try JSON.encode(config), mediaType: MediaType.config)
            let manifest = Manifest(config: configDescriptor, layers: layers)
            var descriptor = try putBlob(try JSON.encode(manifest), mediaType: MediaType.manifest)
            descriptor.annotations = [refNameAnnotation: reference.description]
            descriptor.platform = Platform(architecture: config.architecture, os: config.os)
            try tag(descriptor, as: reference)
            return StoredImage(reference: reference, descriptor: descriptor, manifest: manifest, config: config)
        }
    }

    /// Point `reference` at a manifest already in the store (callers hold the lock).
    func tag(_ descriptor: Descriptor, as reference: ImageReference) throws {
        var index = try index()
        index.manifests.removeAll { $0.annotations?[refNameAnnotation] == reference.description }
        var named = descriptor
        named.annotations = (descriptor.annotations ?? [:]).merging([refNameAnnotation: reference.description]) { $1 }
        index.manifests.append(named)
        try writeIndex(index)
    }

    /// Drop a name, then every blob and unpacked layer that no name (and no container) needs.
    public func remove(_ reference: ImageReference, keepingLayers inUse: Set<Digest>) throws {
        try locked {
            var index = try index()
            let before = index.manifests.count
            index.manifests.removeAll { $0.annotations?[refNameAnnotation] == reference.description }
            guard index.manifests.count < before else {
                throw ImageError.notFound(
                    reference.description, known: index.manifests.compactMap { $0.annotations?[refNameAnnotation] })
            }
            try writeIndex(index)
            try collectGarbage(index, keepingLayers: inUse)
        }
    }

    func collectGarbage(_ index: ImageIndex, keepingLayers inUse: Set<Digest>) throws {
        var keep = Set<String>()
        var diffIDs = inUse
        for descriptor in index.manifests {
            keep.insert(descriptor.digest.hex)
            guard
                let manifest = try? JSON.decode(
                    Manifest.self, try readBytes(blobPath(descriptor.digest)), what: "manifest")
            else { continue }
            keep.insert(manifest.config.digest.hex)
            manifest.layers.forEach { keep.insert($0.digest.hex) }
            if let config = try? JSON.decode(
                ImageConfig.self, try readBytes(blobPath(manifest.config.digest)), what: "config")
            {
                config.rootfs.diff_ids.forEach { diffIDs.insert($0) }
            }
        }
        for name in (try? directoryNames(blobsDirectory)) ?? [] where !keep.contains(name) {
            unlink(blobsDirectory + "/" + name)
        }
        for name in (try? directoryNames(layersDirectory)) ?? [] where !diffIDs.contains(Digest(hex: name)) {
            try removeTree(layersDirectory + "/" + name)
        }
    }

    /// Half-unpacked layers whose unpacker is gone (Ctrl-C, a kill, a crash): their names end
    /// in the unpacker's pid.
    func removeStalePartials() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layersDirectory)) ?? []
        where name.hasPrefix(".partial-") {
            guard let pid = name.split(separator: "-").last.flatMap({ pid_t($0) }), pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            try? removeTree(layersDirectory + "/" + name)
        }
    }

    /// The layer unpacked for overlayfs, made on first use (atomically: a half-made directory is
    /// never seen under its final name).
    public func unpackedLayer(_ layer: Descriptor, diffID: Digest, image: String, rootless: Bool = geteuid() != 0)
        throws -> String
    {
        let path = layersDirectory + "/" + diffID.hex
        if Sys.isDirectory(path) { return path }
        try prepare()
        removeStalePartials()
        let partial = layersDirectory + "/.partial-\(diffID.short)-\(getpid())"
        try removeTree(partial)
        try Sys.mkdir(partial, mode: 0o755)
        do {
            var applier = LayerApplier(root: partial, mode: .overlay, layer: "\(image) \(layer.digest.short)")
            applier.rootless = rootless
            try applyLayer(layer, diffID: diffID, image: image, with: applier)
            guard rename(partial, path) == 0 || Sys.isDirectory(path) else {
                throw SystemCallError("rename(\"\(partial)\")", errno: errno)
            }
            try removeTree(partial)
        } catch {
            try? removeTree(partial)
            throw error
        }
        return path
    }
}
