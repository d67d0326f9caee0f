import Cgroups
import XCTest
@testable import Grading

/// The cgroup parent of a host-setup exercise, laid out in plain directories standing in for
/// cgroupfs: where $CGROUP is and where the script's processes go, on v2, v1 and hybrid hosts.
final class GradingCgroupTests: XCTestCase {
    var base = ""

    override func setUpWithError() throws {
        base = NSTemporaryDirectory() + "contlab-grade-cgtest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        for dir in ["unified", "memory", "pids"] {
            try FileManager.default.createDirectory(atPath: base + "/" + dir, withIntermediateDirectories: true)
        }
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: base)
    }

    func testPureV2PutsEverythingInOneTree() throws {
        let hierarchy = CgroupHierarchy(v1: [:], v2: base + "/unified", v2Controllers: ["memory", "pids", "cpu"])
        let cgroup = try GradingCgroup(controllers: ["memory", "pids"], hierarchy: hierarchy)
        let root = base + "/unified/" + cgroup.name
        XCTAssertEqual(cgroup.work("memory"), root + "/work")
        XCTAssertEqual(cgroup.version("memory"), 2)
        // v2 lets only leaves hold processes: the script lives beside $CGROUP, not above it.
        XCTAssertEqual(cgroup.runnerProcs, [root + "/runner/cgroup.procs"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/work"))
        cgroup.destroy()
        XCTAssertFalse(FileManager.default.fileExists(atPath: root))
    }

    func testHybridUsesEachControllerWhereItIs() throws {
        // These lab machines: memory and pids on v1, a cgroup2 mount with only hugetlb.
        let hierarchy = CgroupHierarchy(
            v1: ["memory": base + "/memory", "pids": base + "/pids"], v2: base + "/unified", v2Controllers: ["hugetlb"])
        let cgroup = try GradingCgroup(controllers: ["memory", "pids"], hierarchy: hierarchy)
        XCTAssertEqual(cgroup.work("memory"), base + "/memory/\(cgroup.name)/work")
        XCTAssertEqual(cgroup.version("memory"), 1)
        XCTAssertEqual(cgroup.runnerProcs.count, 2, "the script joins both hierarchies")
        cgroup.destroy()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: base + "/memory"), [])
    }

    /// B.3's grading container lives in the parent's runner: the parent is made in the
    /// hierarchies contlab-runc will use for it too (devices, freezer), where the host has them,
    /// so that its removal leaves nothing there; only memory and pids are lent.
    func testOptionalHierarchiesAreMadeWhereTheHostHasThem() throws {
        let hybrid = CgroupHierarchy(
            v1: ["memory": base + "/memory", "pids": base + "/pids", "devices": base + "/devices"],
            v2: base + "/unified", v2Controllers: ["hugetlb"])
        try FileManager.default.createDirectory(atPath: base + "/devices", withIntermediateDirectories: true)
        let cgroup = try GradingCgroup(
            controllers: ["memory", "pids"], optional: ["devices", "freezer"], hierarchy: hybrid)
        XCTAssertEqual(cgroup.runnerPath, "/\(cgroup.name)/runner")
        XCTAssertEqual(
            cgroup.runners(["memory", "pids"]),
            [base + "/memory/\(cgroup.name)/runner", base + "/pids/\(cgroup.name)/runner"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: base + "/devices/\(cgroup.name)/runner"))
        cgroup.destroy()
        XCTAssertFalse(FileManager.default.fileExists(atPath: base + "/devices/\(cgroup.name)"))

        let v2 = CgroupHierarchy(v1: [:], v2: base + "/unified", v2Controllers: ["memory", "pids"])
        let unified = try GradingCgroup(
            controllers: ["memory", "pids"], optional: ["devices", "freezer"], hierarchy: v2)
        XCTAssertEqual(
            unified.runners(["memory", "pids"]), [base + "/unified/\(unified.name)/runner"], "one tree on v2")
        unified.destroy()
        XCTAssertFalse(FileManager.default.fileExists(atPath: base + "/unified/\(unified.name)"))
    }

    func testAMissingControllerIsNamed() {
        let hierarchy = CgroupHierarchy(v1: [:], v2: base + "/unified", v2Controllers: ["pids"])
        XCTAssertThrowsError(try GradingCgroup(controllers: ["memory"], hierarchy: hierarchy)) { error in
            XCTAssertTrue("\(error)".contains("no memory controller"), "\(error)")
        }
    }

    func testStaleParentsOfDeadGradersAreRemoved() throws {
        let stale = base + "/pids/contlab-grade-999999-ab"
        try FileManager.default.createDirectory(atPath: stale + "/work/lab", withIntermediateDirectories: true)
        let mine = base + "/pids/contlab-grade-\(getpid())-cd"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: true)
        GradingCgroup.removeStale(in: [base + "/pids"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
        XCTAssertTrue(FileManager.default.fileExists(atPath: mine), "a live grader's parent stays")
    }
}
