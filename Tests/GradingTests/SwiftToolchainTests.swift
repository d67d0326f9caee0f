import XCTest

@testable import Grading

/// Where the build track's grader finds swiftc for a runtime.swift, and what of the host it lends
/// for it: a toolchain of its own outside /usr, at its own path; nothing more under /usr.
final class SwiftToolchainTests: XCTestCase {
    /// A host's links (path to real path) and files, as realpath and a file check see them.
    func find(_ searchPath: String, links: [String: String], files: Set<String>) -> Grader.SwiftToolchain? {
        Grader.swiftToolchain(
            searchPath: searchPath, resolve: { links[$0] ?? (files.contains($0) ? $0 : nil) },
            isFile: { files.contains($0) || links[$0] != nil })
    }

    func testATarballsToolchainIsLentWhole() {
        let bin = "/opt/swift/usr/bin"
        let files: Set = [bin + "/swift-driver", bin + "/swift-frontend"]
        let links = [bin + "/swiftc": bin + "/swift-driver"]
        // On PATH, or not (sudo's PATH leaves /opt out): the same toolchain.
        for searchPath in ["/usr/bin:/opt/swift/usr/bin", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"] {
            XCTAssertEqual(
                find(searchPath, links: links, files: files), Grader.SwiftToolchain(bin: bin, tree: "/opt/swift"))
        }
        // A link to it from /usr/local/bin leads to the tree.
        let linked = links.merging(["/usr/local/bin/swiftc": bin + "/swift-driver"]) { $1 }
        XCTAssertEqual(find("/usr/local/bin", links: linked, files: files)?.tree, "/opt/swift")
    }

    func testAToolchainUnderUsrNeedsNothingMoreAndNoneIsNone() {
        let files: Set = ["/usr/bin/swift-driver", "/usr/bin/swift-frontend"]
        XCTAssertEqual(
            find("/usr/bin:/bin", links: ["/usr/bin/swiftc": "/usr/bin/swift-driver"], files: files),
            Grader.SwiftToolchain(bin: "/usr/bin", tree: nil))
        let debian: Set = [
            "/usr/lib/swift/usr/bin/swift-driver", "/usr/lib/swift/usr/bin/swiftc",
            "/usr/lib/swift/usr/bin/swift-frontend"
        ]
        XCTAssertEqual(
            find("/usr/bin", links: ["/usr/bin/swiftc": "/usr/lib/swift/usr/bin/swift-driver"], files: debian)?.tree,
            nil)
        XCTAssertNil(find("/usr/bin:/bin", links: [:], files: []))
    }

    /// swiftly's proxy sits beside no frontend: it is passed over for a real toolchain.
    func testAProxyIsNotAToolchain() {
        let proxy = "/home/ana/.local/share/swiftly/bin"
        let files: Set = [proxy + "/swiftly", "/opt/swift/usr/bin/swift-driver", "/opt/swift/usr/bin/swift-frontend"]
        let links = [
            proxy + "/swiftc": proxy + "/swiftly", "/opt/swift/usr/bin/swiftc": "/opt/swift/usr/bin/swift-driver"
        ]
        XCTAssertEqual(find(proxy + ":relative/bin", links: links, files: files)?.tree, "/opt/swift")
    }

    func testTheDriverBuildsOnlyWithAToolchainAndSaysSoOtherwise() {
        XCTAssertTrue(Grader.swiftBuild.contains("-module-cache-path /tmp/swift/cache"), Grader.swiftBuild)
        XCTAssertTrue(Grader.swiftBuild.contains("HOME=/tmp/swift"), "the container's /root is unreadable")
        XCTAssertTrue(Grader.swiftBuild.contains("this machine has no swiftc"))
    }
}
