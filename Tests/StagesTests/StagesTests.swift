import ContlabCore
import TextKit
import XCTest
@testable import Inspect
@testable import Stage1Chroot
@testable import Stage2Namespaces

final class RunRequestTests: XCTestCase {
    let users = UserDatabase(
        passwd: "root:x:0:0:root:/root:/bin/sh\nstudent:x:1000:1000::/home/student:/bin/sh\n",
        group: "root:x:0:\nstudent:x:1000:\n")

    func testEachStageAddsItsNamespaces() {
        XCTAssertEqual(RunRequest.namespaces(stage: 1, rootless: false, kernelHasCgroupNamespace: true), [])
        XCTAssertEqual(RunRequest.namespaces(stage: 1, rootless: true, kernelHasCgroupNamespace: true), [.user])
        XCTAssertEqual(
            RunRequest.namespaces(stage: 2, rootless: false, kernelHasCgroupNamespace: true),
            [.pid, .mount, .uts, .ipc, .network, .cgroup])
        XCTAssertEqual(
            RunRequest.namespaces(stage: 2, rootless: true, kernelHasCgroupNamespace: false),
            [.user, .pid, .mount, .uts, .ipc, .network])
    }

    func testPlanBuildsEnvironmentAndIdentityLikeDockerRun() throws {
        var request = RunRequest(stage: 2, rootfs: "/r", args: ["sh"])
        request.env = ["PATH=/bin", "A=1"]
        request.user = "student"
        request.cwd = "/tmp"
        let plan = try request.plan(users: users)
        XCTAssertEqual(plan.env, ["HOME=/home/student", "HOSTNAME=contlab", "PATH=/bin", "A=1"])
        XCTAssertEqual(plan.uid, 1000)
        XCTAssertEqual(plan.cwd, "/tmp")
        XCTAssertEqual(plan.hostname, "contlab")
        let stage1 = try RunRequest(stage: 1, rootfs: "/r", args: ["sh"]).plan(users: users)
        XCTAssertNil(stage1.hostname)
        XCTAssertEqual(stage1.env, ["PATH=\(ContainerPlan.defaultPath)", "HOME=/root"])
    }

    func testRefusesWhatCannotWork() {
        var request = RunRequest(stage: 2, rootfs: "/r", args: ["sh"])
        request.rootless = true
        request.user = "student"
        XCTAssertThrowsError(try request.plan(users: users)) {
            XCTAssertEqual($0 as? RunError, .rootlessUser("student"))
        }
        request = RunRequest(stage: 1, rootfs: "/r", args: ["sh"])
        request.hostname = "lab"
        XCTAssertThrowsError(try request.plan(users: users)) { XCTAssertEqual($0 as? RunError, .hostnameNeedsUTS) }
        request = RunRequest(stage: 2, rootfs: "/r", args: ["sh"])
        request.hostname = "bad_name!"
        XCTAssertThrowsError(try request.plan(users: users)) { XCTAssertEqual($0 as? RunError, .hostname("bad_name!")) }
        request.hostname = nil
        request.cwd = "tmp"
        XCTAssertThrowsError(try request.plan(users: users)) { XCTAssertEqual($0 as? RunError, .cwd("tmp")) }
        request.cwd = nil
        request.env = ["NOEQUALS"]
        XCTAssertThrowsError(try request.plan(users: users)) { XCTAssertEqual($0 as? RunError, .env("NOEQUALS")) }
        XCTAssertThrowsError(try RunRequest(stage: 2, rootfs: "/r", args: []).plan(users: users)) {
            XCTAssertEqual($0 as? CommandError, .empty, "\($0)")
        }
        XCTAssertThrowsError(try RunRequest(stage: 7, rootfs: "/r", args: ["sh"]).plan(users: users)) {
            XCTAssertEqual($0 as? RunError, .stage(7))
        }
    }

    func testHostnameRules() {
        XCTAssertTrue(RunRequest.isValidHostname("lab-1.example"))
        XCTAssertFalse(RunRequest.isValidHostname("-lab"))
        XCTAssertFalse(RunRequest.isValidHostname(String(repeating: "a", count: 65)))
        XCTAssertFalse(RunRequest.isValidHostname("容器"))
    }
}

