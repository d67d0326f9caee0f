import ContlabCore
import Foundation
import XCTest

/// Most machines are cgroup v2 only, where device rules are a BPF program on the container's
/// cgroup. This host is hybrid, so the test makes it v2-only in a private mount namespace (the
/// v1 hierarchies unmounted, cgroup2 mounted at /sys/fs/cgroup) and runs contlab-runc there.
final class CgroupV2DeviceTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws {
        try Harness.requireRoot()
        work = NSTemporaryDirectory() + "contlab-v2dev-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Run the bundle under a v2-only view of the cgroups; returns the container's output.
    func runOnPureV2(devices: [[String: Any]], id: String) throws -> Harness.Result {
        let bundle = work + "/" + id
        let made = try Harness.run([
            "bundle", "create", bundle, "--", "/bin/sh", "-c",
            "mknod /dev/kmsg2 c 1 11 && echo made || echo refused; mknod /dev/null2 c 1 3 && echo null-made"
        ])
        XCTAssertEqual(made.status, 0, made.stderr)
        let path = bundle + "/config.json"
        var config = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var process = try XCTUnwrap(config["process"] as? [String: Any])
        var caps = try XCTUnwrap(process["capabilities"] as? [String: [String]])
        for set in ["bounding", "effective", "permitted"] { caps[set] = (caps[set] ?? []) + ["CAP_MKNOD"] }
        process["capabilities"] = caps
        config["process"] = process
        var linux = try XCTUnwrap(config["linux"] as? [String: Any])
        linux["resources"] = ["devices": devices]
        config["linux"] = linux
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        let script = """
            for d in /sys/fs/cgroup/*; do umount -l "$d" 2>/dev/null; done
            umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit 99
            grep -c ' - cgroup ' /proc/self/mountinfo | grep -qx 0 || exit 98
            \(Harness.binary) runc --root \(work)/state run --bundle \(bundle) \(id)
            """
        return try Harness.execute(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script])
    }

    func testDeviceRulesAreEnforcedByABPFProgram() throws {
        let denied = try runOnPureV2(devices: [["allow": false, "access": "rwm"]], id: "v2-deny")
        XCTAssertEqual(denied.status, 0, denied.stderr)
        XCTAssertEqual(
            denied.stdout, "refused\nnull-made\n", "all denied but the devices every container gets (/dev/null)")
        let allowed = try runOnPureV2(
            devices: [
                ["allow": false, "access": "rwm"], ["allow": true, "type": "c", "major": 1, "minor": 11, "access": "m"]
            ],
            id: "v2-allow")
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        XCTAssertEqual(allowed.stdout, "made\nnull-made\n", "a later rule allows mknod of 1:11")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup/unified")) ?? []
        XCTAssertFalse(leftovers.contains("contlab-runc"), "the v2 cgroups were removed")
    }
}
