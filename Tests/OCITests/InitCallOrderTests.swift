import ContlabCore
import Foundation
import TestSupport
import XCTest
@testable import OCI
@testable import Stage4OCI

/// The order stage 4's init (contlab-runc's) makes its calls in, the order the lesson teaches,
/// checked on the record of the recording mode (`CallRecord.callsKernel = false`): `OCIInit.setUp`
/// runs whole, calling no kernel, so no root is needed and nothing on this machine changes.
/// OCIRuntimeTests checks the effects for real.
final class InitCallOrderTests: RecordingTestCase {
    let root = "/nonexistent/contlab-oci-rootfs"

    /// A config.json as `runc spec` writes it, cut down, with a user, limits and a filter; `process`
    /// fields are merged over the defaults.
    func spec(process extra: String = "") throws -> Spec {
        let text = """
            {"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "hostname": "box",
             "process": {"user": {"uid": 1000, "gid": 1000, "additionalGids": [2000]}, "args": ["/bin/sh"], "cwd": "/work",
                         "capabilities": {"bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE"], "effective": ["CAP_KILL"],
                                          "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"]},
                         "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]\(extra)},
             "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}],
             "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"}],
                       "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                                   "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}}}
            """
        return try SpecReader.spec(try JSONValue.parse(text))
    }

    func setUpCalls(_ spec: Spec) throws -> [String] {
        let plan = OCIInitPlan(
            id: "order", bundle: "/nonexistent", rootfs: root, spec: spec, fifoFD: nil,
            toHostFD: -1, fromHostFD: -1, consoleFD: nil, cgroupDirectories: [],
            inUserNamespace: false, hostHooks: false, record: true, dieWithCaller: false)
        let command = try OCIInit.setUp(
            plan, hostHooks: { XCTFail("no host hooks were asked for") },
            handOver: { _ in XCTFail("no filter notifies") })
        XCTAssertEqual(command.args, ["/bin/sh"])
        return CallRecord.shared.entries
    }

    /// The index of the first call that starts with `prefix`, failing the test when there is none.
    func index(_ prefix: String, in calls: [String], file: StaticString = #filePath, line: UInt = #line) -> Int {
        guard let index = calls.firstIndex(where: { $0.hasPrefix(prefix) }) else {
            XCTFail("\(prefix) was not made:\n\(calls.joined(separator: "\n"))", file: file, line: line)
            return -1
        }
        return index
    }

    func testTheRootIsBuiltThenEnteredThenTheOldRootDetached() throws {
        let calls = try setUpCalls(try spec())
        let steps = [
            "mount(NULL, \"/\", NULL, MS_REC|MS_SLAVE",  // nothing propagates back to the host
            "mount(\"\(root)\", \"\(root)\", NULL, MS_BIND|MS_REC",  // pivot_root needs a mount point
            "mount(\"proc\", \"\(root)/proc\", \"proc\"",  // mounts[0]
            "mount(\"tmpfs\", \"\(root)/dev\", \"tmpfs\"",  // mounts[1]
            "mknod(\"\(root)/dev/null\", S_IFCHR|0666, makedev(1, 3))",  // on the fresh /dev
            "chdir(\"\(root)\")",
            "pivot_root(\".\", \".\")",
            "umount2(\".\", MNT_DETACH)",  // no path back to the host's files
            "chdir(\"/\")",
            "sethostname(\"box\""
        ]
        let order = steps.map { index($0, in: calls) }
        XCTAssertFalse(order.contains(-1))
        XCTAssertEqual(order, order.sorted(), "in the lesson's order:\n\(calls.joined(separator: "\n"))")
        XCTAssertEqual(calls.filter { $0.hasPrefix("mknod(") }.count, 6, "the runtime spec's six default devices")
    }

