import Foundation
import Inspect
import OCI
import XCTest
@testable import Exercises

final class ProbeAndEvaluationTests: XCTestCase {
    func inspectJSON(pid: String = "pid:[1]", differs: Bool, hostname: String = "lab") -> String {
        """
        {"pid": 2, "ppid": 1, "uid": 0, "gid": 0, "groups": [], "hostname": "\(hostname)",
         "namespaces": [{"kind": "pid", "id": "\(pid)", "differsFromHost": \(differs)},
                        {"kind": "uts", "id": "uts:[2]", "differsFromHost": \(differs)},
                        {"kind": "mnt", "id": "mnt:[3]", "differsFromHost": \(differs)}],
         "root": "/", "procMounted": true, "noNewPrivileges": false, "seccomp": "disabled", "cgroups": []}
        """
    }

    func testProbeOutputSurvivesBytesThatAreNotUTF8() {
        var bytes = Data([0xFF, 0xFE, 0x0A])
        bytes += Data(
            "student says hi\nshpid=1\ninspect-begin\n\(inspectJSON(differs: true))\ninspect-end\nprocppid=1\n".utf8)
        bytes += Data([0xC3, 0x28, 0x0A])
        let probe = ProbeOutput.parse(bytes)
        XCTAssertEqual(probe.values["shpid"], "1")
        XCTAssertEqual(probe.values["procppid"], "1")
        XCTAssertEqual(probe.inspect?.hostname, "lab")
        XCTAssertTrue(probe.text.contains("\u{FFFD}"))
    }

    func testMountinfoFilesystemAt() {
        let lines = ["36 25 0:32 / /mnt rw,relatime shared:1 - tmpfs tmpfs rw", "22 1 8:1 / / rw - ext4 /dev/sda1 rw"]
        XCTAssertEqual(ProbeOutput.filesystem(at: "/mnt", in: lines), "tmpfs")
        XCTAssertNil(ProbeOutput.filesystem(at: "/srv", in: lines))
    }

    func testStage2PassesOnlyWithOwnNamespaces() {
        let good = ProbeOutput.parse("inspect-begin\n\(inspectJSON(differs: true))\ninspect-end\nshpid=1\nprocppid=1\n")
        let outcomes = Evaluation.unshareScript(
            exercise: "2.1", probe: good, status: "exited with 0", hostnameBefore: "vm", after: ProbeOutput())
        XCTAssertTrue(outcomes.allSatisfy(\.passed), "\(outcomes)")
        let shared = ProbeOutput.parse(
            "inspect-begin\n\(inspectJSON(differs: false))\ninspect-end\nshpid=4242\nprocppid=4242\n")
        let failed = Evaluation.unshareScript(
            exercise: "2.1", probe: shared, status: "exited with 0", hostnameBefore: "vm", after: ProbeOutput())
        XCTAssertEqual(failed.map(\.passed), [false, false, false])
        let noReport = Evaluation.unshareScript(
            exercise: "2.2", probe: ProbeOutput.parse("oops"), status: "exited with 127", hostnameBefore: "vm",
            after: ProbeOutput())
        XCTAssertEqual(noReport.count, 3)
        XCTAssertTrue(noReport[0].seen.contains("exited with 127"))
    }

    func testWiredNamespacesPassOnlyWithBothEndsInsideAndAnAnswer() {
        let good = ProbeOutput.parse(
            "status=0\nlog=\na-addresses=10.99.0.2/24 \nb-addresses=10.99.0.3/24 \nping=0\nhost-links=lo \n")
        XCTAssertEqual(Evaluation.wireScript(probe: good).map(\.passed), [true, true, true, true])
        // One end left beside the script, holding B's address: A's ping is answered, by the wrong namespace.
        let hostEnd = ProbeOutput.parse(
            "status=0\na-addresses=10.99.0.2/24 \nb-addresses=\nping=0\nhost-links=lo vb@if2 \n")
        let outcomes = Evaluation.wireScript(probe: hostEnd)
        XCTAssertEqual(outcomes.map(\.passed), [true, false, true, false])
        XCTAssertEqual(outcomes[3].seen, "it has lo, vb")
        XCTAssertTrue(outcomes[1].seen.contains("no IPv4 address"), outcomes[1].seen)
        // Another student's subnet is named as such.
        let other = ProbeOutput.parse(
            "status=0\na-addresses=10.31.0.2/24\nb-addresses=10.31.0.3/24\nping=1\nhost-links=lo\n")
        let mine = Variant(student: "s", values: ["address-a": "10.47.0.2", "address-b": "10.47.0.3"])
        let graded = Evaluation.wireScript(probe: other, variant: mine)
        XCTAssertEqual(graded.map(\.passed), [false, false, false, true])
        XCTAssertTrue(graded[0].seen.contains("another variant's value"), graded[0].seen)
        // A script that never finished: every check fails and says so.
        let none = Evaluation.wireScript(probe: ProbeOutput.parse("student noise ping=0\n"))
        XCTAssertEqual(none.map(\.passed), [false, false, false, false])
        XCTAssertTrue(none[2].seen.contains("the script did not finish"), none[2].seen)
    }

