import CLinux
import ContlabCore
import Foundation

/// Layer member paths, checked: relative, no `..`, never absolute. A layer is applied under a
/// root directory, and a path that could leave it is an attack, not a file.
public enum LayerPath {
    /// Longest name of one directory entry (NAME_MAX). A longer path is fine: the unpacker opens
    /// it one directory at a time, so PATH_MAX does not apply.
    public static let nameMax = 255
    /// Longest symlink target the kernel stores (PATH_MAX less the NUL).
    public static let linkMax = 4095

    /// The path's components, or nil for the root itself (`./`).
    public static func components(_ path: String, layer: String) throws -> [String]? {
        if path.hasPrefix("/") { throw ImageError.unsafeEntry(layer: layer, entry: path, "is an absolute path") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        if parts.contains("..") { throw ImageError.unsafeEntry(layer: layer, entry: path, "climbs out with \"..\"") }
        if let long = parts.first(where: { $0.utf8.count > nameMax }) {
            throw ImageError.unsafeEntry(
                layer: layer, entry: path,
                "has a name of \(long.utf8.count) bytes; Linux takes at most \(nameMax) in one component (NAME_MAX)")
        }
        return parts.isEmpty ? nil : parts
    }
}

/// Names of directory entries, sorted so archives come out the same every time.
func directoryNames(_ path: String) throws -> [String] {
    guard let dir = opendir(path) else { throw SystemCallError("opendir(\"\(path)\")", errno: errno) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

func lstatOf(_ path: String) -> stat? {
    var info = stat()
    return lstat(path, &info) == 0 ? info : nil
}

func fileType(_ mode: mode_t) -> mode_t { mode & S_IFMT }

/// The overlay xattrs: `trusted.` as root; `user.` in a user namespace (the `userxattr` option).
public enum OverlayXattr {
    public static func opaque(rootless: Bool) -> String { (rootless ? "user" : "trusted") + ".overlay.opaque" }
}

/// Turns a directory tree into layer entries: a whole tree (a base layer), only what differs
/// from a base tree (`--from`), or an overlay upper directory, whose whiteouts (0:0 character
/// devices) and opaque directories become image-spec's `.wh.` entries.
public struct TreeReader {
    public enum Source: Equatable {
        case tree
        case overlayUpper(rootless: Bool)
    }

    public var source: Source = .tree
    /// When set, files identical to the same path under `base` are left out.
    public var base: String?

    public init(source: Source = .tree, base: String? = nil) {
        self.source = source
        self.base = base
    }

    public func entries(of root: String) throws -> [TarEntry] {
        var links: [String: String] = [:]  // "dev:ino" of files with several names → first path
        return try walk(root: root, relative: "", links: &links)
    }

    func walk(root: String, relative: String, links: inout [String: String]) throws -> [TarEntry] {
        let directory = relative.isEmpty ? root : root + "/" + relative
        var result: [TarEntry] = []
        for name in try directoryNames(directory) {
            let path = relative.isEmpty ? name : relative + "/" + name
            let full = root + "/" + path
            guard let info = lstatOf(full) else { continue }
            let type = fileType(info.st_mode)
            var entry = TarEntry(
                path: path, kind: .file, mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid,
                mtime: info.st_mtim.tv_sec)
            if case .overlayUpper = source, type == S_IFCHR, info.st_rdev == 0 {
                result.append(
                    TarEntry(
                        path: (relative.isEmpty ? "" : relative + "/") + ".wh." + name, kind: .file, mode: 0o600,
                        mtime: info.st_mtim.tv_sec))
                continue
            }
            switch type {
            case S_IFDIR:
                entry.kind = .directory
                var children = try walk(root: root, relative: path, links: &links)
                if case let .overlayUpper(rootless) = source, isOpaque(full, rootless: rootless) {
                    children.insert(
                        TarEntry(path: path + "/.wh..wh..opq", kind: .file, mode: 0o600, mtime: entry.mtime), at: 0)
                }
                if children.isEmpty && sameAsBase(path, info, full: full) { continue }
                result.append(entry)
                result += children
                continue
            case S_IFREG:
                let key = "\(info.st_dev):\(info.st_ino)"
                if info.st_nlink > 1, let first = links[key] {
                    // A second name for a file already in this layer.
                    entry.kind = .hardlink
                    entry.linkName = first
                    result.append(entry)
                    continue
                }
                if sameAsBase(path, info, full: full) { continue }
                if info.st_nlink > 1 { links[key] = path }
                entry.contents = try readBytes(full)
            case S_IFLNK:
                entry.kind = .symlink
                entry.linkName = Sys.readLink(full) ?? ""
            case S_IFCHR, S_IFBLK:
                entry.kind = type == S_IFCHR ? .characterDevice : .blockDevice
                entry.devMajor = DeviceNumber.major(UInt64(info.st_rdev))
                entry.devMinor = DeviceNumber.minor(UInt64(info.st_rdev))
            case S_IFIFO:
                entry.kind = .fifo
            default:
                continue  // sockets are not archived
            }
            if sameAsBase(path, info, full: full) { continue }
            result.append(entry)
        }
        return result
    }

    func isOpaque(_ path: String, rootless: Bool) -> Bool {
        var value = [UInt8](repeating: 0, count: 4)
        let count = lgetxattr(path, OverlayXattr.opaque(rootless: rootless), &value, value.count)
        return count == 1 && value[0] == UInt8(ascii: "y")
    }

    /// The same kind, permissions, owner and bytes (or link target) as under `base`.
    func sameAsBase(_ path: String, _ info: stat, full: String) -> Bool {
        guard let base, let other = lstatOf(base + "/" + path) else { return false }
        guard other.st_mode == info.st_mode, other.st_uid == info.st_uid, other.st_gid == info.st_gid else {
            return false
        }
        switch fileType(info.st_mode) {
        case S_IFREG:
            guard other.st_size == info.st_size else { return false }
            return (try? readBytes(full)) == (try? readBytes(base + "/" + path))
        case S_IFLNK: return Sys.readLink(base + "/" + path) == Sys.readLink(full)
        case S_IFCHR, S_IFBLK: return other.st_rdev == info.st_rdev
        default: return true
        }
    }
}

func readBytes(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    guard fd >= 0 else { throw SystemCallError("open(\"\(path)\", O_RDONLY)", errno: errno) }
    defer { close(fd) }
    return Sys.readAll(fd)
}
