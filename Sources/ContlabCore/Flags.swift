import CLinux
import Foundation

/// The kinds of namespace contlab creates, with the clone flag and the /proc/PID/ns name of each.
public enum Namespace: String, CaseIterable, Codable, Sendable {
    case user, mount, pid, uts, ipc, network, cgroup

    public var cloneFlag: UInt {
        switch self {
        case .user: return UInt(CL_CLONE_NEWUSER)
        case .mount: return UInt(CL_CLONE_NEWNS)
        case .pid: return UInt(CL_CLONE_NEWPID)
        case .uts: return UInt(CL_CLONE_NEWUTS)
        case .ipc: return UInt(CL_CLONE_NEWIPC)
        case .network: return UInt(CL_CLONE_NEWNET)
        case .cgroup: return UInt(CL_CLONE_NEWCGROUP)
        }
    }

    /// The flag's name in <sched.h>.
    public var cloneFlagName: String {
        switch self {
        case .user: return "CLONE_NEWUSER"
        case .mount: return "CLONE_NEWNS"
        case .pid: return "CLONE_NEWPID"
        case .uts: return "CLONE_NEWUTS"
        case .ipc: return "CLONE_NEWIPC"
        case .network: return "CLONE_NEWNET"
        case .cgroup: return "CLONE_NEWCGROUP"
        }
    }

    /// The file under /proc/PID/ns/.
    public var procName: String {
        switch self {
        case .user: return "user"
        case .mount: return "mnt"
        case .pid: return "pid"
        case .uts: return "uts"
        case .ipc: return "ipc"
        case .network: return "net"
        case .cgroup: return "cgroup"
        }
    }

    /// The kernel that introduced it, for messages on kernels that lack one.
    public var since: String {
        switch self {
        case .mount: return "2.4.19"
        case .uts, .ipc: return "2.6.19"
        case .pid: return "2.6.24"
        case .network: return "2.6.29"
        case .user: return "3.8"
        case .cgroup: return "4.6"
        }
    }

    public static func cloneFlags(_ set: [Namespace]) -> UInt {
        set.reduce(0) { $0 | $1.cloneFlag }
    }

    /// `CLONE_NEWPID|CLONE_NEWNS|...` in a fixed, readable order.
    public static func describe(_ set: [Namespace]) -> String {
        let order: [Namespace] = [.user, .pid, .mount, .uts, .ipc, .network, .cgroup]
        let names = order.filter(set.contains).map(\.cloneFlagName)
        return names.isEmpty ? "0" : names.joined(separator: "|")
    }
}

/// mount(2) flags, named as in <sys/mount.h>.
public struct MountFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let readOnly = MountFlags(rawValue: 1)  // MS_RDONLY
    public static let noSUID = MountFlags(rawValue: 2)  // MS_NOSUID
    public static let noDev = MountFlags(rawValue: 4)  // MS_NODEV
    public static let noExec = MountFlags(rawValue: 8)  // MS_NOEXEC
    public static let synchronous = MountFlags(rawValue: 16)  // MS_SYNCHRONOUS
    public static let remount = MountFlags(rawValue: 32)  // MS_REMOUNT
    public static let mandLock = MountFlags(rawValue: 64)  // MS_MANDLOCK
    public static let dirSync = MountFlags(rawValue: 128)  // MS_DIRSYNC
    public static let noSymFollow = MountFlags(rawValue: 256)  // MS_NOSYMFOLLOW
    public static let noATime = MountFlags(rawValue: 1024)  // MS_NOATIME
    public static let noDirATime = MountFlags(rawValue: 2048)  // MS_NODIRATIME
    public static let bind = MountFlags(rawValue: 4096)  // MS_BIND
    public static let move = MountFlags(rawValue: 8192)  // MS_MOVE
    public static let recursive = MountFlags(rawValue: 16384)  // MS_REC
    public static let silent = MountFlags(rawValue: 32768)  // MS_SILENT
    public static let unbindable = MountFlags(rawValue: 1 << 17)  // MS_UNBINDABLE
    public static let `private` = MountFlags(rawValue: 1 << 18)  // MS_PRIVATE
    public static let slave = MountFlags(rawValue: 1 << 19)  // MS_SLAVE
    public static let shared = MountFlags(rawValue: 1 << 20)  // MS_SHARED
    public static let relATime = MountFlags(rawValue: 1 << 21)  // MS_RELATIME
    public static let strictATime = MountFlags(rawValue: 1 << 24)  // MS_STRICTATIME

    static let names: [(MountFlags, String)] = [
        (.readOnly, "MS_RDONLY"), (.noSUID, "MS_NOSUID"), (.noDev, "MS_NODEV"), (.noExec, "MS_NOEXEC"),
        (.synchronous, "MS_SYNCHRONOUS"), (.remount, "MS_REMOUNT"), (.mandLock, "MS_MANDLOCK"),
        (.dirSync, "MS_DIRSYNC"), (.noSymFollow, "MS_NOSYMFOLLOW"), (.noATime, "MS_NOATIME"),
        (.noDirATime, "MS_NODIRATIME"), (.bind, "MS_BIND"), (.move, "MS_MOVE"), (.recursive, "MS_REC"),
        (.silent, "MS_SILENT"), (.unbindable, "MS_UNBINDABLE"), (.private, "MS_PRIVATE"),
        (.slave, "MS_SLAVE"), (.shared, "MS_SHARED"), (.relATime, "MS_RELATIME"),
        (.strictATime, "MS_STRICTATIME")
    ]

    /// `MS_BIND|MS_REC`, or `0`.
    public var description: String {
        let parts = Self.names.filter { contains($0.0) }.map(\.1)
        return parts.isEmpty ? "0" : parts.joined(separator: "|")
    }
}
