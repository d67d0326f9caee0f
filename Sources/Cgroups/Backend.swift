import ContlabCore
import Foundation

/// What a run's cgroup saw: the kernel's own counters, read after the container ended.
public struct CgroupStats: Equatable, Sendable, Codable {
    /// Highest memory use (v1 memory.max_usage_in_bytes, v2 memory.peak).
    public var memoryPeak: UInt64?
    /// Times the limit was hit (v1 memory.failcnt, v2 memory.events "max").
    public var memoryLimitHits: UInt64?
    /// Processes the OOM killer killed in this cgroup (v1 memory.oom_control "oom_kill",
    /// v2 memory.events "oom_kill").
    public var oomKills: UInt64?
    /// Forks refused by the pids limit (v2 pids.events "max"; v1 has the same file since 4.x).
    public var pidsLimitHits: UInt64?
    /// The most processes and threads the cgroup held at once (pids.peak, in both versions'
    /// pids controller on recent kernels).
    public var pidsPeak: UInt64?

    public init(
        memoryPeak: UInt64? = nil, memoryLimitHits: UInt64? = nil, oomKills: UInt64? = nil,
        pidsLimitHits: UInt64? = nil,
        pidsPeak: UInt64? = nil
    ) {
        self.memoryPeak = memoryPeak
        self.memoryLimitHits = memoryLimitHits
        self.oomKills = oomKills
        self.pidsLimitHits = pidsLimitHits
        self.pidsPeak = pidsPeak
    }
}

/// One write a backend makes to set a limit: the file (relative to the cgroup directory) and the
/// value. Files that may be missing (swap accounting off) are optional.
public struct LimitWrite: Equatable, Sendable {
    public var file: String
    public var value: String
    public var optional: Bool
    public var why: String
    /// `why` in Chinese, for the optional writes whose absence a note explains.
    public var whyZh: String?
    /// Another file for the same setting, written when `file` is missing: the BFQ scheduler's
    /// weights (`blkio.bfq.weight`) where CFQ's `blkio.weight` is gone, with the value it takes.
    public var fallback: Fallback?

    public struct Fallback: Equatable, Sendable {
        public var file: String
        public var value: String

        public init(_ file: String, _ value: String) {
            self.file = file
            self.value = value
        }
    }

    public init(
        _ file: String, _ value: String, optional: Bool = false, fallback: Fallback? = nil, why: String,
        whyZh: String? = nil
    ) {
        self.file = file
        self.value = value
        self.optional = optional
        self.fallback = fallback
        self.why = why
        self.whyZh = whyZh
    }
}

/// The files of one cgroup version: which to write for a limit and which to read for evidence.
/// Backends are pure: they name files and parse their contents; `ContainerCgroup` does the I/O.
public protocol CgroupBackend: Sendable {
    var version: Int { get }
    func memoryWrites(_ bytes: UInt64) -> [LimitWrite]
    func pidsWrites(_ max: Int) -> [LimitWrite]
    func cpuWrites(quota: Int, period: Int) -> [LimitWrite]
    /// Read the counters through `read` (a file name relative to the cgroup → its content).
    func stats(read: (String) -> String?) -> CgroupStats
    /// The files the memory evidence comes from, for the report.
    var evidenceFiles: [String] { get }
}

/// cgroup v1: one hierarchy per controller, one file per value.
public struct CgroupV1: CgroupBackend {
    public init() {}
    public var version: Int { 1 }

    public func memoryWrites(_ bytes: UInt64) -> [LimitWrite] {
        [
            LimitWrite("memory.limit_in_bytes", "\(bytes)", why: "the memory limit"),
            // memsw is memory+swap; equal to the limit, the container cannot escape into swap.
            // It exists only with swap accounting (CONFIG_MEMCG_SWAP, swapaccount=1).
            LimitWrite(
                "memory.memsw.limit_in_bytes", "\(bytes)", optional: true, why: "memory+swap: no swap beyond the limit",
                whyZh: "内存加交换区：超出限制后也不能用交换区")
        ]
    }

    public func pidsWrites(_ max: Int) -> [LimitWrite] {
        [LimitWrite("pids.max", "\(max)", why: "the most processes and threads")]
    }

    public func cpuWrites(quota: Int, period: Int) -> [LimitWrite] {
        [
            LimitWrite("cpu.cfs_period_us", "\(period)", why: "the CFS period"),
            LimitWrite("cpu.cfs_quota_us", "\(quota)", why: "CPU time allowed per period")
        ]
    }

    public func stats(read: (String) -> String?) -> CgroupStats {
        CgroupStats(
            memoryPeak: read("memory.max_usage_in_bytes").flatMap(Self.number),
            // With memsw limited too, the kernel may count the hits there instead.
            memoryLimitHits: [read("memory.failcnt"), read("memory.memsw.failcnt")].compactMap {
                $0.flatMap(Self.number)
            }.max(),
            oomKills: read("memory.oom_control").flatMap { Self.keyed($0, "oom_kill") },
            pidsLimitHits: read("pids.events").flatMap { Self.keyed($0, "max") },
            pidsPeak: read("pids.peak").flatMap(Self.number))
    }

    public var evidenceFiles: [String] {
        ["memory.max_usage_in_bytes", "memory.failcnt", "memory.memsw.failcnt", "memory.oom_control (oom_kill)"]
    }

    static func number(_ text: String) -> UInt64? { UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) }

    /// `key value` lines, as in memory.oom_control, memory.events and pids.events.
    static func keyed(_ text: String, _ key: String) -> UInt64? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return UInt64(parts[1]) }
        }
        return nil
    }
}

/// cgroup v2: one unified hierarchy; limits are `memory.max`, `pids.max`, `cpu.max`, and the
/// evidence is in `memory.peak` (Linux 5.19+) and `memory.events`.
public struct CgroupV2: CgroupBackend {
    public init() {}
    public var version: Int { 2 }

    public func memoryWrites(_ bytes: UInt64) -> [LimitWrite] {
        [
            LimitWrite("memory.max", "\(bytes)", why: "the memory limit"),
            // v2 counts swap separately; 0 keeps the container out of swap altogether.
            LimitWrite(
                "memory.swap.max", "0", optional: true, why: "no swap for the container", whyZh: "容器完全不用交换区")
        ]
    }

    public func pidsWrites(_ max: Int) -> [LimitWrite] {
        [LimitWrite("pids.max", "\(max)", why: "the most processes and threads")]
    }

    public func cpuWrites(quota: Int, period: Int) -> [LimitWrite] {
        [LimitWrite("cpu.max", "\(quota) \(period)", why: "CPU time allowed per period")]
    }

    public func stats(read: (String) -> String?) -> CgroupStats {
        let events = read("memory.events")
        return CgroupStats(
            memoryPeak: read("memory.peak").flatMap(CgroupV1.number),
            memoryLimitHits: events.flatMap { CgroupV1.keyed($0, "max") },
            oomKills: events.flatMap { CgroupV1.keyed($0, "oom_kill") },
            pidsLimitHits: read("pids.events").flatMap { CgroupV1.keyed($0, "max") },
            pidsPeak: read("pids.peak").flatMap(CgroupV1.number))
    }

    public var evidenceFiles: [String] { ["memory.peak", "memory.events (max, oom_kill)"] }
}
