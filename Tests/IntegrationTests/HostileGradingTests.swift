import ContlabCore
import Foundation
import XCTest

/// Submissions that attack the grader: each tries what a student on a shared lab server might
/// (read another's files, write on the host, see or kill host processes, use the network, set
/// `kernel.core_pattern`, remount the root read-write, mount an overlay onto a host folder,
/// fork-bomb, fill memory, outlive the time limit). The host must be unchanged afterwards and
/// the check must fail. Shares ExerciseGradingTests' workspace and its checks for leftovers.
extension ExerciseGradingTests {
    /// What a hostile script aims at on the host, and how to tell it was left alone.
    struct HostTargets {
        let secretDirectory: String
        let secret: String
        let marker: String
        let victim: Process
        let corePattern: String
        let hostname: String
        let listener: Int32
        let port: UInt16

        var secretPath: String { secretDirectory + "/secret" }
        /// Where a script that reached the host would have left the marker.
        var markerPaths: [String] { ["/tmp/", "/dev/shm/", "/var/tmp/", "/"].map { $0 + marker } }

        static func make() throws -> HostTargets {
            let tag = "\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
            let directory = NSTemporaryDirectory() + "contlab-hostile-secret-" + tag
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            let secret = "secret-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            try Data(secret.utf8).write(to: URL(fileURLWithPath: directory + "/secret"))
            let victim = Process()
            victim.executableURL = URL(fileURLWithPath: "/bin/sleep")
            victim.arguments = ["300"]
            try victim.run()
            // A TCP listener on the host's loopback: a contained script cannot reach it.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            listen(fd, 8)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return HostTargets(
                secretDirectory: directory, secret: secret, marker: "contlab-pwned-" + tag, victim: victim,
                corePattern: Sys.readText("/proc/sys/kernel/core_pattern") ?? "",
                hostname: Sys.readText("/proc/sys/kernel/hostname") ?? "", listener: fd,
                port: UInt16(bigEndian: address.sin_port))
        }

        /// Everything a script may try, as shell lines; each failure is expected.
        var attacks: String {
            """
            cat \(secretPath) 2>/dev/null
            for p in /proc/[0-9]*; do cat $p/root\(secretPath) 2>/dev/null; done
            for d in /tmp /dev/shm /var/tmp /; do echo pwned > $d/\(marker) 2>/dev/null; done
            echo '|/bin/sh -c "echo pwned > /tmp/\(marker)"' > /proc/sys/kernel/core_pattern 2>/dev/null
            mkdir -p /tmp/p && mount -t proc proc /tmp/p 2>/dev/null && echo '|/bin/true \(marker)' > /tmp/p/sys/kernel/core_pattern 2>/dev/null
            mount -o remount,bind,rw / 2>/dev/null; echo pwned > /\(marker) 2>/dev/null
            kill -9 \(victim.processIdentifier) 2>/dev/null; kill -9 -1 2>/dev/null
            hostname \(marker) 2>/dev/null
            echo hello | nc -w 2 127.0.0.1 \(port) 2>/dev/null
            """
        }

        /// The host as it was: the secret unread (`output` does not hold it), no marker, the
        /// victim alive, core_pattern, hostname and the listener untouched.
        func assertUnchanged(_ output: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertFalse(output.contains(secret), "the report holds the host's secret", file: file, line: line)
            for path in markerPaths {
                XCTAssertFalse(
                    FileManager.default.fileExists(atPath: path), "the script wrote \(path) on the host", file: file,
                    line: line)
            }
            XCTAssertTrue(victim.isRunning, "a host process was killed", file: file, line: line)
            XCTAssertEqual(
                Sys.readText("/proc/sys/kernel/core_pattern"), corePattern, "core_pattern changed", file: file,
                line: line)
            XCTAssertEqual(
                Sys.readText("/proc/sys/kernel/hostname"), hostname, "the host's name changed", file: file, line: line)
            let connection = accept(listener, nil, nil)
            XCTAssertEqual(
                connection, -1, "the script reached a listener on the host's loopback", file: file, line: line)
            if connection >= 0 { close(connection) }
        }

