import Foundation

/// The build track: a runtime the student wrote, judged by what it did to the commands the
/// grader ran through it (`runtime run ROOTFS CMD...`). Pure: the grader's driver reports, this
/// decides.
extension Evaluation {
    /// What the driver saw of every level: the build, and each run's status and output.
    static func buildOutcome(_ probe: ProbeOutput) -> (built: Bool, said: String) {
        if let setup = probe.values["setup"] {
            return (false, "the grader could not prepare ROOTFS, which is no fault of your runtime: \(ProbeOutput.excerpt(setup)) (tell your teacher)")
        }
        let log = (probe.values["buildlog"] ?? "").trimmingCharacters(in: .whitespaces)
        switch probe.values["built"] {
        case "0"?: return (true, "it builds")
        case "missing"?: return (false, "no runtime.c or runtime.py in the folder")
        case let status?: return (false, "the build failed (status \(status))" + (log.isEmpty ? "" : ": \(ProbeOutput.excerpt(log))"))
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
    /// Every check failed, saying why the runtime never ran.
    static func notBuilt(_ ids: [String], said: String) -> [CheckOutcome] {
        ids.map { CheckOutcome($0, passed: false, expected: "the runtime builds and runs", seen: said) }
    }

    public static let chrootChecks = ["runs-in-root", "exit-status", "escapes"]
    public static let namespaceChecks = ["own-namespaces", "pid-1", "fresh-proc", "contained", "old-root-gone", "hostname"]

    public static func buildChroot(probe: ProbeOutput, marker: String, secret: String) -> [CheckOutcome] {
        let (built, said) = buildOutcome(probe)
        guard built else { return notBuilt(chrootChecks, said: said) }
        let out = (probe.values["out1"] ?? "").trimmingCharacters(in: .whitespaces)
        let status2 = probe.values["status2"]
        let escape = probe.values["escape"]
        return [
            CheckOutcome("runs-in-root", passed: out == marker,
                         expected: "runtime run ROOTFS /bin/cat /marker prints the marker the grader left in ROOTFS",
                         seen: out.isEmpty ? "it printed nothing (status \(probe.values["status1"] ?? "?"))" : "it printed \(ProbeOutput.excerpt(out))"),
            CheckOutcome("exit-status", passed: status2 == "7",
                         expected: "runtime run ROOTFS /bin/sh -c 'exit 7' exits with 7, the command's status",
                         seen: status2.map { "it exited with \($0)" } ?? "it did not run"),
            CheckOutcome("escapes", passed: escaped(escape, secret: secret),
                         expected: "the chroot escape, run through the runtime, reads a file outside ROOTFS (a chroot alone does not hold)",
                         seen: escaped(escape, secret: secret) ? "it got out" : "it did not get out (\(ProbeOutput.excerpt(escape ?? "no report")))"),
        ]
    }

    /// B.2, namespaces and pivot_root: from inside, `contlab inspect`, /proc, the mount table,
    /// the hostname and the escape; from outside, the grader's hostname.
    public static func buildNamespaces(probe: ProbeOutput, secret: String, hostname: String, hostnameOutside: String) -> [CheckOutcome] {
        let (built, said) = buildOutcome(probe)
        guard built else { return notBuilt(namespaceChecks, said: said) }
        let ran = "the runtime exited with \(probe.values["status4"] ?? "?")"
        guard let report = probe.inspect else {
            let printed = ProbeOutput.excerpt(probe.text.split(separator: "\n").filter { !$0.contains("=") }.joined(separator: " "))
            return namespaceChecks.map {
                CheckOutcome($0, passed: false, expected: "runtime run ROOTFS /bin/sh -c PROBE runs the probe, which reports from inside",
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
            CheckOutcome("own-namespaces", passed: shared.isEmpty, expected: "new PID, mount, UTS, IPC and network namespaces",
                         seen: shared.isEmpty ? "all five are the container's own" : "shared with the grader: " + shared.joined(separator: ", ")),
            CheckOutcome("pid-1", passed: shellPID == "1" || shellParent == "1",
                         expected: "the command is PID 1 of its namespace, or the child of an init that is",
                         seen: "its PID is \(shellPID), its parent's \(shellParent)"),
            CheckOutcome("fresh-proc", passed: procParent == shellPID && report.procMounted,
                         expected: "a /proc of the new PID namespace: a child's parent in /proc/self/stat is the command's PID (\(shellPID))",
                         seen: report.procMounted ? "/proc/self/stat names parent \(procParent)" : "no /proc mounted"),
            CheckOutcome("contained", passed: probe.values["escape2"] != nil && !out,
                         expected: "the chroot escape, run inside, stays in ROOTFS (pivot_root, not chroot)",
                         seen: out ? "it got out and read the grader's file" : (probe.values["escape2"] == nil ? "the escape probe did not report" : "it stayed inside")),
            CheckOutcome("old-root-gone", passed: stray.isEmpty && !probe.mountinfo.isEmpty,
                         expected: "the old root detached after pivot_root: no mount but /, /proc, /dev and /sys",
                         seen: stray.isEmpty ? "\(probe.mountinfo.count) mounts, none of the old root's" : "also mounted: " + stray.prefix(4).joined(separator: ", ")),
            CheckOutcome("hostname", passed: inside == hostname && hostnameOutside != hostname,
                         expected: "hostname \(hostname) inside, the grader's own outside",
                         seen: "inside \(inside), outside \(hostnameOutside)"),
        ]
    }
}
