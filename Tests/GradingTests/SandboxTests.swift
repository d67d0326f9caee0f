import OCI
import XCTest
@testable import Grading

/// The container student work runs in, as a config.json: what contains it.
final class SandboxTests: XCTestCase {
    func testTheSandboxIsContained() throws {
        let sandbox = Sandbox(rootfs: "/tree", args: ["/bin/sh"], timeout: 5)
        let spec = sandbox.spec()
        XCTAssertEqual(spec.root, Spec.Root(path: "/tree", readonly: true))
        XCTAssertEqual(
            Set(spec.linux?.namespaces?.map(\.type) ?? []), ["pid", "network", "ipc", "uts", "mount", "cgroup", "user"])
        // Root inside is 65,536 ids no host account has.
        XCTAssertEqual(spec.linux?.uidMappings, [Spec.IDMapping(containerID: 0, hostID: sandbox.idBase, size: 65_536)])
        XCTAssertEqual(spec.linux?.gidMappings, spec.linux?.uidMappings)
        XCTAssertGreaterThanOrEqual(sandbox.idBase, 0x4000_0000)
        XCTAssertEqual(spec.linux?.seccomp?.defaultAction, "SCMP_ACT_ALLOW")
        XCTAssertTrue(spec.linux?.seccomp?.syscalls?.first?.names.contains("keyctl") ?? false)
        XCTAssertEqual(spec.linux?.seccomp?.syscalls?.first?.action, "SCMP_ACT_ERRNO")
        XCTAssertEqual(spec.linux?.resources?.memory?.limit, 256 << 20)
        XCTAssertEqual(spec.linux?.resources?.memory?.swap, 256 << 20, "no swap beyond the limit")
        XCTAssertEqual(spec.linux?.resources?.pids?.limit, 256)
        XCTAssertEqual(spec.process?.capabilities?.bounding, DefaultSpec.capabilities)
        XCTAssertEqual(spec.process?.noNewPrivileges, true)
        let tmp = try XCTUnwrap(spec.mounts?.first { $0.destination == "/tmp" })
        XCTAssertEqual(tmp.type, "tmpfs")
        XCTAssertTrue(tmp.options?.contains("size=64m") ?? false)
        XCTAssertFalse(spec.linux?.maskedPaths?.isEmpty ?? true)
        XCTAssertTrue(spec.process?.env?.contains("SWIFT_ROOT=/") ?? false, "the static contlab inside needs it")
    }

    func testContainersThatRunContainersGetWhatThatTakesInTheirUserNamespace() {
        var sandbox = Sandbox(rootfs: "/tree", args: ["/bin/sh"], timeout: 5)
        sandbox.nested = true
        sandbox.binds = [Sandbox.Bind(source: "/work/x", destination: "/exercise")]
        let spec = sandbox.spec()
        let bounding = spec.process?.capabilities?.bounding ?? []
        XCTAssertTrue(bounding.contains("CAP_SYS_ADMIN"))
        for kept in [
            "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_TIME", "CAP_SYSLOG", "CAP_BPF", "CAP_SYS_BOOT", "CAP_NET_ADMIN"
        ] {
            XCTAssertFalse(bounding.contains(kept), kept)
        }
        XCTAssertEqual(spec.linux?.maskedPaths, [])
        XCTAssertTrue(
            spec.linux?.namespaces?.contains { $0.type == "user" } ?? false, "nested or not, in a user namespace")
        let bind = spec.mounts?.first { $0.destination == "/exercise" }
        XCTAssertEqual(bind?.options, ["bind", "nosuid", "nodev", "ro"])
    }

