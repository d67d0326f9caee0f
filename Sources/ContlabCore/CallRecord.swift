import Foundation
import TextKit

/// The record of system calls a runtime made, in order, for `--explain` and the walk-through.
/// Each wrapper in `Sys` appends the call as a C programmer would write it; the container's init
/// sends its part to the host over a pipe, so one run's record covers both processes.
public final class CallRecord: @unchecked Sendable {
    /// The record of this process. Runtimes are single-threaded where they record calls (the
    /// host before it waits, the init before it execs), so no lock is taken.
    public static let shared = CallRecord()

    public private(set) var entries: [String] = []
    public var enabled = true
    /// False for the recording mode: `Sys`'s wrappers that change the system note their call and
    /// return as if it had succeeded, calling no kernel, so a unit test without root can check
    /// the order a stage makes its calls in (youki's test double for its Syscall trait does this).
    /// Queries (`Sys.isDirectory`, `Sys.readText`) still look at the real file system.
    public var callsKernel = true

    public init() {}

    public func note(_ call: String) {
        if enabled { entries.append(call) }
    }

    public func reset() { entries.removeAll() }
}

/// `--explain`'s short form: the record a student reads. Paths under the container's root are
/// written `<rootfs>/…`, a run of the same call on files of one directory (the six device nodes
/// of /dev) is one line, and on a terminal each line fits its width. `--explain=full` prints
/// the record as made. Pure.
public enum ExplainRecord {
    /// The container's root as the record names it: what init chroots to (stage 1), or the
    /// directory it enters just before pivot_root (stages 2–5).
    public static func rootfs(in lines: [String]) -> String? {
        for (index, line) in lines.enumerated() {
            if let path = argument(of: "chroot", in: line) { return path }
            if line.hasSuffix("pivot_root(\".\", \".\")"), index > 0,
                let path = argument(of: "chdir", in: lines[index - 1])
            {
                return path
            }
        }
        return nil
    }

    /// The first quoted argument of `call` on `line`, when the line is that call.
    static func argument(of call: String, in line: String) -> String? {
        guard let start = line.range(of: ": \(call)(\"") else { return nil }
        let rest = line[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    public static func compact(_ lines: [String], width: Int? = nil) -> [String] {
        var lines = lines
        if let root = rootfs(in: lines), root.count > 1 {
            lines = lines.map {
                $0.replacingOccurrences(of: "\"\(root)/", with: "\"<rootfs>/").replacingOccurrences(
                    of: "\"\(root)\"", with: "\"<rootfs>\"")
            }
        }
        var out: [String] = []
        var index = 0
        while index < lines.count {
            // Consecutive calls of one kind on entries of one directory: one line naming them.
            let key = groupKey(lines[index])
            var end = index + 1
            while let key, end < lines.count, groupKey(lines[end]) == key { end += 1 }
            if let key, end - index >= 3 {
                let names = lines[index..<end].compactMap {
                    path(in: $0, position: key.position).map { ($0 as NSString).lastPathComponent }
                }
                let paths = "\"\(key.directory)/{\(names.joined(separator: ","))}\""
                out.append("\(key.prefix)(" + (key.position == 0 ? "\(paths), …" : "…, \(paths)") + ") ×\(end - index)")
            } else {
                out.append(contentsOf: lines[index..<end])
            }
            index = end
        }
        guard let width, width > 20 else { return out }
        return out.flatMap { wrap($0, width: width) }
    }

    /// A line wider than `width` broken after a ", " or a "|" (every flag stays readable), the
    /// rest indented under the call.
    static func wrap(_ line: String, width: Int) -> [String] {
        var lines: [String] = []
        var rest = Substring(line)
        var first = true
        while true {
            let room = first ? width : width - 8
            if Terminal.displayWidth(String(rest)) <= room { break }
            let head = rest.prefix(room)
            guard
                let cut = [
                    head.range(of: ", ", options: .backwards)?.upperBound,
                    head.range(of: "|", options: .backwards)?.upperBound
                ]
                .compactMap({ $0 }).max(), cut > head.index(head.startIndex, offsetBy: room / 3)
            else {
                lines.append((first ? "" : "        ") + String(head.dropLast()) + "…")
                return lines
            }
            lines.append((first ? "" : "        ") + String(rest[..<cut]).trimmingCharacters(in: .whitespaces))
            rest = rest[cut...]
            first = false
        }
        lines.append((first ? "" : "        ") + rest)
        return lines
    }

    struct GroupKey: Equatable {
        var prefix: String
        var directory: String
        var position: Int
    }

    /// mknod, mkdir and symlink lines group by the directory of the path they make (the first
    /// argument; a symlink's second).
    static func groupKey(_ line: String) -> GroupKey? {
        for (call, position) in [("mknod", 0), ("symlink", 1)] {
            guard let range = line.range(of: ": \(call)(") else { continue }
            guard let path = path(in: line, position: position) else { return nil }
            return GroupKey(
                prefix: String(line[..<range.upperBound].dropLast()),
                directory: (path as NSString).deletingLastPathComponent, position: position)
        }
        return nil
    }

    /// The quoted argument at `position` (0 the first quoted one).
    static func path(in line: String, position: Int) -> String? {
        let parts = line.split(separator: "\"", omittingEmptySubsequences: false)
        let index = 1 + 2 * position
        return index < parts.count ? String(parts[index]) : nil
    }
}