    func testTheIdentityIsTakenInTheOrderCapabilitiesNeed() throws {
        let calls = try setUpCalls(try spec(process: #", "noNewPrivileges": true"#))
        let detach = index("umount2(\".\", MNT_DETACH)", in: calls)
        let rlimit = index("setrlimit(RLIMIT_NOFILE, {1024, 1024})", in: calls)
        let cwd = index("chdir(\"/work\")", in: calls)
        let bounding = index("prctl(PR_CAPBSET_DROP", in: calls)
        let keepCaps = index("prctl(PR_SET_KEEPCAPS, 1)", in: calls)
        let setgroups = index("setgroups(1, {2000})", in: calls)
        let setgid = index("setgid(1000)", in: calls)
        let setuid = index("setuid(1000)", in: calls)
        let capset = index("capset(effective CAP_KILL, permitted CAP_KILL, inheritable 0)", in: calls)
        let ambient = index("prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL)", in: calls)
        let noNewPrivs = index("prctl(PR_SET_NO_NEW_PRIVS, 1)", in: calls)
        let seccomp = index("seccomp(SECCOMP_SET_MODE_FILTER", in: calls)
        let log = calls.joined(separator: "\n")
        XCTAssertTrue(detach < rlimit && rlimit < setuid, "limits are set in the container, while still root:\n\(log)")
        XCTAssertTrue(
            detach < cwd && cwd < setuid,
            "process.cwd is entered with the runtime's rights first (runc's order):\n\(log)")
        XCTAssertTrue(
            bounding < keepCaps && keepCaps < setuid,
            "the bounding set is dropped while CAP_SETPCAP is held, the permitted set kept across setuid:"
                + "\n\(log)")
        XCTAssertTrue(
            setgroups < setgid && setgid < setuid,
            "groups, then gid, while CAP_SETGID is held; uid last:\n\(log)")
        XCTAssertTrue(setuid < capset && capset < ambient, "the process's sets once it is the user:\n\(log)")
        XCTAssertTrue(
            ambient < noNewPrivs && noNewPrivs < seccomp,
            "with no_new_privs, the filter needs no CAP_SYS_ADMIN:\n\(log)")
        XCTAssertEqual(
            seccomp, calls.count - 1,
            "with no_new_privs the filter comes last, so it filters none of the setup:\n\(log)")
        let dropped = calls[bounding]
        XCTAssertTrue(dropped.contains("CAP_SYS_ADMIN") && dropped.contains("CAP_CHOWN"), dropped)
        XCTAssertFalse(
            dropped.contains("CAP_KILL") || dropped.contains("CAP_NET_BIND_SERVICE"),
            "the bounding set is kept: \(dropped)")
        XCTAssertEqual(
            calls.filter { $0 == "chdir(\"/work\")" }.count, 1, "entered once, when the runtime can:\n\(log)")
    }

    func testWithoutNoNewPrivilegesTheFilterIsLoadedWhileCapSysAdminIsHeld() throws {
        let calls = try setUpCalls(try spec())
        let seccomp = index("seccomp(SECCOMP_SET_MODE_FILTER", in: calls)
        let log = calls.joined(separator: "\n")
        XCTAssertTrue(
            index("umount2(\".\", MNT_DETACH)", in: calls) < seccomp,
            "the filter is the container's, loaded inside it:\n\(log)")
        XCTAssertTrue(seccomp < index("prctl(PR_CAPBSET_DROP", in: calls), log)
        XCTAssertTrue(seccomp < index("setuid(1000)", in: calls), log)
        XCTAssertFalse(calls.contains { $0.hasPrefix("prctl(PR_SET_NO_NEW_PRIVS") }, log)
    }

    func testNoNamespaceAtAllIsAChrootAndNoPivot() throws {
        var spec = try spec()
        spec.linux?.namespaces = []
        spec.linux?.seccomp = nil
        let calls = try setUpCalls(spec)
        XCTAssertFalse(calls.contains { $0.hasPrefix("pivot_root") || $0.hasPrefix("sethostname") }, "\(calls)")
        XCTAssertFalse(
            calls.contains { $0.hasPrefix("mount(NULL, \"/\"") },
            "the host's own mounts are left alone: \(calls)")
        XCTAssertTrue(index("chroot(\".\")", in: calls) < index("setuid(1000)", in: calls))
    }

    /// Errors lead with the field at fault and keep the hint, as a student reads them.
    func testAFailedCallNamesItsFieldAndHint() {
        let hint = "is it mapped in linux.uidMappings?"
        XCTAssertThrowsError(
            try InitError.on("process.user.uid 1000", hint: hint) {
                throw SystemCallError("setuid(1000)", errno: EINVAL)
            }
        ) { error in
            XCTAssertEqual(
                error as? InitError,
                .call(field: "process.user.uid 1000", SystemCallError("setuid(1000)", errno: EINVAL, hint: hint)))
            XCTAssertEqual(
                "\(error)", "process.user.uid 1000: setuid(1000) failed: Invalid argument (EINVAL) — \(hint)")
        }
        XCTAssertThrowsError(
            try InitError.on("process.user.additionalGids", hints: [EPERM: "remove additionalGids"]) {
                throw SystemCallError("setgroups(1, {2000})", errno: EINVAL)
            }
        ) { XCTAssertFalse("\($0)".contains("remove additionalGids"), "the hint is for EPERM only: \($0)") }
    }
}
