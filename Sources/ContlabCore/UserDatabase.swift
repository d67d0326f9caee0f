import Foundation

/// Users and groups read from a root filesystem's /etc/passwd and /etc/group. contlab is a static
/// binary, which cannot use glibc's NSS, and the container's users are the rootfs's anyway.
public struct UserDatabase: Sendable {
    public struct User: Equatable, Sendable {
        public var name: String
        public var uid: UInt32
        public var gid: UInt32
        public var home: String
    }

    public struct Group: Equatable, Sendable {
        public var name: String
        public var gid: UInt32
        public var members: [String]
    }

    public var users: [User]
    public var groups: [Group]

    public init(passwd: String, group: String) {
        users = passwd.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 7, let uid = UInt32(f[2]), let gid = UInt32(f[3]) else { return nil }
            return User(name: String(f[0]), uid: uid, gid: gid, home: String(f[5]))
        }
        groups = group.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 4, let gid = UInt32(f[2]) else { return nil }
            return Group(
                name: String(f[0]), gid: gid,
                members: f[3].split(separator: ",").map(String.init))
        }
    }

    /// This machine's accounts, from its /etc/passwd and /etc/group.
    public static var host: UserDatabase {
        UserDatabase(passwd: Sys.readText("/etc/passwd") ?? "", group: Sys.readText("/etc/group") ?? "")
    }

    /// The name of the user running contlab, for messages that tell the admin whom to prepare.
    public static func currentUserName(uid: UInt32 = geteuid()) -> String {
        host.users.first { $0.uid == uid }?.name ?? "uid \(uid)"
    }

    /// Read the databases of the root filesystem at `rootfs`, resolved inside it (its symlinks
    /// cannot point at the host's files); missing or refused files mean no entries.
    public init(rootfs: String) {
        self.init(
            passwd: Sys.readInRoot(rootfs, "etc/passwd") ?? "",
            group: Sys.readInRoot(rootfs, "etc/group") ?? "")
    }

    public struct Identity: Equatable, Sendable {
        public var uid: UInt32
        public var gid: UInt32
        public var additionalGids: [UInt32]
        public var home: String

        public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32], home: String) {
            self.uid = uid
            self.gid = gid
            self.additionalGids = additionalGids
            self.home = home
        }
    }

    /// Resolve `--user` as `docker run` does: `NAME`, `UID`, `NAME:GROUP`, `UID:GID`. A name must
    /// exist in the rootfs; a number need not (its home is then `/`).
    public func resolve(_ spec: String) throws -> Identity {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let userPart = parts.first, !userPart.isEmpty else { throw UserError.empty(spec) }
        let user: User?
        let uid: UInt32
        if let number = UInt32(userPart) {
            user = users.first { $0.uid == number }
            uid = number
        } else if let found = users.first(where: { $0.name == userPart }) {
            user = found
            uid = found.uid
        } else {
            throw UserError.unknownUser(userPart, known: users.map(\.name))
        }
        var gid = user?.gid ?? 0
        if parts.count == 2 {
            let groupPart = parts[1]
            if let number = UInt32(groupPart) {
                gid = number
            } else if let found = groups.first(where: { $0.name == groupPart }) {
                gid = found.gid
            } else {
                throw UserError.unknownGroup(groupPart, known: groups.map(\.name))
            }
        }
        var extra: [UInt32] = []
        if let name = user?.name {
            extra = groups.filter { $0.members.contains(name) && $0.gid != gid }.map(\.gid)
        }
        return Identity(uid: uid, gid: gid, additionalGids: extra, home: user?.home ?? "/")
    }
}

public enum UserError: Error, CustomStringConvertible, Equatable {
    case empty(String)
    case unknownUser(String, known: [String])
    case unknownGroup(String, known: [String])

    public var description: String {
        switch self {
        case .empty(let spec):
            return "--user \"\(spec)\": give a user as NAME, UID, NAME:GROUP or UID:GID"
        case .unknownUser(let name, let known):
            return
                "--user: no user \"\(name)\" in the root filesystem's /etc/passwd (it has: \(known.joined(separator: ", "))); give a numeric UID or add the user to the recipe"
        case .unknownGroup(let name, let known):
            return
                "--user: no group \"\(name)\" in the root filesystem's /etc/group (it has: \(known.joined(separator: ", "))); give a numeric GID"
        }
    }
}
