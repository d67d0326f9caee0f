import ContlabCore
import Foundation
import XCTest
@testable import OCI

/// SpecReader must read exactly what Spec's Codable conformance reads: every field of every
/// example, the same values, the same absences.
final class SpecReaderTests: XCTestCase {
    func viaCodable(_ data: Data) throws -> Spec { try JSONDecoder().decode(Spec.self, from: data) }
    func viaReader(_ data: Data) throws -> Spec { try SpecReader.spec(try JSONValue.parse([UInt8](data))) }

    /// A document that sets every field Spec models (each once, with a distinct value).
    static let everything = """
        {"ociVersion": "1.2.1", "hostname": "h", "domainname": "d", "annotations": {"a": "1", "b": "2"},
         "process": {"terminal": true, "consoleSize": {"height": 24, "width": 80},
           "user": {"uid": 1, "gid": 2, "umask": 18, "additionalGids": [3, 4]},
           "args": ["sh", "-c", "echo \\"q\\" \\u00e9 \\ud83d\\ude00"], "env": ["A=1"], "cwd": "/w",
           "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_CHOWN"], "inheritable": ["CAP_FOWNER"],
                            "permitted": ["CAP_SETUID"], "ambient": ["CAP_SETGID"]},
           "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 1024}],
           "noNewPrivileges": true, "oomScoreAdj": -17, "apparmorProfile": "p", "selinuxLabel": "l"},
         "root": {"path": "rootfs", "readonly": true},
         "mounts": [{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"]}, {"destination": "/x"}],
         "hooks": {"prestart": [{"path": "/a", "args": ["a"], "env": ["E=1"], "timeout": 5}], "createRuntime": [{"path": "/b"}],
                   "createContainer": [{"path": "/c"}], "startContainer": [{"path": "/d"}], "poststart": [{"path": "/e"}],
                   "poststop": [{"path": "/f"}]},
         "linux": {"namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
           "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1001, "size": 2}],
           "resources": {"memory": {"limit": 1, "reservation": 2, "swap": -1, "kernel": 4, "kernelTCP": 5, "swappiness": 6, "disableOOMKiller": false},
                         "pids": {"limit": 7}, "cpu": {"shares": 8, "quota": -1, "period": 10, "cpus": "0-1", "mems": "0"},
                         "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
                         "blockIO": {"weight": 300, "leafWeight": 20, "weightDevice": [{"major": 8, "minor": 0, "weight": 500, "leafWeight": 30}],
                                     "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 100}], "throttleWriteBpsDevice": [],
                                     "throttleReadIOPSDevice": [{"major": 8, "minor": 16, "rate": 10}], "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 5}]},
                         "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 3}]}},
           "cgroupsPath": "/g", "maskedPaths": ["/m"], "readonlyPaths": ["/r"], "sysctl": {"net.ipv4.ip_forward": "1"},
           "devices": [{"path": "/dev/x", "type": "c", "major": 1, "minor": 2, "fileMode": 438, "uid": 0, "gid": 0}],
           "rootfsPropagation": "rslave", "seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}, "mountLabel": "ml"},
         "unknownField": {"ignored": [1, 2, {"deep": null}]}}
        """

    func testReadsWhatCodableReads() throws {
        let examples = SpecTests.examples
        var documents = [
            Data(Self.everything.utf8), try DefaultSpec.encode(DefaultSpec.make(rootless: false)),
            try DefaultSpec.encode(DefaultSpec.make(rootless: true, uid: 1000, gid: 1000))
        ]
        for name in [
            "good/minimal.json", "good/minimal-for-start.json", "good/linux-web-server.json", "good/linux-rdma.json"
        ] {
            guard let data = FileManager.default.contents(atPath: examples.appendingPathComponent(name).path) else {
                return XCTFail("missing example config \(name) in \(examples.path)")
            }
            documents.append(data)
        }
        for (index, data) in documents.enumerated() {
            XCTAssertEqual(try viaReader(data), try viaCodable(data), "document \(index)")
        }
        let everything = try viaReader(Data(Self.everything.utf8))
        XCTAssertEqual(everything.process?.args?.last, "echo \"q\" é 😀")
        XCTAssertEqual(everything.process?.rlimits?.first?.hard, UInt64.max)
        XCTAssertEqual(everything.linux?.resources?.memory?.disableOOMKiller, false)
    }

    /// What SpecWriter writes, SpecReader reads back the same: every process field, a full
    /// seccomp filter (exec hands both to its helper this way).
    func testWriterAndReaderAgree() throws {
        let spec = try viaReader(Data(Self.everything.utf8))
        let process = try XCTUnwrap(spec.process)
        XCTAssertEqual(try SpecReader.process(try JSONValue.parse(SpecWriter.process(process).serialized)), process)
        var bare = Spec.Process(args: ["sh"])
        bare.args = nil
        XCTAssertEqual(try SpecReader.process(SpecWriter.process(bare)), bare)
        let filter = Spec.Seccomp(
            defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"],
            syscalls: [
                Spec.Syscall(names: ["read", "write"], action: "SCMP_ACT_ALLOW"),
                Spec.Syscall(
                    names: ["personality"], action: "SCMP_ACT_ALLOW", errnoRet: 1,
                    args: [
                        Spec.SyscallArg(index: 0, value: 0, op: "SCMP_CMP_EQ"),
                        Spec.SyscallArg(index: 1, value: UInt64.max, valueTwo: 8, op: "SCMP_CMP_MASKED_EQ")
                    ])
            ])
        var full = filter
        full.defaultErrnoRet = 38
        full.flags = ["SECCOMP_FILTER_FLAG_LOG"]
        XCTAssertEqual(try SpecReader.seccomp(try JSONValue.parse(SpecWriter.seccomp(full).serialized)), full)
    }

