import ContlabCore
import Foundation
import Images

/// One overlayfs mount: read-only lower directories (the image's layers, top layer first), a
/// container's own upper directory where writes land, and the work directory overlayfs needs on
/// the same file system as the upper one.
public struct OverlayMount: Equatable {
    public var lower: [String]
    public var upper: String
    public var work: String
    public var target: String
    /// In a user namespace overlayfs keeps its whiteout and opaque marks in `user.` xattrs.
    public var userXattr = false

    public init(lower: [String], upper: String, work: String, target: String, userXattr: Bool = false) {
        self.lower = lower
        self.upper = upper
        self.work = work
        self.target = target
        self.userXattr = userXattr
    }

    /// The mount data: `lowerdir=TOP:…:BOTTOM,upperdir=…,workdir=…`. The kernel reads it as one
    /// page, so many deep layers can run out of room; it also splits on `:` and `,`.
    /// The same, as a mount's options list in config.json.
    public func optionList() throws -> [String] {
        try options().split(separator: ",").map(String.init)
    }

    public func options() throws -> String {
        for path in lower + [upper, work] where path.contains(":") || path.contains(",") {
            throw ImageError.unsupported("overlayfs cannot take the directory \(path): its name holds ':' or ','")
        }
        let text =
            "lowerdir=\(lower.joined(separator: ":")),upperdir=\(upper),workdir=\(work)"
            + (userXattr ? ",userxattr" : "")
        guard text.utf8.count < 4096 else {
            throw ImageError.unsupported(
                "the overlay mount options are \(text.utf8.count) bytes, more than the kernel's page of 4096: too "
                    + "many layers"
            )
        }
        return text
    }

    public func mount() throws {
        try Sys.mount(
            source: "overlay", target: target, fstype: "overlay", flags: [], data: try options(),
            hint:
                "overlayfs needs the overlay module (modprobe overlay) and, for the upper directory, a file system "
                + "other than overlayfs itself"
        )
    }

    /// Detach it; a missing mount is fine (cleaning up after an earlier failure).
    public static func unmount(_ target: String) {
        guard isMounted(target) else { return }
        if (try? Sys.umount(target)) == nil { try? Sys.umount(target, detach: true) }
    }

    public static func isMounted(_ target: String) -> Bool {
        guard let table = Sys.readText("/proc/self/mountinfo") else { return false }
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4] == target
        }
    }
}
