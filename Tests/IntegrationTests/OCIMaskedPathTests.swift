import ContlabCore
import Foundation
import XCTest

/// maskedPaths against an image that lies about /dev/null (runc's CVE-2025-31133): a link from
/// /dev/null to /proc/sys/kernel/core_pattern made contlab-runc bind the host's core_pattern,
/// writable, over /proc/keys. The container only reads it here; nothing on the host is written.
final class OCIMaskedPathTests: XCTestCase {
    static let tag = "-\(getpid())"
    var work = ""

    override func setUpWithError() throws {
        try Harness.requireRoot()
        work =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "contlab-mask-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            ).path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// A bundle on a writable copy of the busybox tree, `edit` applied to the config.
    func bundle(_ name: String, args: [String], edit: (inout [String: Any]) -> Void) throws -> String {
        let dir = work + "/" + name
        let made = try Harness.run(["bundle", "create", "--rootfs", try Harness.busyboxRootfs(), dir, "--"] + args)
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertEqual(try Harness.execute(["/bin/cp", "-a", try Harness.busyboxRootfs(), dir + "/rootfs"]).status, 0)
        let url = URL(fileURLWithPath: dir + "/config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        config["root"] = ["path": "rootfs", "readonly": false]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return dir
    }

    func testAMaskedFileIsNeverCoveredWithWhatAFakeDevNullNames() throws {
        let read = "for f in /proc/keys /proc/timer_list; do echo \"$f: $(head -c 64 $f)\"; done"
        let dir = try bundle("fake", args: ["sh", "-c", read]) { config in
            // No tmpfs on /dev: the image's own /dev is what the container gets.
            config["mounts"] = (config["mounts"] as! [[String: Any]]).filter {
                !($0["destination"] as! String).hasPrefix("/dev")
                    && $0["destination"] as? String != "/usr/local/bin/contlab"
            }
        }
        let devNull = dir + "/rootfs/dev/null"
        try? FileManager.default.createDirectory(atPath: dir + "/rootfs/dev", withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: devNull)
        try FileManager.default.createSymbolicLink(
            atPath: devNull, withDestinationPath: "/proc/sys/kernel/core_pattern")

        let pattern = (Sys.readText("/proc/sys/kernel/core_pattern") ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
        let result = try Harness.run(["runc", "--root", work + "/state", "run", "--bundle", dir, "fake\(Self.tag)"])
        XCTAssertNotEqual(
            result.status, 0, "a /dev/null that is a link must stop the container; it printed: \(result.stdout)")
        XCTAssertTrue(result.stderr.contains("/dev/null is not the null device"), result.stderr)
        XCTAssertFalse(
            !pattern.isEmpty && result.stdout.contains(pattern),
            "the host's core_pattern showed through a masked path: \(result.stdout)")
        let left = try Harness.run(["runc", "--root", work + "/state", "list", "-q"])
        XCTAssertEqual(
            left.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "", "nothing is left of the refused container")
    }

    /// The ordinary case still masks: files read empty, directories are empty and read-only.
    func testMaskedPathsAreEmptyAndDirectoriesReadOnly() throws {
        let check =
            "echo keys=$(wc -c < /proc/keys); echo acpi=$(ls -A /proc/acpi | wc -l); touch /proc/acpi/x 2>&1 | grep "
            + "-c Read-only"
        let dir = try bundle("plain", args: ["sh", "-c", check]) { _ in }
        let result = try Harness.run(["runc", "--root", work + "/state", "run", "--bundle", dir, "plain\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, ["keys=0", "acpi=0", "1"], result.stdout + result.stderr)
    }
}

/// runc's CVE-2024-21626 ("Leaky Vessels"): a descriptor of a host directory open in the init
/// when it chdirs to process.cwd, with cwd set to /proc/self/fd/N, starts the container's process
/// in the host's tree. Every small N is tried for run and for exec; each must be refused or land
/// inside the container.
extension OCIMaskedPathTests {
    func testProcessCwdThroughProcSelfFDNeverLeadsOutside() throws {
        let state = work + "/state"
        // From the working directory, climb until .. is . (the top of the tree the process is
        // in) and print that and /: the same directory exactly when the process is inside.
        let probe = [
            "sh", "-c", "while [ \"$(stat -c %d:%i .)\" != \"$(stat -c %d:%i ..)\" ]; do cd ..; done; stat -c %d:%i . /"
        ]
        // The probe itself, from an ordinary working directory: it must run and find itself inside.
        let control = try bundle("cwdbin", args: probe) { config in
            var process = config["process"] as! [String: Any]
            process["cwd"] = "/bin"
            config["process"] = process
        }
        let seen = try Harness.run(["runc", "--root", state, "run", "--bundle", control, "cwdbin\(Self.tag)"])
        XCTAssertEqual(seen.status, 0, seen.stderr)
        XCTAssertTrue(insideRoot(seen.stdout), "the probe from /bin: \(seen.stdout)")
        for n in 3...12 {
            let dir = try bundle("cwd\(n)", args: probe) { config in
                var process = config["process"] as! [String: Any]
                process["cwd"] = "/proc/self/fd/\(n)"
                config["process"] = process
            }
            let result = try Harness.run(["runc", "--root", state, "run", "--bundle", dir, "cwd\(n)\(Self.tag)"])
            XCTAssertTrue(result.status != 0 || insideRoot(result.stdout), "run, cwd fd \(n): \(result.stdout)")
        }
        let dir = try bundle("long", args: ["sleep", "30"]) { _ in }
        let id = "long\(Self.tag)"
        XCTAssertEqual(try Harness.run(["runc", "--root", state, "run", "--detach", "--bundle", dir, id]).status, 0)
        defer { _ = try? Harness.run(["runc", "--root", state, "delete", "--force", id]) }
        for n in 3...12 {
            let result = try Harness.run(["runc", "--root", state, "exec", "--cwd", "/proc/self/fd/\(n)", id] + probe)
            XCTAssertTrue(result.status != 0 || insideRoot(result.stdout), "exec, cwd fd \(n): \(result.stdout)")
        }
    }

    /// The probe's two lines are the same directory.
    func insideRoot(_ output: String) -> Bool {
        let lines = output.split(separator: "\n")
        return lines.count == 2 && lines[0] == lines[1]
    }
}
