import Cgroups
import ContlabCore
import Foundation
import XCTest
@testable import OCI
@testable import Stage4OCI

final class RuncCommandLineTests: XCTestCase {
    func testGlobalFlagsComeBeforeTheVerbAsContainerdSendsThem() throws {
        let line = try RuncCommandLine.parse([
            "--root", "/run/containerd/runc/default", "--log", "/x/log.json", "--log-format", "json",
            "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "c1"
        ])
        XCTAssertEqual(line.globals.root, "/run/containerd/runc/default")
        XCTAssertEqual(line.globals.logFormat, "json")
        XCTAssertEqual(line.verb, .create(id: "c1", bundle: "/b", pidFile: "/b/init.pid", consoleSocket: nil))
        // contlab's own global flag, as dockerd's runtimeArgs and podman's --runtime-flag pass it.
        XCTAssertEqual(try RuncCommandLine.parse(["--journal", "/j.log", "start", "c1"]).globals.journal, "/j.log")
        XCTAssertEqual(try RuncCommandLine.parse(["--journal=/j.log", "start", "c1"]).globals.journal, "/j.log")
        XCTAssertEqual(
            try RuncCommandLine.parse(["run", "-d", "--bundle=/b", "c2"]).verb,
            .run(id: "c2", bundle: "/b", pidFile: nil, consoleSocket: nil, detach: true))
    }

    func testKillTakesNamesNumbersAndDashNumbers() throws {
        XCTAssertEqual(try RuncCommandLine.parse(["kill", "c1"]).verb, .kill(id: "c1", signal: SIGTERM, all: false))
        XCTAssertEqual(
            try RuncCommandLine.parse(["kill", "--all", "c1", "KILL"]).verb, .kill(id: "c1", signal: SIGKILL, all: true)
        )
        XCTAssertEqual(
            try RuncCommandLine.parse(["kill", "c1", "-9"]).verb, .kill(id: "c1", signal: SIGKILL, all: false))
        XCTAssertEqual(
            try RuncCommandLine.parse(["kill", "c1", "15"]).verb, .kill(id: "c1", signal: SIGTERM, all: false))
        XCTAssertThrowsError(try RuncCommandLine.parse(["kill", "c1", "NOPE"]))
    }

    func testRefusesWhatItDoesNotDo() {
        XCTAssertThrowsError(try RuncCommandLine.parse(["checkpoint", "c1"])) {
            XCTAssertTrue("\($0)".contains("not implemented"))
        }
        XCTAssertThrowsError(try RuncCommandLine.parse(["exec", "c1"])) {
            XCTAssertTrue("\($0)".contains("--process FILE"))
        }
        XCTAssertThrowsError(try RuncCommandLine.parse(["run", "--preserve-fds", "two", "c1"])) {
            XCTAssertTrue("\($0)".contains("--preserve-fds"))
        }
        XCTAssertThrowsError(try RuncCommandLine.parse(["exec", "--preserve-fds", "x", "c1", "sh"])) {
            XCTAssertTrue("\($0)".contains("--preserve-fds"))
        }
        XCTAssertEqual(try RuncCommandLine.parse(["run", "--preserve-fds", "2", "c1"]).preserveFDs, 2)
        XCTAssertEqual(try RuncCommandLine.parse(["create", "--preserve-fds=1", "c1"]).preserveFDs, 1)
        XCTAssertThrowsError(try RuncCommandLine.parse(["frobnicate"])) {
            XCTAssertTrue("\($0)".contains("unknown command"))
        }
        XCTAssertThrowsError(try RuncCommandLine.parse(["start"])) {
            XCTAssertTrue("\($0)".contains("needs a container id"))
        }
        XCTAssertThrowsError(try RuncCommandLine.parse(["--log-format", "xml", "state", "c1"]))
    }
}

/// The verbs Docker and Podman call beyond the lifecycle, in the shapes recorded from them.
final class EngineVerbTests: XCTestCase {
    func testExecAsContainerdAndConmonCallIt() throws {
        let docker = try RuncCommandLine.parse([
            "--root", "/r", "--log", "/l.json", "--log-format", "json", "exec", "--process", "/tmp/runc-process1",
            "--detach", "--pid-file", "/b/x.pid", "c1"
        ])
        var expected = RuncCommandLine.ExecOptions(id: "c1")
        expected.processFile = "/tmp/runc-process1"
        expected.detach = true
        expected.pidFile = "/b/x.pid"
        XCTAssertEqual(docker.verb, .exec(expected))
        // conmon puts --pid-file first and may add a console socket.
        let podman = try RuncCommandLine.parse([
            "exec", "--pid-file", "/p", "--process", "/q", "--console-socket", "/s.sock", "--detach", "c1"
        ])
        guard case .exec(let options) = podman.verb else { return XCTFail("\(podman.verb)") }
        XCTAssertEqual(options.consoleSocket, "/s.sock")
        XCTAssertEqual(options.processFile, "/q")
    }

