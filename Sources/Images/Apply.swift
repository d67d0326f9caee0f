import CLinux
import ContlabCore
import Foundation

/// Writes a layer's entries under a root directory, without ever following a symlink out of it:
/// every parent is opened component by component with O_NOFOLLOW, and files are created with
/// O_EXCL, so a symlink planted by an earlier entry cannot redirect a later write.
public struct LayerApplier {
    public enum Mode: Equatable {
        /// One directory holding the result of all layers: whiteouts delete (`image unpack`).
        case flatten
        /// One directory per layer, an overlayfs lower directory: whiteouts become overlay's own
        /// (a 0:0 character device; an opaque xattr on a directory).
        case overlay
    }

    public let root: String
    public let mode: Mode
    /// How errors name the layer (its digest).
    public let layer: String
    /// Without root, devices cannot be made and files keep the caller's owner.
    public var rootless = geteuid() != 0

    public init(root: String, mode: Mode, layer: String) {
        self.root = root
        self.mode = mode
        self.layer = layer
    }

    public func apply(_ entries: [TarEntry]) throws {
        let unpacking = try Unpacking(self)
        for entry in entries {
            try unpacking.add(entry) { fd in
                try entry.contents.withUnsafeBytes { try writeAll(fd, $0, entry: entry.path) }
            }
        }
        unpacking.finish()
    }

    /// Apply a tar stream as it is read: each file's bytes go from the stream to the file a
    /// chunk at a time, so memory stays a few buffers however big the layer or its files.
    public func apply<Source>(_ tar: TarStream<Source>) throws {
        let unpacking = try Unpacking(self)
        while let entry = try tar.next() {
            try unpacking.add(entry) { fd in
                try tar.readContents { try writeAll(fd, $0, entry: entry.path) }
            }
        }
        unpacking.finish()
    }

    /// One application of a layer: the root held open (closed when done, or on an error), and
    /// what later entries and the final directory times need to know.
    final class Unpacking {
        let applier: LayerApplier
        let rootFd: Int32
        /// Paths this layer made (flatten mode: an opaque whiteout keeps them).
        var created = Set<String>()
        var directoryTimes: [String: Int] = [:]

        init(_ applier: LayerApplier) throws {
            self.applier = applier
            rootFd = open(applier.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard rootFd >= 0 else { throw SystemCallError("open(\"\(applier.root)\")", errno: errno) }
        }

        deinit { close(rootFd) }

        /// Make `entry`; for a regular file, `contents` writes its bytes to the new file.
        func add(_ entry: TarEntry, contents: (Int32) throws -> Void) throws {
            do {
                try make(entry, contents: contents)
            } catch let error as SystemCallError {
                // The call's own text repeats the entry's name, which can be kilobytes long.
                let call = error.call.prefix { $0 != "(" }
                let why =
                    "\(call) failed: \(String(cString: strerror(error.errno))) (\(error.errnoName))"
                    + (error.hint.map { " — \($0)" } ?? "")
                throw ImageError.entryFailed(layer: applier.layer, entry: entry.path, why)
            }
        }

        func make(_ entry: TarEntry, contents: (Int32) throws -> Void) throws {
            guard let parts = try LayerPath.components(entry.path, layer: applier.layer) else { return }
            let name = parts[parts.count - 1]
            let parentParts = Array(parts.dropLast())
            let parent = try applier.openDirectory(rootFd, parentParts, entry: entry.path, create: true)
            defer { close(parent) }
            if name.hasPrefix(".wh.") {
                try applier.whiteout(
                    parent: parent, parentParts: parentParts, name: name, entry: entry, created: created)
                return
            }
            let path = parts.joined(separator: "/")
            if applier.mode == .flatten { created.insert(path) }
            try applier.make(entry, parent: parent, name: name, rootFd: rootFd, contents: contents)
            if entry.kind == .directory { directoryTimes[path] = entry.mtime }
        }

        /// Directory times last: making their contents changed them.
        func finish() {
            for (path, mtime) in directoryTimes {
                var times = [timespec(tv_sec: mtime, tv_nsec: 0), timespec(tv_sec: mtime, tv_nsec: 0)]
                utimensat(rootFd, path, &times, AT_SYMLINK_NOFOLLOW)
            }
        }
    }

