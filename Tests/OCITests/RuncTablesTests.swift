import Foundation
import XCTest
@testable import OCI
@testable import Stage4OCI

/// runc's ps and list output, made from text without a container.
final class RuncTablesTests: XCTestCase {
    func testPsKeepsPsOwnTableFilteredToTheContainersPids() throws {
        let ps = """
            UID          PID    PPID  C STIME TTY          TIME CMD
            root           1       0  0 07:00 ?        00:00:01 /sbin/init
            root         412       1  0 07:01 ?        00:00:00 sleep 30
            root         413     412  0 07:01 ?        00:00:00 sh -c 412

            """
        XCTAssertEqual(ProcessTable.filter(ps, pids: [412, 413]), [
            "UID          PID    PPID  C STIME TTY          TIME CMD",
            "root         412       1  0 07:01 ?        00:00:00 sleep 30",
            "root         413     412  0 07:01 ?        00:00:00 sh -c 412",
        ])
        XCTAssertNil(ProcessTable.filter("COMMAND\nsleep\n", pids: [1]), "no PID column to filter by")
        XCTAssertEqual(try RuncCommandLine.parse(["ps", "c1", "-o", "pid,comm"]).verb, .ps(id: "c1", json: false, psArguments: ["-o", "pid,comm"]))
        XCTAssertEqual(try RuncCommandLine.parse(["ps", "--format", "json", "c1"]).verb, .ps(id: "c1", json: true, psArguments: []))
    }

    /// As Go's tabwriter lays out runc list: each column but the last as wide as its widest
    /// cell plus 3, and at least 12.
    func testListColumnsAlignAsRuncs() {
        let lines = ProcessTable.columns([["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
                                          ["web", "4242", "running", "/srv/bundles/web-server", "2026-12-05T08:00:00Z", "root"]])
        XCTAssertEqual(lines, [
            "ID          PID         STATUS      BUNDLE                    CREATED                OWNER",
            "web         4242        running     /srv/bundles/web-server   2026-12-05T08:00:00Z   root",
        ])
    }

    func testRunKeepParses() throws {
        XCTAssertEqual(try RuncCommandLine.parse(["run", "--keep", "-b", "/b", "c1"]).verb,
                       .run(id: "c1", bundle: "/b", pidFile: nil, consoleSocket: nil, detach: false, keep: true))
    }
}
