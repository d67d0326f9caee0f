import ContlabCore
import Foundation
import XCTest

/// `contlab stage N --yes` runs every step for real; its output must show each stage's proof.
final class WalkthroughRunTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireRoot() }

    func stage(_ n: Int, _ extra: [String] = []) throws -> Harness.Result {
        try Harness.run(["stage", "\(n)", "--yes"] + extra, timeout: 120)
    }

    func testEachStageShowsItsProof() throws {
        let list = try Harness.run(["stage"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertEqual(list.stdout.split(separator: "\n").count, 5, list.stdout)

        let zero = try stage(0)
        XCTAssertEqual(zero.status, 0, zero.stderr)
        XCTAssertTrue(zero.stdout.contains("shared with host") || zero.stdout.contains("ns pid"), zero.stdout)

        let one = try stage(1)
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains("ESCAPED"), one.stdout)
        XCTAssertTrue(one.stdout.contains("chroot("), "the record of system calls is shown: \(one.stdout + one.stderr)")

        let two = try stage(2)
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertTrue(two.stdout.contains("CONTAINED"), two.stdout)
        XCTAssertTrue((two.stdout + two.stderr).contains("pivot_root(\".\", \".\")"), "the runtime's own record is shown")
        XCTAssertTrue(two.stdout.contains("PID 1 of its namespace") || two.stdout.contains("ppid       2 / 1")
                      || two.stdout.contains("/ 1"), two.stdout)

        let three = try stage(3)
        XCTAssertEqual(three.status, 0, three.stderr)
        XCTAssertTrue(three.stdout.contains("OOM-killed"), three.stdout)
        XCTAssertTrue(three.stdout.contains("survived"), three.stdout)

        let four = try stage(4)
        XCTAssertEqual(four.status, 0, four.stderr)
        XCTAssertTrue(four.stdout.contains("PID 1 of its namespace"), four.stdout)
        // The engines step: one container through the lab's dockerd, and contlab-runc's journal of it.
        XCTAssertTrue(four.stdout.contains("hello from busybox, PID 1"), four.stdout)
        XCTAssertTrue(four.stdout.contains("init: pivot_root"), four.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/contlab-walkthrough"), "the walk-through's scratch is gone")

        let chinese = try stage(2, ["--lang", "zh"])
        XCTAssertTrue(chinese.stdout.contains("第 2 阶段"), chinese.stdout)
    }

    func testBadStageAndStepAreRefused() throws {
        let missing = try Harness.run(["stage", "9"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("there is no stage 9"), missing.stderr)
        let step = try Harness.run(["stage", "1", "--step", "99", "--yes"])
        XCTAssertNotEqual(step.status, 0)
        XCTAssertTrue(step.stderr.contains("--step 99"), step.stderr)
    }
}