    /// Open the directory `parts` under the root, making missing ones (0755) on the way.
    func openDirectory(_ rootFd: Int32, _ parts: [String], entry: String, create: Bool) throws -> Int32 {
        var fd = dup(rootFd)
        for (index, part) in parts.enumerated() {
            var next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && create {
                mkdirat(fd, part, 0o755)
                next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let failure = errno
            if next < 0 {
                close(fd)
                let prefix = parts[0...index].joined(separator: "/")
                if failure == ELOOP || failure == ENOTDIR {
                    var info = stat()
                    let isLink = lstat(root + "/" + prefix, &info) == 0 && fileType(info.st_mode) == S_IFLNK
                    throw ImageError.unsafeEntry(
                        layer: layer, entry: entry,
                        isLink
                            ? "would be written through the symlink \"\(prefix)\""
                            : "needs \"\(prefix)\" to be a directory, and it is not")
                }
                throw SystemCallError("openat(\"\(prefix)\")", errno: failure)
            }
            close(fd)
            fd = next
        }
        return fd
    }

    func whiteout(parent: Int32, parentParts: [String], name: String, entry: TarEntry, created: Set<String>) throws {
        let parentPath = parentParts.joined(separator: "/")
        if name == ".wh..wh..opq" {
            switch mode {
            case .flatten:
                // Opaque: the directory hides everything the lower layers put in it.
                let directory = parentPath.isEmpty ? root : root + "/" + parentPath
                for child in try directoryNames(directory) {
                    let childPath = parentPath.isEmpty ? child : parentPath + "/" + child
                    if !created.contains(childPath) { try removeTree(directory + "/" + child) }
                }
            case .overlay:
                let value: [UInt8] = [UInt8(ascii: "y")]
                if fsetxattr(parent, OverlayXattr.opaque(rootless: rootless), value, 1, 0) != 0 {
                    throw SystemCallError(
                        "fsetxattr(\"\(parentPath)\", \"\(OverlayXattr.opaque(rootless: rootless))\")", errno: errno,
                        hint: "overlayfs needs a file system with extended attributes for its lower directories")
                }
            }
            return
        }
        let target = String(name.dropFirst(4))
        guard !target.isEmpty, target != ".", target != "..", !target.contains("/") else {
            throw ImageError.unsafeEntry(layer: layer, entry: entry.path, "is a whiteout of nothing")
        }
        let targetPath = root + "/" + (parentPath.isEmpty ? target : parentPath + "/" + target)
        try removeTree(targetPath)
        if mode == .overlay {
            if mknodat(parent, target, S_IFCHR | 0o000, DeviceNumber.make(0, 0)) != 0 {
                throw SystemCallError(
                    "mknodat(\"\(target)\", S_IFCHR, makedev(0, 0))", errno: errno,
                    hint:
                        "an overlay whiteout is a 0:0 character device; making one needs root or Linux 5.8 in a user "
                        + "namespace"
                )
            }
        }
    }

    func make(_ entry: TarEntry, parent: Int32, name: String, rootFd: Int32, contents: (Int32) throws -> Void) throws {
        var existing = stat()
        let exists = fstatat(parent, name, &existing, AT_SYMLINK_NOFOLLOW) == 0
        if exists && !(entry.kind == .directory && fileType(existing.st_mode) == S_IFDIR) {
            let parentPath = try LayerPath.components(entry.path, layer: layer)!.dropLast().joined(separator: "/")
            try removeTree(root + "/" + (parentPath.isEmpty ? name : parentPath + "/" + name))
        }
        let mode = mode_t(entry.mode & 0o7777)
        switch entry.kind {
        case .directory:
            if !exists || fileType(existing.st_mode) != S_IFDIR {
                guard mkdirat(parent, name, 0o700) == 0 else {
                    throw SystemCallError("mkdirat(\"\(entry.path)\")", errno: errno)
                }
            }
        case .file:
            let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SystemCallError("openat(\"\(entry.path)\", O_CREAT|O_EXCL)", errno: errno) }
            defer { close(fd) }
            try contents(fd)
        case .symlink:
            if entry.linkName.utf8.count > LayerPath.linkMax {
                throw ImageError.unsafeEntry(
                    layer: layer, entry: entry.path,
                    "is a symlink to a target of \(entry.linkName.utf8.count) bytes; Linux stores at "
                        + "most \(LayerPath.linkMax)"
                )
            }
            guard symlinkat(entry.linkName, parent, name) == 0 else {
                throw SystemCallError("symlinkat(\"\(entry.path)\")", errno: errno)
            }
        case .hardlink:
            guard let targetParts = try LayerPath.components(entry.linkName, layer: layer) else {
                throw ImageError.unsafeEntry(layer: layer, entry: entry.path, "is a hard link to the root directory")
            }
            let targetParent = try openDirectory(
                rootFd, Array(targetParts.dropLast()), entry: entry.linkName, create: false)
            defer { close(targetParent) }
            guard linkat(targetParent, targetParts[targetParts.count - 1], parent, name, 0) == 0 else {
                throw SystemCallError(
                    "linkat(\"\(entry.linkName)\", \"\(entry.path)\")", errno: errno,
                    hint: "a hard link must name a file earlier in the same layer")
            }
            return  // a hard link shares its target's owner, mode and times
        case .characterDevice, .blockDevice, .fifo:
            if entry.kind != .fifo && rootless {
                throw ImageError.unsafeEntry(
                    layer: layer, entry: entry.path, "is a device node, which a rootless unpack cannot make")
            }
            let type: mode_t = entry.kind == .fifo ? S_IFIFO : entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
            guard mknodat(parent, name, type | mode, DeviceNumber.make(entry.devMajor, entry.devMinor)) == 0 else {
                throw SystemCallError("mknodat(\"\(entry.path)\")", errno: errno)
            }
        }
        if !rootless && fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0 {
            throw SystemCallError("fchownat(\"\(entry.path)\", \(entry.uid), \(entry.gid))", errno: errno)
        }
        if entry.kind != .symlink && fchmodat(parent, name, mode, 0) != 0 {
            throw SystemCallError("fchmodat(\"\(entry.path)\", 0\(String(mode, radix: 8)))", errno: errno)
        }
        if entry.kind != .directory {
            var times = [timespec(tv_sec: entry.mtime, tv_nsec: 0), timespec(tv_sec: entry.mtime, tv_nsec: 0)]
            utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW)
        }
    }
}

