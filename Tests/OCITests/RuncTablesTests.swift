import Foundation
import XCTest
@testable import OCI
@testable import Stage4OCI

/// runc's ps, list and events output, made from text without a container.
final class RuncTablesTests: XCTestCase {
    func testPsKeepsPsOwnTableFilteredToTheContainersPids() throws {
        let ps = """
            UID          PID    PPID  C STIME TTY          TIME CMD
            root           1       0  0 07:00 ?        00:00:01 /sbin/init
            root         412       1  0 07:01 ?        00:00:00 sleep 30
            root         413     412  0 07:01 ?        00:00:00 sh -c 412

            """
        XCTAssertEqual(
            ProcessTable.filter(ps, pids: [412, 413]),
            [
                "UID          PID    PPID  C STIME TTY          TIME CMD",
                "root         412       1  0 07:01 ?        00:00:00 sleep 30",
                "root         413     412  0 07:01 ?        00:00:00 sh -c 412"
            ])
        XCTAssertNil(ProcessTable.filter("COMMAND\nsleep\n", pids: [1]), "no PID column to filter by")
        XCTAssertEqual(
            try RuncCommandLine.parse(["ps", "c1", "-o", "pid,comm"]).verb,
            .ps(id: "c1", json: false, psArguments: ["-o", "pid,comm"]))
        XCTAssertEqual(
            try RuncCommandLine.parse(["ps", "--format", "json", "c1"]).verb, .ps(id: "c1", json: true, psArguments: [])
        )
    }

    /// As Go's tabwriter lays out runc list: each column but the last as wide as its widest
    /// cell plus 3, and at least 12.
    func testListColumnsAlignAsRuncs() {
        let lines = ProcessTable.columns([
            ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
            ["web", "4242", "running", "/srv/bundles/web-server", "2026-12-05T08:00:00Z", "root"]
        ])
        XCTAssertEqual(
            lines,
            [
                "ID          PID         STATUS      BUNDLE                    CREATED                OWNER",
                "web         4242        running     /srv/bundles/web-server   2026-12-05T08:00:00Z   root"
            ])
    }

    func testRunKeepAndEventsParse() throws {
        XCTAssertEqual(
            try RuncCommandLine.parse(["run", "--keep", "-b", "/b", "c1"]).verb,
            .run(id: "c1", bundle: "/b", pidFile: nil, consoleSocket: nil, detach: false, keep: true))
        XCTAssertEqual(
            try RuncCommandLine.parse(["events", "--stats", "c1"]).verb, .events(id: "c1", stats: true, interval: 5))
        XCTAssertEqual(
            try RuncCommandLine.parse(["events", "--interval", "250ms", "c1"]).verb,
            .events(id: "c1", stats: false, interval: 0.25))
        XCTAssertThrowsError(try RuncCommandLine.parse(["events", "--interval", "soon", "c1"]))
    }

    /// runc's field names and units from a v1 and a v2 cgroup's files.
    func testStatsReadV1AndV2FilesInRuncsShape() throws {
        let v1: [String: String] = [
            "memory.usage_in_bytes": "1048576\n", "memory.max_usage_in_bytes": "2097152\n",
            "memory.limit_in_bytes": "67108864\n",
            "memory.failcnt": "3\n", "memory.stat": "cache 4096\nrss 8192\n", "pids.current": "2\n",
            "pids.max": "max\n",
            "cpuacct.usage": "5000000\n", "cpuacct.usage_percpu": "3000000 2000000 \n",
            "cpuacct.stat": "user 1\nsystem 2\n",
            "blkio.throttle.io_service_bytes_recursive": "254:0 Read 4096\n254:0 Write 0\nTotal 4096\n"
        ]
        let stats = RuncStats.read(version: { ["memory", "pids", "cpuacct", "blkio"].contains($0) ? 1 : nil }) {
            v1[$1]
        }
        let line = RuncEvent(type: "stats", id: "c1", data: stats).line
        XCTAssertTrue(line.hasPrefix(#"{"type":"stats","id":"c1","data":{"blkio":"#), line)
        XCTAssertEqual(RuncEvent(type: "oom", id: "c1", data: nil).line, #"{"type":"oom","id":"c1"}"#)
        let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        XCTAssertEqual(json["type"] as? String, "stats")
        let data = json["data"] as! [String: Any]
        let memory = data["memory"] as! [String: Any]
        XCTAssertEqual((memory["usage"] as! [String: Any])["usage"] as? Int, 1_048_576)
        XCTAssertEqual((memory["usage"] as! [String: Any])["limit"] as? Int, 67_108_864)
        XCTAssertEqual((memory["usage"] as! [String: Any])["failcnt"] as? Int, 3)
        XCTAssertEqual(memory["cache"] as? Int, 4096)
        XCTAssertEqual((memory["raw"] as! [String: Any])["rss"] as? Int, 8192)
        XCTAssertEqual((data["pids"] as! [String: Any])["current"] as? Int, 2)
        XCTAssertNil((data["pids"] as! [String: Any])["limit"], "no limit: left out, as runc does")
        let usage = (data["cpu"] as! [String: Any])["usage"] as! [String: Any]
        XCTAssertEqual(usage["total"] as? Int, 5_000_000)
        XCTAssertEqual(usage["percpu"] as? [Int], [3_000_000, 2_000_000])
        let ticks = Int(sysconf(Int32(_SC_CLK_TCK)))
        XCTAssertEqual(usage["kernel"] as? Int, 2 * 1_000_000_000 / ticks, "ticks to nanoseconds")
        let io = (data["blkio"] as! [String: Any])["ioServiceBytesRecursive"] as! [[String: Any]]
        XCTAssertEqual(io.count, 2, "the Total line has no device")
        XCTAssertEqual(io.first?["op"] as? String, "Read")
        XCTAssertEqual(io.first?["major"] as? Int, 254)

        let v2: [String: String] = [
            "memory.current": "1048576\n", "memory.max": "max\n",
            "memory.events": "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n",
            "memory.stat": "anon 8192\nfile 4096\n",
            "cpu.stat":
                "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 10\nnr_throttled 4\nthrottled_usec 100\n",
            "io.stat": "254:0 rbytes=4096 wbytes=512 rios=1 wios=2 dbytes=0 dios=0\n"
        ]
        let s2 = RuncStats.read(version: { ["memory", "cpu", "io"].contains($0) ? 2 : nil }) { v2[$1] }
        XCTAssertEqual(s2.memory.usage.limit, UInt64.max)
        XCTAssertEqual(s2.memory.usage.failcnt, 7)
        XCTAssertEqual(s2.memory.cache, 4096)
        XCTAssertEqual(s2.cpu.usage.total, 5_000_000)
        XCTAssertEqual(s2.cpu.usage.user, 3_000_000)
        XCTAssertEqual(s2.cpu.throttling.throttledTime, 100_000)
        XCTAssertEqual(s2.blkio.ioServiceBytesRecursive?.map(\.value), [4096, 512])
        XCTAssertEqual(s2.blkio.ioServicedRecursive?.map(\.op), ["Read", "Write"])
    }
}
