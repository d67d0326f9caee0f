import Foundation

/// The build track: a runtime the student wrote, judged by what it did to the commands the
/// grader ran through it (`runtime run ROOTFS CMD...`). Pure: the grader's driver reports, this
/// decides.
extension Evaluation {
    /// What the driver saw of every level: the build, and each run's status and output.
    static func buildOutcome(_ probe: ProbeOutput) -> (built: Bool, said: String) {
        if let setup = probe.values["setup"] {
            return (
                false,
                "the grader could not prepare ROOTFS, which is no fault of your "
                    + "runtime: \(ProbeOutput.excerpt(setup)) (tell your teacher)"
            )
        }
        let log = (probe.values["buildlog"] ?? "").trimmingCharacters(in: .whitespaces)
        switch probe.values["built"] {
        case "0"?: return (true, "it builds")
        case "missing"?: return (false, "no runtime.c, runtime.py, runtime.go or runtime.swift in the folder")
        case let status?:
            return (false, "the build failed (status \(status))" + (log.isEmpty ? "" : ": \(ProbeOutput.excerpt(log))"))
        case nil: return (false, "the grader did not get as far as the build")
        }
    }

    /// The escape probe's report (its `proofRead`) holds the secret only when it got out.
    static func escaped(_ text: String?, secret: String) -> Bool {
        guard let text, !secret.isEmpty else { return false }
        return text.contains(secret)
    }

    /// B.1, a chroot: the command runs with ROOTFS as its root, its exit status comes back, and
    /// the classic escape gets out (stage 1's lesson, now in the student's own code).
    /// What every check expects when the runtime never ran: the text report tells it by this.
    public static let notBuiltExpected = "the runtime builds and runs"

    /// Every check failed, saying why the runtime never ran.
    static func notBuilt(_ ids: [String], said: String) -> [CheckOutcome] {
        ids.map { CheckOutcome($0, passed: false, expected: notBuiltExpected, seen: said) }
    }

    public static let chrootChecks = ["runs-in-root", "exit-status", "escapes"]
    public static let namespaceChecks = [
        "own-namespaces", "pid-1", "fresh-proc", "contained", "old-root-gone", "hostname"
    ]

    public static func buildChroot(probe: ProbeOutput, marker: String, secret: String) -> [CheckOutcome] {
        let (built, said) = buildOutcome(probe)
        guard built else { return notBuilt(chrootChecks, said: said) }
        let out = (probe.values["out1"] ?? "").trimmingCharacters(in: .whitespaces)
        let status2 = probe.values["status2"]
        let escape = probe.values["escape"]
        return [
            CheckOutcome(
                "runs-in-root", passed: out == marker,
                expected: "runtime run ROOTFS /bin/cat /marker prints the marker the grader left in ROOTFS",
                seen: out.isEmpty
                    ? "it printed nothing (status \(probe.values["status1"] ?? "?"))"
                    : "it printed \(ProbeOutput.excerpt(out))"),
            CheckOutcome(
                "exit-status", passed: status2 == "7",
                expected: "runtime run ROOTFS /bin/sh -c 'exit 7' exits with 7, the command's status",
                seen: status2.map { "it exited with \($0)" } ?? "it did not run"),
            CheckOutcome(
                "escapes", passed: escaped(escape, secret: secret),
                expected:
                    "the chroot escape, run through the runtime, reads a file outside ROOTFS (a chroot alone does not "
                    + "hold)",
                seen: escaped(escape, secret: secret)
                    ? "it got out" : "it did not get out (\(ProbeOutput.excerpt(escape ?? "no report")))")
        ]
    }

