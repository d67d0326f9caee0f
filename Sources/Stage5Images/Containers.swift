import CLinux
import ContlabCore
import Foundation
import Images

/// A stage-5 container: an image's layers below, a directory of its own on top.
public struct ImageContainer: Codable, Equatable {
    public var id: String
    public var image: String
    public var manifest: Digest
    /// The image's diff_ids, bottom layer first; each is unpacked once under the store's layers/.
    public var layers: [Digest]
    public var created: String
    public var rootless: Bool
}

/// A change in a container relative to its image, as `docker diff` prints it.
public struct Change: Equatable, Comparable, CustomStringConvertible {
    public enum Kind: String { case added = "A", changed = "C", deleted = "D" }
    public var kind: Kind
    public var path: String
    public var description: String { "\(kind.rawValue) \(path)" }
    public static func < (a: Change, b: Change) -> Bool { a.path < b.path }
}

/// Containers under DATA/containers/ID: container.json, upper/, work/, merged/ (the overlay
/// mount point, mounted only while the container runs) and bundle/config.json.
public struct ContainerStore {
    public let directory: String
    public let images: ImageStore

    public init(directory: String, images: ImageStore) {
        self.directory = directory
        self.images = images
    }

    public static func standard() -> ContainerStore {
        ContainerStore(directory: ProjectFiles.dataDirectory().path + "/containers", images: ImageStore.standard())
    }

    public func path(_ id: String) -> String { directory + "/" + id }
    public func upper(_ id: String) -> String { path(id) + "/upper" }
    public func merged(_ id: String) -> String { path(id) + "/merged" }
    public func bundle(_ id: String) -> String { path(id) + "/bundle" }

    public static func validate(id: String) throws {
        let ok =
            !id.isEmpty && id.count <= 64 && id.first!.isASCII && (id.first!.isLetter || id.first!.isNumber)
            && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
        guard ok else {
            throw ImageError.container(
                "container id \"\(id)\": use letters, digits, _ . and -, starting with a letter or digit, at most 64")
        }
    }

    /// Make the container's directories and unpack any layer not unpacked yet.
    public func create(id: String, image: StoredImage, rootless: Bool = geteuid() != 0) throws -> ImageContainer {
        try Self.validate(id: id)
        try Sys.mkdirs(directory)
        guard Glibc.mkdir(path(id), 0o700) == 0 else {
            if errno == EEXIST {
                throw ImageError.container(
                    "container \(id) exists already: pick another --name, or contlab container rm \(id)")
            }
            throw SystemCallError("mkdir(\"\(path(id))\")", errno: errno)
        }
        do {
            for (layer, diffID) in zip(image.manifest.layers, image.config.rootfs.diff_ids) {
                _ = try images.unpackedLayer(
                    layer, diffID: diffID, image: image.reference.description, rootless: rootless)
            }
            for sub in ["upper", "work", "merged", "bundle"] { try Sys.mkdir(path(id) + "/" + sub, mode: 0o755) }
            let container = ImageContainer(
                id: id, image: image.reference.description, manifest: image.descriptor.digest,
                layers: image.config.rootfs.diff_ids, created: Timestamp.rfc3339(), rootless: rootless)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try Sys.replaceFile(path(id) + "/container.json", [UInt8](try encoder.encode(container)))
            return container
        } catch {
            try? removeTree(path(id))
            throw error
        }
    }

    public func load(_ id: String) throws -> ImageContainer {
        try Self.validate(id: id)
        if let container = decoded(id) { return container }
        if Sys.isDirectory(path(id)) {
            throw ImageError.container(
                "container \(id) is broken: its container.json is missing or unreadable (left by a crash, or a kill "
                    + "while it was made); contlab container rm \(id) removes it"
            )
        }
        let known = list().map(\.id)
        throw ImageError.container(
            "no container \(id)"
                + (known.isEmpty
                    ? "; start one with contlab run --stage 5 --image busybox --name \(id) -- sh"
                    : " (have: \(known.joined(separator: ", ")))"))
    }

    /// The record of container `id`, or nil when it has none that reads.
    func decoded(_ id: String) -> ImageContainer? {
        guard let bytes = try? Data(contentsOf: URL(fileURLWithPath: path(id) + "/container.json")) else { return nil }
        return try? JSONDecoder().decode(ImageContainer.self, from: bytes)
    }