    func testExecArgumentsAfterTheIDAreTheCommandFlagsAndAll() throws {
        let line = try RuncCommandLine.parse([
            "exec", "-t", "--cwd", "/tmp", "-e", "A=1", "--env=B=2", "-u", "1000:1000", "c1", "sh", "-c", "echo -n hi"
        ])
        guard case .exec(let options) = line.verb else { return XCTFail("\(line.verb)") }
        XCTAssertEqual(options.args, ["sh", "-c", "echo -n hi"])
        XCTAssertEqual(options.env, ["A=1", "B=2"])
        XCTAssertTrue(options.tty)
        XCTAssertEqual(options.cwd, "/tmp")
        XCTAssertEqual(options.user, "1000:1000")
        XCTAssertThrowsError(try RuncCommandLine.parse(["exec", "--process", "/p", "c1", "sh"])) {
            XCTAssertTrue("\($0)".contains("not both"))
        }
    }

    func testExecOptionsChangeTheContainersOwnProcess() throws {
        let base = Spec.Process(args: ["sleep", "1"], env: ["PATH=/bin", "A=0"], cwd: "/")
        let changed = try ExecProcessOptions(args: ["sh"], tty: true, cwd: "/tmp", env: ["A=1", "B=2"], user: "7:8")
            .apply(to: base)
        XCTAssertEqual(changed.args, ["sh"])
        XCTAssertEqual(changed.env, ["PATH=/bin", "A=1", "B=2"])
        XCTAssertEqual(changed.terminal, true)
        XCTAssertEqual(changed.cwd, "/tmp")
        XCTAssertEqual(changed.user.uid, 7)
        XCTAssertEqual(changed.user.gid, 8)
        XCTAssertThrowsError(try ExecProcessOptions(args: ["sh"], user: "root").apply(to: base))
        XCTAssertThrowsError(try ExecProcessOptions(args: ["sh"], env: ["NOEQUALS"]).apply(to: base))
    }

