import ContlabCore
import Foundation

/// A cgroup subtree handed to one user, so that stage 3 and contlab-runc work without root on a
/// shared lab server: `contlab-users/UID` in each hierarchy of the controllers the stages use,
/// owned by the user. Below it the user may make cgroups and write their limits, and move their
/// own processes in; the admin's limits on `contlab-users` hold whatever they write.
///
/// On cgroup v1 owning the directory and its `cgroup.procs` and `tasks` is the whole of it. On
/// v2 it is systemd's delegation (cgroup.procs, cgroup.threads, cgroup.subtree_control), and a
/// process may move only between cgroups below one the user may write: the user's shell must
/// start under it, so v2 hosts are better served by `systemd-run --user -p Delegate=yes`.
public struct UserDelegation: Equatable, Sendable {
    public static let parent = "contlab-users"
    /// The controllers stage 3 and contlab-runc put containers in.
    public static let controllers = ["memory", "pids", "cpu", "freezer"]

    public var uid: uid_t
    public var gid: gid_t

    public init(uid: uid_t, gid: gid_t) {
        self.uid = uid
        self.gid = gid
    }

    /// The user's cgroup below each hierarchy's root.
    public var relativePath: String { Self.parent + "/\(uid)" }

    /// One directory per hierarchy that holds one of `controllers`, with its version.
    public func directories(in hierarchy: CgroupHierarchy) -> [(path: String, version: Int)] {
        var seen: [String] = []
        var result: [(path: String, version: Int)] = []
        for controller in Self.controllers {
            guard let placement = hierarchy.placement(of: controller) else { continue }
            let path = placement.mountPoint + "/" + relativePath
            if !seen.contains(path) {
                seen.append(path)
                result.append((path, placement.version))
            }
        }
        return result
    }

    /// The files a user must own to use a cgroup as their own ("" is the directory itself).
    public static func ownedFiles(version: Int) -> [String] {
        version == 1 ? ["", "cgroup.procs", "tasks"] : ["", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control"]
    }

    /// Whether the user holds the subtree in every hierarchy (what stage 3 checks before it
    /// makes its cgroup there).
    public func isPrepared(in hierarchy: CgroupHierarchy) -> Bool {
        let directories = directories(in: hierarchy)
        return !directories.isEmpty
            && directories.allSatisfy { directory in
                var info = stat()
                return stat(directory.path, &info) == 0 && info.st_uid == uid
            }
    }

    /// Make the directories and give them to the user; returns what was done, a line each.
    /// Making it again is harmless.
    public func prepare(in hierarchy: CgroupHierarchy) throws -> [String] {
        var done: [String] = []
        for (path, version) in directories(in: hierarchy) {
            let parent = (path as NSString).deletingLastPathComponent
            for directory in [parent, path] where !Sys.isDirectory(directory) {
                if version == 2 {
                    // Hand the controllers down to contlab-users and from it to the user.
                    let above = (directory as NSString).deletingLastPathComponent
                    let enable = (Sys.readText(above + "/cgroup.controllers") ?? "").split(separator: " ")
                        .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                        .filter { Self.controllers.contains($0) }.map { "+" + $0 }
                    if !enable.isEmpty {
                        try? Sys.writeFile(
                            above + "/cgroup.subtree_control", enable.joined(separator: " "), record: false)
                    }
                }
                guard mkdir(directory, 0o755) == 0 || errno == EEXIST else {
                    throw CgroupError.create(directory, errno: errno)
                }
                done.append("mkdir \(directory)")
            }
            for file in Self.ownedFiles(version: version) {
                let target = file.isEmpty ? path : path + "/" + file
                guard Sys.exists(target) else { continue }
                guard chown(target, uid, gid) == 0 else { throw DelegationError.chown(target, errno: errno) }
            }
            done.append(
                "chown \(uid):\(gid) \(path) (\(Self.ownedFiles(version: version).filter { !$0.isEmpty }.joined(separator: ", ")))"
            )
        }
        return done
    }

    /// Remove the user's subtree: every process in it killed, every cgroup in it removed,
    /// leaves first; then `contlab-users` itself once no user is left in it.
    public func remove(in hierarchy: CgroupHierarchy) -> [String] {
        var done: [String] = []
        for (path, version) in directories(in: hierarchy) where Sys.isDirectory(path) {
            for directory in Self.tree(path).reversed() {
                ContainerCgroup.removeCgroup(directory, version: version)
            }
            done.append("rmdir \(path)")
            rmdir((path as NSString).deletingLastPathComponent)
        }
        return done
    }

    /// Every user holding a subtree, by uid, in any hierarchy.
    public static func users(in hierarchy: CgroupHierarchy) -> [uid_t] {
        var mounts = Set(hierarchy.v1.values)
        if let v2 = hierarchy.v2 { mounts.insert(v2) }
        var uids = Set<uid_t>()
        for mount in mounts {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: mount + "/" + parent)) ?? [] {
                if let uid = uid_t(entry) { uids.insert(uid) }
            }
        }
        return uids.sorted()
    }

    /// `root` and every cgroup below it, parents first.
    static func tree(_ root: String) -> [String] {
        var result = [root]
        var index = 0
        while index < result.count {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: result[index])) ?? [] {
                let path = result[index] + "/" + entry
                if Sys.isDirectory(path) { result.append(path) }
            }
            index += 1
        }
        return result
    }
}

public enum DelegationError: Error, CustomStringConvertible {
    case chown(String, errno: Int32)

    public var description: String {
        switch self {
        case .chown(let path, let code):
            return
                "cannot give \(path) to the user: \(String(cString: strerror(code))); run contlab lab setup as root "
                + "(sudo)"
        }
    }
}
