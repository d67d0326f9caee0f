import ContlabCore
import Foundation
import OCI
import XCTest
@testable import Stage4OCI

/// SCMP_ACT_NOTIFY's pieces that need neither root nor an agent: the message the agent gets,
/// the socket that carries the descriptor, and the refusal of a missing agent.
final class SeccompNotifyTests: XCTestCase {
    func testTheContainerProcessStateHasTheSpecFields() throws {
        var seccomp = Spec.Seccomp(
            defaultAction: "SCMP_ACT_ALLOW", syscalls: [Spec.Syscall(names: ["mkdir"], action: "SCMP_ACT_NOTIFY")])
        seccomp.listenerPath = "/run/agent.sock"
        seccomp.listenerMetadata = "bar"
        let state = ContainerState(id: "c1", status: "creating", pid: 812, bundle: "/b", annotations: ["k": "v"])
        let message = ContainerProcessState(pid: 812, seccomp: seccomp, state: state)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(message.json())) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["ociVersion", "fds", "pid", "metadata", "state"])
        XCTAssertEqual(object["ociVersion"] as? String, DefaultSpec.ociVersion)
        XCTAssertEqual(object["fds"] as? [String], ["seccompFd"], "runtime-spec's name for the notification descriptor")
        XCTAssertEqual(object["pid"] as? Int, 812)
        XCTAssertEqual(object["metadata"] as? String, "bar")
        let inner = try XCTUnwrap(object["state"] as? [String: Any])
        XCTAssertEqual(inner["id"] as? String, "c1")
        XCTAssertEqual(inner["status"] as? String, "creating")
        XCTAssertEqual(inner["pid"] as? Int, 812)
        XCTAssertEqual(inner["bundle"] as? String, "/b")
        XCTAssertEqual(inner["annotations"] as? [String: String], ["k": "v"])
        // Without listenerMetadata the field is left out (it is optional), not sent empty.
        seccomp.listenerMetadata = nil
        let bare =
            try JSONSerialization.jsonObject(
                with: Data(ContainerProcessState(pid: 1, seccomp: seccomp, state: state).json())) as? [String: Any]
        XCTAssertNil(bare?["metadata"])
    }

    /// The descriptor travels with its line on the report socket, and lines around it still read.
    func testAReportCarriesLinesAndTheDescriptorSentWithThem() throws {
        let pair = try Sys.socketPair()
        defer { close(pair.read) }
        let carried = try Sys.pipe()
        defer { close(carried.read) }
        Sys.writeAll(pair.write, Array("record x\n".utf8))
        try SeccompAgent.sendListener(carried.write, over: pair.write)
        close(carried.write)
        Sys.writeAll(pair.write, Array("ready\n".utf8))
        close(pair.write)
        var report = ProcessReport(fd: pair.read)
        XCTAssertEqual(report.nextLine(), "record x")
        XCTAssertEqual(report.nextLine(), SeccompAgent.line)
        let received = try XCTUnwrap(report.takeDescriptor())
        XCTAssertEqual(report.nextLine(), "ready")
        XCTAssertNil(report.nextLine())
        XCTAssertNil(report.takeDescriptor())
        // It is the same pipe: what goes in the received end comes out of the one kept here.
        Sys.writeAll(received, [42])
        close(received)
        var byte: UInt8 = 0
        XCTAssertEqual(read(carried.read, &byte, 1), 1)
        XCTAssertEqual(byte, 42)
    }

    func testAMissingAgentIsNamedWithWhatToDo() {
        let path = NSTemporaryDirectory() + "contlab-no-agent-\(getpid()).sock"
        XCTAssertThrowsError(try SeccompAgent.connect(path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("linux.seccomp.listenerPath \(path)"), text)
            XCTAssertTrue(text.contains("failed to connect with seccomp agent"), text)
            XCTAssertTrue(text.contains("start the seccomp agent first"), text)
        }
    }
}
