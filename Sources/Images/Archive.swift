import ContlabCore
import Foundation

/// Moving images without a registry: an OCI layout as a directory or as one tar (an
/// "oci-archive", which podman load and skopeo read).
public struct ImageArchive {
    public let store: ImageStore
    public init(store: ImageStore) { self.store = store }

    /// The files of a one-image layout: path → bytes.
    func layoutFiles(_ image: StoredImage) throws -> [(String, [UInt8])] {
        var files: [(String, [UInt8])] = [("oci-layout", try JSON.encode(ImageLayoutFile()))]
        var descriptor = image.descriptor
        descriptor.annotations = [refNameAnnotation: image.reference.description]
        files.append(("index.json", try JSON.encode(ImageIndex(manifests: [descriptor]))))
        let what = "image \(image.reference)"
        for blob in [image.descriptor, image.manifest.config] + image.manifest.layers {
            files.append(("blobs/sha256/" + blob.digest.hex, try store.blob(blob, what: what)))
        }
        return files
    }

    /// Write `image` to PATH: a tar when PATH ends in .tar, else a layout directory.
    public func export(_ image: StoredImage, to path: String) throws {
        let files = try layoutFiles(image)
        if path.hasSuffix(".tar") {
            var writer = TarWriter()
            for directory in ["blobs/", "blobs/sha256/"] {
                writer.append(TarEntry(path: directory, kind: .directory, mode: 0o755))
            }
            for (name, bytes) in files {
                writer.append(TarEntry(path: name, kind: .file, mode: 0o644, contents: bytes))
            }
            try Sys.replaceFile(path, writer.finish())
        } else {
            try Sys.mkdirs(path + "/blobs/sha256")
            for (name, bytes) in files { try Sys.replaceFile(path + "/" + name, bytes) }
        }
    }

    /// Read an OCI archive (.tar, maybe gzip'd) or layout directory into the store: every blob
    /// checked against its name, every manifest's blobs present, then its names added. Returns
    /// the names imported. `rename` names an image whose index entry has no name.
    @discardableResult
    public func importImages(from path: String, rename: ImageReference? = nil) throws -> [ImageReference] {
        var blobs: [String: [UInt8]] = [:]
        var indexBytes: [UInt8]?
        if Sys.isDirectory(path) {
            indexBytes = try? readBytes(path + "/index.json")
            for name in (try? directoryNames(path + "/blobs/sha256")) ?? [] {
                blobs[name] = try readBytes(path + "/blobs/sha256/" + name)
            }
        } else {
            var bytes = try readBytes(path)
            if Gzip.isGzip(bytes) { bytes = try Gzip.decompress(bytes) }
            for entry in try TarReader.entries(bytes) where entry.kind == .file {
                let clean = entry.path.hasPrefix("./") ? String(entry.path.dropFirst(2)) : entry.path
                if clean == "index.json" { indexBytes = entry.contents }
                if clean.hasPrefix("blobs/sha256/") {
                    blobs[String(clean.dropFirst("blobs/sha256/".count))] = entry.contents
                }
            }
        }
        guard let indexBytes else {
            throw ImageError.badDocument(
                what: path,
                "it has no index.json: not an OCI image layout or archive (docker save writes another format; use "
                    + "skopeo copy docker-archive:… oci-archive:…)"
            )
        }
        let index = try JSON.decode(ImageIndex.self, indexBytes, what: "\(path): index.json")
        for (name, bytes) in blobs {
            let found = Digest.of(bytes)
            guard found.hex == name else {
                throw ImageError.tampered(
                    what: "\(path): blobs/sha256/\(name)", expected: Digest(hex: name), found: found)
            }
        }
        func need(_ descriptor: Descriptor, _ what: String) throws -> [UInt8] {
            guard let bytes = blobs[descriptor.digest.hex] else {
                throw ImageError.missingBlob(descriptor.digest, what: "\(path): \(what)")
            }
            guard bytes.count == descriptor.size else {
                throw ImageError.sizeMismatch(what: "\(path): \(what)", expected: descriptor.size, found: bytes.count)
            }
            return bytes
        }
        var imported: [ImageReference] = []
        try store.locked {
            for (number, descriptor) in index.manifests.enumerated() {
                let label = descriptor.annotations?[refNameAnnotation] ?? "index.json manifests[\(number)]"
                guard descriptor.mediaType == MediaType.manifest || descriptor.mediaType == MediaType.dockerManifest
                else {
                    throw ImageError.unsupported(
                        "\(path): \(label) is a \(descriptor.mediaType); this lab imports single-platform image "
                            + "manifests"
                    )
                }
                let manifestBytes = try need(descriptor, "\(label) manifest")
                let manifest = try JSON.decode(Manifest.self, manifestBytes, what: "\(path): \(label) manifest")
                var needed = [(manifest.config, "\(label) config", try need(manifest.config, "\(label) config"))]
                for (i, layer) in manifest.layers.enumerated() {
                    needed.append((layer, "\(label) layer \(i)", try need(layer, "\(label) layer \(i)")))
                }
                let reference: ImageReference
                if let rename {
                    reference = rename
                } else if let name = descriptor.annotations?[refNameAnnotation] {
                    // A bare tag (as umoci writes) names an image after the archive's file.
                    reference =
                        name.contains(":") || name.contains("/")
                        ? try ImageReference(parsing: name)
                        : ImageReference(name: try ImageReference(parsing: Self.baseName(path)).name, tag: name)
                } else {
                    throw ImageError.badDocument(
                        what: "\(path): \(label)", "it has no name (\(refNameAnnotation)); give one with --tag NAME:TAG"
                    )
                }
                try store.putBlob(manifestBytes, mediaType: descriptor.mediaType)
                for (blob, _, bytes) in needed { try store.putBlob(bytes, mediaType: blob.mediaType) }
                try store.tag(descriptor, as: reference)
                imported.append(reference)
            }
        }
        return imported
    }

    static func baseName(_ path: String) -> String {
        var name = URL(fileURLWithPath: path).lastPathComponent.lowercased()
        for suffix in [".tar.gz", ".tgz", ".tar"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        let cleaned = String(name.map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? $0 : "-" })
            .trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return cleaned.isEmpty ? "imported" : cleaned
    }
}
