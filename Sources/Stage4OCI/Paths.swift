import ContlabCore
import Foundation

/// Path handling inside a root filesystem that the container's owner controls: a symlink in it
/// must not lead a mount outside it.
public enum RootPath {
    /// Resolve `path` under `root` as if `root` were "/": symlinks are followed inside the root,
    /// absolute ones restart at the root, and `..` never climbs above it.
    public static func secureJoin(root: String, path: String, readLink: (String) -> String? = Sys.readLink) throws -> String {
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
