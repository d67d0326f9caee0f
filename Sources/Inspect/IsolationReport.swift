import ContlabCore
import Foundation

/// What `contlab inspect` reports about the process it runs as: the evidence, seen from inside,
/// of what a runtime isolated. Collecting reads the kernel; everything else here is pure.
public struct IsolationReport: Codable, Equatable, Sendable {
    public struct NamespaceEntry: Codable, Equatable, Sendable {
        public var kind: String
        public var id: String?
        /// Compared with the host's id when the runtime passed it in; nil when unknown.
        public var differsFromHost: Bool?
        /// The host's id of the same kind, when the runtime passed it in.
        public var hostId: String?

        public init(kind: String, id: String?, differsFromHost: Bool?, hostId: String? = nil) {
            self.kind = kind
            self.id = id
            self.differsFromHost = differsFromHost
            self.hostId = hostId
        }
    }

    public struct Capabilities: Codable, Equatable, Sendable {
        public var effective: [String]
        public var permitted: [String]
        public var inheritable: [String]
        public var bounding: [String]
        public var ambient: [String]
        /// How many capabilities this kernel knows (CAP_LAST_CAP + 1).
        public var known: Int
    }

    public var pid: Int32
    public var ppid: Int32
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32]
    public var hostname: String
    public var namespaces: [NamespaceEntry]
    public var root: String
    public var rootMount: String?
    /// nil when /proc is not mounted (stage 1).
    public var mountCount: Int?
    public var procMounted: Bool
    public var capabilities: Capabilities?
    public var noNewPrivileges: Bool
    public var seccomp: String
    public var cgroups: [String]
    public var memoryLimit: String?
    public var pidsLimit: String?
    public var uidMap: [String]?
    public var gidMap: [String]?
}

extension IsolationReport {
    /// `pid=pid:[4026531836],mnt=…` as contlab passes the host's ids to its probes.
    public static func parseHostNamespaces(_ text: String) -> [String: String] {
        var ids: [String: String] = [:]
        for item in text.split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { ids[String(kv[0])] = String(kv[1]) }
        }
        return ids
    }

    /// The mountinfo line for "/" (field 5 is the mount point, after " - " come type and source).
    public static func rootMount(fromMountinfo text: String) -> String? {
        var found: String?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == "/" else { continue }
            if let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count {
                found = "\(fields[dash + 2]) (\(fields[dash + 1]))"
            }
        }
        return found
    }

    /// `Seccomp:` from /proc/self/status: 0 disabled, 1 strict, 2 filter.
    public static func seccompMode(fromStatus text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("Seccomp:") {
            switch line.dropFirst(8).trimmingCharacters(in: .whitespaces) {
            case "0": return "disabled"
            case "1": return "strict"
            case "2": return "filter"
            case let other: return other
            }
        }
        return nil
    }

    /// The controller paths of /proc/self/cgroup, and where a controller's files are for them:
    /// v1 lines are `N:memory:/path`, the v2 line is `0::/path`.
    public static func cgroupPath(controller: String, in text: String) -> (path: String, v2: Bool)? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].split(separator: ",").contains(Substring(controller)) { return (String(parts[2]), false) }
        }
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            return (String(line.dropFirst(3)), true)
        }
        return nil
    }
}
