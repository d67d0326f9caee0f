import Foundation
import XCTest
@testable import Stage4OCI

/// When a container's process counts as stopped, from /proc/PID/stat alone.
final class ProcessStateTests: XCTestCase {
    /// /proc/PID/stat lines as the kernel writes them (fields 3, 9 and 22 matter).
    func stat(state: String, flags: UInt64, start: UInt64 = 4242, comm: String = "sh") -> String {
        "812 (\(comm)) \(state) 1 812 812 0 -1 \(flags) 120 0 0 0 1 2 0 0 20 0 1 0 \(start) 4321792 200 "
            + "18446744073709551615"
    }

    func testAProcessThatHasExitedReadsStoppedBeforeItIsReaped() throws {
        let running = try XCTUnwrap(StateStore.statFields(stat(state: "S", flags: 0x400100)))
        XCTAssertEqual(running.state, "S")
        XCTAssertEqual(running.startTime, 4242)
        XCTAssertTrue(running.isRunning(startedAt: 4242))
        XCTAssertFalse(running.isRunning(startedAt: 99), "another process has the pid now")
        // PID 1 of a namespace that called exit and waits for the namespace's last processes to
        // be reaped: still S, with PF_EXITING (as measured: flags 0x40010c).
        XCTAssertFalse(
            try XCTUnwrap(StateStore.statFields(stat(state: "S", flags: 0x40010c))).isRunning(startedAt: 4242))
        XCTAssertFalse(
            try XCTUnwrap(StateStore.statFields(stat(state: "Z", flags: 0x40010c))).isRunning(startedAt: 4242))
        XCTAssertFalse(try XCTUnwrap(StateStore.statFields(stat(state: "X", flags: 0))).isRunning(startedAt: nil))
        // A command name holding ") S 1 (" does not shift the fields.
        let tricky = try XCTUnwrap(StateStore.statFields(stat(state: "R", flags: 0x400000, comm: "a) Z 9 (b")))
        XCTAssertEqual(tricky.state, "R")
        XCTAssertTrue(tricky.isRunning(startedAt: 4242))
    }
}
