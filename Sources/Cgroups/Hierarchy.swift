import ContlabCore
import Foundation

/// Where each cgroup controller lives on this host. On a pure v1 host every controller has its own
/// hierarchy; on a pure v2 host all are in one; on a hybrid host (like systemd's "hybrid" mode, or
/// a host with v1 memory, pids, cpu… beside a cgroup2 mount that holds only hugetlb) a controller
/// must be used where it really is. Lesson: stage3-cgroups.
public struct CgroupHierarchy: Equatable, Sendable {
    public enum Placement: Equatable, Sendable {
        /// A v1 hierarchy mounted at this path.
        case v1(String)
        /// The v2 unified hierarchy mounted at this path.
        case v2(String)

        public var mountPoint: String {
            switch self {
            case .v1(let path), .v2(let path): return path
            }
        }

        public var version: Int {
            if case .v1 = self { return 1 }
            return 2
        }
    }

    /// v1 mounts: controller → mount point.
    public var v1: [String: String]
    /// The cgroup2 mount, if any, and the controllers its root offers.
    public var v2: String?
    public var v2Controllers: Set<String>

    public init(v1: [String: String], v2: String?, v2Controllers: Set<String>) {
        self.v1 = v1
        self.v2 = v2
        self.v2Controllers = v2Controllers
    }

    /// A v1 hierarchy wins where both have a controller: a controller is active in only one.
    public func placement(of controller: String) -> Placement? {
        if let path = v1[controller] { return .v1(path) }
        if let v2, v2Controllers.contains(controller) { return .v2(v2) }
        // v2 has no devices (nor freezer) controller to enable: device rules are a BPF program
        // attached to the cgroup, and every v2 cgroup has cgroup.freeze. Both work in any v2 directory.
        if let v2, controller == "devices" || controller == "freezer" { return .v2(v2) }
        // A hybrid host's cgroup2 tree, whatever controllers it holds: runc places a container
        // there too, so /proc/PID/cgroup's "0::" line names the container's cgroup.
        if let v2, controller == "unified", !v1.isEmpty { return .v2(v2) }
        return nil
    }

    /// Names `placement` takes that are no controller to enable in cgroup.subtree_control.
    public static let builtIntoV2: Set<String> = ["devices", "freezer", "unified"]

    /// "v1", "v2" or "hybrid", for reports.
    public var mode: String {
        switch (v1.isEmpty, v2 == nil) {
        case (false, true): return "v1"
        case (true, false): return "v2"
        case (false, false): return "hybrid"
        case (true, true): return "none"
        }
    }

    /// Parse /proc/self/mountinfo: v1 mounts carry their controllers in the super options
    /// (`rw,memory`), cgroup2 has one mount. `readControllers` reads cgroup.controllers of a v2
    /// root (a parameter so tests can feed a directory laid out like cgroupfs).
    public static func parse(mountinfo: String, readControllers: (String) -> String?) -> CgroupHierarchy {
        var v1: [String: String] = [:]
        var v2: String?
        let known: Set<String> = [
            "memory", "pids", "cpu", "cpuacct", "cpuset", "devices", "freezer",
            "blkio", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc",
            // systemd's own hierarchy, with no controller: a name.
            "name=systemd"
        ]
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 3 < fields.count, fields.count > 4 else { continue }
            let mountPoint = unescape(String(fields[4]))
            switch fields[dash + 1] {
            case "cgroup":
                for option in fields[dash + 3].split(separator: ",") where known.contains(String(option)) {
                    if v1[String(option)] == nil { v1[String(option)] = mountPoint }
                }
            case "cgroup2":
                if v2 == nil { v2 = mountPoint }
            default:
                continue
            }
        }
        let controllers = v2.flatMap { readControllers($0 + "/cgroup.controllers") } ?? ""
        return CgroupHierarchy(
            v1: v1, v2: v2, v2Controllers: Set(controllers.split(whereSeparator: \.isWhitespace).map(String.init)))
    }

    /// This host's hierarchy.
    public static func current() -> CgroupHierarchy {
        parse(mountinfo: Sys.readText("/proc/self/mountinfo") ?? "", readControllers: Sys.readText)
    }

    /// mountinfo escapes spaces and the like as \040.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var out = ""
        var chars = Array(text)
        var i = 0
        while i < chars.count {
            if chars[i] == "\\", i + 3 < chars.count, let code = UInt8(String(chars[(i + 1)...(i + 3)]), radix: 8) {
                out.append(Character(Unicode.Scalar(code)))
                i += 4
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        chars.removeAll()
        return out
    }
}