    /// B.2, namespaces and pivot_root: from inside, `contlab inspect`, /proc, the mount table,
    /// the hostname and the escape; from outside, the grader's hostname.
    public static func buildNamespaces(probe: ProbeOutput, secret: String, hostname: String, hostnameOutside: String)
        -> [CheckOutcome]
    {
        let (built, said) = buildOutcome(probe)
        guard built else { return notBuilt(namespaceChecks, said: said) }
        let ran = "the runtime exited with \(probe.values["status4"] ?? "?")"
        guard let report = probe.inspect else {
            let printed = ProbeOutput.excerpt(
                probe.text.split(separator: "\n").filter { !$0.contains("=") }.joined(separator: " "))
            return namespaceChecks.map {
                CheckOutcome(
                    $0, passed: false,
                    expected: "runtime run ROOTFS /bin/sh -c PROBE runs the probe, which reports from inside",
                    seen: "no report from inside (\(ran))" + (printed.isEmpty ? "" : ", printing \(printed)"))
            }
        }
        let kinds = ["pid", "mnt", "uts", "ipc", "net"]
        let shared = kinds.filter { kind in report.namespaces.first { $0.kind == kind }?.differsFromHost != true }
        let shellPID = probe.values["shpid"] ?? "?"
        let shellParent = probe.values["shppid"] ?? "?"
        let procParent = probe.values["procppid"] ?? "?"
        // Mounts the container may have: its root, the kernel's file systems, and the bind the
        // grader put in ROOTFS for the probe. The old root, wherever it was put, is none of them.
        let allowed = ["/proc", "/dev", "/sys", "/usr/local/bin/contlab"]
        let stray = probe.mountinfo.compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = String(fields[4])
            return point == "/" || allowed.contains(where: { point == $0 || point.hasPrefix($0 + "/") }) ? nil : point
        }
        let inside = probe.values["hostname"] ?? "?"
        let out = escaped(probe.values["escape2"], secret: secret)
        return [
            CheckOutcome(
                "own-namespaces", passed: shared.isEmpty, expected: "new PID, mount, UTS, IPC and network namespaces",
                seen: shared.isEmpty
                    ? "all five are the container's own" : "shared with the grader: " + shared.joined(separator: ", ")),
            CheckOutcome(
                "pid-1", passed: shellPID == "1" || shellParent == "1",
                expected: "the command is PID 1 of its namespace, or the child of an init that is",
                seen: "its PID is \(shellPID), its parent's \(shellParent)"),
            CheckOutcome(
                "fresh-proc", passed: procParent == shellPID && report.procMounted,
                expected:
                    "a /proc of the new PID namespace: a child's parent in /proc/self/stat is the command's PID "
                    + "(\(shellPID))",
                seen: report.procMounted ? "/proc/self/stat names parent \(procParent)" : "no /proc mounted"),
            CheckOutcome(
                "contained", passed: probe.values["escape2"] != nil && !out,
                expected: "the chroot escape, run inside, stays in ROOTFS (pivot_root, not chroot)",
                seen: out
                    ? "it got out and read the grader's file"
                    : (probe.values["escape2"] == nil ? "the escape probe did not report" : "it stayed inside")),
            CheckOutcome(
                "old-root-gone", passed: stray.isEmpty && !probe.mountinfo.isEmpty,
                expected: "the old root detached after pivot_root: no mount but /, /proc, /dev and /sys",
                seen: stray.isEmpty
                    ? "\(probe.mountinfo.count) mounts, none of the old root's"
                    : "also mounted: " + stray.prefix(4).joined(separator: ", ")),
            CheckOutcome(
                "hostname", passed: inside == hostname && hostnameOutside != hostname,
                expected: "hostname \(hostname) inside, the grader's own outside",
                seen: "inside \(inside), outside \(hostnameOutside)")
        ]
    }

    /// B.3's runs: the memory limit both hogs run under, their sizes, the pids limit and how
    /// many sleepers the spawner tries to start under it.
    public struct BuildLimits: Sendable {
        public var memoryBytes: Int
        public var bigHog: String
        public var smallHog: String
        public var pids: Int
        public var spawned: Int

        public init(memoryBytes: Int, bigHog: String, smallHog: String, pids: Int, spawned: Int) {
            self.memoryBytes = memoryBytes
            self.bigHog = bigHog
            self.smallHog = smallHog
            self.pids = pids
            self.spawned = spawned
        }
    }

    public static let cgroupChecks = ["own-cgroup", "memory-killed", "memory-survives", "pids-limit", "cleaned-up"]

    /// One of B.3's runs as the driver saw it: `LABEL_ready` (what the command wrote when done),
    /// the cgroup its command was in (relative to the lent /sys/fs/cgroup) with that cgroup's
    /// limits and counters, whether the runtime hung, and what was left after it.
    struct CgroupRunReport {
        var values: [String: String]
        var label: String

        func value(_ key: String) -> String? {
            values["\(label)_\(key)"].map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var ready: String? { value("ready").flatMap { $0.isEmpty ? nil : $0 } }
        var memoryDirectory: String? { value("memdir").flatMap { $0.isEmpty ? nil : $0 } }
        var pidsDirectory: String? { value("pidsdir").flatMap { $0.isEmpty ? nil : $0 } }
        var hungSeconds: String? { value("hung") }
        var left: [String] { (value("left") ?? "").split(separator: " ").map(String.init) }

        /// The command ran in a cgroup that is not the driver's own, in both controllers.
        func ownCgroup(driverMemory: String?, driverPids: String?) -> Bool {
            guard let memory = memoryDirectory, let pids = pidsDirectory else { return false }
            return memory != driverMemory && pids != driverPids
        }

        /// What the runtime did with the run, for a check's "seen": its status, a hang, what it said.
        var ran: String {
            var text =
                hungSeconds.map {
                    "the runtime had not exited \($0) s after its command was told to end, and was killed"
                }
                ?? "the runtime exited with \(value("status") ?? "?")"
            if let said = value("said"), !said.isEmpty { text += ", saying \(ProbeOutput.excerpt(said, limit: 100))" }
            return text
        }
    }

    /// A limit file's value as a student reads it: v2's `max` and v1's page-rounded largest
    /// number both mean no limit at all.
    static func limitText(_ value: String) -> String {
        if value.isEmpty { return "nothing" }
        if value == "max" || (UInt64(value) ?? 0) >= 1 << 62 { return "\(value) (no limit)" }
        return value
    }

    /// B.3, limits in a cgroup of the run's own: judged from the hogs' statuses, the spawner's
    /// count, the limit files and the kernel's counters of the cgroup the command was in (read
    /// while it waited), and what was left of that cgroup once the runtime exited.
    public static func buildCgroups(probe: ProbeOutput, limits: BuildLimits) -> [CheckOutcome] {
        let (built, said) = buildOutcome(probe)
        guard built else { return notBuilt(cgroupChecks, said: said) }
        let v = probe.values
        let big = CgroupRunReport(values: v, label: "big")
        let small = CgroupRunReport(values: v, label: "small")
        let spawn = CgroupRunReport(values: v, label: "spawn")
        let driverMemory = v["driver_memdir"], driverPids = v["driver_pidsdir"]
        func own(_ run: CgroupRunReport) -> Bool { run.ownCgroup(driverMemory: driverMemory, driverPids: driverPids) }
        func place(_ run: CgroupRunReport) -> String {
            guard let memory = run.memoryDirectory else { return "no process of the command was found (\(run.ran))" }
            let pids = run.pidsDirectory ?? "?"
            let where_ = memory == pids ? "memory and pids: \(memory)" : "memory: \(memory), pids: \(pids)"
            return where_ + (own(run) ? "" : " (the grader's own, not one the runtime made)")
        }

        // The big hog: killed (the shell in front of it saw 137), under a limit that reads what
        // was asked, with the OOM kill counted by the kernel in that cgroup.
        let bigLimit = big.value("memlimit") ?? ""
        let oomKills = UInt64(big.value("oomkill") ?? "") ?? 0
        let killed = big.ready == "137" && own(big) && bigLimit == "\(limits.memoryBytes)" && oomKills >= 1
        var bigSeen: String
        if big.ready == nil {
            bigSeen = "the command never reported (\(big.ran))"
        } else if !own(big) {
            bigSeen = "the hog's status was \(big.ready!); its cgroup " + place(big)
        } else {
            bigSeen =
                "the hog's status was \(big.ready!) (\(big.ready == "0" ? "it finished: what it touched was not held by the limit" : "137 is SIGKILL")), "
                + "the limit read \(Self.limitText(bigLimit)) when it was done, oom_kill \(big.value("oomkill").map { $0.isEmpty ? "unreadable" : $0 } ?? "unreadable")"
        }

        // The spawner: stopped by the kernel, with the count it reached at most the limit.
        let forks = Int(spawn.ready ?? "")
        let refused = UInt64(spawn.value("pidsrefused") ?? "") ?? 0
        let pidsMax = spawn.value("pidsmax") ?? ""
        let stopped =
            own(spawn) && pidsMax == "\(limits.pids)" && refused > 0
            && forks.map { $0 >= 1 && $0 < limits.pids } == true
        let spawnSeen =
            spawn.ready == nil
            ? "the command never reported (\(spawn.ran))"
            : !own(spawn)
                ? "\(spawn.ready!) of \(limits.spawned) sleepers started; its cgroup " + place(spawn)
                : "\(spawn.ready!) of \(limits.spawned) sleepers started, pids.max read \(Self.limitText(pidsMax)), "
                    + "pids.events max \(spawn.value("pidsrefused").map { $0.isEmpty ? "unreadable" : $0 } ?? "unreadable")"

        // Cleaned up: every run was in a cgroup of its own, and each was gone when the runtime
        // exited by itself.
        let runs = [big, small, spawn]
        let untidy = runs.first { !own($0) || $0.hungSeconds != nil || !$0.left.isEmpty }
        let cleanSeen: String
        switch untidy {
        case nil: cleanSeen = "all three runs' cgroups were gone when the runtime exited"
        case let run? where !own(run): cleanSeen = "the \(run.label) run's cgroup: " + place(run)
        case let run? where run.hungSeconds != nil: cleanSeen = "the \(run.label) run: \(run.ran)"
        case let run?: cleanSeen = "after the \(run.label) run, still there: " + run.left.joined(separator: ", ")
        }

        return [
            CheckOutcome(
                "own-cgroup", passed: own(big),
                expected:
                    "runtime run --memory \(limits.memoryBytes) --pids 64 ROOTFS CMD runs CMD in a cgroup the runtime "
                    + "made, in the memory and pids controllers",
                seen: place(big)),
            CheckOutcome(
                "memory-killed", passed: killed,
                expected:
                    "under --memory \(limits.memoryBytes), contlab hog \(limits.bigHog) is killed (status 137), the "
                    + "cgroup's limit reads \(limits.memoryBytes) and its counters count an OOM kill",
                seen: bigSeen),
            CheckOutcome(
                "memory-survives", passed: small.ready == "0" && own(small),
                expected:
                    "under --memory \(limits.memoryBytes), contlab hog \(limits.smallHog) finishes (status 0) in the "
                    + "runtime's cgroup",
                seen: small.ready.map {
                    "the hog's status was \($0)" + (own(small) ? "" : "; its cgroup " + place(small))
                }
                    ?? "the command never reported (\(small.ran))"),
            CheckOutcome(
                "pids-limit", passed: stopped,
                expected:
                    "under --pids \(limits.pids), a shell starting \(limits.spawned) sleepers gets fewer "
                    + "than \(limits.pids) started, pids.max reads \(limits.pids) and pids.events counts refused "
                    + "forks",
                seen: spawnSeen),
            CheckOutcome(
                "cleaned-up", passed: untidy == nil,
                expected: "after each run, the runtime exits by itself and the cgroup its command was in is gone",
                seen: cleanSeen)
        ]
    }
}
