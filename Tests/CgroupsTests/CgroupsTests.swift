import ContlabCore
import TextKit
import XCTest
@testable import Cgroups
@testable import Stage3Cgroups

final class ByteSizeTests: XCTestCase {
    func testReadsSizesLikeDocker() throws {
        XCTAssertEqual(try ByteSize.parse("512k"), 512 * 1024)
        XCTAssertEqual(try ByteSize.parse("64M"), 64 << 20)
        XCTAssertEqual(try ByteSize.parse("64m"), 64 << 20)
        XCTAssertEqual(try ByteSize.parse("1G"), 1 << 30)
        XCTAssertEqual(try ByteSize.parse("1000"), 1000)
        XCTAssertEqual(try ByteSize.parse("10b"), 10)
        for bad in ["10Q", "", "M", "-5M", "1.5G", "64MiB", "99999999999999999999G"] {
            XCTAssertThrowsError(try ByteSize.parse(bad), bad)
        }
        XCTAssertEqual(ByteSize.format(64 << 20), "64 MiB")
        XCTAssertEqual(ByteSize.format(3 << 19), "1.5 MiB")
        XCTAssertEqual(ByteSize.format(100), "100 B")
    }

    func testLimitsRefuseWhatTheKernelWouldNot() throws {
        XCTAssertEqual(
            try CgroupLimits.parse(memory: "64M", pids: "64", cpus: "0.5"),
            CgroupLimits(memoryBytes: 64 << 20, pids: 64, cpus: 0.5))
        XCTAssertEqual(CgroupLimits(cpus: 0.5).cpuQuota, 50_000)
        XCTAssertThrowsError(try CgroupLimits.parse(memory: "0", pids: nil, cpus: nil)) {
            XCTAssertEqual($0 as? LimitError, .memoryTooSmall("0", 0))
        }
        XCTAssertThrowsError(try CgroupLimits.parse(memory: "1k", pids: nil, cpus: nil))
        XCTAssertThrowsError(try CgroupLimits.parse(memory: "10Q", pids: nil, cpus: nil)) {
            XCTAssertTrue("\($0)".contains("512k, 64M, 1G"))
        }
        XCTAssertThrowsError(try CgroupLimits.parse(memory: nil, pids: "0", cpus: nil))
        XCTAssertThrowsError(try CgroupLimits.parse(memory: nil, pids: "many", cpus: nil))
        XCTAssertThrowsError(try CgroupLimits.parse(memory: nil, pids: nil, cpus: "-1"))
        XCTAssertThrowsError(try CgroupLimits.parse(memory: nil, pids: nil, cpus: "0.001"))
        XCTAssertThrowsError(try CgroupLimits.parse(memory: nil, pids: nil, cpus: "nan"))
    }
}

final class HierarchyTests: XCTestCase {
    /// These lab machines: v1 controllers, and a cgroup2 mount whose only controller is hugetlb.
    let hybrid = """
        30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        35 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        38 30 0:34 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        39 30 0:35 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        40 30 0:36 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """
    let pureV2 =
        "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
        + "rw,nsdelegate,memory_recursiveprot\n"

    func testHybridHostUsesEachControllerWhereItIs() {
        let h = CgroupHierarchy.parse(mountinfo: hybrid) { _ in "hugetlb\n" }
        XCTAssertEqual(h.mode, "hybrid")
        XCTAssertEqual(h.placement(of: "memory"), .v1("/sys/fs/cgroup/memory"))
        XCTAssertEqual(h.placement(of: "pids"), .v1("/sys/fs/cgroup/pids"))
        XCTAssertEqual(h.placement(of: "hugetlb"), .v2("/sys/fs/cgroup/unified"))
        XCTAssertNil(h.placement(of: "systemd"), "a named hierarchy is no controller")
        XCTAssertNil(h.placement(of: "io"))
    }

