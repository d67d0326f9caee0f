import ContlabCore
import Foundation
import Images
import XCTest

/// removeTree takes away what a container can leave: trees deeper than PATH_MAX and than the
/// open-descriptor limit, unreadable folders, names that are not UTF-8, symlinks (not followed).
final class RemoveTreeTests: XCTestCase {
    var base = ""

    override func setUpWithError() throws {
        base = NSTemporaryDirectory() + "contlab-rmtree-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    }

    override func tearDown() { _ = try? removeTree(base) }

    func testATreeTenThousandLevelsDeepIsRemoved() throws {
        let top = base + "/deep"
        mkdir(top, 0o755)
        var fd = open(top, O_RDONLY | O_DIRECTORY)
        for level in 0..<10_000 {
            XCTAssertEqual(mkdirat(fd, "d", 0o755), 0)
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
            if level % 1000 == 0 { close(openat(fd, "f", O_CREAT | O_WRONLY, 0o644)) }
        }
        close(fd)
        try removeTree(top)
        XCTAssertFalse(FileManager.default.fileExists(atPath: top))
    }

    func testOddNamesUnreadableFoldersAndSymlinks() throws {
        let top = base + "/odd"
        let outside = base + "/outside"
        try FileManager.default.createDirectory(atPath: top + "/locked/inner", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: outside + "/keep", contents: Data("x".utf8))
        FileManager.default.createFile(atPath: top + "/locked/inner/file", contents: Data())
        try FileManager.default.createSymbolicLink(atPath: top + "/link", withDestinationPath: outside)
        // A name that is not UTF-8 (bytes 0xff 0xfe).
        let odd = open(top, O_RDONLY | O_DIRECTORY)
        let name: [CChar] = [CChar(bitPattern: 0xff), CChar(bitPattern: 0xfe), 0]
        XCTAssertEqual(mkdirat(odd, name, 0o755), 0)
        close(odd)
        chmod(top + "/locked", 0o000)
        try removeTree(top)
        XCTAssertFalse(FileManager.default.fileExists(atPath: top))
        XCTAssertTrue(FileManager.default.fileExists(atPath: outside + "/keep"), "a symlink's target is not removed")
        XCTAssertNoThrow(try removeTree(base + "/missing"), "a missing path is no error")
    }
}
