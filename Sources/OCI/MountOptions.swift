import ContlabCore

/// A mount's `options` array turned into mount(2) flags, a propagation change, and the data
/// string, as runtime-spec's config-linux says they map (and as mount(8) names them).
public struct MountOptions: Equatable, Sendable {
    public var flags: MountFlags = []
    /// A propagation change to apply after the mount (`rprivate` → MS_PRIVATE|MS_REC).
    public var propagation: MountFlags?
    /// Filesystem-specific options, comma-joined (`mode=755,size=65536k`).
    public var data: String?
    /// `rro`: read-only on the mount and every mount below it (mount_setattr with
    /// AT_RECURSIVE); `ro` on a recursive bind makes only the top one read-only.
    public var recursiveReadOnly = false

    public var isBind: Bool { flags.contains(.bind) }

    public static let setting: [String: MountFlags] = [
        "ro": .readOnly, "nosuid": .noSUID, "nodev": .noDev, "noexec": .noExec, "sync": .synchronous,
        "dirsync": .dirSync, "mand": .mandLock, "noatime": .noATime, "nodiratime": .noDirATime,
        "relatime": .relATime, "strictatime": .strictATime, "bind": .bind, "rbind": [.bind, .recursive],
        "remount": .remount, "silent": .silent, "nosymfollow": .noSymFollow
    ]
    public static let clearing: [String: MountFlags] = [
        "rw": .readOnly, "suid": .noSUID, "dev": .noDev, "exec": .noExec, "async": .synchronous,
        "atime": .noATime, "diratime": .noDirATime, "norelatime": .relATime, "nostrictatime": .strictATime,
        "nomand": .mandLock, "symfollow": .noSymFollow, "loud": .silent
    ]
    public static let propagations: [String: MountFlags] = [
        "private": .private, "rprivate": [.private, .recursive], "shared": .shared, "rshared": [.shared, .recursive],
        "slave": .slave, "rslave": [.slave, .recursive], "unbindable": .unbindable,
        "runbindable": [.unbindable, .recursive]
    ]

    /// Options applied to a mount and all below it, after it is made (runc's recursive ones).
    public static let recursive: Set<String> = ["rro", "rrw"]

    public init(_ options: [String]) {
        var data: [String] = []
        for option in options {
            if option == "rro" || option == "rrw" {
                recursiveReadOnly = option == "rro"
            } else if let flag = Self.setting[option] {
                flags.insert(flag)
            } else if let flag = Self.clearing[option] {
                flags.remove(flag)
            } else if let flag = Self.propagations[option] {
                propagation = flag
            } else if option == "tmpcopyup" || option.isEmpty {
                continue
            } else {
                data.append(option)
            }
        }
        self.data = data.isEmpty ? nil : data.joined(separator: ",")
    }

    /// The flags a read-only bind needs to be remounted with: a bind mount ignores MS_RDONLY and
    /// the others on its first mount(2), so they take a second, MS_REMOUNT|MS_BIND one.
    public var remountFlags: MountFlags? {
        let kept = flags.intersection([
            .readOnly, .noSUID, .noDev, .noExec, .noATime, .noDirATime, .relATime, .strictATime, .noSymFollow
        ])
        guard isBind, !kept.isEmpty else { return nil }
        return kept.union([.remount, .bind])
    }
}