    func testACNIConfigurationIsReadBeforeAnythingRuns() {
        XCTAssertEqual(
            try Evaluation.cniPlugin(configuration: #"{"type": "bridge", "ipam": {"type": "host-local"}}"#).get()
                .plugin, "bridge")
        XCTAssertEqual(
            try Evaluation.cniPlugin(configuration: #"{"type": "bridge", "ipam": {"dataDir": "/tmp/x"}}"#).get()
                .dataDir, "/tmp/x")
        for (text, problem) in [
            ("not json", Evaluation.CNIConfigProblem.notJSON), ("[1]", .notJSON), (#"{"name": "lab"}"#, .noType),
            (#"{"type": "../../bin/sh"}"#, .badType("../../bin/sh")),
            (#"{"type": "/usr/bin/id"}"#, .badType("/usr/bin/id"))
        ] {
            if case .failure(let found) = Evaluation.cniPlugin(configuration: text) {
                XCTAssertEqual(found, problem, text)
            } else {
                XCTFail(text)
            }
        }
        XCTAssertEqual(Evaluation.gateway(of: "172.30.62.0/24"), "172.30.62.1")

        let good = ProbeOutput.parse(
            "add=0\nresult={ \"ips\": [ { \"address\": \"172.30.62.2/24\" } ] "
                + "}\naddresses=172.30.62.2/24 \nping=0\ndel=0\nafter=lo \nleases=0\n"
        )
        XCTAssertEqual(Evaluation.cniConfig(probe: good, problem: nil).map(\.passed), [true, true, true, true])
        let mine = Variant(student: "s", values: ["cni-subnet": "172.30.11.0/24"])
        let others = Evaluation.cniConfig(probe: good, problem: nil, variant: mine)
        // (The grader pings this variant's gateway; a probe that says it answered is taken at its
        // word here. Scoring fails gateway-answers anyway: it requires address-in-subnet.)
        XCTAssertEqual(others.map(\.passed), [true, false, true, true])
        XCTAssertTrue(others[1].seen.contains("another variant's value"), others[1].seen)
        let leaked = ProbeOutput.parse(
            "add=0\nresult=\"ips\" \"address\"\naddresses=172.30.62.2/24\nping=0\ndel=0\nafter=lo eth0@if4\nleases=1\n")
        XCTAssertFalse(
            Evaluation.cniConfig(probe: leaked, problem: nil)[3].passed, "an interface and a lease left after DEL")
        let refused = Evaluation.cniConfig(probe: ProbeOutput(), problem: "net.conf is not a JSON object")
        XCTAssertTrue(refused.allSatisfy { !$0.passed && $0.seen == "net.conf is not a JSON object" })
    }

    func testTheBuildTracksLevelsJudgeWhatTheCommandsSaw() {
        let chroot = ProbeOutput.parse("built=0\nstatus1=0\nout1=m-1 \nstatus2=7\nescape=\"proofRead\":\"s-1\\n\"\n")
        XCTAssertEqual(
            Evaluation.buildChroot(probe: chroot, marker: "m-1", secret: "s-1").map(\.passed), [true, true, true])
        let broken = ProbeOutput.parse("built=1\nbuildlog=runtime.c:3: error: expected ';'\n")
        let failed = Evaluation.buildChroot(probe: broken, marker: "m-1", secret: "s-1")
        XCTAssertEqual(failed.map(\.passed), [false, false, false])
        XCTAssertTrue(
            failed[0].seen.contains("expected ';'"), "the compiler's words reach the student: \(failed[0].seen)")
        // A runtime that printed the marker's name but ran nothing does not pass.
        XCTAssertFalse(
            Evaluation.buildChroot(probe: ProbeOutput.parse("built=0\nout1=m-2\n"), marker: "m-1", secret: "s-1")[0]
                .passed)

        let ns = ["pid", "mnt", "uts", "ipc", "net"].map {
            #"{"kind": "\#($0)", "id": "\#($0):[9]", "differsFromHost": true}"#
        }.joined(separator: ",")
        let inspect =
            #"{"pid": 5, "ppid": 1, "uid": 0, "gid": 0, "groups": [], "hostname": "container", "namespaces": [\#(ns)], "root": "/", "procMounted": true, "noNewPrivileges": false, "seccomp": "disabled", "cgroups": []}"#
        func probe(_ mounts: [String], escape: String = "") -> ProbeOutput {
            ProbeOutput.parse(
                "inspect-begin\n\(inspect)\ninspect-end\nshpid=1\nshppid=0\nprocppid=1\nhostname=container\nmountinfo-begin\n"
                    + mounts.map { "1 0 0:1 / \($0) rw - x x rw" }.joined(separator: "\n")
                    + "\nmountinfo-end\nescape2=\(escape)\nbuilt=0\nstatus4=0\n")
        }
        let good = Evaluation.buildNamespaces(
            probe: probe(["/", "/proc", "/usr/local/bin/contlab"]), secret: "s-1", hostname: "container",
            hostnameOutside: "grader")
        XCTAssertEqual(good.map(\.passed), [true, true, true, true, true, true], "\(good)")
        let kept = Evaluation.buildNamespaces(
            probe: probe(["/", "/proc", "/oldroot", "/oldroot/tmp"]), secret: "s-1", hostname: "container",
            hostnameOutside: "grader")
        XCTAssertEqual(kept.first { $0.check == "old-root-gone" }?.passed, false)
        let escaped = Evaluation.buildNamespaces(
            probe: probe(["/"], escape: "\"proofRead\":\"s-1\""), secret: "s-1", hostname: "container",
            hostnameOutside: "grader")
        XCTAssertEqual(escaped.first { $0.check == "contained" }?.passed, false)
        let silent = Evaluation.buildNamespaces(
            probe: ProbeOutput.parse("built=0\nstatus4=125\nmount proc: Operation not permitted\n"), secret: "s-1",
            hostname: "container", hostnameOutside: "grader")
        XCTAssertTrue(silent.allSatisfy { !$0.passed && $0.seen.contains("Operation not permitted") }, "\(silent)")
    }

    /// B.3, from what the driver printed: the cgroup each run's command was in (v1 paths, or
    /// one v2 directory), its limits and counters, and what was left after the runtime exited.
    func testTheCgroupLevelJudgesTheKernelsCounters() {
        let limits = Evaluation.BuildLimits(
            memoryBytes: 64 << 20, bigHog: "100M", smallHog: "30M", pids: 20, spawned: 40)
        func run(
            _ label: String, ready: String, mem: String = "/memory/runtime-5", pids: String = "/pids/runtime-5",
            limit: String = "67108864", oom: String = "0", pidsMax: String = "64", refused: String = "0",
            left: String = "",
            hung: Bool = false
        ) -> String {
            [
                "\(label)_ready=\(ready)", "\(label)_memdir=\(mem)", "\(label)_pidsdir=\(pids)",
                "\(label)_memlimit=\(limit)",
                "\(label)_oomkill=\(oom)", "\(label)_pidsmax=\(pidsMax)", "\(label)_pidsrefused=\(refused)",
                "\(label)_left=\(left)",
                "\(label)_status=0", hung ? "\(label)_hung=5" : ""
            ].joined(separator: "\n")
        }
        let driver = "driver_memdir=/memory\ndriver_pidsdir=/pids\n"
        func judge(_ runs: [String]) -> [String: Bool] {
            let probe = ProbeOutput.parse(driver + runs.joined(separator: "\n") + "\nbuilt=0\n")
            return Dictionary(
                uniqueKeysWithValues: Evaluation.buildCgroups(probe: probe, limits: limits).map {
                    ($0.check, $0.passed)
                })
        }
        let big = run("big", ready: "137", oom: "1"), small = run("small", ready: "0")
        let spawn = run("spawn", ready: "18", limit: "268435456", pidsMax: "20", refused: "1")
        XCTAssertEqual(judge([big, small, spawn]).values.filter { !$0 }.count, 0, "\(judge([big, small, spawn]))")
        // v2: one directory for both controllers, the driver in a leaf of its own.
        let v2 = ProbeOutput.parse(
            "driver_memdir=/driver\ndriver_pidsdir=/driver\n"
                + [
                    run("big", ready: "137", mem: "/runtime-5", pids: "/runtime-5", oom: "1"),
                    run("small", ready: "0", mem: "/runtime-6", pids: "/runtime-6"),
                    run("spawn", ready: "18", mem: "/runtime-7", pids: "/runtime-7", pidsMax: "20", refused: "3")
                ].joined(separator: "\n")
                + "\nbuilt=0\n")
        XCTAssertTrue(Evaluation.buildCgroups(probe: v2, limits: limits).allSatisfy(\.passed))

        // Limits a second late: the hog finished unlimited, and every sleeper started.
        let late = judge([
            run("big", ready: "0", limit: "9223372036854771712"), small,
            run("spawn", ready: "40", limit: "268435456", pidsMax: "max")
        ])
        XCTAssertEqual(late.filter { !$0.value }.keys.sorted(), ["memory-killed", "pids-limit"])
        // Killed, but by something else than this cgroup's limit (no OOM kill counted there).
        XCTAssertEqual(judge([run("big", ready: "137", oom: "0"), small, spawn])["memory-killed"], false)
        // The command stayed in the driver's cgroup: nothing the runtime made.
        let none = judge([run("big", ready: "137", mem: "/memory", pids: "/pids", oom: "1"), small, spawn])
        XCTAssertEqual(none["own-cgroup"], false)
        XCTAssertEqual(none["cleaned-up"], false, "a cgroup never made is not one cleaned up")
        // v1 with the pids hierarchy not joined.
        XCTAssertEqual(judge([run("big", ready: "137", pids: "/pids", oom: "1"), small, spawn])["own-cgroup"], false)
        // Left behind, or a runtime that had to be killed.
        XCTAssertEqual(
            judge([big, run("small", ready: "0", left: " /memory/runtime-5 /pids/runtime-5"), spawn])["cleaned-up"],
            false)
        let hung = Evaluation.buildCgroups(
            probe: ProbeOutput.parse(
                driver
                    + [big, small, run("spawn", ready: "18", pidsMax: "20", refused: "1", hung: true)]
                    .joined(separator: "\n") + "\nbuilt=0\n"), limits: limits)
        XCTAssertEqual(hung.filter { !$0.passed }.map(\.check), ["cleaned-up"])
        XCTAssertTrue(hung.last?.seen.contains("was killed") ?? false, hung.last?.seen ?? "")
        // Nothing built, nothing judged: every check says why.
        let broken = Evaluation.buildCgroups(
            probe: ProbeOutput.parse("built=1\nbuildlog=runtime.c:9: error: x\n"), limits: limits)
        XCTAssertTrue(broken.allSatisfy { !$0.passed && $0.seen.contains("error: x") })
        XCTAssertEqual(Evaluation.limitText("max"), "max (no limit)")
        XCTAssertEqual(Evaluation.limitText("9223372036854771712"), "9223372036854771712 (no limit)")
    }

    func testHostnameChangedOutsideFails() {
        let probe = ProbeOutput.parse("inspect-begin\n\(inspectJSON(differs: true))\ninspect-end\n")
        let outcomes = Evaluation.unshareScript(
            exercise: "2.2", probe: probe, status: "exited with 0", hostnameBefore: "vm",
            after: ProbeOutput(values: ["hostname": "lab"]))
        XCTAssertEqual(outcomes.map(\.passed), [true, true, false])
    }

    func testTimesOutputGivesChildrenCPU() {
        XCTAssertEqual(
            Evaluation.childrenCPUSeconds(fromTimes: "0m0.00s 0m0.01s\n0m0.29s 0m0.01s\n") ?? 0, 0.30, accuracy: 0.001)
        XCTAssertEqual(
            Evaluation.childrenCPUSeconds(fromTimes: "0m0.00s 0m0.00s\n1m2.50s 0m0.50s\n") ?? 0, 63.0, accuracy: 0.001)
        XCTAssertNil(Evaluation.childrenCPUSeconds(fromTimes: "nothing"))
    }

    func testCPUShareBounds() {
        XCTAssertEqual(
            Evaluation.cpuCgroup(made: true, setupStatus: "", throttled: 3, cpuSeconds: 0.3, wallSeconds: 1.5).map(
                \.passed), [true, true, true])
        XCTAssertEqual(
            Evaluation.cpuCgroup(made: true, setupStatus: "", throttled: 3, cpuSeconds: 0.75, wallSeconds: 1.5).map(
                \.passed), [true, true, false])
    }

    func testMemoryHogMustBeKilledByTheKernel() {
        let killed = Evaluation.CgroupRun(status: "was killed by signal 9", signaled: 9)
        let survived = Evaluation.CgroupRun(status: "exited with 0", exitCode: 0)
        XCTAssertEqual(
            Evaluation.memoryCgroup(made: true, setupStatus: "", big: killed, small: survived, oomKills: 1).map(
                \.passed), [true, true, true])
        // Killed, but not by the OOM killer of this cgroup: no evidence, no points.
        XCTAssertEqual(
            Evaluation.memoryCgroup(made: true, setupStatus: "", big: killed, small: survived, oomKills: 0).map(
                \.passed), [true, false, true])
    }

    func testStage1FindNeedsExactlyThePID() {
        let outcomes = { (text: String) in
            Evaluation.stage1Jail(
                exercise: "1.3", wanted: "17", stage1: ProbeOutput.parse(text), stage1Status: "exited with 0",
                mountsBefore: 20, mountsAfter: 20, stage2: nil, stage2Status: nil
            ).map(\.passed)
        }
        XCTAssertEqual(outcomes("17\n"), [true, true])
        XCTAssertEqual(outcomes("1\n17\n"), [false, true])
    }

    func testBundlesThatReachTheHostAreRefused() throws {
        var spec = DefaultSpec.make(rootless: false)
        XCTAssertNil(BundleAmendment.refusal(spec))
        spec.mounts?.append(Spec.Mount(destination: "/host", type: "bind", source: "/", options: ["rbind"]))
        XCTAssertTrue(BundleAmendment.refusal(spec)?.contains("binds /") ?? false)
        spec = DefaultSpec.make(rootless: false)
        spec.linux?.namespaces = [Spec.Namespace(type: "pid", path: "/proc/1/ns/pid")]
        XCTAssertNotNil(BundleAmendment.refusal(spec))
    }

    func testAmendmentKeepsTheStudentsSettingsAndForcesTheProbe() {
        var spec = DefaultSpec.make(rootless: false)
        spec.hostname = "lab"
        spec.root = Spec.Root(path: "rootfs", readonly: true)
        spec.linux?.namespaces = [Spec.Namespace(type: "uts")]
        let amended = BundleAmendment.amend(spec, rootfs: "/tmp/tree", contlab: "/bin/contlab", hog: true)
        XCTAssertEqual(amended.hostname, "lab")
        XCTAssertEqual(amended.root, Spec.Root(path: "/tmp/tree", readonly: true))
        XCTAssertEqual(amended.process?.args?.first, "/bin/sh")
        XCTAssertTrue(amended.process?.args?.last?.contains("hog 100M") ?? false)
        XCTAssertEqual(Set(amended.linux?.namespaces?.map(\.type) ?? []), ["uts", "network", "pid", "mount", "ipc"])
        XCTAssertEqual(amended.mounts?.last?.source, "/bin/contlab")
        XCTAssertEqual(
            amended.linux?.resources?.memory?.limit, BundleAmendment.memoryCeiling,
            "no limit in the config: the ceiling")
        XCTAssertEqual(amended.linux?.resources?.pids?.limit, BundleAmendment.pidsCeiling)
    }

    func testMountsThatNameHostPathsAreRefused() {
        var spec = DefaultSpec.make(rootless: false)
        XCTAssertNil(BundleAmendment.refusal(spec), "contlab-runc spec's own mounts are all allowed")
        spec.mounts?.append(
            Spec.Mount(
                destination: "/mnt", type: "overlay", source: "overlay",
                options: ["lowerdir=/etc", "upperdir=/tmp/host-upper", "workdir=/tmp/host-work"]))
        XCTAssertTrue(
            BundleAmendment.refusal(spec)?.contains("mounts[7] (/mnt) has type overlay") ?? false,
            "\(String(describing: BundleAmendment.refusal(spec)))")
        spec.mounts?.removeLast()
        spec.mounts?.append(Spec.Mount(destination: "/mnt", type: nil, source: "/dev/sda1"))
        XCTAssertTrue(BundleAmendment.refusal(spec)?.contains("type none") ?? false)
    }

    func testLimitsAboveTheCeilingAreLowered() throws {
        var spec = DefaultSpec.make(rootless: false)
        spec.linux?.resources = Spec.Resources(
            memory: Spec.Memory(limit: 64 << 20, swap: -1), pids: Spec.Pids(limit: 100_000))
        let amended = BundleAmendment.amend(spec, rootfs: "/tmp/tree", contlab: "/bin/contlab", hog: false)
        XCTAssertEqual(
            amended.linux?.resources?.memory?.limit, 64 << 20, "a student's lower limit is kept: it is under test")
        XCTAssertEqual(amended.linux?.resources?.memory?.swap, BundleAmendment.memoryCeiling)
        XCTAssertEqual(amended.linux?.resources?.pids?.limit, BundleAmendment.pidsCeiling)
    }
}
