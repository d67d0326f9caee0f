import ContlabCore
import Foundation
import XCTest
@testable import OCI
@testable import Stage4OCI

final class RuncCommandLineTests: XCTestCase {
    func testGlobalFlagsComeBeforeTheVerbAsContainerdSendsThem() throws {
        let line = try RuncCommandLine.parse(["--root", "/run/containerd/runc/default", "--log", "/x/log.json", "--log-format", "json",
                                              "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "c1"])
        XCTAssertEqual(line.globals.root, "/run/containerd/runc/default")
        XCTAssertEqual(line.globals.logFormat, "json")
        XCTAssertEqual(line.verb, .create(id: "c1", bundle: "/b", pidFile: "/b/init.pid", consoleSocket: nil))
        XCTAssertEqual(try RuncCommandLine.parse(["run", "-d", "--bundle=/b", "c2"]).verb,
                       .run(id: "c2", bundle: "/b", pidFile: nil, consoleSocket: nil, detach: true))
    }

    func testKillTakesNamesNumbersAndDashNumbers() throws {
        XCTAssertEqual(try RuncCommandLine.parse(["kill", "c1"]).verb, .kill(id: "c1", signal: SIGTERM, all: false))
        XCTAssertEqual(try RuncCommandLine.parse(["kill", "--all", "c1", "KILL"]).verb, .kill(id: "c1", signal: SIGKILL, all: true))
        XCTAssertEqual(try RuncCommandLine.parse(["kill", "c1", "-9"]).verb, .kill(id: "c1", signal: SIGKILL, all: false))
        XCTAssertEqual(try RuncCommandLine.parse(["kill", "c1", "15"]).verb, .kill(id: "c1", signal: SIGTERM, all: false))
        XCTAssertThrowsError(try RuncCommandLine.parse(["kill", "c1", "NOPE"]))
    }

    func testRefusesWhatItDoesNotDo() {
        XCTAssertThrowsError(try RuncCommandLine.parse(["exec", "c1"])) { XCTAssertTrue("\($0)".contains("not implemented")) }
        XCTAssertThrowsError(try RuncCommandLine.parse(["run", "--preserve-fds", "2", "c1"])) { XCTAssertTrue("\($0)".contains("--preserve-fds")) }
        XCTAssertThrowsError(try RuncCommandLine.parse(["frobnicate"])) { XCTAssertTrue("\($0)".contains("unknown command")) }
        XCTAssertThrowsError(try RuncCommandLine.parse(["start"])) { XCTAssertTrue("\($0)".contains("needs a container id")) }
        XCTAssertThrowsError(try RuncCommandLine.parse(["--log-format", "xml", "state", "c1"]))
    }
}

final class RootPathTests: XCTestCase {
    func testSymlinksResolveInsideTheRoot() throws {
        let links = ["/r/etc/x": "/opt", "/r/opt": "../../../../usr", "/r/a": "b", "/r/b": "/c"]
        let read = { (path: String) in links[path] }
        XCTAssertEqual(try RootPath.secureJoin(root: "/r", path: "/etc/x/y", readLink: read), "/r/usr/y")
        XCTAssertEqual(try RootPath.secureJoin(root: "/r", path: "/../../etc/passwd", readLink: read), "/r/etc/passwd")
        XCTAssertEqual(try RootPath.secureJoin(root: "/r", path: "/a/d", readLink: read), "/r/c/d")
    }

    func testALongChainOfLinksIsRefusedNotLeftUnresolved() throws {
        // l0 → l1 → … → l41 → /hostside: past the kernel's 40 links, refuse (ELOOP).
        var links: [String: String] = [:]
        for i in 0..<41 { links["/r/l\(i)"] = "/l\(i + 1)" }
        links["/r/l41"] = "/hostside"
        XCTAssertThrowsError(try RootPath.secureJoin(root: "/r", path: "/l0/pwned", readLink: { links[$0] })) { error in
            XCTAssertEqual((error as? SystemCallError)?.errno, ELOOP)
        }
        var short: [String: String] = [:]
        for i in 0..<39 { short["/r/l\(i)"] = "/l\(i + 1)" }
        XCTAssertEqual(try RootPath.secureJoin(root: "/r", path: "/l0/x", readLink: { short[$0] }), "/r/l39/x")
    }
}

final class SysctlAndFilesTests: XCTestCase {
    func testIPCAndNetSysctlsNeedNamespacesOfTheirOwn() {
        let base = #""ociVersion":"1.0.2","root":{"path":"r"}"#
        for (namespaces, key) in [(#"[{"type":"mount"}]"#, "kernel.msgmnb"),
                                  (#"[{"type":"ipc","path":"/proc/1/ns/ipc"}]"#, "kernel.shmmax"),
                                  (#"[{"type":"network","path":"/proc/1/ns/net"}]"#, "net.ipv4.ip_forward")] {
            let json = #"{\#(base),"linux":{"namespaces":\#(namespaces),"sysctl":{"\#(key)":"1"}}}"#
            XCTAssertThrowsError(try SpecCheck.decode(Data(json.utf8)), key) { error in
                XCTAssertEqual((error as? SpecError)?.path, "linux.sysctl.\(key)")
            }
        }
        let fine = #"{\#(base),"linux":{"namespaces":[{"type":"ipc"},{"type":"network"}],"sysctl":{"kernel.msgmnb":"1","net.ipv4.ip_forward":"1"}}}"#
        XCTAssertNoThrow(try SpecCheck.decode(Data(fine.utf8)))
    }

    func testReplacingAFileNeverWritesThroughAPlantedLink() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replace-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = dir + "/victim"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.createSymbolicLink(atPath: dir + "/c.pid.tmp", withDestinationPath: victim)
        try Sys.replaceFile(dir + "/c.pid", Array("4242".utf8))
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious")
        XCTAssertEqual(try String(contentsOfFile: dir + "/c.pid", encoding: .utf8), "4242")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)), ["victim", "c.pid.tmp", "c.pid"], "no temporary left")
    }
}
