import ContlabCore
import Foundation
import XCTest

/// A config.json larger than the 128 KiB an environment variable may hold (10,000 annotations,
/// as runc accepts) runs: the init's plan travels in a memfd, not in the environment.
final class LargeConfigTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireRoot() }

    func testTenThousandAnnotationsRun() throws {
        let work = NSTemporaryDirectory() + "contlab-large-config-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        XCTAssertEqual(
            try Harness.run([
                "bundle", "create", work + "/bundle", "--", "sh", "-c", "echo inside; ls /proc/self/fd | wc -l"
            ]).status, 0)
        let path = work + "/bundle/config.json"
        var config = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        config["annotations"] = Dictionary(
            uniqueKeysWithValues: (0..<10_000).map { ("org.example.lab.key\($0)", String(repeating: "v", count: 16)) })
        let data = try JSONSerialization.data(withJSONObject: config)
        XCTAssertGreaterThan(data.count, 300_000)
        try data.write(to: URL(fileURLWithPath: path))
        let run = try Harness.run([
            "runc", "--root", work + "/state", "run", "--bundle", work + "/bundle", "large\(getpid())"
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        // The plan's descriptor is closed before the process runs: ls sees 0, 1, 2 and its own.
        XCTAssertEqual(run.stdout, "inside\n4\n")
    }
}
