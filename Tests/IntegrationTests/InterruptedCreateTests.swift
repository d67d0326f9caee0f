import ContlabCore
import Foundation
import XCTest

/// `contlab-runc create` killed with SIGKILL at any moment: `delete --force` still removes its
/// state, its cgroups in every hierarchy and its processes.
final class InterruptedCreateTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireRoot() }

    func testDeleteForceCleansUpAfterACreateKilledAnywhere() throws {
        let work = NSTemporaryDirectory() + "contlab-killed-create-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let marker = "killed-create-\(getpid())"
        let made = try Harness.run(["bundle", "create", work + "/bundle", "--", "sh", "-c", "sleep 300; : \(marker)"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let prefix = "killed\(getpid())x"
        for attempt in 0..<30 {
            let id = prefix + "\(attempt)"
            let create = try Harness.start([
                "runc", "--root", work + "/state", "create", "--bundle", work + "/bundle", id
            ])
            usleep(useconds_t(1_000 * (1 + (attempt * 37) % 90)))  // 1 to 90 ms, spread over the create
            kill(create.processIdentifier, SIGKILL)
            create.waitUntilExit()
            _ = try Harness.run(["runc", "--root", work + "/state", "delete", "--force", id])
        }
        let states = (try? FileManager.default.contentsOfDirectory(atPath: work + "/state")) ?? []
        XCTAssertEqual(states.filter { $0.hasPrefix(prefix) }, [], "state left")
        var cgroups: [String] = []
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            let parent = "/sys/fs/cgroup/\(hierarchy)/contlab-runc"
            cgroups += ((try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []).filter {
                $0.hasPrefix(prefix)
            }.map { parent + "/" + $0 }
        }
        XCTAssertEqual(cgroups, [], "cgroups left")
        usleep(200_000)
        let sleepers = try Harness.execute(["/usr/bin/pgrep", "-f", ": \(marker)"])
        XCTAssertEqual(sleepers.stdout, "", "container processes left")
    }
}
