import ContlabCore
import TestSupport
import XCTest
@testable import Stage1Chroot
@testable import Stage2Namespaces

/// The order each stage's lesson teaches, checked on the record of system calls made in the
/// recording mode (`CallRecord.callsKernel = false`): no kernel is called, so no root is needed
/// and nothing on this machine changes. The integration test checks the same order for real.
final class CallOrderTests: RecordingTestCase {
    let root = "/nonexistent/contlab-rootfs"

    func testStageOneIsChrootThenChdir() throws {
        try ChrootRoot.enter(rootfs: root)
        XCTAssertEqual(
            CallRecord.shared.entries, ["chroot(\"\(root)\")", "chdir(\"/\")"],
            "chroot does not move the working directory: the chdir must follow")
    }

    func testStageTwoMakesMountsPrivateBindsThenProcThenPivotsAndDetachesTheOldRoot() throws {
        let users = UserDatabase(passwd: "root:x:0:0:root:/root:/bin/sh\n", group: "root:x:0:\n")
        let plan = try RunRequest(stage: 2, rootfs: root, args: ["sh"]).plan(users: users)
        try NamespaceRoot.enter(plan: plan)
        let calls = CallRecord.shared.entries
        func position(_ call: String) -> Int {
            guard let index = calls.firstIndex(where: { $0.hasPrefix(call) }) else {
                XCTFail("\(call) was not made:\n\(calls.joined(separator: "\n"))")
                return -1
            }
            return index
        }
        let steps = [
            "unshare(CLONE_NEWCGROUP)",  // once placed in its cgroup
            "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE",  // nothing propagates to the host
            "mount(\"\(root)\", \"\(root)\", NULL, MS_BIND|MS_REC",  // pivot_root needs a mount point
            "mount(\"proc\", \"\(root)/proc\", \"proc\"",  // by a process in the new PID namespace
            "mknod(\"\(root)/dev/null\"",
            "sethostname(\"contlab\"",
            "chdir(\"\(root)\")",
            "pivot_root(\".\", \".\")",
            "umount2(\".\", MNT_DETACH)",  // no path back to the host's files
            "chdir(\"/\")"
        ]
        let order = steps.map(position)
        XCTAssertEqual(order, order.sorted(), "in the lesson's order:\n\(calls.joined(separator: "\n"))")
        XCTAssertEqual(calls.last, "chdir(\"/\")")
        XCTAssertEqual(calls.filter { $0.hasPrefix("mknod(") }.count, DefaultDevices.nodes.count)
    }

    func testWithoutAPIDNamespaceThereIsNoProc() throws {
        var plan = ContainerPlan(stage: 2, rootfs: root, args: ["sh"], namespaces: [.mount])
        plan.hostname = nil
        try NamespaceRoot.enter(plan: plan)
        let calls = CallRecord.shared.entries
        XCTAssertFalse(calls.contains { $0.contains("\"proc\"") }, "\(calls)")
        XCTAssertFalse(calls.contains { $0.hasPrefix("sethostname") || $0.hasPrefix("unshare") }, "\(calls)")
        XCTAssertTrue(calls.contains("pivot_root(\".\", \".\")"))
    }
}