    func testPureV2HostUsesTheUnifiedHierarchy() {
        let h = CgroupHierarchy.parse(mountinfo: pureV2) { path in
            XCTAssertEqual(path, "/sys/fs/cgroup/cgroup.controllers")
            return "cpuset cpu io memory hugetlb pids rdma misc\n"
        }
        XCTAssertEqual(h.mode, "v2")
        XCTAssertEqual(h.placement(of: "memory"), .v2("/sys/fs/cgroup"))
        XCTAssertEqual(h.placement(of: "cpu")?.version, 2)
    }

    func testCoMountedControllersAndEscapes() {
        let text =
            "31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n32 30 0:28 / "
            + "/mnt/with\\040space rw - cgroup cgroup rw,pids\n"
        let h = CgroupHierarchy.parse(mountinfo: text) { _ in nil }
        XCTAssertEqual(h.placement(of: "cpu"), .v1("/sys/fs/cgroup/cpu,cpuacct"))
        XCTAssertEqual(h.placement(of: "cpuacct"), .v1("/sys/fs/cgroup/cpu,cpuacct"))
        XCTAssertEqual(h.placement(of: "pids"), .v1("/mnt/with space"))
        XCTAssertEqual(CgroupHierarchy.parse(mountinfo: "", readControllers: { _ in nil }).mode, "none")
    }
}

final class BackendTests: XCTestCase {
    func testV1NamesItsFilesAndReadsTheOOMCounter() {
        let v1 = CgroupV1()
        XCTAssertEqual(v1.memoryWrites(64 << 20).map(\.file), ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"])
        XCTAssertEqual(v1.cpuWrites(quota: 50_000, period: 100_000).map(\.value), ["100000", "50000"])
        let files = [
            "memory.max_usage_in_bytes": "67108864\n", "memory.failcnt": "3\n", "memory.memsw.failcnt": "5\n",
            "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n", "pids.events": "max 4\n"
        ]
        XCTAssertEqual(
            v1.stats { files[$0] }, CgroupStats(memoryPeak: 64 << 20, memoryLimitHits: 5, oomKills: 1, pidsLimitHits: 4)
        )
    }

    func testV2NamesItsFilesAndReadsMemoryEvents() {
        let v2 = CgroupV2()
        XCTAssertEqual(
            v2.memoryWrites(1 << 30).map { "\($0.file)=\($0.value)" }, ["memory.max=1073741824", "memory.swap.max=0"])
        XCTAssertEqual(v2.cpuWrites(quota: 50_000, period: 100_000).first?.value, "50000 100000")
        let files = [
            "memory.peak": "1234\n", "memory.events": "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n"
        ]
        XCTAssertEqual(
            v2.stats { files[$0] }, CgroupStats(memoryPeak: 1234, memoryLimitHits: 7, oomKills: 1, pidsLimitHits: nil))
    }
}

/// The v2 backend for real, against a directory laid out like cgroupfs: it enables controllers
/// down the tree, writes the limits, places a pid, and removes what it made.
final class V2DirectoryTests: XCTestCase {
    func testCreatesWritesAndRemovesUnderAFakeUnifiedRoot() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cgv2-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        for file in ["cgroup.controllers", "cgroup.subtree_control"] {
            FileManager.default.createFile(atPath: root + "/" + file, contents: Data("memory pids cpu\n".utf8))
        }
        // What the kernel would make inside each new directory.
        let kernelFiles = [
            "cgroup.subtree_control", "cgroup.procs", "memory.max", "memory.swap.max", "pids.max", "cpu.max"
        ]
        let hierarchy = CgroupHierarchy(v1: [:], v2: root, v2Controllers: ["memory", "pids", "cpu"])
        let name = "run-test"
        ContainerCgroup.kernelFilesForTesting = { dir in
            for file in kernelFiles { FileManager.default.createFile(atPath: dir + "/" + file, contents: Data()) }
        }
        defer { ContainerCgroup.kernelFilesForTesting = nil }
        let cgroup = try ContainerCgroup.create(
            limits: CgroupLimits(memoryBytes: 64 << 20, pids: 32, cpus: 0.5),
            hierarchy: hierarchy, name: name)
        let dir = root + "/contlab/" + name
        func read(_ file: String) -> String? { try? String(contentsOfFile: file, encoding: .utf8) }
        XCTAssertEqual(cgroup.directories, [.init(path: dir, version: 2, controllers: ["memory", "pids", "cpu"])])
        XCTAssertEqual(read(root + "/cgroup.subtree_control"), "+memory +pids +cpu")
        XCTAssertEqual(read(root + "/contlab/cgroup.subtree_control"), "+memory +pids +cpu")
        XCTAssertEqual(read(dir + "/memory.max"), "67108864")
        XCTAssertEqual(read(dir + "/memory.swap.max"), "0")
        XCTAssertEqual(read(dir + "/pids.max"), "32")
        XCTAssertEqual(read(dir + "/cpu.max"), "50000 100000")
        try cgroup.add(pid: 4242)
        XCTAssertEqual(read(dir + "/cgroup.procs"), "4242")
        XCTAssertEqual(cgroup.placements, ["memory: v2 \(dir)", "pids: v2 \(dir)", "cpu: v2 \(dir)"])
        // A real cgroupfs directory has only kernel files, which rmdir ignores; here we drop them.
        for file in kernelFiles { try? FileManager.default.removeItem(atPath: dir + "/" + file) }
        cgroup.destroy()
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
        // A path of its own, several levels deep, as an OCI runtime's linux.cgroupsPath.
        let nested = try ContainerCgroup.create(
            relativePath: "/lab/class1/c1", required: ["memory"], optional: ["hugetlb", "pids"],
            hierarchy: hierarchy)
        XCTAssertEqual(nested.directories.map(\.path), [root + "/lab/class1/c1"])
        XCTAssertEqual(nested.directories.first?.controllers, ["memory", "pids"])
        XCTAssertEqual(read(root + "/lab/class1/cgroup.subtree_control"), "+memory +pids")
        XCTAssertThrowsError(
            try ContainerCgroup.create(
                relativePath: "/lab/../etc", required: ["memory"], optional: [], hierarchy: hierarchy))
    }

