import Cgroups
import ContlabCore
import Foundation
import OCI

/// runc's `events`: the container's cgroup counters as runc's JSON event
/// (`{"type":"stats","id":…,"data":{"cpu":…,"memory":…,"pids":…,"blkio":…}}`), and an
/// `oom` event for each OOM kill. Field names and units are runc's (types/events.go): bytes,
/// nanoseconds of CPU time.
public struct RuncEvent: Encodable, Equatable {
    public var type: String
    public var id: String
    public var data: RuncStats?

    /// One line of JSON with runc's member order (type, id, data), which JSONEncoder does not keep.
    public var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func text<T: Encodable>(_ value: T) -> String {
            (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        }
        return "{\"type\":\(text(type)),\"id\":\(text(id))" + (data.map { ",\"data\":" + text($0) } ?? "") + "}"
    }
}

/// runc's types.Stats, with the fields contlab fills; `nil` is runc's omitempty.
public struct RuncStats: Encodable, Equatable {
    public struct CPU: Encodable, Equatable {
        public struct Usage: Encodable, Equatable {
            var total: UInt64?
            var percpu: [UInt64]?
            var kernel: UInt64 = 0
            var user: UInt64 = 0
        }
        public struct Throttling: Encodable, Equatable {
            var periods: UInt64?
            var throttledPeriods: UInt64?
            var throttledTime: UInt64?
        }
        var usage = Usage()
        var throttling = Throttling()
    }
    public struct MemoryEntry: Encodable, Equatable {
        var limit: UInt64 = 0
        var usage: UInt64?
        var max: UInt64?
        var failcnt: UInt64 = 0
    }
    public struct Memory: Encodable, Equatable {
        var cache: UInt64?
        var usage = MemoryEntry()
        var swap = MemoryEntry()
        var kernel = MemoryEntry()
        var kernelTCP = MemoryEntry()
        var raw: [String: UInt64]?
    }
    public struct Pids: Encodable, Equatable {
        var current: UInt64?
        var limit: UInt64?
    }
    public struct BlkioEntry: Encodable, Equatable {
        var major: UInt64?
        var minor: UInt64?
        var op: String?
        var value: UInt64?
    }
    public struct Blkio: Encodable, Equatable {
        var ioServiceBytesRecursive: [BlkioEntry]?
        var ioServicedRecursive: [BlkioEntry]?
    }
    var cpu = CPU()
    var memory = Memory()
    var pids = Pids()
    var blkio = Blkio()