        func remove() {
            victim.terminate()
            victim.waitUntilExit()
            close(listener)
            for path in markerPaths { unlink(path) }
            try? FileManager.default.removeItem(atPath: secretDirectory)
        }
    }

    func gradeHostile(_ id: String, _ file: String, timeout: Int = 20, _ script: (HostTargets) -> String) throws -> (
        Graded, HostTargets
    ) {
        let targets = try HostTargets.make()
        addTeardownBlock { targets.remove() }
        try write(id, file, Data(("#!/bin/sh\n" + script(targets)).utf8))
        let graded = try verify(["--timeout", "\(timeout)", id], timeout: 120)
        targets.assertUnchanged(graded.checks.description + graded.stderr)
        return (graded, targets)
    }

    func testAHostileUnshareScriptLeavesTheHostAlone() throws {
        let (graded, _) = try gradeHostile("2.1", "container.sh") { $0.attacks + "\nexec \"$@\"\n" }
        XCTAssertEqual(graded.points, 0)
        XCTAssertTrue(
            (graded.check("own-pid-namespace")["seen"] as? String ?? "").contains("the same as the grader's"),
            "\(graded.checks)")
    }

    func testAHostileEscapeScriptLeavesTheHostAlone() throws {
        // 1.2 runs the script at stage 1 and stage 2 inside a container that may make containers.
        let (graded, targets) = try gradeHostile("1.2", "escape.sh") { $0.attacks + "\nexit 1\n" }
        XCTAssertTrue(graded.failing.contains("escapes"), "\(graded.checks): \(targets.marker)")
    }

    func testAHostileCgroupScriptStaysInItsCgroup() throws {
        let (graded, targets) = try gradeHostile("3.2", "setup.sh") { targets in
            targets.attacks + """

                for h in /sys/fs/cgroup/*; do mkdir $h/\(targets.marker) 2>/dev/null; echo $$ > $h/cgroup.procs 2>/dev/null; done
                echo max > "$CGROUP/../pids.max" 2>/dev/null
                mkdir "$CGROUP/lab" && echo 20 > "$CGROUP/lab/pids.max"
                """
        }
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            XCTAssertFalse(
                Sys.isDirectory("/sys/fs/cgroup/\(hierarchy)/\(targets.marker)"),
                "a cgroup made on the host in \(hierarchy)")
        }
        XCTAssertEqual(graded.failing, [], "the cgroup it was handed works: \(graded.checks)")
    }

    func testForkBombsMemoryHogsAndDetachedProcessesEndWithTheTimeLimit() throws {
        let start = Date()
        let (graded, _) = try gradeHostile("2.1", "container.sh", timeout: 5) { _ in
            """
            /usr/local/bin/contlab hog 2G >/dev/null 2>&1
            setsid sleep 1000 </dev/null >/dev/null 2>&1 &
            nohup sleep 1000 >/dev/null 2>&1 &
            bomb() { bomb | bomb & }; bomb
            sleep infinity
            """
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 40, "the time limit holds")
        XCTAssertEqual(graded.points, 0)
        // tearDown checks that no contlab-grade process or cgroup is left.
    }

    func testAConfigThatMountsOntoAHostFolderIsRefused() throws {
        let upper = NSTemporaryDirectory() + "contlab-hostile-upper-\(getpid())"
        try FileManager.default.createDirectory(atPath: upper + "/u", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: upper + "/w", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: upper) }
        let configPath = try folder("4.1") + "/config.json"
        var config = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any])
        var mounts = config["mounts"] as? [[String: Any]] ?? []
        mounts.append([
            "destination": "/mnt", "type": "overlay", "source": "overlay",
            "options": ["lowerdir=/etc", "upperdir=\(upper)/u", "workdir=\(upper)/w"]
        ])
        config["mounts"] = mounts
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        let graded = try verify(["4.1"])
        XCTAssertEqual(graded.points, 0)
        XCTAssertTrue(
            graded.checks.contains { ($0["seen"] as? String ?? "").contains("has type overlay") }, "\(graded.checks)")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: upper + "/u"), [],
            "nothing was written to the host folder")
    }

    /// A class grading at once: eight workspaces holding every reference solution graded side by side,
    /// each at full marks (no shared container id, image store or cgroup between them).
    func testEightGradingsAtOnceEachGetFullMarks() throws {
        // The build track's levels (B.N) live in workspaces of their own.
        let ids = try FileManager.default.contentsOfDirectory(atPath: Self.solutions.path).sorted().filter {
            !$0.hasPrefix("B.")
        }
        for id in ids { try use(id, "reference") }
        var results = [Graded?](repeating: nil, count: 8)
        let workspaces = try (0..<8).map { i -> String in
            let copy = workspace + "-copy\(i)"
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: workspace, toPath: copy)
            return copy
        }
        defer { for copy in workspaces { try? FileManager.default.removeItem(atPath: copy) } }
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            guard
                let result = try? Harness.run(
                    ["verify", "--workspace", workspaces[i], "--format", "json", "--lang", "en"], timeout: 600),
                let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            else { return }
            let checks = (object["exercises"] as? [[String: Any]] ?? []).flatMap {
                $0["checks"] as? [[String: Any]] ?? []
            }
            results[i] = Graded(
                status: result.status, points: object["points"] as? Int ?? -1,
                maxPoints: object["maxPoints"] as? Int ?? -1,
                checks: checks, stderr: result.stderr)
        }
        for (i, graded) in results.enumerated() {
            let graded = try XCTUnwrap(graded, "grading \(i) printed no report")
            XCTAssertGreaterThan(graded.maxPoints, 0)
            XCTAssertEqual(graded.points, graded.maxPoints, "grading \(i): failing \(graded.failing)")
        }
    }
}
