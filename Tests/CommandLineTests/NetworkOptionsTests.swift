import ArgumentParser
import XCTest

@testable import contlab

/// Stage 6's options: what `run` accepts with --network, and what it refuses saying what to add.
final class NetworkOptionsTests: XCTestCase {
    func message(_ args: [String]) -> String? {
        do {
            _ = try RunCommand.parse(args)
            return nil
        } catch { return RunCommand.message(for: error) }
    }

    func testStage6NeedsANetworkAndOnlyStage6TakesOne() {
        XCTAssertNil(message(["--stage", "6", "--network", "lab", "--name", "web", "--", "true"]))
        XCTAssertEqual(
            message(["--stage", "6", "--", "true"]),
            "stage 6 runs on a lab network: add --network NAME (contlab network create NAME)")
        XCTAssertEqual(
            message(["--stage", "2", "--network", "lab", "--", "true"]), "--network is stage 6's: add --stage 6")
        XCTAssertEqual(
            message(["--stage", "2", "--name", "web", "--", "true"]),
            "--image, --name and --rm are stage 5's (--name also stage 6's): add --stage 5")
        XCTAssertNil(message(["--stage", "6", "--network", "lab", "--memory", "64M", "--pids", "32", "--", "true"]))
        XCTAssertEqual(
            message(["--stage", "2", "--memory", "64M", "--", "true"]),
            "--memory, --pids and --cpus are stage 3's (and stages 5 and 6's): add --stage 3")
    }

    func testPublishIsStage6sAndIsCheckedBeforeAnythingRuns() {
        XCTAssertNil(
            message(["--stage", "6", "--network", "lab", "-p", "8080:80", "--publish", "8443:443", "--", "true"]))
        XCTAssertEqual(
            message(["--stage", "2", "-p", "8080:80", "--", "true"]),
            "-p publishes a port on a lab network's host side, which is stage 6's: add --stage 6 --network NAME")
        XCTAssertEqual(
            message(["--stage", "6", "--network", "lab", "-p", "8080", "--", "true"]),
            "-p 8080: write it as HOSTPORT:CONTAINERPORT, such as -p 8080:80")
        XCTAssertEqual(
            message(["--stage", "6", "--network", "lab", "-p", "8080:65536", "--", "true"]),
            "-p 8080:65536: port 65536 is out of range: a TCP port is 1 to 65535")
    }

    func testCNIVerbsParse() throws {
        for verb in ["attach", "check", "detach"] {
            let args = [
                verb, "--cni", "lab.conflist", "--ifname", "eth1", "--cni-path", "/a:/b", "--runc-root", "/s", "web"
            ]
            XCTAssertNoThrow(try NetworkCommand.parseAsRoot(args))
            XCTAssertThrowsError(try NetworkCommand.parseAsRoot([verb, "web"]), "--cni is required")
        }
        XCTAssertNoThrow(try NetworkCommand.parseAsRoot(["attach", "--cni", "c", "-p", "9090:80", "--json", "web"]))
    }

    func testNetworkCommandsParse() throws {
        XCTAssertNoThrow(try NetworkCommand.parseAsRoot(["create", "--subnet", "10.88.9.0/24", "lab"]))
        XCTAssertNoThrow(try NetworkCommand.parseAsRoot(["rm", "--force", "a", "b"]))
        XCTAssertNoThrow(try NetworkCommand.parseAsRoot(["inspect", "--json", "lab"]))
        XCTAssertNoThrow(try NetworkCommand.parseAsRoot(["shell", "lab", "--", "ip", "-o", "link"]))
        XCTAssertThrowsError(try NetworkCommand.parseAsRoot(["rm"]))
    }
}