    /// Read from the files of each controller's directory: `read(controller, file)`, and
    /// `version(controller)` (nil where the container's cgroup has no such directory).
    public static func read(version: (String) -> Int?, read: (String, String) -> String?) -> RuncStats {
        var stats = RuncStats()
        func number(_ controller: String, _ file: String) -> UInt64? {
            guard let text = read(controller, file)?.trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
            return text == "max" ? UInt64.max : UInt64(text)
        }
        func keyed(_ controller: String, _ file: String) -> [String: UInt64] {
            var out: [String: UInt64] = [:]
            for line in (read(controller, file) ?? "").split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 2, let value = UInt64(parts[1]) { out[String(parts[0])] = value }
            }
            return out
        }
        func nonZero(_ value: UInt64?) -> UInt64? { value == 0 ? nil : value }
        /// One v1 memory counter set: PREFIXlimit_in_bytes, usage_in_bytes, max_usage_in_bytes, failcnt.
        func v1Memory(_ prefix: String) -> MemoryEntry {
            MemoryEntry(
                limit: number("memory", prefix + "limit_in_bytes") ?? 0,
                usage: nonZero(number("memory", prefix + "usage_in_bytes")),
                max: nonZero(number("memory", prefix + "max_usage_in_bytes")),
                failcnt: number("memory", prefix + "failcnt") ?? 0)
        }
        func entry(_ device: Substring, _ op: String, _ value: UInt64?) -> BlkioEntry? {
            let numbers = device.split(separator: ":").compactMap { UInt64($0) }
            guard numbers.count == 2 else { return nil }
            return BlkioEntry(major: nonZero(numbers[0]), minor: nonZero(numbers[1]), op: op, value: nonZero(value))
        }
        let raw = keyed("memory", "memory.stat")
        stats.memory.raw = raw.isEmpty ? nil : raw
        switch version("memory") {
        case 1:
            stats.memory.usage = v1Memory("memory.")
            stats.memory.swap = v1Memory("memory.memsw.")
            stats.memory.kernel = v1Memory("memory.kmem.")
            stats.memory.kernelTCP = v1Memory("memory.kmem.tcp.")
            stats.memory.cache = nonZero(raw["cache"])
        case 2:
            stats.memory.usage = MemoryEntry(
                limit: number("memory", "memory.max") ?? 0,
                usage: nonZero(number("memory", "memory.current")),
                max: nonZero(number("memory", "memory.peak")),
                failcnt: keyed("memory", "memory.events")["max"] ?? 0)
            stats.memory.swap = MemoryEntry(
                limit: number("memory", "memory.swap.max") ?? 0,
                usage: nonZero(number("memory", "memory.swap.current")))
            stats.memory.cache = nonZero(raw["file"])
        default:
            break
        }
        if version("pids") != nil {
            let limit = number("pids", "pids.max")
            stats.pids = Pids(
                current: nonZero(number("pids", "pids.current")), limit: limit == UInt64.max ? nil : nonZero(limit))
        }
        // CPU time: v1's cpuacct (USER_HZ ticks for user and system), v2's cpu.stat (µs).
        if version("cpuacct") == 1 {
            let nanosecondsPerTick = 1_000_000_000 / UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
            let times = keyed("cpuacct", "cpuacct.stat")
            let percpu = read("cpuacct", "cpuacct.usage_percpu")?.split(whereSeparator: \.isWhitespace).compactMap {
                UInt64($0)
            }
            stats.cpu.usage = CPU.Usage(
                total: nonZero(number("cpuacct", "cpuacct.usage")), percpu: percpu,
                kernel: (times["system"] ?? 0) * nanosecondsPerTick,
                user: (times["user"] ?? 0) * nanosecondsPerTick)
        }
        if let v = version("cpu") {
            let cpu = keyed("cpu", "cpu.stat")
            if v == 2 {
                stats.cpu.usage = CPU.Usage(
                    total: nonZero(cpu["usage_usec"].map { $0 * 1000 }), percpu: nil,
                    kernel: (cpu["system_usec"] ?? 0) * 1000, user: (cpu["user_usec"] ?? 0) * 1000)
            }
            let throttled = v == 1 ? cpu["throttled_time"] : cpu["throttled_usec"].map { $0 * 1000 }
            stats.cpu.throttling = CPU.Throttling(
                periods: nonZero(cpu["nr_periods"]),
                throttledPeriods: nonZero(cpu["nr_throttled"]), throttledTime: nonZero(throttled))
        }
        if version("blkio") == 1 {
            // "8:0 Read 4096" lines, and a "Total" line without a device.
            func entries(_ file: String) -> [BlkioEntry]? {
                let list = (read("blkio", file) ?? "").split(separator: "\n").compactMap { line -> BlkioEntry? in
                    let parts = line.split(separator: " ")
                    return parts.count == 3 ? entry(parts[0], String(parts[1]), UInt64(parts[2])) : nil
                }
                return list.isEmpty ? nil : list
            }
            stats.blkio = Blkio(
                ioServiceBytesRecursive: entries("blkio.throttle.io_service_bytes_recursive"),
                ioServicedRecursive: entries("blkio.throttle.io_serviced_recursive"))
        } else if version("io") == 2 {
            // v2's io.stat: "8:0 rbytes=N wbytes=N rios=N wios=N …", one line a device.
            var bytes: [BlkioEntry] = [], ios: [BlkioEntry] = []
            for line in (read("io", "io.stat") ?? "").split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard let device = parts.first else { continue }
                var values: [String: UInt64] = [:]
                for pair in parts.dropFirst() {
                    let kv = pair.split(separator: "=")
                    if kv.count == 2, let value = UInt64(kv[1]) { values[String(kv[0])] = value }
                }
                bytes += [entry(device, "Read", values["rbytes"]), entry(device, "Write", values["wbytes"])].compactMap
                { $0 }
                ios += [entry(device, "Read", values["rios"]), entry(device, "Write", values["wios"])].compactMap { $0 }
            }
            stats.blkio = Blkio(
                ioServiceBytesRecursive: bytes.isEmpty ? nil : bytes, ioServicedRecursive: ios.isEmpty ? nil : ios)
        }
        return stats
    }
}

extension OCIRuntime {
    /// The container's counters now, as runc's stats event.
    public func statsEvent(id: String) throws -> RuncEvent {
        let record = try store.load(id)
        guard let cgroup = store.cgroup(of: record) else {
            throw RuntimeError.usage("events: container \"\(id)\" has no cgroup to read (was it created without root?)")
        }
        // v2 keeps cpu.stat's usage in every cgroup, the cpu controller enabled or not; v1's
        // CPU time is cpuacct's, which contlab makes no directory for (one more per start).
        let unified = cgroup.directories.first { $0.version == 2 }
        func directory(_ controller: String) -> ContainerCgroup.Directory? {
            cgroup.directory(for: controller) ?? (controller == "cpu" ? unified : nil)
        }
        let stats = RuncStats.read(version: { directory($0)?.version }) { controller, file in
            directory(controller).flatMap { Sys.readText($0.path + "/" + file) }
        }
        return RuncEvent(type: "stats", id: id, data: stats)
    }

    /// `events`: `statsOnly` prints one stats event; otherwise one every `interval` seconds and an
    /// oom event for each new OOM kill, until the container stops.
    public func events(id: String, statsOnly: Bool, interval: Double, emit: (RuncEvent) -> Void) throws {
        let status = store.status(of: try store.load(id))
        guard ["created", "running", "paused"].contains(status) else {
            throw RuntimeError.wrongStatus(id: id, status: status, operation: "read the events of")
        }
        let first = try statsEvent(id: id)
        emit(first)
        if statsOnly { return }
        let record = try store.load(id)
        var kills = store.cgroup(of: record)?.stats().oomKills ?? 0
        while true {
            usleep(useconds_t(interval * 1_000_000))
            guard let current = try? store.load(id),
                ["created", "running", "paused"].contains(store.status(of: current))
            else { return }
            let now = store.cgroup(of: current)?.stats().oomKills ?? kills
            for _ in 0..<Int(now > kills ? now - kills : 0) { emit(RuncEvent(type: "oom", id: id, data: nil)) }
            kills = max(kills, now)
            guard let event = try? statsEvent(id: id) else { return }
            emit(event)
        }
    }
}