final class InspectParsingTests: XCTestCase {
    func testFindsTheRootMount() {
        let text = """
            22 1 254:0 /var/lib/contlab/rootfs/busybox/abc / rw,relatime - ext4 /dev/vda rw
            23 22 0:21 / /proc rw,nosuid,nodev,noexec - proc proc rw
            """
        XCTAssertEqual(IsolationReport.rootMount(fromMountinfo: text), "/dev/vda (ext4)")
    }

    func testReadsSeccompAndCgroupPaths() {
        XCTAssertEqual(IsolationReport.seccompMode(fromStatus: "Name:\tsh\nSeccomp:\t2\n"), "filter")
        XCTAssertEqual(IsolationReport.seccompMode(fromStatus: "Seccomp:\t0\n"), "disabled")
        let v1 = "9:name=systemd:/\n4:memory:/contlab/c1\n0::/\n"
        XCTAssertEqual(IsolationReport.cgroupPath(controller: "memory", in: v1)?.path, "/contlab/c1")
        XCTAssertEqual(IsolationReport.cgroupPath(controller: "memory", in: v1)?.v2, false)
        XCTAssertEqual(IsolationReport.cgroupPath(controller: "pids", in: "0::/contlab/c2\n")?.v2, true)
        XCTAssertEqual(
            IsolationReport.parseHostNamespaces("pid=pid:[1],net=net:[2]"), ["pid": "pid:[1]", "net": "net:[2]"])
    }

    func testTableMarksOwnAndSharedNamespaces() {
        let report = IsolationReport(
            pid: 1, ppid: 0, uid: 0, gid: 0, groups: [], hostname: "lab",
            namespaces: [
                .init(kind: "pid", id: "pid:[5]", differsFromHost: true),
                .init(kind: "user", id: "user:[1]", differsFromHost: false)
            ],
            root: "device 0:1, inode 2", rootMount: nil, mountCount: 6, procMounted: true, capabilities: nil,
            noNewPrivileges: false, seccomp: "disabled", cgroups: [], memoryLimit: nil, pidsLimit: nil,
            uidMap: ["0 0 4294967295"], gidMap: nil)
        let table = report.table(style: Style(enabled: false), language: .en)
        XCTAssertTrue(table.contains("pid:[5]  own"))
        XCTAssertTrue(table.contains("user:[1]  shared with host"))
        XCTAssertTrue(table.contains("PID 1 of its namespace"))
        let chinese = report.table(style: Style(enabled: false), language: .zh)
        XCTAssertTrue(chinese.contains("命名空间 pid   pid:[5]  独有"), chinese)
        XCTAssertTrue(
            chinese.contains("user:[1]  与宿主机共享") && chinese.contains("（所在命名空间的 PID 1）") && chinese.contains("内存上限"),
            chinese)
        XCTAssertTrue(chinese.contains("uid_map") && chinese.contains("seccomp"), "the kernel's own words stay")
        XCTAssertFalse(chinese.contains("hostname") || chinese.contains("not visible"), chinese)
    }
}

final class EscapeProbeTests: XCTestCase {
    // The host's verdict rests on the secret alone: a probe that claims the host's root but
    // cannot read the proof file did not escape, and one that reads it did.
    func testTheHostCountsAnEscapeOnlyWhenTheProbeReadsItsSecret() throws {
        func probe(reading: Bool) throws -> EscapeExperiment.Result {
            try EscapeExperiment.run(stage: 1, rootfs: "/nonexistent/rootfs") { environment in
                let path = try XCTUnwrap(environment.first?.split(separator: "=", maxSplits: 1).last.map(String.init))
                let secret = reading ? try String(contentsOfFile: path, encoding: .utf8) : "a guess"
                let report = EscapeProbe.Report(
                    reachedHostRoot: true, root: nil, hostRoot: nil, entries: [],
                    proofRead: secret, steps: [], error: nil)
                let line = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
                return (.exited(0), "noise\n" + line + "\n")
            }
        }
        XCTAssertTrue(try probe(reading: true).escaped)
        XCTAssertFalse(try probe(reading: false).escaped)
    }

    func testIdentityRoundTrip() {
        let id = FileIdentity(device: 65024, inode: 2)
        XCTAssertEqual(EscapeProbe.parseIdentity(EscapeProbe.format(id)), id)
        XCTAssertNil(EscapeProbe.parseIdentity("nonsense"))
    }
}