/// Write all of `bytes` to `fd` (a write may take only part of them).
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, entry: String) throws {
    var written = 0
    while written < bytes.count {
        let n = write(fd, bytes.baseAddress! + written, bytes.count - written)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw SystemCallError("write(\"\(entry)\")", errno: errno) }
        written += n
    }
}

/// Remove `path` and everything under it, however deep (a container can make a tree 10,000
/// levels deep, past PATH_MAX and past any limit of open descriptors): the walk goes down and
/// back up through descriptors, holding two at a time and never a long path, and checks that
/// each ".." it climbs is the directory it came from.
public func removeTree(_ path: String) throws {
    guard let info = lstatOf(path) else { return }
    guard fileType(info.st_mode) == S_IFDIR else {
        guard unlink(path) == 0 else { throw SystemCallError("unlink(\"\(path)\")", errno: errno) }
        return
    }
    // overlayfs leaves its work/work directory with mode 000: without root, open it up first.
    if info.st_mode & 0o700 != 0o700 && info.st_uid == geteuid() { chmod(path, 0o700) }
    var fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { throw SystemCallError("open(\"\(path)\")", errno: errno) }
    // The directories walked into below `path`: each one's name and the identity of its parent.
    var trail: [(name: [CChar], parentDevice: UInt64, parentInode: UInt64)] = []
    defer { close(fd) }
    while true {
        var descended = false
        for name in try entryNames(fd) {
            if unlinkat(fd, name, 0) == 0 || errno == ENOENT { continue }
            guard errno == EISDIR || errno == EPERM else {
                throw SystemCallError("unlinkat(\"\(String(cString: name))\") in \(path)", errno: errno)
            }
            var here = stat()
            guard fstat(fd, &here) == 0 else { throw SystemCallError("fstat in \(path)", errno: errno) }
            var child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child < 0 && errno == EACCES {
                fchmodat(fd, name, 0o700, 0)
                child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard child >= 0 else {
                throw SystemCallError("openat(\"\(String(cString: name))\") in \(path)", errno: errno)
            }
            trail.append((name, UInt64(here.st_dev), UInt64(here.st_ino)))
            close(fd)
            fd = child
            descended = true
            break
        }
        if descended { continue }
        // This directory is empty now: climb to its parent and remove it there.
        guard let last = trail.popLast() else { break }
        let parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { throw SystemCallError("openat(\"..\") under \(path)", errno: errno) }
        var seen = stat()
        guard fstat(parent, &seen) == 0, UInt64(seen.st_dev) == last.parentDevice,
            UInt64(seen.st_ino) == last.parentInode
        else {
            close(parent)
            throw SystemCallError("removing \(path): a directory moved while it was removed", errno: ESTALE)
        }
        close(fd)
        fd = parent
        guard unlinkat(fd, last.name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
            throw SystemCallError("rmdir(\"\(String(cString: last.name))\") under \(path)", errno: errno)
        }
    }
    guard rmdir(path) == 0 || errno == ENOENT else { throw SystemCallError("rmdir(\"\(path)\")", errno: errno) }
}

/// The names in the directory open at `fd`, as the bytes the kernel gave (NUL-terminated):
/// a name that is not UTF-8 must still be removable.
func entryNames(_ fd: Int32) throws -> [[CChar]] {
    let copy = dup(fd)
    guard copy >= 0, let directory = fdopendir(copy) else { throw SystemCallError("fdopendir", errno: errno) }
    defer { closedir(directory) }
    rewinddir(directory)
    var names: [[CChar]] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) {
            Array($0.prefix { $0 != 0 }).map { CChar(bitPattern: $0) }
        }
        if name != [46] && name != [46, 46] { names.append(name + [0]) }
    }
    return names
}
