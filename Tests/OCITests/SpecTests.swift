import ContlabCore
import Foundation
import XCTest
@testable import OCI

final class SpecTests: XCTestCase {
    /// contlab's own example configs (Configs/README.md says why each is good or bad).
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Configs").standardizedFileURL

    func load(_ name: String) throws -> Data {
        let url = Self.examples.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("missing \(url.path): the example configs are part of the checkout")
            throw XCTSkip("no examples")
        }
        return data
    }

    /// The Linux examples decode, re-encode and decode to the same value.
    func testExamplesRoundTrip() throws {
        for name in ["good/minimal.json", "good/minimal-for-start.json"] {
            let spec = try SpecCheck.decode(try load(name))
            XCTAssertEqual(try SpecCheck.decode(try DefaultSpec.encode(spec)), spec, name)
        }
        // The full example also sets what contlab does not implement: refused by name, not ignored.
        let process = ["apparmorProfile", "selinuxLabel"]
        let linux = ["intelRdt", "mountLabel", "personality"]
        let resources = ["hugepageLimits"]
        let unimplemented =
            process.map { "process." + $0 } + linux.map { "linux." + $0 } + resources.map { "linux.resources." + $0 }
        XCTAssertThrowsError(try SpecCheck.decode(try load("good/linux-web-server.json"))) { error in
            XCTAssertTrue(unimplemented.contains((error as? SpecError)?.path ?? ""), "\(error)")
            XCTAssertTrue("\(error)".contains("not implemented"), "\(error)")
        }
        // Each of those alone is refused by its path.
        let full = try JSONSerialization.jsonObject(with: try load("good/linux-web-server.json")) as! [String: Any]
        func without(_ paths: [String]) -> [String: Any] {
            func remove(_ keys: ArraySlice<String>, from object: [String: Any]) -> [String: Any] {
                var object = object
                guard let key = keys.first else { return object }
                if keys.count == 1 {
                    object[key] = nil
                } else if let inner = object[key] as? [String: Any] {
                    object[key] = remove(keys.dropFirst(), from: inner)
                }
                return object
            }
            return paths.reduce(full) { remove($1.split(separator: ".").map(String.init)[...], from: $0) }
        }
        for path in unimplemented {
            let one = try JSONSerialization.data(withJSONObject: without(unimplemented.filter { $0 != path }))
            XCTAssertThrowsError(try SpecCheck.decode(one), path) { error in
                XCTAssertEqual((error as? SpecError)?.path, path, "\(error)")
            }
        }
        // With them removed, the rest decodes and round-trips.
        let spec = try SpecCheck.decode(try JSONSerialization.data(withJSONObject: without(unimplemented)))
        XCTAssertEqual(spec.process?.capabilities?.bounding?.first, "CAP_NET_BIND_SERVICE")
        XCTAssertEqual(spec.linux?.sysctl?["kernel.shmmni"], "1024")
        XCTAssertEqual(spec.linux?.seccomp?.syscalls?.count, 3)
        XCTAssertEqual(spec.hooks?.poststop?.first?.timeout, 5)
        // The cgroup settings contlab writes now (cpusets, block I/O, net_cls and net_prio, the
        // memory controller's other files) are read, not refused.
        let resources_ = spec.linux?.resources
        XCTAssertEqual(resources_?.cpu?.cpus, "0")
        XCTAssertEqual(resources_?.memory?.swappiness, 10)
        XCTAssertEqual(
            resources_?.blockIO?.throttleReadBpsDevice, [Spec.ThrottleDevice(major: 7, minor: 7, rate: 10_485_760)])
        XCTAssertEqual(
            resources_?.network,
            Spec.Network(classID: 1_048_592, priorities: [Spec.InterfacePriority(name: "eth0", priority: 10)]))
        XCTAssertEqual(try SpecCheck.decode(try DefaultSpec.encode(spec)), spec)
    }

    /// Each bad example is refused: the one that is not JSON as such, the two with a bad value
    /// at the field that holds it (contlab refuses those fields whatever their value).
    func testBadExamplesAreRefused() throws {
        XCTAssertThrowsError(try SpecCheck.decode(try load("bad/invalid-json.json"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("config.json: not valid JSON"), "\(error)")
        }
        for (name, path) in [
            ("bad/linux-hugepage-page-size.json", "linux.resources.hugepageLimits"),
            ("bad/linux-rdma-negative.json", "linux.resources.rdma")
        ] {
            XCTAssertThrowsError(try SpecCheck.decode(try load(name)), name) { error in
                XCTAssertEqual((error as? SpecError)?.path, path, "\(name): \(error)")
            }
        }
    }

    func testProblemsNameTheirJSONPath() throws {
        func refuse(
            _ json: String, _ path: String, _ message: String, file: StaticString = #filePath, line: UInt = #line
        ) {
            XCTAssertThrowsError(try SpecCheck.decode(Data(json.utf8)), file: file, line: line) { error in
                XCTAssertEqual((error as? SpecError)?.path, path, "\(error)", file: file, line: line)
                XCTAssertTrue("\(error)".contains(message), "\(error)", file: file, line: line)
            }
        }
        let base = #""ociVersion":"1.0.2","root":{"path":"rootfs"}"#
        refuse(
            #"{\#(base),"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"capabilities":{"bounding":["CAP_KILL","CAP_CHOWN","CAP_FOO"]}}}"#,
            "process.capabilities.bounding[2]", "unknown capability \"CAP_FOO\"")
        refuse(
            #"{\#(base),"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":[]}}"#, "process.args",
            "must name the program")
        refuse(
            #"{\#(base),"process":{"cwd":"/","user":{"uid":"root","gid":0},"args":["sh"]}}"#, "process.user.uid",
            "non-negative integer")
        refuse(#"{\#(base),"process":{"user":{"uid":0,"gid":0},"args":["sh"]}}"#, "process.cwd", "missing")
        refuse(
            #"{\#(base),"linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}}"#, "linux.namespaces[1]", "listed twice"
        )
        refuse(
            #"{\#(base),"linux":{"namespaces":[{"type":"pidd"}]}}"#, "linux.namespaces[0].type",
            "unknown namespace type")
        refuse(#"{\#(base),"hostname":"x"}"#, "hostname", "uts namespace")
        refuse(
            #"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_NOTIFY"}}}"#, "linux.seccomp.defaultAction",
            "cannot be used as the default action")
        refuse(
            #"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_NOTHING"}}}"#, "linux.seccomp.defaultAction",
            "not an action")
        refuse(
            #"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}}}"#,
            "linux.seccomp.syscalls[0].args[0].op", "unknown comparison")
        refuse(
            #"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG"]}}}"#,
            "linux.seccomp.flags", "not implemented")
        // SCMP_ACT_NOTIFY needs an agent, and may not take write (the runtime's own reports).
        let notify = #""defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]"#
        refuse(
            #"{\#(base),"linux":{"seccomp":{\#(notify)}}}"#, "linux.seccomp.listenerPath",
            "give the path of its unix socket")
        refuse(
            #"{\#(base),"linux":{"seccomp":{\#(notify),"listenerPath":""}}}"#, "linux.seccomp.listenerPath",
            "give the path of its unix socket")
        refuse(
            #"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/l.sock","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_NOTIFY"}]}}}"#,
            "linux.seccomp.syscalls[0].names", "SCMP_ACT_NOTIFY cannot be used for the write syscall")
        let agent = try SpecCheck.decode(
            Data(
                #"{\#(base),"linux":{"seccomp":{\#(notify),"listenerPath":"/run/l.sock","listenerMetadata":"bar"}}}"#
                    .utf8))
        XCTAssertEqual(agent.linux?.seccomp?.listenerPath, "/run/l.sock")
        XCTAssertEqual(agent.linux?.seccomp?.listenerMetadata, "bar")
        XCTAssertEqual(agent.linux?.seccomp?.usesNotify, true)
        // A listener with nothing to notify is allowed, and unused (runc's "empty listener path" test).
        XCTAssertEqual(
            try SpecCheck.decode(
                Data(
                    #"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/l.sock"}}}"#
                        .utf8)
            )
            .linux?.seccomp?.usesNotify, false)
        refuse(
            #"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]}}}"#,
            "linux.seccomp.architectures[0]", "unknown architecture")
        // The shape of Docker's default profile loads.
        let docker =
            #"{\#(base),"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ"}]},{"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]}}}"#
        XCTAssertEqual(try SpecCheck.decode(Data(docker.utf8)).linux?.seccomp?.syscalls?.count, 3)
        refuse(
            #"{\#(base),"linux":{"sysctl":{"kernel.panic":"1"}}}"#, "linux.sysctl.kernel.panic",
            "not a namespaced sysctl")
        refuse(
            #"{\#(base),"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"rlimits":[{"type":"RLIMIT_NOFILE","hard":10,"soft":20}]}}"#,
            "process.rlimits[0]", "above the hard limit")
        refuse(#"{"ociVersion":"2.0.0","root":{"path":"r"}}"#, "ociVersion", "not a 1.x version")
        refuse(#"[1,2]"#, "", "JSON object")
        refuse(#"{"ociVersion": "1.0.0", "root": "#, "", "not valid JSON")
        refuse(
            #"{\#(base),"linux":{"resources":{"hugepageLimits":[{"pageSize":"2MB","limit":1}]}}}"#,
            "linux.resources.hugepageLimits", "not implemented")
        refuse(#"{\#(base),"hooks":{"poststop":[{"path":"rm"}]}}"#, "hooks.poststop[0].path", "absolute")
        refuse(
            #"{\#(base),"hooks":{"prestart":[{"path":"/bin/true","timeout":0}]}}"#, "hooks.prestart[0].timeout",
            "greater than zero")
        // Docker writes the fields it knows with zero values, meaning "not set" (as runc reads them).
        XCTAssertNoThrow(
            try SpecCheck.decode(
                Data(
                    #"{\#(base),"linux":{"resources":{"memory":{"disableOOMKiller":false,"reservation":0,"kernel":0},"blockIO":{"weight":0},"cpu":{"shares":0}}}}"#
                        .utf8)))
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
