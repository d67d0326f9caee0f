import ContlabCore
import Foundation
import XCTest
@testable import OCI

final class SpecTests: XCTestCase {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/oci-runtime-spec/test/config").standardizedFileURL

    func load(_ name: String) throws -> Data {
        let url = Self.examples.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("missing \(url.path): the runtime-spec examples live in ../shared beside the checkout")
            throw XCTSkip("no examples")
        }
        return data
    }

    /// The spec's own Linux examples decode, re-encode and decode to the same value.
    func testSpecExamplesRoundTrip() throws {
        for name in ["good/minimal.json", "good/minimal-for-start.json"] {
            let spec = try SpecCheck.decode(try load(name))
            XCTAssertEqual(try SpecCheck.decode(try DefaultSpec.encode(spec)), spec, name)
        }
        // The full example sets SELinux, AppArmor, time offsets and more: refused by name, not ignored.
        XCTAssertThrowsError(try SpecCheck.decode(try load("good/spec-example.json"))) { error in
            XCTAssertTrue(["linux.timeOffsets", "linux.intelRdt", "process.apparmorProfile", "process.selinuxLabel"].contains((error as? SpecError)?.path ?? ""), "\(error)")
            XCTAssertTrue("\(error)".contains("not implemented"), "\(error)")
        }
        // With what contlab does not implement removed, the rest decodes and round-trips.
        var object = try JSONSerialization.jsonObject(with: try load("good/spec-example.json")) as! [String: Any]
        var linux = object["linux"] as! [String: Any]
        var process = object["process"] as! [String: Any]
        for key in ["seccomp", "intelRdt", "mountLabel", "personality", "timeOffsets", "memoryPolicy"] { linux[key] = nil }
        linux["namespaces"] = (linux["namespaces"] as? [[String: Any]])?.filter { $0["type"] as? String != "time" }
        for key in ["apparmorProfile", "selinuxLabel", "ioPriority", "scheduler", "execCPUAffinity"] { process[key] = nil }
        var resources = linux["resources"] as! [String: Any]
        for key in ["hugepageLimits", "blockIO", "network", "rdma", "unified"] { resources[key] = nil }
        var memory = resources["memory"] as! [String: Any]
        for key in ["reservation", "kernel", "kernelTCP", "swappiness", "disableOOMKiller"] { memory[key] = nil }
        resources["memory"] = memory
        var cpu = resources["cpu"] as! [String: Any]
        for key in ["cpus", "mems", "realtimeRuntime", "realtimePeriod", "idle"] { cpu[key] = nil }
        resources["cpu"] = cpu
        linux["resources"] = resources
        object["linux"] = linux
        object["process"] = process
        object["ociVersion"] = "1.2.1" // the example still says 0.5.0-dev, from before 1.0
        let trimmed = try JSONSerialization.data(withJSONObject: object)
        do {
            let spec = try SpecCheck.decode(trimmed)
            XCTAssertEqual(spec.process?.capabilities?.bounding?.first, "CAP_AUDIT_WRITE")
            XCTAssertEqual(try SpecCheck.decode(try DefaultSpec.encode(spec)), spec)
        } catch let error as SpecError where error.path.hasPrefix("linux.sysctl") {
            // The example sets a host-wide sysctl; contlab refuses those by design.
            XCTAssertTrue(error.message.contains("namespaced"), "\(error)")
        }
    }

    func testBadExamplesAreRefused() throws {
        XCTAssertThrowsError(try SpecCheck.decode(try load("bad/invalid-json.json"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("config.json:"), "\(error)")
        }
        for name in ["bad/linux-hugepage.json", "bad/linux-rdma.json"] {
            XCTAssertThrowsError(try SpecCheck.decode(try load(name)), name)
        }
    }

    func testProblemsNameTheirJSONPath() throws {
        func refuse(_ json: String, _ path: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try SpecCheck.decode(Data(json.utf8)), file: file, line: line) { error in
                XCTAssertEqual((error as? SpecError)?.path, path, "\(error)", file: file, line: line)
                XCTAssertTrue("\(error)".contains(message), "\(error)", file: file, line: line)
            }
        }
        let base = #""ociVersion":"1.0.2","root":{"path":"rootfs"}"#
        refuse(#"{\#(base),"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"capabilities":{"bounding":["CAP_KILL","CAP_CHOWN","CAP_FOO"]}}}"#,
               "process.capabilities.bounding[2]", "unknown capability \"CAP_FOO\"")
        refuse(#"{\#(base),"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":[]}}"#, "process.args", "must name the program")
        refuse(#"{\#(base),"process":{"cwd":"/","user":{"uid":"root","gid":0},"args":["sh"]}}"#, "process.user.uid", "non-negative integer")
        refuse(#"{\#(base),"process":{"user":{"uid":0,"gid":0},"args":["sh"]}}"#, "process.cwd", "missing")
        refuse(#"{\#(base),"linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}}"#, "linux.namespaces[1]", "listed twice")
        refuse(#"{\#(base),"linux":{"namespaces":[{"type":"pidd"}]}}"#, "linux.namespaces[0].type", "unknown namespace type")
        refuse(#"{\#(base),"hostname":"x"}"#, "hostname", "uts namespace")
        refuse(#"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_NOTIFY"}}}"#, "linux.seccomp.defaultAction", "not an action")
        refuse(#"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}}}"#,
               "linux.seccomp.syscalls[0].args[0].op", "unknown comparison")
        refuse(#"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG"]}}}"#, "linux.seccomp.flags", "not implemented")
        refuse(#"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/l.sock"}}}"#, "linux.seccomp.listenerPath", "not implemented")
        refuse(#"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]}}}"#, "linux.seccomp.architectures[0]", "unknown architecture")
        // The shape of Docker's default profile loads.
        let docker = #"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ"}]},{"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]}}}"#
        XCTAssertEqual(try SpecCheck.decode(Data(docker.utf8)).linux?.seccomp?.syscalls?.count, 3)
        refuse(#"{\#(base),"linux":{"sysctl":{"kernel.panic":"1"}}}"#, "linux.sysctl.kernel.panic", "not a namespaced sysctl")
        refuse(#"{\#(base),"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"rlimits":[{"type":"RLIMIT_NOFILE","hard":10,"soft":20}]}}"#,
               "process.rlimits[0]", "above the hard limit")
        refuse(#"{"ociVersion":"2.0.0","root":{"path":"r"}}"#, "ociVersion", "not a 1.x version")
        refuse(#"[1,2]"#, "", "JSON object")
        refuse(#"{"ociVersion": "1.0.0", "root": "#, "", "not valid JSON")
        refuse(#"{\#(base),"linux":{"resources":{"blockIO":{"weight":500}}}}"#, "linux.resources.blockIO", "not implemented")
        refuse(#"{\#(base),"linux":{"resources":{"memory":{"disableOOMKiller":true}}}}"#, "linux.resources.memory.disableOOMKiller", "not implemented")
        refuse(#"{\#(base),"linux":{"resources":{"memory":{"swappiness":0}}}}"#, "linux.resources.memory.swappiness", "not implemented")
        // Docker writes the fields it knows with zero values, meaning "not set" (as runc reads them).
        XCTAssertNoThrow(try SpecCheck.decode(Data(#"{\#(base),"linux":{"resources":{"memory":{"disableOOMKiller":false,"reservation":0,"kernel":0},"blockIO":{"weight":0},"cpu":{"shares":0}}}}"#.utf8)))
        // Fields outside the spec are ignored, as its extensibility clause requires.
        XCTAssertNoThrow(try SpecCheck.decode(Data(#"{\#(base),"org.example.custom":{"x":1}}"#.utf8)))
    }

    func testDefaultSpecIsValidAndRunnable() throws {
        for rootless in [false, true] {
            let spec = DefaultSpec.make(rootless: rootless, uid: 1000, gid: 1000)
            XCTAssertEqual(try SpecCheck.decode(try DefaultSpec.encode(spec)), spec)
            XCTAssertEqual(spec.process?.args, ["sh"])
            XCTAssertEqual(spec.linux?.namespaces?.contains { $0.type == "user" }, rootless)
        }
    }

    func testMountOptionsMapToFlagsAndData() {
        let tmpfs = MountOptions(["nosuid", "strictatime", "mode=755", "size=65536k"])
        XCTAssertEqual(tmpfs.flags, [.noSUID, .strictATime])
        XCTAssertEqual(tmpfs.data, "mode=755,size=65536k")
        XCTAssertNil(tmpfs.remountFlags)
        let bind = MountOptions(["rbind", "ro", "rprivate", "nosuid"])
        XCTAssertEqual(bind.flags, [.bind, .recursive, .readOnly, .noSUID])
        XCTAssertEqual(bind.propagation, [.private, .recursive])
        XCTAssertEqual(bind.remountFlags, [.remount, .bind, .readOnly, .noSUID])
        XCTAssertEqual(MountOptions(["ro", "rw"]).flags, [])
    }

    func testNamesMatchTheKernel() {
        XCTAssertEqual(CapabilityNames.value(of: "CAP_NET_BIND_SERVICE"), 10)
        XCTAssertEqual(CapabilityNames.value(of: "CAP_SYS_ADMIN"), 21)
        XCTAssertEqual(CapabilityNames.value(of: "CAP_CHECKPOINT_RESTORE"), 40)
        XCTAssertEqual(ResourceLimits.value(of: "RLIMIT_NOFILE"), 7)
        XCTAssertEqual(ResourceLimits.value(of: "RLIMIT_NPROC"), 6)
    }
}
