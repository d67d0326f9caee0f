@testable import Cgroups
import ContlabCore
import Foundation
import XCTest
@testable import OCI
@testable import Stage4OCI

/// The pure decisions behind issue #23's conformance changes: what runc's command line and the
/// runtime-spec ask, checked without root.
final class ConformanceLogicTests: XCTestCase {
    let base = #""ociVersion":"1.2.1","root":{"path":"rootfs"}"#

    func decode(_ json: String) throws -> Spec { try SpecCheck.decode(Data(json.utf8)) }

    // MARK: no namespaces at all

    func testNoNamespacesRefusesWhatWouldChangeTheHostsMounts() throws {
        XCTAssertNoThrow(try decode(#"{\#(base),"linux":{"namespaces":[]}}"#))
        for (json, path) in [
            (#""maskedPaths":["/proc/kcore"]"#, "linux.maskedPaths"),
            (#""readonlyPaths":["/proc/sys"]"#, "linux.readonlyPaths"),
            (#""rootfsPropagation":"rslave""#, "linux.rootfsPropagation")
        ] {
            XCTAssertThrowsError(try decode(#"{\#(base),"linux":{"namespaces":[],\#(json)}}"#)) { error in
                XCTAssertEqual((error as? SpecError)?.path, path)
                XCTAssertTrue("\(error)".contains("{\"type\": \"mount\"}"), "\(error)")
            }
            // With a mount namespace the same settings are the container's own.
            XCTAssertNoThrow(try decode(#"{\#(base),"linux":{"namespaces":[{"type":"mount"}],\#(json)}}"#))
        }
        XCTAssertThrowsError(try decode(#"{"ociVersion":"1.2.1","root":{"path":"rootfs","readonly":true},"linux":{}}"#))
        {
            XCTAssertEqual(($0 as? SpecError)?.path, "root.readonly")
        }
    }

    func testHostMountsAreFoundBelowTheRootDeepestFirst() {
        let mountinfo = """
            22 1 8:1 / / rw - ext4 /dev/sda1 rw
            40 22 0:5 / /tmp/b/rootfs/proc rw - proc proc rw
            41 22 0:6 / /tmp/b/rootfs/dev rw - tmpfs tmpfs rw
            42 41 0:7 / /tmp/b/rootfs/dev/pts rw - devpts devpts rw
            43 22 0:8 / /tmp/b/rootfs2/proc rw - proc proc rw
            44 22 0:9 / /tmp/b/rootfs/my\\040dir rw - tmpfs tmpfs rw
            """
        XCTAssertEqual(
            HostMounts.targets(below: "/tmp/b/rootfs", mountinfo: mountinfo),
            ["/tmp/b/rootfs/my dir", "/tmp/b/rootfs/dev/pts", "/tmp/b/rootfs/dev", "/tmp/b/rootfs/proc"])
    }

    // MARK: hostname in a joined uts namespace

    func testHostnameTakesAJoinedUTSNamespace() throws {
        let joined = try decode(
            #"{\#(base),"hostname":"pod","linux":{"namespaces":[{"type":"mount"},{"type":"uts","path":"/proc/1/ns/uts"}]}}"#
        )
        XCTAssertNil(OCIRuntime.hostnameRefusal(joined, joined: [.uts]))
        // The same path turned out to be the host's own: NamespacePaths.open left it out.
        let refusal = try XCTUnwrap(OCIRuntime.hostnameRefusal(joined, joined: []))
        XCTAssertEqual(refusal.path, "linux.namespaces[1].path")
        XCTAssertTrue(refusal.message.contains("rename the host"), refusal.message)
        XCTAssertThrowsError(try decode(#"{\#(base),"hostname":"x","linux":{"namespaces":[{"type":"mount"}]}}"#))
        let noName = try decode(#"{\#(base),"linux":{"namespaces":[{"type":"uts","path":"/proc/1/ns/uts"}]}}"#)
        XCTAssertNil(OCIRuntime.hostnameRefusal(noName, joined: []))
    }

    // MARK: a read-only /dev

    func testReadOnlyDevIsAFilesystemMountedRo() {
        func mounts(_ options: [String], type: String = "tmpfs") -> [Spec.Mount] {
            [
                Spec.Mount(destination: "/dev", type: type, source: "tmpfs", options: options),
                Spec.Mount(destination: "/dev/pts", type: "devpts", source: "devpts", options: [])
            ]
        }
        XCTAssertTrue(RootfsSetup.readOnlyDev(mounts(["nosuid", "ro", "mode=755"])))
        XCTAssertFalse(RootfsSetup.readOnlyDev(mounts(["nosuid", "mode=755"])))
        XCTAssertFalse(
            RootfsSetup.readOnlyDev(mounts(["rbind", "ro"], type: "bind")),
            "a bind is made read-only where it is mounted")
        XCTAssertFalse(RootfsSetup.readOnlyDev([]))
    }

    // MARK: device rules

    func testDeviceAccessLettersInAnyOrder() throws {
        XCTAssertEqual(DeviceFilter.accessLetters("mrw"), "rwm")
        XCTAssertEqual(DeviceFilter.accessLetters("rwa"), "rw")
        XCTAssertEqual(
            DeviceFilter.Rule(allow: false, type: "c", major: 1, minor: 11, access: "wr").v1Entry, "c 1:11 rw")
        XCTAssertEqual(DeviceFilter.access("mwr"), DeviceFilter.access("rwm"))
        let spec = try decode(
            #"{\#(base),"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"},{"allow":false,"type":"c","major":1,"minor":11,"access":"rwa"}]}}}"#
        )
        let writes = CgroupSettings.deviceWrites(spec.linux?.resources).map { "\($0.file) \($0.value)" }
        XCTAssertEqual(Array(writes.prefix(2)), ["devices.deny a", "devices.deny c 1:11 rw"])
        XCTAssertThrowsError(try decode(#"{\#(base),"linux":{"resources":{"devices":[{"allow":true,"access":"x"}]}}}"#))
        {
            XCTAssertEqual(($0 as? SpecError)?.path, "linux.resources.devices[0].access")
        }
    }

    // MARK: update

    func testUpdateFlagsAsRuncTakesThem() throws {
        let parsed = try RuncCommandLine.parse([
            "update", "--cpuset-cpus", "0-1", "--cpuset-mems", "0", "--memory-reservation", "32m",
            "--cpu-quota", "20000", "c1"
        ]).verb
        let flags = RuncCommandLine.UpdateFlags(
            memoryReservation: 32 << 20, cpuQuota: 20000, cpusetCpus: "0-1", cpusetMems: "0")
        XCTAssertEqual(parsed, .update(id: "c1", resources: .flags(flags)))
        let changes = ResourceUpdate.changes(ResourceUpdate.resources(flags))
        XCTAssertEqual(changes.cpu?.cpus, "0-1")
        XCTAssertEqual(changes.cpu?.mems, "0")
        XCTAssertEqual(changes.memory?.reservation, 32 << 20)
        XCTAssertEqual(ResourceUpdate.createOnly(changes), [], "cpusets are updated, not refused")
        let v1 = try CgroupSettings.writes(changes, version: { _ in 1 }).map {
            "\($0.controller):\($0.write.file)=\($0.write.value)"
        }
        XCTAssertEqual(
            v1,
            [
                "memory:memory.soft_limit_in_bytes=33554432", "cpu:cpu.cfs_quota_us=20000",
                "cpuset:cpuset.cpus=0-1", "cpuset:cpuset.mems=0"
            ], "a quota alone keeps the period the cgroup has")
        XCTAssertEqual(
            ResourceUpdate.controllers(try CgroupSettings.writes(changes, version: { _ in 1 })),
            ["memory", "cpu", "cpuset"])
    }

    /// update.bats' realtime test: runc's flags and JSON fields, the period written before the
    /// runtime on v1, and a clear refusal on v2, which has no realtime files.
    func testRealtimeCPUIsV1sPeriodThenRuntime() throws {
        let parsed = try RuncCommandLine.parse([
            "update", "--cpu-rt-period", "900001", "--cpu-rt-runtime", "600001", "c1"
        ]).verb
        let flags = RuncCommandLine.UpdateFlags(cpuRealtimePeriod: 900_001, cpuRealtimeRuntime: 600_001)
        XCTAssertEqual(parsed, .update(id: "c1", resources: .flags(flags)))
        let changes = ResourceUpdate.changes(ResourceUpdate.resources(flags))
        let v1 = try CgroupSettings.writes(changes, version: { _ in 1 }).map { "\($0.write.file)=\($0.write.value)" }
        XCTAssertEqual(v1, ["cpu.rt_period_us=900001", "cpu.rt_runtime_us=600001"])
        let json = try ResourceUpdate.decode(Data(#"{"cpu":{"realtimeRuntime":500001}}"#.utf8))
        XCTAssertEqual(
            try CgroupSettings.writes(ResourceUpdate.changes(json), version: { _ in 1 }).map(\.write.file),
            ["cpu.rt_runtime_us"])
        XCTAssertThrowsError(try CgroupSettings.writes(changes, version: { _ in 2 })) {
            XCTAssertTrue("\($0)".contains("cgroup v2 has no realtime"), "\($0)")
        }
    }

    func testQuotaAloneOnV2KeepsThePeriod() throws {
        let quota = try CgroupSettings.writes(Spec.Resources(cpu: Spec.CPU(quota: 20000)), version: { _ in 2 })
        XCTAssertEqual(quota.map { "\($0.write.file)=\($0.write.value)" }, ["cpu.max=20000"])
        let both = try CgroupSettings.writes(
            Spec.Resources(cpu: Spec.CPU(quota: -1, period: 50000)), version: { _ in 2 })
        XCTAssertEqual(both.map { "\($0.write.file)=\($0.write.value)" }, ["cpu.max=max 50000"])
        // A period alone keeps the quota cpu.max has.
        XCTAssertEqual(
            ResourceUpdate.keepingQuota(Spec.CPU(period: 50000), currentCPUMax: "30000 100000\n")?.quota, 30000)
        XCTAssertEqual(ResourceUpdate.keepingQuota(Spec.CPU(period: 50000), currentCPUMax: "max 100000\n")?.quota, -1)
        XCTAssertEqual(
            ResourceUpdate.keepingQuota(Spec.CPU(quota: 5000, period: 50000), currentCPUMax: "max 100000")?.quota, 5000)
    }

    func testLiftingTheMemoryLimitLiftsSwapToo() throws {
        let changes = ResourceUpdate.changes(ResourceUpdate.resources(.init(memory: -1)))
        XCTAssertEqual(changes.memory?.swap, -1)
        let v1 = try CgroupSettings.writes(changes, version: { _ in 1 }).map { "\($0.write.file)=\($0.write.value)" }
        XCTAssertEqual(v1, ["memory.limit_in_bytes=-1", "memory.memsw.limit_in_bytes=-1"])
        // A swap given with it is kept as given.
        XCTAssertEqual(
            ResourceUpdate.changes(ResourceUpdate.resources(.init(memory: -1, memorySwap: 1 << 30))).memory?.swap,
            1 << 30)
    }

    // MARK: exec --preserve-fds

    func testExecPreservesDescriptors() throws {
        guard case .exec(let options) = try RuncCommandLine.parse(["exec", "--preserve-fds", "2", "c1", "sh"]).verb
        else {
            return XCTFail("not an exec")
        }
        XCTAssertEqual(options.preserveFDs, 2)
        let plan = OCIExecPlan(
            containerPID: 9, namespaces: [.pid], process: Spec.Process(args: ["sh"]), seccomp: nil,
            consoleSocket: nil, reportFD: 7, preserveFDs: 2)
        XCTAssertEqual(try OCIExecPlan.decode(payload: plan.payload).preserveFDs, 2)
    }

    func testKillTakesSignalZero() throws {
        XCTAssertEqual(try RuncCommandLine.parse(["kill", "c1", "0"]).verb, .kill(id: "c1", signal: 0, all: false))
    }
}

/// The ENOSYS stub put before libseccomp's program, run by a small classic-BPF interpreter.
final class SeccompENOSYSTests: XCTestCase {
    typealias Instruction = SeccompENOSYS.Instruction
    static let profileSays: UInt32 = 0x7FFF_0000  // stands for libseccomp's program: ALLOW
    static let i386: UInt32 = 0x4000_0003

    /// What the stub, followed by a program that answers `profileSays`, returns for a call.
    func run(_ stub: [Instruction], arch: UInt32, number: UInt32) -> UInt32 {
        let program = stub + [Instruction(code: SeccompENOSYS.returnValue, k: Self.profileSays)]
        var a: UInt32 = 0
        var pc = 0
        while pc < program.count {
            let i = program[pc]
            switch i.code {
            case SeccompENOSYS.loadWord: a = i.k == 4 ? arch : number
            case SeccompENOSYS.jumpEqual: pc += Int(a == i.k ? i.jt : i.jf)
            case SeccompENOSYS.jumpGreater: pc += Int(a > i.k ? i.jt : i.jf)
            case SeccompENOSYS.jumpSet: pc += Int(a & i.k != 0 ? i.jt : i.jf)
            case SeccompENOSYS.jumpAlways: pc += Int(i.k)
            case SeccompENOSYS.returnValue: return i.k
            default: XCTFail("unexpected opcode \(i.code)"); return 0
            }
            pc += 1
        }
        XCTFail("ran off the end")
        return 0
    }

    func testNewerCallsGetENOSYSAndKnownOnesTheProfile() {
        let limits = SeccompENOSYS.limits([
            (SeccompENOSYS.auditArchX86_64, [0, 1, 435, -10_101]),
            (SeccompENOSYS.x32Token, [Int32(bitPattern: 0x4000_0000 | 547), 0x4000_0001]),
            (Self.i386, [3, 4])
        ])
        XCTAssertEqual(
            limits,
            [
                .init(auditArch: SeccompENOSYS.auditArchX86_64, native: 435, x32: 0x4000_0000 | 547),
                .init(auditArch: Self.i386, native: 4)
            ])
        let stub = SeccompENOSYS.stub(limits)
        let enosys = SeccompENOSYS.returnENOSYS
        XCTAssertEqual(run(stub, arch: SeccompENOSYS.auditArchX86_64, number: 1), Self.profileSays)
        XCTAssertEqual(run(stub, arch: SeccompENOSYS.auditArchX86_64, number: 435), Self.profileSays)
        XCTAssertEqual(run(stub, arch: SeccompENOSYS.auditArchX86_64, number: 1000), enosys)
        XCTAssertEqual(run(stub, arch: SeccompENOSYS.auditArchX86_64, number: 0x4000_0000 | 500), Self.profileSays)
        XCTAssertEqual(run(stub, arch: SeccompENOSYS.auditArchX86_64, number: 0x4000_0000 | 1000), enosys)
        XCTAssertEqual(run(stub, arch: Self.i386, number: 4), Self.profileSays)
        XCTAssertEqual(run(stub, arch: Self.i386, number: 5), enosys)
        XCTAssertEqual(
            run(stub, arch: 0xC000_00B7, number: 5000), Self.profileSays, "an architecture not listed is the profile's")
        // x86_64 without x32 in the profile: x32 calls are left to libseccomp's program.
        let native = SeccompENOSYS.stub(SeccompENOSYS.limits([(SeccompENOSYS.auditArchX86_64, [0, 435])]))
        XCTAssertEqual(run(native, arch: SeccompENOSYS.auditArchX86_64, number: 0x4000_0000 | 1), Self.profileSays)
        XCTAssertEqual(run(native, arch: SeccompENOSYS.auditArchX86_64, number: 436), enosys)
    }

    func testOnlyRestrictiveProfilesGetTheStub() {
        var profile = Spec.Seccomp(defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"])
        XCTAssertTrue(SeccompENOSYS.wanted(profile))
        profile.defaultErrnoRet = UInt32(ENOSYS)
        XCTAssertFalse(SeccompENOSYS.wanted(profile), "the default is ENOSYS already")
        XCTAssertFalse(
            SeccompENOSYS.wanted(Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"])))
        XCTAssertFalse(
            SeccompENOSYS.wanted(Spec.Seccomp(defaultAction: "SCMP_ACT_KILL")), "no architecture listed: as runc")
        XCTAssertEqual(SeccompENOSYS.stub([]), [])
    }

    func testInstructionsRoundTripAsTheKernelLaysThemOut() {
        let instruction = Instruction(code: 0x15, jt: 1, jf: 2, k: 0xC000_003E)
        XCTAssertEqual(instruction.bytes, [0x15, 0x00, 1, 2, 0x3E, 0x00, 0x00, 0xC0])
        XCTAssertEqual(Instruction.decode(instruction.bytes + instruction.bytes), [instruction, instruction])
    }
}

/// `list --format json` as runc prints it, which runc's list.bats matches as text.
final class ListJSONTests: XCTestCase {
    func testFieldsInRuncsOrder() {
        let entry = RuncMain.ListEntry(
            id: "box1", pid: 42, status: "running", bundle: "/b/x", rootfs: "/b/x/rootfs",
            created: "2026-12-05T16:40:00Z", annotations: nil, owner: "root")
        XCTAssertEqual(
            RuncMain.listJSON([entry]),
            #"[{"ociVersion":"1.2.1","id":"box1","pid":42,"status":"running","bundle":"/b/x","rootfs":"/b/x/rootfs","#
                + #""created":"2026-12-05T16:40:00Z","owner":"root"}]"#)
        var annotated = entry
        annotated.annotations = ["b": "2", "a": "1"]
        XCTAssertTrue(
            RuncMain.listJSON([annotated]).contains(
                #""created":"2026-12-05T16:40:00Z","annotations":{"a":"1","b":"2"},"owner""#))
        XCTAssertEqual(RuncMain.listJSON([]), "[]")
    }
}

/// Smaller runc behaviours: rro, and exec's process file without a user.
final class RuncDetailTests: XCTestCase {
    func testRROIsRecursiveReadOnlyAndNotFilesystemData() {
        let rro = MountOptions(["rbind", "rro"])
        XCTAssertTrue(rro.recursiveReadOnly)
        XCTAssertNil(rro.data, "rro is no option for the filesystem")
        XCTAssertNil(rro.remountFlags, "the top mount is made read-only by mount_setattr with the rest")
        XCTAssertFalse(MountOptions(["rbind", "ro"]).recursiveReadOnly)
        XCTAssertFalse(MountOptions(["rro", "rrw"]).recursiveReadOnly, "the last one wins, as with ro and rw")
    }

    func testExecsProcessFileMayLeaveOutTheUser() throws {
        let process = try SpecCheck.decodeProcess(
            Data(#"{"terminal":true,"consoleSize":{"height":10,"width":110},"args":["sh"],"cwd":"/"}"#.utf8))
        XCTAssertEqual(process.user.uid, 0)
        XCTAssertEqual(process.user.gid, 0)
        XCTAssertEqual(process.consoleSize?.width, 110)
        XCTAssertThrowsError(
            try SpecCheck.decode(
                Data(#"{"ociVersion":"1.2.1","root":{"path":"r"},"process":{"args":["sh"],"cwd":"/"}}"#.utf8)),
            "config.json's process still needs its user")
    }
}

/// exec --cgroup, as runc's exec.bats uses it: a path below the container's cgroup, per
/// controller or everywhere; never above it, never an unknown controller.
final class SubCgroupsTests: XCTestCase {
    let directories = [
        ContainerCgroup.Directory(path: "/cg/memory/c1", version: 1, controllers: ["memory"]),
        ContainerCgroup.Directory(path: "/cg/cpu/c1", version: 1, controllers: ["cpu"]),
        ContainerCgroup.Directory(path: "/cg/unified/c1", version: 2, controllers: ["unified"])
    ]
    let hierarchy = CgroupHierarchy(
        v1: ["memory": "/cg/memory", "cpu": "/cg/cpu", "cpuacct": "/cg/cpuacct"], v2: "/cg/unified",
        v2Controllers: [])

    func testTheContainersOwnCgroupWithoutTheFlagOrWithSlash() throws {
        let own = ["/cg/memory/c1/cgroup.procs", "/cg/cpu/c1/cgroup.procs", "/cg/unified/c1/cgroup.procs"]
        XCTAssertEqual(try SubCgroups.targets([], directories: directories, hierarchy: nil), own)
        XCTAssertEqual(try SubCgroups.targets(["/"], directories: directories, hierarchy: hierarchy), own)
    }

    func testControllersNamedTakeTheirPathTheRestTheDefault() throws {
        let files = try SubCgroups.targets(
            ["memory:submem", "cpu,cpuacct:/subcpu/", "all"], directories: directories,
            hierarchy: hierarchy)
        XCTAssertEqual(
            files,
            ["/cg/memory/c1/submem/cgroup.procs", "/cg/cpu/c1/subcpu/cgroup.procs", "/cg/unified/c1/all/cgroup.procs"])
    }

    func testParentsAndUnknownControllersAreRefused() {
        XCTAssertThrowsError(try SubCgroups.targets([".."], directories: directories, hierarchy: hierarchy)) {
            XCTAssertTrue("\($0)".contains(" .. is not a sub cgroup path"), "\($0)")
        }
        XCTAssertThrowsError(
            try SubCgroups.targets(["memory:a/../../b"], directories: directories, hierarchy: hierarchy))
        XCTAssertThrowsError(try SubCgroups.targets(["whaaat:/"], directories: directories, hierarchy: hierarchy)) {
            XCTAssertTrue("\($0)".contains("unknown controller whaaat"), "\($0)")
        }
    }

    func testTheFlagIsRepeatable() throws {
        let verb = try RuncCommandLine.parse(["exec", "--cgroup", "memory:a", "--cgroup", "b", "c1", "true"]).verb
        guard case .exec(let options) = verb else { return XCTFail("\(verb)") }
        XCTAssertEqual(options.cgroups, ["memory:a", "b"])
    }
}
