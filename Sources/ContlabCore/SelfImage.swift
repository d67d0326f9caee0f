import CLinux
import Foundation

/// The file every container's first process is exec'd from: this binary, but never the host's
/// file itself.
///
/// CVE-2019-5736 (runc, February 2019): a process that runs the runtime's binary inside a
/// container exposes the host's file through /proc/PID/exe. That happens when the init execs an
/// image's `#!/proc/self/exe` script (the kernel resolves the interpreter in the init, where it is
/// the runtime), or when a pod sibling sees an init waiting in `created`. Root in the container
/// opens the link, waits until nothing runs the file, reopens it for writing through
/// /proc/self/fd, and replaces the runtime that every later container starts as host root.
/// contlab did exactly that before this file: the test `OCISelfImageTests` replays the attack.
///
/// So the init is exec'd from a view of the binary that cannot be written:
/// - as root, the file seen through a read-only overlayfs of its directory that no mount table
///   holds (runc 1.2's answer): writes fail with EROFS, and no one can remount what no one can
///   name. It costs one mount, about 0.1 ms.
/// - otherwise (no CAP_SYS_ADMIN, an old kernel), a sealed in-memory copy (runc 1.0's answer),
///   but only when the caller could write the file at all: a rootless container's root is the
///   caller, and the kernel already refuses it what the caller may not do.
public enum SelfImage {
    public enum Source: String, Sendable {
        case overlay = "read-only overlay view"
        case memfd = "sealed memfd copy"
        /// Only for a caller who cannot write the file: neither can its container.
        case file = "host file, not writable by the caller"
    }

    public struct Image: Sendable {
        /// Open for execveat (close-on-exec: the exec closes it).
        public let fd: Int32
        public let source: Source
        /// The host's path of the binary.
        public let path: String
    }

    /// The environment variable naming the host's path for an init started from the image.
    public static let pathVariable = "CONTLAB_SELF_PATH"

    /// Made once per process: a runtime command starts one container, a walk-through several.
    public static func image() throws -> Image { try shared.get() }

    private static let shared = Result<Image, SystemCallError> { () throws(SystemCallError) in try make() }

    static func make() throws(SystemCallError) -> Image {
        guard let path = hostPath() else {
            throw SystemCallError("readlink(\"/proc/self/exe\")", errno: ENOENT)
        }
        var fileStat = stat()
        let exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        guard exe >= 0 else { throw SystemCallError("open(\"/proc/self/exe\")", errno: errno) }
        guard fstat(exe, &fileStat) == 0 else {
            let saved = errno
            close(exe)
            throw SystemCallError("fstat(/proc/self/exe)", errno: saved)
        }
        if let fd = overlayView(of: path, matching: fileStat) {
            close(exe)
            return Image(fd: fd, source: .overlay, path: path)
        }
        // Not root: what the caller may not write, a container started by the caller may not
        // either (its root maps to the caller, and the file's owner is unmapped or someone else).
        if geteuid() != 0 && access(path, W_OK) != 0 {
            return Image(fd: exe, source: .file, path: path)
        }
        let copy = cl_sealed_copy("contlab", exe, Int64(fileStat.st_size))
        close(exe)
        guard copy >= 0 else { throw SystemCallError("memfd_create(\"contlab\") with seals", errno: -copy) }
        return Image(fd: copy, source: .memfd, path: path)
    }

    /// The binary's own directory as the top layer of an overlay, over an empty one (overlayfs
    /// wants two lower layers when it has no upper). nil when the kernel or our rights refuse it,
    /// or the file found there is not the one running.
    static func overlayView(of path: String, matching running: stat) -> Int32? {
        guard geteuid() == 0, let slash = path.lastIndex(of: "/") else { return nil }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        let empty = "/run/contlab-empty-layer"
        if mkdir(empty, 0o555) != 0 && errno != EEXIST { return nil }
        // overlayfs takes ':' and ',' in a layer's path as separators; such a folder gets a copy.
        guard !directory.contains(":"), !directory.contains(","), !directory.contains("\\") else { return nil }
        let mount = cl_detached_overlay("\(directory):\(empty)")
        guard mount >= 0 else { return nil }
        defer { close(mount) }
        let fd = openat(mount, name, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var seen = stat()
        guard fstat(fd, &seen) == 0, seen.st_ino == running.st_ino, seen.st_size == running.st_size else {
            close(fd)
            return nil
        }
        return fd
    }

    /// The host's path of this binary, also inside an init started from the image, whose
    /// /proc/self/exe names a file on a mount that has no place in any tree.
    public static func hostPath() -> String? {
        var running = stat(), named = stat()
        if let link = Sys.readLink("/proc/self/exe"), !link.hasSuffix(" (deleted)"),
            stat("/proc/self/exe", &running) == 0, stat(link, &named) == 0,
            running.st_ino == named.st_ino, running.st_size == named.st_size
        {
            return link
        }
        if let given = ProcessInfo.processInfo.environment[pathVariable], given.hasPrefix("/") { return given }
        return nil
    }
}