    func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().filter { !$0.hasPrefix(".") }
    }

    public func list() -> [ImageContainer] { names().compactMap(decoded) }

    /// Container directories without a record that reads: listed as broken, removable.
    public func broken() -> [String] { names().filter { decoded($0) == nil } }

    /// Lower directories for overlayfs: the top layer first, as the kernel wants them.
    public func lowerDirectories(_ container: ImageContainer) -> [String] {
        container.layers.reversed().map { images.layersDirectory + "/" + $0.hex }
    }

    public func overlay(_ container: ImageContainer) -> OverlayMount {
        OverlayMount(
            lower: lowerDirectories(container), upper: upper(container.id), work: path(container.id) + "/work",
            target: merged(container.id), userXattr: container.rootless)
    }

    /// A file as the container's layers show it (the top layer that has it, unless a whiteout
    /// hides it): read before the overlay exists, for the image's users and groups.
    public func readFromLayers(_ container: ImageContainer, _ path: String) -> String? {
        for lower in lowerDirectories(container) {
            var info = stat()
            guard lstat(lower + "/" + path, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0 { return nil }
            // Resolved inside the layer: the image's symlinks must not reach the host's files.
            return Sys.readInRoot(lower, path)
        }
        return nil
    }

    public func existsInLayers(_ container: ImageContainer, _ path: String) -> Bool {
        lowerDirectories(container).contains { lower in
            var info = stat()
            return lstat(lower + "/" + path, &info) == 0 && !((info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0)
        }
    }

    /// Remove a container that is not running: its mount (if a crash left one), its directories.
    public func remove(_ id: String) throws {
        if !broken().contains(id) { _ = try load(id) }
        OverlayMount.unmount(merged(id))
        guard !OverlayMount.isMounted(merged(id)) else {
            throw ImageError.container(
                "container \(id) is still mounted at \(merged(id)): is it running? stop it first")
        }
        try removeTree(path(id))
    }

    /// Layers some container still stacks: `image rm` keeps them.
    public func layersInUse() -> Set<Digest> { Set(list().flatMap(\.layers)) }

    /// One entry of a container's upper directory, as overlayfs left it.
    public struct UpperEntry: Equatable {
        public enum Kind: Equatable {
            /// A 0:0 character device: the lower layers' file of this name is deleted.
            case whiteout
            /// `opaque`: the lower layers' directory of this name no longer shows through.
            case directory(opaque: Bool)
            case file(size: Int)
            case symlink(String)
            case other
        }

        /// Relative to the upper directory (`bin/vi`).
        public var path: String
        public var kind: Kind
        public var mode: mode_t
    }

    /// The upper directory, depth first in name order; what diff, --upper and grading read.
    public func upperEntries(_ container: ImageContainer) throws -> [UpperEntry] {
        let top = upper(container.id)
        var entries: [UpperEntry] = []
        func walk(_ relative: String) throws {
            let directory = relative.isEmpty ? top : top + "/" + relative
            for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                let path = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(top + "/" + path, &info) == 0 else { continue }
                let kind: UpperEntry.Kind
                switch info.st_mode & S_IFMT {
                case S_IFCHR where info.st_rdev == 0: kind = .whiteout
                case S_IFDIR:
                    var value = [UInt8](repeating: 0, count: 2)
                    kind = .directory(
                        opaque: lgetxattr(
                            top + "/" + path, OverlayXattr.opaque(rootless: container.rootless), &value, 2) == 1)
                case S_IFREG: kind = .file(size: Int(info.st_size))
                case S_IFLNK: kind = .symlink(Sys.readLink(top + "/" + path) ?? "?")
                default: kind = .other
                }
                entries.append(UpperEntry(path: path, kind: kind, mode: info.st_mode & 0o7777))
                if case .directory = kind { try walk(path) }
            }
        }
        try walk("")
        return entries
    }

    /// What the container added, changed and deleted, read from its upper directory.
    public func diff(_ container: ImageContainer) throws -> [Change] {
        let lowers = lowerDirectories(container)
        func inLower(_ relative: String) -> Bool {
            for lower in lowers {
                var info = stat()
                if lstat(lower + "/" + relative, &info) == 0 {
                    return !((info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0)
                }
            }
            return false
        }
        return try upperEntries(container).map { entry in
            Change(
                kind: entry.kind == .whiteout ? .deleted : (inLower(entry.path) ? .changed : .added),
                path: "/" + entry.path)
        }.sorted()
    }

    /// The upper directory as overlayfs left it, one line per entry: kind, mode, size, path, and
    /// what a whiteout or an opaque directory means.
    public func upperListing(_ container: ImageContainer) throws -> [String] {
        try upperEntries(container).map { entry in
            let mode = String(entry.mode, radix: 8)
            switch entry.kind {
            case .whiteout: return "c 0,0   /\(entry.path)   whiteout: hides /\(entry.path) of the layers below"
            case .directory(let opaque):
                return "d \(mode)   /\(entry.path)/" + (opaque ? "   opaque: the layers' /\(entry.path) is hidden" : "")
            case .symlink(let target): return "l \(mode)   /\(entry.path) -> \(target)"
            case .file(let size): return "f \(mode)   /\(entry.path)   \(size) bytes"
            case .other: return "? \(mode)   /\(entry.path)"
            }
        }
    }
}
