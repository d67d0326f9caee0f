import ContlabCore
import Foundation
import XCTest

/// Reading a file of an untrusted tree (an image's /etc/passwd): resolved inside the tree, a
/// regular file only, bounded. No root needed.
final class ReadInRootTests: XCTestCase {
    var root = ""
    var outside = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "contlab-inroot-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        outside = root + "-outside"
        for dir in [root + "/etc", root + "/usr/lib", outside] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try "host secret\n".write(toFile: outside + "/secret", atomically: true, encoding: .utf8)
        try "root:x:0:0::/root:/bin/sh\n".write(toFile: root + "/usr/lib/passwd", atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: outside)
    }

    func link(_ target: String, at path: String) throws {
        try? FileManager.default.removeItem(atPath: root + "/" + path)
        try FileManager.default.createSymbolicLink(atPath: root + "/" + path, withDestinationPath: target)
    }

    func testSymlinksResolveInsideTheTree() throws {
        try link("../usr/lib/passwd", at: "etc/passwd")
        XCTAssertEqual(
            Sys.readInRoot(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n",
            "a relative link within the tree is followed")
        try link("/usr/lib/passwd", at: "etc/passwd")
        XCTAssertEqual(
            Sys.readInRoot(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n", "an absolute link means the tree's /")
        try link(outside + "/secret", at: "etc/passwd")
        XCTAssertNil(
            Sys.readInRoot(root, "etc/passwd"),
            "an absolute link to the host's file stays in the tree, where it is missing")
        try link("../../../../../../../../" + outside + "/secret", at: "etc/passwd")
        XCTAssertNil(Sys.readInRoot(root, "etc/passwd"), ".. stops at the tree's root")
        // A directory of the path that is a link out of the tree.
        try FileManager.default.removeItem(atPath: root + "/etc")
        try link(outside, at: "etc")
        XCTAssertNil(Sys.readInRoot(root, "etc/secret"))
        XCTAssertEqual(
            Sys.readText(root + "/etc/secret"), "host secret\n", "the same read without it reaches the host's file")
    }

    func testOnlyBoundedRegularFilesAreRead() throws {
        XCTAssertEqual(mkfifo(root + "/etc/passwd", 0o644), 0)
        XCTAssertNil(Sys.readInRoot(root, "etc/passwd"), "a FIFO is refused, not waited on")
        unlink(root + "/etc/passwd")
        try link("/proc/self/root/etc/hostname", at: "etc/passwd")
        XCTAssertNil(Sys.readInRoot(root, "etc/passwd"), "no magic links")
        unlink(root + "/etc/passwd")
        try String(repeating: "x", count: 2000).write(toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
        XCTAssertNil(Sys.readInRoot(root, "etc/passwd", limit: 1000), "over the limit")
        XCTAssertEqual(Sys.readInRoot(root, "etc/passwd", limit: 2000)?.count, 2000)
        XCTAssertNil(Sys.readInRoot(root, "etc/missing"))
        XCTAssertNil(Sys.readInRoot(root + "/nonexistent", "etc/passwd"))
    }
}
