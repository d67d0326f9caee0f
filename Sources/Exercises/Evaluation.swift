import Foundation
import Inspect

/// From what the graders observed to check outcomes, one function per grader. Pure: the tests
/// feed them observations; Sources/Grading gathers real ones.
public enum Evaluation {
    // MARK: stage 1

    /// 1.1: the recipe built (`buildError` nil) and the tree, run as a container, showed these.
    public static func rootfsRecipe(buildError: String?, hasShell: Bool, probe: ProbeOutput?, exitStatus: String?)
        -> [CheckOutcome]
    {
        let built = buildError == nil && hasShell
        let probeValues = probe?.values ?? [:]
        return [
            CheckOutcome(
                "builds", passed: built, expected: "the recipe builds a tree with an executable /bin/sh",
                seen: buildError ?? (hasShell ? "built, with /bin/sh" : "built, but the tree has no executable /bin/sh")
            ),
            CheckOutcome(
                "shell", passed: built && exitStatus == "exited with 7",
                expected: "`/bin/sh -c 'exit 7'` in a container of the tree exits with 7",
                seen: exitStatus ?? "not run"),
            CheckOutcome(
                "student", passed: probeValues["uid"] == "1000" && probeValues["home"] == "yes",
                expected: "user student with uid 1000 and a home directory /home/student",
                seen:
                    "uid \(probeValues["uid"].map { $0.isEmpty ? "unknown" : $0 } ?? "not checked"), home \(probeValues["home"] ?? "not checked")"
            ),
            CheckOutcome(
                "tmp", passed: probeValues["tmp"] == "1777",
                expected: "/tmp with mode 1777 (everyone may write, only owners delete)",
                seen: "mode \(probeValues["tmp"].map { $0.isEmpty ? "unknown (no /tmp?)" : $0 } ?? "not checked")")
        ]
    }

    /// 1.2 and 1.3: the jail's run at stage 1 and at stage 2. `wanted` is the secret (1.2) or the
    /// marker process's PID (1.3); the student's script must print it.
    public static func stage1Jail(
        exercise: String, wanted: String, stage1: ProbeOutput, stage1Status: String,
        mountsBefore: Int?, mountsAfter: Int?, stage2: ProbeOutput?, stage2Status: String?
    ) -> [CheckOutcome] {
        let printed = studentLines(stage1.text)
        // The secret cannot be guessed, so printing it anywhere counts; a PID can, so it must be
        // the only line.
        let found = exercise == "1.2" ? printed.contains(wanted) : printed == [wanted]
        let what =
            exercise == "1.2"
            ? "the secret kept outside the root filesystem"
            : "the PID of the process whose command line holds the marker (\(wanted))"
        var outcomes = [
            CheckOutcome(
                exercise == "1.2" ? "escapes" : "finds", passed: found,
                expected: "the script, run at stage 1, prints \(what)",
                seen: "it printed \(ProbeOutput.excerpt(printed.joined(separator: " "))) and \(stage1Status)")
        ]
        let left = (mountsAfter ?? 0) - (mountsBefore ?? 0)
        outcomes.append(
            CheckOutcome(
                "no-mounts-left", passed: mountsBefore != nil && mountsAfter != nil && left <= 0,
                expected: "the script unmounts what it mounted (the container's host sees no new mounts)",
                seen: mountsBefore == nil || mountsAfter == nil
                    ? "the mount table could not be read" : "\(max(left, 0)) mount(s) left behind"))
        if exercise == "1.2" {
            let leaked = stage2.map { studentLines($0.text).contains(wanted) } ?? false
            let failedHonestly = stage2Status != nil && stage2Status != "exited with 0"
            outcomes.append(
                CheckOutcome(
                    "contained-at-stage-2", passed: stage2 != nil && !leaked && failedHonestly,
                    expected: "the same script at stage 2 cannot read the secret and exits non-zero",
                    seen: stage2 == nil
                        ? "not run" : (leaked ? "it read the secret at stage 2" : "it \(stage2Status ?? "did not run")")
                ))
        }
        return outcomes
    }

