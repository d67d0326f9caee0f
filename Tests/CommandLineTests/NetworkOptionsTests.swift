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

    func testNetworkCommandsParse() throws {
        XCTAssertNoThrow(try NetworkCommand.parseAsRoot(["create", "--subnet", "10.88.9.0/24", "lab"]))
        XCTAssertNoThrow(try NetworkCommand.parseAsRoot(["rm", "--force", "a", "b"]))
        XCTAssertNoThrow(try NetworkCommand.parseAsRoot(["inspect", "--json", "lab"]))
        XCTAssertNoThrow(try NetworkCommand.parseAsRoot(["shell", "lab", "--", "ip", "-o", "link"]))
        XCTAssertThrowsError(try NetworkCommand.parseAsRoot(["rm"]))
    }
}