    func testAMissingControllerIsRefusedAndNothingIsLeft() {
        let hierarchy = CgroupHierarchy(v1: [:], v2: "/nonexistent-cgroup-root", v2Controllers: ["hugetlb"])
        XCTAssertThrowsError(
            try ContainerCgroup.create(limits: CgroupLimits(memoryBytes: 64 << 20), hierarchy: hierarchy)
        ) {
            XCTAssertEqual($0 as? CgroupError, .noController("memory", mode: "v2"))
        }
    }
}

final class ReportTests: XCTestCase {
    func testSideBySideShowsTheVerdicts() {
        let killed = Stage3Run.Report(
            limits: CgroupLimits(memoryBytes: 64 << 20),
            stats: CgroupStats(memoryPeak: 64 << 20, memoryLimitHits: 0, oomKills: 1),
            exit: "killed", exitCode: 137, oomKilled: true, hierarchy: "hybrid",
            placements: [], writes: [], evidenceFiles: [], notes: [])
        var survived = killed
        survived.stats = CgroupStats(memoryPeak: 30 << 20, memoryLimitHits: 0, oomKills: 0)
        survived.exitCode = 0
        survived.oomKilled = false
        let text = Stage3Run.sideBySide([("hog 100M", killed), ("hog 30M", survived)], style: Style(enabled: false))
        let verdict = text.split(separator: "\n").last ?? ""
        XCTAssertTrue(verdict.contains("OOM-killed") && verdict.contains("survived"), text)
        XCTAssertTrue(text.contains("64 MiB"))
        XCTAssertEqual(Stage3Run.describe(.exited(137)), "the command was killed by SIGKILL (exit code 137)")
    }
}
