import ContlabCore
import Foundation
import XCTest

/// Stage 3 on this machine's real memory controller: the kernel's counters prove the limit.
final class CgroupStageTests: XCTestCase {
    override func setUpWithError() throws {
        try Harness.requireRoot()
        guard
            Sys.readText("/proc/self/cgroup")?.contains("memory") == true
                || Sys.exists("/sys/fs/cgroup/cgroup.controllers")
        else {
            throw XCTSkip("needs a memory cgroup controller (v1 or v2); this kernel shows none in /proc/self/cgroup")
        }
    }

    /// contlab's cgroups on the host: every `contlab/run-*` directory in every hierarchy.
    func contlabCgroups() -> [String] {
        var found: [String] = []
        let top = "/sys/fs/cgroup"
        var roots = [top]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: top)) ?? [] {
            roots.append(top + "/" + entry)
        }
        for root in roots {
            let dir = root + "/contlab"
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where entry.hasPrefix("run-")
            {
                found.append(dir + "/" + entry)
            }
        }
        return found
    }

    func runWithReport(_ args: [String]) throws -> (Harness.Result, [String: Any]) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).json")
            .path
        defer { unlink(file) }
        let result = try Harness.run(["run", "--stage", "3", "--report-json", file] + args)
        let data = FileManager.default.contents(atPath: file) ?? Data()
        let report = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        XCTAssertFalse(report.isEmpty, "no report: \(result.stderr)")
        return (result, report)
    }

    func testOverTheLimitIsOOMKilledAndTheKernelCountsIt() throws {
        let (result, report) = try runWithReport(["--memory", "48M", "--", "contlab", "hog", "100M"])
        XCTAssertEqual(result.status, 137, result.stderr)
        let stats = report["stats"] as? [String: Any]
        XCTAssertGreaterThanOrEqual(
            stats?["oomKills"] as? Int ?? 0, 1, "memory.oom_control / memory.events count the kill")
        XCTAssertEqual(report["oomKilled"] as? Bool, true)
        XCTAssertLessThanOrEqual(stats?["memoryPeak"] as? Int ?? .max, 48 << 20, "the peak never passed the limit")
        XCTAssertFalse(result.stdout.contains("hog: done"))
    }

    func testUnderTheLimitSurvives() throws {
        let (result, report) = try runWithReport(["--memory", "64M", "--", "contlab", "hog", "24M"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("hog: done"))
        let stats = report["stats"] as? [String: Any]
        XCTAssertEqual(stats?["oomKills"] as? Int, 0)
        XCTAssertGreaterThanOrEqual(stats?["memoryPeak"] as? Int ?? 0, 24 << 20, "the touched pages were charged")
    }

    func testStressNgFromTheHostToolsRootfs() throws {
        _ = try Harness.run(["rootfs", "build", "host-tools"])
        let (_, report) = try runWithReport([
            "--memory", "48M", "--rootfs", "host-tools", "--",
            "stress-ng", "--vm", "1", "--vm-bytes", "120M", "--vm-keep", "--oomable", "--timeout", "3s", "--quiet"
        ])
        XCTAssertGreaterThanOrEqual((report["stats"] as? [String: Any])?["oomKills"] as? Int ?? 0, 1)
    }

    func testThePidsLimitStopsAForkLoop() throws {
        let script = "i=0; while [ $i -lt 30 ]; do sleep 1 & i=$((i+1)); done; wait"
        let (result, report) = try runWithReport(["--pids", "8", "--", "/bin/sh", "-c", script])
        XCTAssertTrue(result.stderr.contains("can't fork"), result.stderr)
        XCTAssertGreaterThanOrEqual((report["stats"] as? [String: Any])?["pidsLimitHits"] as? Int ?? 0, 1)
    }

    func testTheContainerSeesItsOwnLimitsInside() throws {
        let result = try Harness.run([
            "run", "--stage", "3", "--memory", "40M", "--pids", "33", "--quiet", "--",
            "contlab", "inspect", "--json"
        ])
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(report?["memoryLimit"] as? String, "\(40 << 20)")
        XCTAssertEqual(report?["pidsLimit"] as? String, "33")
        XCTAssertTrue(
            (report?["cgroups"] as? [String])?.contains("4:memory:/") ?? false
                || (report?["cgroups"] as? [String])?.contains { $0.hasSuffix("memory:/") } ?? false,
            "the cgroup namespace roots the container at its own cgroup: \(report?["cgroups"] ?? "")")
    }

    func testTwentyParallelRunsEachGetTheirOwnLimit() throws {
        let before = contlabCgroups()
        let outputs = (0..<20).map { _ in Pipe() }
        let processes: [Process] = try (0..<20).map { i in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Harness.binary)
            p.arguments = [
                "run", "--stage", "3", "--memory", "\(16 + i)M", "--quiet", "--", "contlab", "inspect", "--json"
            ]
            p.standardOutput = outputs[i]
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for (i, p) in processes.enumerated() {
            let data = outputs[i].fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
            let report = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            XCTAssertEqual(report?["memoryLimit"] as? String, "\((16 + i) << 20)", "run \(i) sees its own limit")
        }
        XCTAssertEqual(contlabCgroups(), before)
    }

    func testNoCgroupIsLeftWhateverHappens() throws {
        let before = contlabCgroups()
        for _ in 0..<100 {
            XCTAssertEqual(
                try Harness.run(["run", "--stage", "3", "--memory", "32M", "--quiet", "--", "/bin/true"]).status, 0)
        }
        XCTAssertEqual(
            try Harness.run([
                "run", "--stage", "3", "--memory", "32M", "--quiet", "--", "/bin/sh", "-c", "kill -KILL $$"
            ]).status, 137)
        XCTAssertEqual(
            try Harness.run(["run", "--stage", "3", "--memory", "32M", "--quiet", "--", "no-such-command"]).status, 127)
        // Interrupted with Ctrl-C (SIGINT to contlab).
        let process = try Harness.start(["run", "--stage", "3", "--memory", "32M", "--quiet", "--", "/bin/sleep", "30"])
        let deadline = Date().addingTimeInterval(10)
        while contlabCgroups().count == before.count && Date() < deadline { usleep(10_000) }
        usleep(200_000)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(contlabCgroups(), before, "a contlab cgroup was left behind")
    }

    func testBadLimitsFailBeforeAnythingIsMade() throws {
        let before = contlabCgroups()
        for (args, message) in [
            (["--memory", "10Q"], "512k, 64M, 1G"), (["--memory", "0"], "too small"),
            (["--memory", "100"], "too small"), (["--cpus=-1"], "positive number"),
            (["--pids", "0"], "at least 1")
        ] {
            let result = try Harness.run(["run", "--stage", "3"] + args + ["--", "true"])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains(message), "\(args): \(result.stderr)")
        }
        let wrongStage = try Harness.run(["run", "--stage", "2", "--memory", "64M", "--", "true"])
        XCTAssertTrue(wrongStage.stderr.contains("add --stage 3"), wrongStage.stderr)
        XCTAssertEqual(contlabCgroups(), before)
    }
}
