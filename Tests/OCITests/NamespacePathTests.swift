import ContlabCore
import Foundation
import XCTest
@testable import OCI
@testable import Stage4OCI

/// linux.namespaces[].path and the exec fifo's owner: the decisions, without the kernel.
final class NamespacePathTests: XCTestCase {
    func spec(_ namespaces: String) throws -> Spec {
        try SpecCheck.decode(
            Data(#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{"namespaces":\#(namespaces)}}"#.utf8))
    }

    func testJoinedNamespacesAreEnteredUserFirstPIDBeforeMountMountLast() throws {
        let joined = try spec(
            #"""
            [{"type":"mount","path":"/proc/7/ns/mnt"},{"type":"network","path":"/run/netns/lab"},{"type":"uts"},
             {"type":"pid","path":"/proc/7/ns/pid"},{"type":"user","path":"/proc/7/ns/user"},{"type":"ipc","path":"/proc/7/ns/ipc"}]
            """#)
        let entries = NamespacePaths.entries(joined)
        XCTAssertEqual(entries.map(\.namespace), [.user, .ipc, .network, .pid, .mount])
        // Each keeps its place in linux.namespaces, for the error that names it.
        XCTAssertEqual(entries.map(\.index), [4, 5, 1, 3, 0])
        XCTAssertEqual(entries.first { $0.namespace == .network }?.path, "/run/netns/lab")
        // Only the listed types without a path are made.
        XCTAssertEqual(joined.newNamespaces, [.uts])
    }

    func testAPathIsCheckedAgainstTheKernelsTypeOfIt() {
        let entry = NamespacePaths.Entry(index: 2, namespace: .network, path: "/proc/7/ns/mnt")
        XCTAssertThrowsError(try NamespacePaths.check(entry, kernelType: Namespace.mount.cloneFlag)) { error in
            XCTAssertEqual((error as? SpecError)?.path, "linux.namespaces[2].path")
            XCTAssertTrue(
                "\(error)".contains("/proc/7/ns/mnt is a namespace of type mount, where the entry's type is network"),
                "\(error)")
            XCTAssertTrue("\(error)".contains("/proc/PID/ns/net"), "\(error)")
        }
        XCTAssertThrowsError(try NamespacePaths.check(entry, kernelType: nil)) { error in
            XCTAssertTrue("\(error)".contains("is not a namespace file"), "\(error)")
        }
        XCTAssertNoThrow(try NamespacePaths.check(entry, kernelType: Namespace.network.cloneFlag))
    }

    func testSpecCheckTakesEveryTypesPathButRefusesRelativeOnesAndDuplicates() throws {
        for type in ["user", "mount", "pid", "network", "ipc", "uts", "cgroup"] {
            XCTAssertNoThrow(try spec(#"[{"type":"\#(type)","path":"/proc/1/ns/x"}]"#), type)
        }
        XCTAssertThrowsError(try spec(#"[{"type":"network","path":"netns/lab"}]"#)) { error in
            XCTAssertEqual((error as? SpecError)?.path, "linux.namespaces[0].path")
            XCTAssertTrue("\(error)".contains("absolute path, such as /proc/PID/ns/net"), "\(error)")
        }
        XCTAssertThrowsError(try spec(#"[{"type":"network"},{"type":"network","path":"/run/netns/lab"}]"#)) { error in
            XCTAssertEqual((error as? SpecError)?.path, "linux.namespaces[1]")
            XCTAssertTrue("\(error)".contains("listed twice; keep one entry"), "\(error)")
        }
    }

    func testTheExecFifoBelongsToTheRootAUserNamespaceMaps() {
        XCTAssertEqual(
            OCIRuntime.hostID(ofRoot: [Spec.IDMapping(containerID: 0, hostID: 100_000, size: 65_536)]), 100_000)
        XCTAssertEqual(
            OCIRuntime.hostID(ofRoot: [
                Spec.IDMapping(containerID: 1, hostID: 100_001, size: 10),
                Spec.IDMapping(containerID: 0, hostID: 5000, size: 1)
            ]), 5000)
        XCTAssertNil(OCIRuntime.hostID(ofRoot: [Spec.IDMapping(containerID: 1000, hostID: 1000, size: 1)]))
        XCTAssertNil(OCIRuntime.hostID(ofRoot: nil))
    }
}
