import Foundation
import XCTest

@testable import Grading

/// The copy of a student's folder a grading works on: what a student's work is made of, and
/// nothing that could block root, fill the disk or bring another user's file along.
final class WorkspaceCopyTests: XCTestCase {
    var base = ""

    override func setUpWithError() throws {
        base = NSTemporaryDirectory() + "contlab-grade-copytest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: base + "/from/sub", withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: base)
    }

    func testOnlyFilesFoldersAndLinksComeAcrossWithinTheLimits() throws {
        let from = base + "/from"
        try "#!/bin/sh\necho hi\n".write(toFile: from + "/run.sh", atomically: false, encoding: .utf8)
        chmod(from + "/run.sh", 0o755)
        try "nested".write(toFile: from + "/sub/notes.txt", atomically: false, encoding: .utf8)
        XCTAssertEqual(symlink("/etc/passwd", from + "/link"), 0)
        XCTAssertEqual(mkfifo(from + "/fifo", 0o644), 0)
        try "shared".write(toFile: base + "/elsewhere", atomically: false, encoding: .utf8)
        XCTAssertEqual(link(base + "/elsewhere", from + "/hardlink"), 0)
        let sparse = open(from + "/sparse", O_CREAT | O_WRONLY, 0o644)
        XCTAssertEqual(ftruncate(sparse, WorkspaceCopy.fileLimit + 1), 0)
        close(sparse)

        let report = try WorkspaceCopy.copy(from: from, to: base + "/to")
        let to = base + "/to"
        XCTAssertEqual(try String(contentsOfFile: to + "/run.sh", encoding: .utf8), "#!/bin/sh\necho hi\n")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: to + "/run.sh"), "modes are kept")
        XCTAssertEqual(try String(contentsOfFile: to + "/sub/notes.txt", encoding: .utf8), "nested")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: to + "/link"), "/etc/passwd")
        XCTAssertEqual(Set(report.skipped.keys), ["fifo", "hardlink", "sparse"], "\(report)")
        for name in ["fifo", "hardlink", "sparse"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: to + "/" + name), name)
        }
    }
}
