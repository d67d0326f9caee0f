import ContlabCore
import Foundation
import XCTest

/// What runtime-tools' validation programs showed contlab-runc doing against the runtime-spec,
/// checked here from inside the container and from the host: one test per difference mended.
extension OCIRuntimeTests {
    /// validation/start: process is REQUIRED only when start is called (config.md), so create
    /// applies the rest without one; start then MUST generate an error (runtime.md) and leave the
    /// container created. Its init holds the namespaces, which a process given to exec joins.
    func testACreateWithoutAProcessHoldsTheNamespacesAndStartRefuses() throws {
        let id = "noproc\(Self.tag)"
        let dir = try bundle("noproc", args: []) { config in config.removeValue(forKey: "process") }
        let created = try runtime(["create", "--bundle", dir, id])
        XCTAssertEqual(created.status, 0, created.stderr)
        func state() throws -> [String: Any] { inspectJSON(try runtime(["state", id]).stdout) }
        XCTAssertEqual(try state()["status"] as? String, "created")
        let pid = try state()["pid"] as? Int ?? 0
        XCTAssertGreaterThan(pid, 0)

        let started = try runtime(["start", id])
        XCTAssertNotEqual(started.status, 0, "start without a process must fail")
        XCTAssertTrue(started.stderr.contains("no process"), started.stderr)
        XCTAssertEqual(try state()["status"] as? String, "created", "the failed start had no effect")
        XCTAssertEqual(try state()["pid"] as? Int, pid)

        // From inside: a process given to exec is in the container's PID namespace, whose PID 1
        // is the init still waiting.
        let processFile = work + "/noproc-process.json"
        try Data(#"{"args": ["cat", "/proc/1/cmdline"], "cwd": "/", "env": ["PATH=/bin:/usr/bin"]}"#.utf8)
            .write(to: URL(fileURLWithPath: processFile))
        let exec = try runtime(["exec", "--process", processFile, id])
        XCTAssertEqual(exec.status, 0, exec.stderr)
        XCTAssertTrue(exec.stdout.contains("__oci-init"), "PID 1 inside: \(exec.stdout)")

        XCTAssertEqual(try runtime(["delete", id]).status, 0)
        XCTAssertFalse(
            Sys.readText("/proc/\(pid)/cmdline")?.contains("__oci-init") ?? false, "delete ended the init")

        let ran = try runtime(["run", "--bundle", dir, "noproc-run\(Self.tag)"])
        XCTAssertNotEqual(ran.status, 0, "run has nothing to start")
        XCTAssertTrue(ran.stderr.contains("process"), ran.stderr)
    }
}