    func testProblemsAreNamedByPath() {
        func problem(_ json: String) -> String {
            do {
                _ = try viaReader(Data(json.utf8))
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(
            problem(#"{"root": {"path": "r"}}"#), "config.json: ociVersion: required by the spec but missing")
        XCTAssertEqual(
            problem(#"{"ociVersion": "1.0", "process": {"cwd": "/", "user": {"uid": -1, "gid": 0}}}"#),
            "config.json: process.user.uid: -1 does not fit: expected a non-negative integer up to 4294967295")
        XCTAssertEqual(
            problem(#"{"ociVersion": "1.0", "process": {"cwd": "/", "user": {"uid": 0, "gid": 0}, "args": ["a", 1]}}"#),
            "config.json: process.args[1]: expected a string")
        XCTAssertEqual(
            problem(#"{"ociVersion": "1.0", "linux": {"namespaces": [{"path": "/x"}]}}"#),
            "config.json: linux.namespaces[0].type: required by the spec but missing")
        XCTAssertEqual(problem(#"{"ociVersion": "1.0", "mounts": {}}"#), "config.json: mounts: expected an array")
        XCTAssertEqual(
            problem(#"{"ociVersion": "1.0", "process": {"cwd": "/", "user": null}}"#),
            "config.json: process.user: expected a value, found null")
    }

    func testJSONSyntaxAndWriting() throws {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "\"\\x\"", "tru", "01x", "\"a\u{01}\"", "[1] 2"] {
            XCTAssertThrowsError(try JSONValue.parse(bad), bad)
        }
        let value = try JSONValue.parse(#"{"a": [true, false, null, -1.5e3, "x\"\n\u0001"], "b": {}}"#)
        XCTAssertEqual(value.serialized, #"{"a":[true,false,null,-1.5e3,"x\"\n\u0001"],"b":{}}"#)
        XCTAssertEqual(try JSONValue.parse(value.serialized), value)
        XCTAssertEqual(
            try JSONValue.parse(#"{"k": 1, "k": 2}"#)["k"], .number("2"),
            "a later duplicate wins, as in JSONSerialization")
        XCTAssertEqual(
            try JSONValue.parse(#"{"k": 1, "j": 0, "k": 2}"#), .object([("k", .number("2")), ("j", .number("0"))]),
            "in the first one's place")
    }
}

@testable import Stage4OCI

final class InitPlanTests: XCTestCase {
    /// What the host writes, the init reads back: every field, the spec as config.json gave it.
    func testPlanRoundTrip() throws {
        let document = try JSONValue.parse(SpecReaderTests.everything)
        let spec = try SpecReader.spec(document)
        let plan = OCIInitPlan(
            id: "c1", bundle: "/b", rootfs: "/b/rootfs", spec: spec, fifoFD: nil, toHostFD: 5, fromHostFD: 6,
            consoleFD: 7,
            cgroupDirectories: [.init(path: "/sys/fs/cgroup/memory/x", version: 1, controllers: ["memory"])],
            inUserNamespace: true, hostHooks: false, record: true, dieWithCaller: true)
        let back = try OCIInitPlan.decode(payload: plan.payload(specDocument: document))
        XCTAssertEqual(back.spec, spec)
        XCTAssertEqual([back.id, back.bundle, back.rootfs], ["c1", "/b", "/b/rootfs"])
        XCTAssertNil(back.fifoFD)
        XCTAssertEqual([back.toHostFD, back.fromHostFD, back.consoleFD], [5, 6, 7])
        XCTAssertEqual(back.cgroupDirectories, plan.cgroupDirectories)
        XCTAssertEqual(
            [back.inUserNamespace, back.hostHooks, back.record, back.dieWithCaller], [true, false, true, true])
    }

    func testStateRecordRoundTrip() throws {
        let spec = try SpecReader.spec(try JSONValue.parse(SpecReaderTests.everything))
        let record = StateStore.Record(
            id: "c1", pid: 42, startTime: 123_456, bundle: "/b", rootfs: "/b/r", created: "2026-11-24T00:00:00Z",
            annotations: ["k": "v", "a": "b"], cgroupPath: "contlab-runc/c1",
            cgroupDirectories: [.init(path: "/sys/fs/cgroup/pids/x", version: 1, controllers: ["pids"])],
            hooks: spec.hooks, creating: false)
        XCTAssertEqual(try StateStore.Record(json: try JSONValue.parse(record.json.serialized)), record)
        var bare = record
        bare.startTime = nil
        bare.annotations = nil
        bare.hooks = nil
        bare.cgroupPath = nil
        XCTAssertEqual(try StateStore.Record(json: try JSONValue.parse(bare.json.serialized)), bare)
        // A state file JSONEncoder wrote (an older contlab) still reads.
        XCTAssertEqual(
            try StateStore.Record(json: try JSONValue.parse([UInt8](try JSONEncoder().encode(record)))), record)
    }

    func testExecPlanRoundTrip() throws {
        let spec = try SpecReader.spec(try JSONValue.parse(SpecReaderTests.everything))
        let plan = OCIExecPlan(
            containerPID: 42, namespaces: [.user, .mount], process: try XCTUnwrap(spec.process),
            seccomp: Spec.Seccomp(defaultAction: "SCMP_ACT_ALLOW"), consoleSocket: nil, reportFD: 7)
        let back = try OCIExecPlan.decode(payload: plan.payload)
        XCTAssertEqual(back.containerPID, 42)
        XCTAssertEqual(back.namespaces, [.user, .mount])
        XCTAssertEqual(back.process, plan.process)
        XCTAssertEqual(back.seccomp, plan.seccomp)
        XCTAssertNil(back.consoleSocket)
        XCTAssertEqual(back.reportFD, 7)
    }
}