    /// The student's own lines: the probe's key=value lines are not theirs.
    static func studentLines(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    // MARK: stage 2

    /// 2.1–2.3: `probe` is what the grader's command printed inside the student's namespaces;
    /// `after` what the grader's own (throwaway) namespaces looked like once the script ended.
    public static func unshareScript(
        exercise: String, probe: ProbeOutput, status: String,
        hostnameBefore: String, after: ProbeOutput, variant: Variant = .standard
    ) -> [CheckOutcome] {
        guard let report = probe.inspect else { return noReport(exercise: exercise, status: status, text: probe.text) }
        func differs(_ kind: String) -> (Bool, String) {
            let entry = report.namespaces.first { $0.kind == kind }
            let seen =
                "\(kind) namespace \(entry?.id ?? "unknown"), "
                + (entry?.differsFromHost == true ? "not the grader's" : "the same as the grader's")
            return (entry?.differsFromHost == true, seen)
        }
        switch exercise {
        case "2.1":
            let (own, seen) = differs("pid")
            let shellPID = probe.values["shpid"] ?? "?"
            let procParent = probe.values["procppid"] ?? "?"
            return [
                CheckOutcome(
                    "own-pid-namespace", passed: own, expected: "the command in a PID namespace of its own", seen: seen),
                CheckOutcome(
                    "pid-1", passed: shellPID == "1", expected: "the command is PID 1 ($$ is 1)",
                    seen: "its PID is \(shellPID)"),
                CheckOutcome(
                    "fresh-proc", passed: own && procParent == shellPID,
                    expected:
                        "/proc shows the new PID namespace: a child's parent in /proc/self/stat is the command's PID "
                        + "(\(shellPID))",
                    seen: "/proc/self/stat names parent \(procParent)"
                        + (procParent == shellPID ? "" : ", so /proc is still the old namespace's"))
            ]
        case "2.2":
            let (own, seen) = differs("uts")
            let hostAfter = after.values["hostname"] ?? "?"
            return [
                CheckOutcome(
                    "own-uts-namespace", passed: own, expected: "the command in a UTS namespace of its own", seen: seen),
                CheckOutcome(
                    "hostname-lab", passed: report.hostname == variant.hostname,
                    expected: "hostname \(variant.hostname) inside",
                    seen: "hostname \(report.hostname)"
                        + (variant.otherVariant("hostname", seen: report.hostname).map { "; " + $0 } ?? "")),
                CheckOutcome(
                    "host-hostname-unchanged", passed: hostAfter == hostnameBefore,
                    expected: "outside, the hostname is still \(hostnameBefore)", seen: "outside it is \(hostAfter)")
            ]
        default:
            let (own, seen) = differs("mnt")
            let inside = ProbeOutput.filesystem(at: "/mnt", in: probe.mountinfo)
            let outside = ProbeOutput.filesystem(at: "/mnt", in: after.mountinfo)
            return [
                CheckOutcome(
                    "own-mount-namespace", passed: own, expected: "the command in a mount namespace of its own",
                    seen: seen),
                CheckOutcome(
                    "tmpfs-on-mnt", passed: inside == "tmpfs", expected: "a tmpfs mounted on /mnt inside",
                    seen: inside.map { "\($0) on /mnt" } ?? "nothing mounted on /mnt"),
                CheckOutcome(
                    "host-mounts-unchanged", passed: outside == nil && !after.mountinfo.isEmpty,
                    expected: "outside, nothing mounted on /mnt after the script",
                    seen: outside.map { "\($0) on /mnt outside" } ?? "nothing on /mnt outside")
            ]
        }
    }

    static func noReport(exercise: String, status: String, text: String) -> [CheckOutcome] {
        let ids: [String]
        switch exercise {
        case "2.1": ids = ["own-pid-namespace", "pid-1", "fresh-proc"]
        case "2.2": ids = ["own-uts-namespace", "hostname-lab", "host-hostname-unchanged"]
        default: ids = ["own-mount-namespace", "tmpfs-on-mnt", "host-mounts-unchanged"]
        }
        return ids.map {
            CheckOutcome(
                $0, passed: false,
                expected: "the script runs the command it is given (\"$@\"), which reports from inside",
                seen: "no report from the command: the script \(status), printing \(ProbeOutput.excerpt(text))")
        }
    }

    // MARK: stage 3

    public struct CgroupRun: Equatable, Sendable {
        public var status: String
        public var signaled: Int32?
        public var exitCode: Int32?
        public init(status: String, signaled: Int32? = nil, exitCode: Int32? = nil) {
            self.status = status
            self.signaled = signaled
            self.exitCode = exitCode
        }
    }

    /// 3.1: the student's cgroup exists; a 100 MiB hog in it is OOM-killed, a 30 MiB one is not.
    public static func memoryCgroup(
        made: Bool, setupStatus: String, big: CgroupRun?, small: CgroupRun?, oomKills: UInt64?
    ) -> [CheckOutcome] {
        [
            CheckOutcome(
                "cgroup-made", passed: made, expected: "a cgroup directory lab under $CGROUP",
                seen: made ? "made" : "no $CGROUP/lab after the script (\(setupStatus))"),
            CheckOutcome(
                "big-hog-killed", passed: big?.signaled == SIGKILL && (oomKills ?? 0) >= 1,
                expected: "contlab hog 100M in it is killed by the OOM killer (SIGKILL, oom_kill ≥ 1)",
                seen: "the hog \(big?.status ?? "did not run"), oom_kill \(oomKills.map(String.init) ?? "unreadable")"),
            CheckOutcome(
                "small-hog-survives", passed: small?.exitCode == 0,
                expected: "contlab hog 30M in it exits normally", seen: "the hog \(small?.status ?? "did not run")")
        ]
    }

    /// 3.2: a few processes may start, many may not (pids.events max counts the refusals): 10
    /// and 40 under the standard limit of 20, 3 below and 3 above a variant's limit.
    public static func pidsCgroup(
        made: Bool, setupStatus: String, ten: CgroupRun?, forty: CgroupRun?, refusals: UInt64?,
        variant: Variant = .standard, limit: String? = nil
    ) -> [CheckOutcome] {
        let note = limit.flatMap { variant.otherVariant("pids", seen: $0) }.map { "; pids.max: " + $0 } ?? ""
        return [
            CheckOutcome(
                "cgroup-made", passed: made, expected: "a cgroup directory lab under $CGROUP",
                seen: made ? "made" : "no $CGROUP/lab after the script (\(setupStatus))"),
            CheckOutcome(
                "ten-run", passed: ten?.exitCode == 0,
                expected: "a shell starting \(variant.pidsFew) processes in it succeeds",
                seen: "it \(ten?.status ?? "did not run")" + (ten?.exitCode == 0 ? "" : note)),
            CheckOutcome(
                "forty-refused", passed: (refusals ?? 0) > 0,
                expected:
                    "a shell starting \(variant.pidsMany) processes in it is refused some forks (pids.events max > 0)",
                seen:
                    "pids.events max \(refusals.map(String.init) ?? "unreadable"); the shell \(forty?.status ?? "did not run")"
                    + ((refusals ?? 0) > 0 ? "" : note))
        ]
    }

    /// 3.3: a busy loop in the cgroup is throttled and gets about a fifth of a CPU.
    public static func cpuCgroup(
        made: Bool, setupStatus: String, throttled: UInt64?, cpuSeconds: Double?, wallSeconds: Double
    ) -> [CheckOutcome] {
        let share = cpuSeconds.map { $0 / max(wallSeconds, 0.001) }
        return [
            CheckOutcome(
                "cgroup-made", passed: made, expected: "a cgroup directory lab under $CGROUP",
                seen: made ? "made" : "no $CGROUP/lab after the script (\(setupStatus))"),
            CheckOutcome(
                "throttled", passed: (throttled ?? 0) > 0,
                expected: "a busy loop in it is throttled (cpu.stat nr_throttled > 0)",
                seen: "nr_throttled \(throttled.map(String.init) ?? "unreadable")"),
            CheckOutcome(
                "fifth-of-a-cpu", passed: share.map { $0 >= 0.08 && $0 <= 0.32 } ?? false,
                expected: "the loop gets about 20% of one CPU (between 8% and 32%)",
                seen: share.map {
                    String(format: "%.0f%% (%.2f s of CPU in %.2f s)", $0 * 100, cpuSeconds ?? 0, wallSeconds)
                } ?? "not measured")
        ]
    }

    /// `times` prints the shell's own and its children's user and system time as `0m1.23s 0m0.04s`.
    public static func childrenCPUSeconds(fromTimes text: String) -> Double? {
        let lines = text.split(separator: "\n").filter { $0.contains("m") && $0.contains("s") }
        guard let last = lines.last else { return nil }
        var total = 0.0
        var found = 0
        for field in last.split(separator: " ") {
            let parts = field.dropLast().split(separator: "m")
            guard field.hasSuffix("s"), parts.count == 2, let minutes = Double(parts[0]), let seconds = Double(parts[1])
            else { continue }
            total += minutes * 60 + seconds
            found += 1
        }
        return found == 2 ? total : nil
    }

    // MARK: stage 4

    public struct BundleRun: Equatable, Sendable {
        public var probe: ProbeOutput
        public var status: String
        public init(probe: ProbeOutput, status: String) {
            self.probe = probe
            self.status = status
        }
    }

    /// 4.1–4.3: the student's config.json run under contlab-runc and, when present, runc.
    /// `runc` is nil when runc is not installed.
    public static func ociBundle(
        exercise: String, contlab run: BundleRun, runc: BundleRun?, refused: String?,
        variant: Variant = .standard
    ) -> [CheckOutcome] {
        let ids: [String]
        switch exercise {
        case "4.1": ids = ["read-only-root", "hostname-lab"]
        case "4.2": ids = ["only-net-bind-service", "no-new-privileges"]
        default: ids = ["memory-64m", "hog-killed", "pids-limited"]
        }
        if let refused {
            return (ids + ["runs-under-runc"]).map {
                CheckOutcome($0, passed: false, expected: "a config.json the grader can run", seen: refused)
            }
        }
        var outcomes = effects(ids, run, variant: variant)
        guard let runc else {
            outcomes.append(
                CheckOutcome(
                    "runs-under-runc", passed: outcomes.allSatisfy(\.passed), expected: "the same under runc",
                    seen:
                        "runc was not run on this grader (it is not installed, or the grading runs without root, "
                        + "where runc would need every cgroup hierarchy delegated); contlab-runc's result stands"
                ))
            return outcomes
        }
        let underRunc = effects(ids, runc, variant: variant)
        let failed = underRunc.filter { !$0.passed }
        outcomes.append(
            CheckOutcome(
                "runs-under-runc", passed: failed.isEmpty, expected: "the same effects under runc",
                seen: failed.isEmpty
                    ? "the same under runc"
                    : "under runc: " + failed.map { "\($0.check): \($0.seen)" }.joined(separator: "; ")))
        return outcomes
    }

    static func effects(_ ids: [String], _ run: BundleRun, variant: Variant) -> [CheckOutcome] {
        let report = run.probe.inspect
        let values = run.probe.values
        let noReport =
            "no report from inside: the container \(run.status), printing \(ProbeOutput.excerpt(run.probe.text))"
        return ids.map { id -> CheckOutcome in
            switch id {
            case "read-only-root":
                return CheckOutcome(
                    id, passed: values["rootwrite"] == "refused",
                    expected: "writing a file in / is refused (a read-only root)",
                    seen: values["rootwrite"].map { $0 == "refused" ? "refused" : "the write succeeded" } ?? noReport)
            case "hostname-lab":
                return CheckOutcome(
                    id, passed: report?.hostname == variant.hostname, expected: "hostname \(variant.hostname)",
                    seen: report.map {
                        "hostname \($0.hostname)"
                            + (variant.otherVariant("hostname", seen: $0.hostname).map { "; " + $0 } ?? "")
                    } ?? noReport)
            case "only-net-bind-service":
                let bounding = report?.capabilities?.bounding
                let wanted = ["cap_net_bind_service"]
                return CheckOutcome(
                    id, passed: bounding.map { $0.map { $0.lowercased() } == wanted } ?? false,
                    expected: "the bounding set holds only CAP_NET_BIND_SERVICE (and the effective set has it)",
                    seen: bounding.map { "bounding: " + ($0.isEmpty ? "empty" : $0.joined(separator: ", ")) }
                        ?? noReport)
            case "no-new-privileges":
                return CheckOutcome(
                    id, passed: report?.noNewPrivileges == true, expected: "no_new_privs set",
                    seen: report.map { $0.noNewPrivileges ? "set" : "not set" } ?? noReport)
            case "memory-64m":
                return CheckOutcome(
                    id, passed: report?.memoryLimit == "67108864",
                    expected: "a memory limit of 64 MiB (67108864 bytes)",
                    seen: report.map { "limit \($0.memoryLimit ?? "none")" } ?? noReport)
            case "hog-killed":
                return CheckOutcome(
                    id, passed: values["hog"] == "137", expected: "contlab hog 100M inside is killed (status 137)",
                    seen: values["hog"].map { "the hog's status was \($0)" } ?? noReport)
            default:
                let limit = report?.pidsLimit.flatMap { Int($0) }
                return CheckOutcome(
                    id, passed: limit.map { $0 > 0 && $0 <= 1024 } ?? false, expected: "a pids limit of at most 1024",
                    seen: report.map { "pids.max \($0.pidsLimit ?? "unknown")" } ?? noReport)
            }
        }
    }
}
