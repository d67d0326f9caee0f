import ContlabCore
import Foundation

/// Path handling inside a root filesystem that the container's owner controls: a symlink in it
/// must not lead a mount outside it.
public enum RootPath {
    /// Resolve `path` under `root` as if `root` were "/": symlinks are followed inside the root,
    /// absolute ones restart at the root, and `..` never climbs above it.
    public static func secureJoin(root: String, path: String, readLink: (String) -> String? = Sys.readLink) throws
        -> String
    {
        var resolved: [String] = []
        var pending = path.split(separator: "/").map(String.init)
        var followed = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component.isEmpty || component == "." { continue }
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                continue
            }
            let candidate = root + "/" + (resolved + [component]).joined(separator: "/")
            if let target = readLink(candidate) {
                // Like the kernel's own limit: past 40 links, refuse rather than stop following
                // (a link left unresolved would be followed against the host's root).
                followed += 1
                if followed > 40 { throw SystemCallError("resolving \(path) inside the root filesystem", errno: ELOOP) }
                if target.hasPrefix("/") { resolved.removeAll() }
                pending = target.split(separator: "/").map(String.init) + pending
            } else {
                resolved.append(component)
            }
        }
        return resolved.isEmpty ? root : root + "/" + resolved.joined(separator: "/")
    }

    /// mkdir -p for a path already resolved inside the root.
    public static func makeDirectories(_ path: String) throws { try Sys.mkdirs(path) }
}

/// The mounts a container without a mount namespace left in the host's table.
enum HostMounts {
    /// The mount points strictly below `root` in a /proc/self/mountinfo text (field 5, with the
    /// kernel's octal escapes such as `\040` for a space undone), deepest first, so that each
    /// is detached before the one it sits on. Pure, for the tests.
    static func targets(below root: String, mountinfo: String) -> [String] {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        let targets = mountinfo.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let target = unescape(String(fields[4]))
            return target.hasPrefix(prefix) ? target : nil
        }
        // Later mounts sit on earlier ones: reversed order detaches children first.
        return targets.reversed()
    }

    static func unescape(_ text: String) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "\\"), i + 3 < utf8.count,
                let value = UInt8(String(decoding: utf8[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
