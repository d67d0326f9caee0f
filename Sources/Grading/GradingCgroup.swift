import Cgroups
import ContlabCore
import Foundation

/// The cgroup parent a host-setup exercise gets: `contlab-grade-PID-RANDOM` in the hierarchy of
/// each controller it needs, with `runner` (where the student's script and everything it
/// starts live, so all of it can be found and killed) and `work` (the student's to configure:
/// $CGROUP). On cgroup v2 the parent hands its controllers down (`cgroup.subtree_control`);
/// `runner` and `work` are siblings because v2 lets only leaves hold processes. Removed with
/// everything the student made under it, after its processes are killed.
final class GradingCgroup {
    struct Place {
        var controller: String
        var root: String
        var version: Int
    }

    let places: [Place]
    let name: String
    static let memoryLimit = 512 << 20
    static let pidsLimit = 512

    /// The parent's path below each hierarchy's root (the same in all): what a grading
    /// container's `linux.cgroupsPath` starts with to be placed inside it.
    let relativeRoot: String

    /// `optional`: hierarchies the parent is made in only where the host has them, with no
    /// limits, so that a container placed under it (`runnerPath`) leaves nothing behind in its
    /// other controllers (contlab-runc makes devices and freezer cgroups at the same path).
    init(controllers: [String], optional: [String] = [], hierarchy: CgroupHierarchy = .current()) throws {
        name = "contlab-grade-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        // Without root, under the user's own subtree (contlab lab setup).
        let base = ContainerCgroup.basePath(hierarchy: hierarchy)
        relativeRoot = (base == "contlab" ? "" : base + "/") + name
        var places: [Place] = []
        for controller in controllers + optional {
            guard let placement = hierarchy.placement(of: controller) else {
                if optional.contains(controller) { continue }
                throw GradingCgroupError.noController(controller, mode: hierarchy.mode)
            }
            places.append(
                Place(
                    controller: controller, root: placement.mountPoint + "/" + relativeRoot, version: placement.version)
            )
        }
        Self.removeStale(in: Set(places.map { ($0.root as NSString).deletingLastPathComponent }))
        // An optional hierarchy this grader may not write (one without root holds only the
        // ones delegated to it) is left out, as contlab-runc then leaves it out too.
        places = places.filter { place in
            guard optional.contains(place.controller), !Sys.isDirectory(place.root) else { return true }
            guard mkdir(place.root, 0o755) == 0 else { return false }
            rmdir(place.root)
            return true
        }
        self.places = places
        do {
            for place in places where !Sys.isDirectory(place.root) {
                try make(place.root)
                if place.version == 2 {
                    // Hand every v2 controller this parent has on to its children.
                    let available = (Sys.readText(place.root + "/cgroup.controllers") ?? "").split(separator: " ").map {
                        "+" + $0.trimmingCharacters(in: .whitespacesAndNewlines)
                    }
                    if !available.isEmpty {
                        try? Sys.writeFile(
                            place.root + "/cgroup.subtree_control", available.joined(separator: " "), record: false)
                    }
                }
                try make(place.root + "/runner")
                try make(place.root + "/work")
            }
            // Whatever the student sets below, the whole parent stays within these.
            for place in places {
                let limits =
                    place.controller == "memory"
                    ? [place.version == 1 ? "memory.limit_in_bytes" : "memory.max": "\(Self.memoryLimit)"]
                    : place.controller == "pids" ? ["pids.max": "\(Self.pidsLimit)"] : [:]
                for (file, value) in limits where Sys.exists(place.root + "/" + file) {
                    try Sys.writeFile(place.root + "/" + file, value, record: false)
                }
            }
        } catch {
            destroy()
            throw error
        }
    }

    private func make(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw GradingCgroupError.create(path, errno: errno) }
    }

    /// `runner` below each hierarchy's root, for a grading container's `linux.cgroupsPath`.
    var runnerPath: String { "/" + relativeRoot + "/runner" }

    /// The `runner` directories of `controllers`, one per hierarchy.
    func runners(_ controllers: [String]) -> [String] {
        Array(Set(places.filter { controllers.contains($0.controller) }.map { $0.root + "/runner" })).sorted()
    }

    /// $CGROUP for `controller`: the directory the student configures.
    func work(_ controller: String) -> String? {
        places.first { $0.controller == controller }.map { $0.root + "/work" }
    }
    func version(_ controller: String) -> Int? { places.first { $0.controller == controller }?.version }

    /// The cgroup.procs files a process joins to be held by this parent (one per hierarchy).
    var runnerProcs: [String] {
        Array(Set(places.map { $0.root + "/runner/cgroup.procs" })).sorted()
    }

    /// Kill everything under the parent, then remove its directories from the leaves up.
    func destroy() {
        for attempt in 0..<100 {
            var any = false
            for root in Set(places.map(\.root)) {
                for dir in Self.tree(root) {
                    for pid in (Sys.readText(dir + "/cgroup.procs") ?? "").split(separator: "\n").compactMap({
                        pid_t($0)
                    }) {
                        kill(pid, SIGKILL)
                        any = true
                    }
                }
            }
            if !any { break }
            usleep(attempt < 10 ? 10_000 : 50_000)
        }
        for root in Set(places.map(\.root)) {
            for dir in Self.tree(root).reversed() { rmdir(dir) }
        }
    }

    /// Parents left by a grader that was killed (SIGKILL, or Ctrl-C mid-grading): their name
    /// carries the grader's PID, and that process is gone.
    static func removeStale(in mountPoints: Set<String>) {
        for mountPoint in mountPoints {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: mountPoint)) ?? []
            where entry.hasPrefix("contlab-grade-") {
                let parts = entry.split(separator: "-")
                guard parts.count == 4, let pid = pid_t(parts[2]), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
                else { continue }
                let root = mountPoint + "/" + entry
                for dir in tree(root) {
                    for victim in (Sys.readText(dir + "/cgroup.procs") ?? "").split(separator: "\n").compactMap({
                        pid_t($0)
                    }) { kill(victim, SIGKILL) }
                }
                usleep(20_000)
                for dir in tree(root).reversed() { rmdir(dir) }
            }
        }
    }

    /// `root` and every cgroup below it, parents before children.
    static func tree(_ root: String) -> [String] {
        guard Sys.isDirectory(root) else { return [] }
        var result = [root]
        var index = 0
        while index < result.count {
            let dir = result[index]
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: dir + "/" + entry, isDirectory: &isDir), isDir.boolValue {
                    result.append(dir + "/" + entry)
                }
            }
            index += 1
        }
        return result
    }
}

enum GradingCgroupError: Error, CustomStringConvertible {
    case noController(String, mode: String)
    case create(String, errno: Int32)

    var description: String {
        switch self {
        case .noController(let controller, let mode):
            return "this host's cgroups (\(mode)) have no \(controller) controller, which the exercise needs"
        case .create(let path, let code):
            return
                "cannot make the grading cgroup \(path): \(String(cString: strerror(code))); run as root on a host "
                + "with cgroupfs mounted"
        }
    }
}