    func testACgroupLendingSandboxIsPlacedAndMayWriteOnlyItsOwnCgroup() {
        var sandbox = Sandbox(rootfs: "/tree", args: ["/bin/sh"], timeout: 5)
        XCTAssertEqual(
            sandbox.spec().mounts?.first { $0.type == "cgroup" }?.options?.contains("ro"), true, "read-only unless lent"
        )
        XCTAssertNil(sandbox.spec().linux?.cgroupsPath)
        sandbox.cgroupsPath = "/contlab-grade-1-2/runner"
        sandbox.writableCgroups = true
        let spec = sandbox.spec()
        XCTAssertEqual(spec.linux?.cgroupsPath, "/contlab-grade-1-2/runner")
        XCTAssertEqual(spec.mounts?.first { $0.type == "cgroup" }?.options?.contains("ro"), false)
        XCTAssertEqual(spec.linux?.resources?.memory?.limit, 256 << 20, "the container's own limits stay")
        XCTAssertTrue(
            spec.linux?.namespaces?.contains { $0.type == "cgroup" } ?? false, "it sees its own cgroup as the root")
        XCTAssertTrue(Sandbox.mayHandOver("/sys/fs/cgroup/memory/contlab-grade-1-2/runner"))
        XCTAssertFalse(Sandbox.mayHandOver("/sys/fs/cgroup/memory"))
    }

    func testOnlyCapabilitiesTheGraderHoldsAreAskedFor() {
        // 0x1fffeffffff: everything up to CAP_CHECKPOINT_RESTORE but CAP_SYS_RESOURCE (bit 24).
        let status = "Name:\tcontlab\nCapBnd:\t000001fffeffffff\n"
        let caps = Sandbox.boundingCapabilities(status: status)
        XCTAssertFalse(caps.contains("CAP_SYS_RESOURCE"))
        XCTAssertTrue(caps.contains("CAP_SYS_ADMIN"))
        XCTAssertEqual(caps.count, 40)
        XCTAssertEqual(Sandbox.boundingCapabilities(status: "garbage"), DefaultSpec.capabilities)
    }

    func testChildStatusSaysHowItEnded() {
        let base = ChildResult(exitCode: 0, signal: nil, timedOut: false, stdout: Data(), stderr: Data(), seconds: 0)
        XCTAssertEqual(base.status, "exited with 0")
        var killed = base
        killed.signal = 9
        XCTAssertEqual(killed.status, "was killed by signal 9")
        var late = base
        late.timedOut = true
        XCTAssertTrue(late.status.contains("did not finish within its time limit"))
    }

    func testChildProcessTimesOut() throws {
        let start = Date()
        let result = try ChildProcess.run(["/bin/sh", "-c", "sleep 30 & sleep 30"], timeout: 1)
        XCTAssertTrue(result.timedOut)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        let quick = try ChildProcess.run(["/bin/sh", "-c", "printf '\\377'; kill -9 $$"], timeout: 5)
        XCTAssertEqual(quick.signal, 9)
        XCTAssertEqual(quick.stdout, Data([0xFF]))
    }

    /// Handing over changes a tree's owner on the host (chown -R): only the grading's own
    /// temporary folders and cgroups qualify, never a shared tree such as the host's /usr.
    func testOnlyTheGradingsOwnFoldersAreHandedOver() {
        let tmp = "/tmp/"
        XCTAssertTrue(Sandbox.mayHandOver("/tmp/contlab-grade-work-AbC123", temporary: tmp))
        XCTAssertTrue(Sandbox.mayHandOver("/tmp/contlab-grade-work-AbC123/exercise", temporary: tmp))
        XCTAssertTrue(Sandbox.mayHandOver("/sys/fs/cgroup/memory/contlab-grade-42-beef/work", temporary: tmp))
        for path in [
            "/usr", "/", "/tmp", "/var/lib/contlab/rootfs/busybox/6d50d8a509fe", "/work/main/bin/contlab",
            "/tmp/contlab-grade-x/../../usr", "/tmp/other/contlab-grade-x", "/sys/fs/cgroup/memory",
            "/home/ana/contlab-grade-x", "/opt/swift"
        ] {
            XCTAssertFalse(Sandbox.mayHandOver(path, temporary: tmp), path)
        }
        XCTAssertThrowsError(try Sandbox.handOver("/usr", to: 0x4000_0000)) { error in
            XCTAssertTrue("\(error)".contains("refusing"), "\(error)")
        }
    }
}
