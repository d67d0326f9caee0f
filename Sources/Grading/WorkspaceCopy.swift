// The copy of a student's exercise folder that a grading works on. The grader often runs as
// root over a folder the student owns, so the copy takes only what a student's work is made
// of, and nothing that could make root block, fill the disk or read a file of someone else's.
import Foundation
import Glibc

enum WorkspaceCopy {
    /// The most one file, and the whole copy, may hold: exercises are a few small text files.
    static let fileLimit: off_t = 16 << 20
    static let totalLimit: off_t = 64 << 20

    /// What was left out, by path relative to the folder, with the reason.
    struct Report: Equatable {
        var skipped: [String: String] = [:]
    }

    /// Copy `source` to `destination` (made here): folders, regular files and symbolic links
    /// (as links: inside a container they point into its own tree). Left out: FIFOs, sockets and
    /// devices (opening one could block root, or read a device), a file with more than one
    /// hard link (it may be another user's file, linked in where protected_hardlinks is off),
    /// and files over the limits (a sparse file of a terabyte costs its owner nothing). Each
    /// file is opened without following a link and without blocking, then checked once open.
    @discardableResult
    static func copy(from source: String, to destination: String) throws -> Report {
        var report = Report()
        var total: off_t = 0
        try copyFolder(source, destination, relative: "", report: &report, total: &total)
        return report
    }

    private static func copyFolder(
        _ source: String, _ destination: String, relative: String, report: inout Report, total: inout off_t
    ) throws {
        guard mkdir(destination, 0o755) == 0 || errno == EEXIST else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination])
        }
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []).sorted() {
            let from = source + "/" + name, to = destination + "/" + name
            let path = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(from, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                try copyFolder(from, to, relative: path, report: &report, total: &total)
            case S_IFLNK:
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: from) {
                    _ = symlink(target, to)
                }
            case S_IFREG:
                if let reason = copyFile(from, to, total: &total) { report.skipped[path] = reason }
            default:
                report.skipped[path] = "not a regular file, folder or link"
            }
        }
    }

    /// One regular file, or why it was left out.
    private static func copyFile(_ from: String, _ to: String, total: inout off_t) -> String? {
        let input = open(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard input >= 0 else { return "unreadable: \(String(cString: strerror(errno)))" }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return "not a regular file" }
        if info.st_nlink > 1 { return "it has \(info.st_nlink) hard links: copy it to a file of its own" }
        if info.st_size > fileLimit { return "over \(fileLimit >> 20) MiB" }
        if total + info.st_size > totalLimit { return "the folder is over \(totalLimit >> 20) MiB" }
        total += info.st_size
        let output = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, info.st_mode & 0o777)
        guard output >= 0 else { return "could not be copied: \(String(cString: strerror(errno)))" }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var left = info.st_size
        while left > 0 {
            let count = read(input, &buffer, min(buffer.count, Int(left)))
            if count <= 0 { break }
            guard write(output, buffer, count) == count else { return "could not be copied" }
            left -= off_t(count)
        }
        // Times kept, as a plain copy would: the gradebook's "handed in" may come from them.
        var times = [info.st_atim, info.st_mtim]
        futimens(output, &times)
        return nil
    }
}
