import ContlabCore
import Foundation
import XCTest

/// PID 1's duties, signals, rootless mode, and what the host keeps after runs end in every way.
final class LifecycleTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireRoot() }

    /// Start `contlab run ... -- CMD` in the background; returns the process.
    func startContainer(_ args: [String]) throws -> Process {
        try Harness.start(["run"] + args)
    }

    /// Wait until a process whose command line contains `marker` exists (the container is up).
    /// contlab's own command line holds the marker too, so contlab processes do not count.
    func waitForProcess(containing marker: String, timeout: TimeInterval = 10) -> pid_t? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = pid_t(entry), let cmdline = Sys.readText("/proc/\(entry)/cmdline") else { continue }
                let words = cmdline.replacingOccurrences(of: "\0", with: " ")
                if words.contains(marker) && !words.contains(" run ") { return pid }
            }
            usleep(20_000)
        }
        return nil
    }

    func testInitPassesSIGTERMOnToTheCommand() throws {
        let marker = "sleep 0.05 # term-\(getpid())"
        let process = try startContainer([
            "--stage", "2", "--", "/bin/sh", "-c", "trap 'exit 42' TERM; while true; do \(marker)\nsleep 0.05; done"
        ])
        XCTAssertNotNil(waitForProcess(containing: "term-\(getpid())"))
        usleep(100_000)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(
            process.terminationStatus, 42, "the shell's TERM trap ran: the signal reached it through the init")
    }

    func testSIGINTEndsTheCommandWith130() throws {
        let process = try startContainer(["--stage", "2", "--", "/bin/sleep", "30"])
        XCTAssertNotNil(waitForProcess(containing: "/bin/sleep 30"))
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertTrue(Harness.hostTraces().processes.isEmpty)
    }

    func testInitReapsOrphans() throws {
        // The subshell's child sleeps briefly and is orphaned to PID 1; when it exits, only the
        // init can reap it. Any process left in state Z means nobody did.
        let script = "(sleep 0.2 &) ; sleep 1; for s in /proc/[0-9]*/stat; do read -r line < $s; echo \"$line\"; done"
        let result = try Harness.run(["run", "--stage", "2", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(result.status, 0, result.stderr)
        let states = result.stdout.split(separator: "\n").compactMap { line -> String? in
            guard let close = line.lastIndex(of: ")") else { return nil }
            return line[line.index(close, offsetBy: 2)...].split(separator: " ").first.map(String.init)
        }
        XCTAssertFalse(states.isEmpty)
        XCTAssertFalse(states.contains("Z"), "a zombie was left unreaped: \(result.stdout)")
    }

    func testKillingContlabWithSIGKILLLeavesNothing() throws {
        let before = Harness.hostTraces()
        let process = try startContainer(["--stage", "2", "--", "/bin/sleep", "300"])
        XCTAssertNotNil(waitForProcess(containing: "/bin/sleep 300"))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        // The init dies of PR_SET_PDEATHSIG, and with it everything in its PID namespace.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && (waitForProcess(containing: "/bin/sleep 300", timeout: 0.01) != nil) {
            usleep(20_000)
        }
        XCTAssertNil(
            waitForProcess(containing: "/bin/sleep 300", timeout: 0.01), "the container's command outlived contlab")
        let after = Harness.hostTraces()
        XCTAssertEqual(after.processes, before.processes)
        XCTAssertEqual(after.mounts, before.mounts)
    }

    func testRootlessAsAnUnprivilegedUser() throws {
        let rootfs = try Harness.busyboxRootfs()
        let nobody: UInt32 = 65534
        let report = try Harness.inspect(["--stage", "2", "--rootfs", rootfs], as: nobody)
        XCTAssertEqual(report["uid"] as? Int, 0, "root inside")
        XCTAssertEqual(report["uidMap"] as? [String], ["0 65534 1"], "mapped to the caller outside")
        XCTAssertEqual(Harness.namespaces(report)["user"]?.differs, true)
        XCTAssertEqual(report["pid"] as? Int, 2)
        let escape1 = try Harness.run(["escape", "--stage", "1", "--rootfs", rootfs, "--json"], as: nobody)
        XCTAssertTrue(escape1.stdout.contains("\"escaped\" : true"), escape1.stdout + escape1.stderr)
        let escape2 = try Harness.run(["escape", "--stage", "2", "--rootfs", rootfs, "--json"], as: nobody)
        XCTAssertTrue(escape2.stdout.contains("\"escaped\" : false"), escape2.stdout + escape2.stderr)
        let user = try Harness.run(["run", "--rootfs", rootfs, "--user", "student", "--", "true"], as: nobody)
        XCTAssertEqual(user.status, 125)
        XCTAssertTrue(user.stderr.contains("rootless containers map only your own user"), user.stderr)
    }

    func testAHundredRunsLeaveTheHostAsItWas() throws {
        _ = try Harness.busyboxRootfs()
        let before = Harness.hostTraces()
        for i in 0..<100 {
            let stage = i % 4 == 0 ? "1" : "2"
            let result = try Harness.run(["run", "--stage", stage, "--", "/bin/true"])
            XCTAssertEqual(result.status, 0, "run \(i): \(result.stderr)")
        }
        let after = Harness.hostTraces()
        XCTAssertEqual(after.mounts, before.mounts, "mounts changed on the host")
        XCTAssertEqual(after.processes, before.processes, "contlab processes were left running")
    }

    func testStage1AsAnotherUserStillEndsWithContlab() throws {
        let before = Harness.hostTraces()
        let process = try startContainer(["--stage", "1", "--user", "student", "--", "/bin/sleep", "272"])
        XCTAssertNotNil(waitForProcess(containing: "/bin/sleep 272"))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let deadline = Date().addingTimeInterval(5)
        while waitForProcess(containing: "/bin/sleep 272", timeout: 0.01) != nil && Date() < deadline { usleep(20_000) }
        XCTAssertNil(waitForProcess(containing: "/bin/sleep 272", timeout: 0.01), "setuid cleared the death signal")
        XCTAssertEqual(Harness.hostTraces().processes, before.processes)
    }
}