    func testAProcessFileIsCheckedLikeConfigJSONsProcess() throws {
        let recorded =
            #"{"user":{"uid":0,"gid":0,"additionalGids":[0]},"args":["sh","-c","exit 4"],"env":["PATH=/bin"],"cwd":"/","capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},"oomScoreAdj":0}"#
        let process = try SpecCheck.decodeProcess(Data(recorded.utf8))
        XCTAssertEqual(process.args, ["sh", "-c", "exit 4"])
        XCTAssertEqual(process.user.additionalGids, [0])
        XCTAssertThrowsError(
            try SpecCheck.decodeProcess(Data(#"{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"relative"}"#.utf8))
        ) {
            XCTAssertEqual(($0 as? SpecError)?.path, "process.cwd")
        }
        XCTAssertThrowsError(
            try SpecCheck.decodeProcess(
                Data(#"{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/","apparmorProfile":"x"}"#.utf8))
        ) {
            XCTAssertEqual(($0 as? SpecError)?.path, "process.apparmorProfile")
        }
    }

    func testNamespacesDifferingFromTheCallersAreJoinedUserFirstMountLast() {
        // The container shares the host's user and cgroup namespaces (Docker's default).
        let inodes = [
            "/proc/self/ns/user": 1, "/proc/9/ns/user": 1, "/proc/self/ns/cgroup": 2, "/proc/9/ns/cgroup": 2,
            "/proc/self/ns/mnt": 3, "/proc/9/ns/mnt": 30, "/proc/self/ns/pid": 4, "/proc/9/ns/pid": 40,
            "/proc/self/ns/net": 5, "/proc/9/ns/net": 50, "/proc/self/ns/ipc": 6, "/proc/9/ns/ipc": 60,
            "/proc/self/ns/uts": 7, "/proc/9/ns/uts": 70
        ].mapValues(UInt64.init)
        XCTAssertEqual(
            OCIExecPlan.namespacesToJoin(containerPID: 9, inode: { inodes[$0] }), [.ipc, .uts, .network, .pid, .mount])
        var withUser = inodes
        withUser["/proc/9/ns/user"] = 10
        XCTAssertEqual(OCIExecPlan.namespacesToJoin(containerPID: 9, inode: { withUser[$0] }).first, .user)
    }

    func testPauseResumeAndUpdateParse() throws {
        XCTAssertEqual(try RuncCommandLine.parse(["pause", "c1"]).verb, .pause(id: "c1"))
        XCTAssertEqual(try RuncCommandLine.parse(["resume", "c1"]).verb, .resume(id: "c1"))
        XCTAssertEqual(
            try RuncCommandLine.parse(["update", "--resources", "-", "c1"]).verb,
            .update(id: "c1", resources: .json(path: "-")))
        XCTAssertEqual(
            try RuncCommandLine.parse(["update", "--memory", "64m", "--pids-limit", "50", "c1"]).verb,
            .update(id: "c1", resources: .flags(.init(memory: 64 << 20, pidsLimit: 50))))
        XCTAssertEqual(
            try RuncCommandLine.parse(["update", "--memory-swap", "-1", "c1"]).verb,
            .update(id: "c1", resources: .flags(.init(memorySwap: -1))))
        XCTAssertThrowsError(try RuncCommandLine.parse(["update", "c1"])) {
            XCTAssertTrue("\($0)".contains("--resources"))
        }
        XCTAssertThrowsError(try RuncCommandLine.parse(["update", "--pids-limit", "many", "c1"]))
    }

    func testUpdateReadsDockersResourcesWithZeroAsUnchanged() throws {
        // What `docker update --memory 64m --memory-swap 128m` sends on stdin.
        let docker =
            #"{"memory":{"limit":67108864,"reservation":0,"swap":134217728,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0},"blockIO":{"weight":0}}"#
        let changes = ResourceUpdate.changes(try ResourceUpdate.decode(Data(docker.utf8)))
        XCTAssertEqual(changes, Spec.Resources(memory: Spec.Memory(limit: 64 << 20, swap: 128 << 20)))
        let writes = try CgroupSettings.writes(changes, version: { _ in 1 }).map {
            "\($0.write.file)=\($0.write.value)"
        }
        XCTAssertEqual(writes, ["memory.limit_in_bytes=67108864", "memory.memsw.limit_in_bytes=134217728"])
        // A soft limit is the memory controller's too, changed as runc changes it.
        let soft = ResourceUpdate.changes(try ResourceUpdate.decode(Data(#"{"memory":{"reservation":1048576}}"#.utf8)))
        XCTAssertEqual(
            try CgroupSettings.writes(soft, version: { _ in 1 }).map(\.write.file), ["memory.soft_limit_in_bytes"])
        // A device weight or a class id is set at create; a cpuset is updated (see ConformanceLogicTests).
        XCTAssertEqual(
            ResourceUpdate.createOnly(
                try ResourceUpdate.decode(Data(#"{"cpu":{"cpus":"0"},"blockIO":{"weight":0}}"#.utf8))), [])
        XCTAssertEqual(
            ResourceUpdate.createOnly(try ResourceUpdate.decode(Data(#"{"network":{"classID":7}}"#.utf8))),
            ["linux.resources.network"])
        XCTAssertEqual(
            ResourceUpdate.changes(Spec.Resources(pids: Spec.Pids(limit: 0), cpu: Spec.CPU(quota: 50_000))),
            Spec.Resources(cpu: Spec.CPU(quota: 50_000)))
    }

    /// runc allows the nodes linux.devices asks for, whatever linux.resources.devices denies:
    /// runc spec's config denies every device, and mknod of such a node would fail with EPERM.
    /// runc's order and list: the spec's rules, then the default devices, and nothing for the
    /// nodes of linux.devices (a rule must name them; dev.bats' deny test reads one and expects
    /// EPERM). The rules are not among the writes made when the cgroup is created.
    func testTheDeviceRulesAreTheSpecsThenTheDefaultsOnly() throws {
        let resources = Spec.Resources(devices: [Spec.DeviceRule(allow: false, access: "rwm")])
        let lines = CgroupSettings.deviceWrites(resources).map { "\($0.file) \($0.value)" }
        XCTAssertEqual(lines.first, "devices.deny a", "type a is every device, written without numbers")
        XCTAssertEqual(lines.count, 1 + DeviceFilter.defaults.count, "\(lines)")
        XCTAssertEqual(CgroupSettings.deviceWrites(resources).last?.why, "a default device")
        XCTAssertTrue(lines.dropFirst().allSatisfy { $0.hasPrefix("devices.allow ") }, "\(lines)")
        XCTAssertEqual(
            try CgroupSettings.writes(resources, version: { _ in 1 }).count, 0, "written once the init is ready")
        XCTAssertEqual(CgroupSettings.deviceWrites(Spec.Resources()).count, 0)
    }

    func testTheFreezerIsV1sControllerOrAnyV2Cgroup() {
        let v1 = [
            StateStore.Record.CgroupDirectory(path: "/m/x", version: 1, controllers: ["memory"]),
            .init(path: "/f/x", version: 1, controllers: ["freezer"])
        ]
        XCTAssertEqual(Freezer.of(v1), Freezer(directory: "/f/x", version: 1))
        XCTAssertEqual(
            Freezer.of([.init(path: "/u/x", version: 2, controllers: ["memory", "pids"])]),
            Freezer(directory: "/u/x", version: 2))
        XCTAssertNil(Freezer.of([.init(path: "/m/x", version: 1, controllers: ["memory"])]))
        XCTAssertTrue(Freezer.isFrozen(version: 1, state: "FROZEN\n", events: nil))
        XCTAssertFalse(Freezer.isFrozen(version: 1, state: "FREEZING\n", events: nil), "still stopping tasks")
        XCTAssertTrue(Freezer.isFrozen(version: 2, state: nil, events: "populated 1\nfrozen 1\n"))
        XCTAssertFalse(Freezer.isFrozen(version: 2, state: nil, events: "populated 1\nfrozen 0\n"))
    }
}

final class SeccompNamesTests: XCTestCase {
    func testActionsAreTheKernelsReturnValues() {
        XCTAssertEqual(SeccompNames.action("SCMP_ACT_ALLOW", errnoRet: nil), 0x7fff_0000)
        XCTAssertEqual(
            SeccompNames.action("SCMP_ACT_ERRNO", errnoRet: nil), 0x0005_0001,
            "EPERM without errnoRet, as runtime-spec says")
        XCTAssertEqual(SeccompNames.action("SCMP_ACT_ERRNO", errnoRet: 38), 0x0005_0026)
        XCTAssertEqual(SeccompNames.action("SCMP_ACT_KILL_PROCESS", errnoRet: nil), 0x8000_0000)
        XCTAssertEqual(SeccompNames.action("SCMP_ACT_NOTIFY", errnoRet: nil), 0x7fc0_0000, "SECCOMP_RET_USER_NOTIF")
        XCTAssertNil(SeccompNames.action("SCMP_ACT_NOTHING", errnoRet: nil))
        XCTAssertEqual(SeccompNames.comparison("SCMP_CMP_MASKED_EQ"), 7)
        XCTAssertEqual(SeccompNames.architecture("SCMP_ARCH_X86_64"), "x86_64")
        XCTAssertNil(SeccompNames.architecture("X86_64"))
    }

    func testConditionsOnOneArgumentBecomeSeparateRules() {
        let a = Spec.SyscallArg(index: 0, value: 0, op: "SCMP_CMP_EQ"),
            b = Spec.SyscallArg(index: 0, value: 8, op: "SCMP_CMP_EQ")
        let c = Spec.SyscallArg(index: 1, value: 1, op: "SCMP_CMP_EQ")
        XCTAssertEqual(SeccompNames.ruleGroups([a, c]), [[a, c]], "different arguments: one rule, all must match")
        XCTAssertEqual(SeccompNames.ruleGroups([a, b]), [[a], [b]], "the same argument twice: either may match")
        XCTAssertEqual(SeccompNames.ruleGroups([]), [[]])
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
        for (namespaces, key) in [
            (#"[{"type":"mount"}]"#, "kernel.msgmnb"),
            (#"[{"type":"ipc","path":"/proc/1/ns/ipc"}]"#, "kernel.shmmax"),
            (#"[{"type":"network","path":"/proc/1/ns/net"}]"#, "net.ipv4.ip_forward")
        ] {
            let json = #"{\#(base),"linux":{"namespaces":\#(namespaces),"sysctl":{"\#(key)":"1"}}}"#
            XCTAssertThrowsError(try SpecCheck.decode(Data(json.utf8)), key) { error in
                XCTAssertEqual((error as? SpecError)?.path, "linux.sysctl.\(key)")
            }
        }
        let fine =
            #"{\#(base),"linux":{"namespaces":[{"type":"ipc"},{"type":"network"}],"sysctl":{"kernel.msgmnb":"1","net.ipv4.ip_forward":"1"}}}"#
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
        XCTAssertEqual(
            Set(try FileManager.default.contentsOfDirectory(atPath: dir)), ["victim", "c.pid.tmp", "c.pid"],
            "no temporary left")
    }
}
