import ContlabCore
import Foundation
import XCTest

/// What runc's own integration suite (bats) showed contlab-runc doing differently, checked here
/// from inside the container and from the host: one test per difference mended.
extension OCIRuntimeTests {
    /// userns.bats: a bind source in a folder only the host's root may enter still reaches a
    /// container whose root is an unprivileged id on the host (cloned there, attached inside).
    func testABindSourceTheMappedRootCannotReachIsMounted() throws {
        let hidden = work + "/hidden"
        try FileManager.default.createDirectory(atPath: hidden + "/dir", withIntermediateDirectories: true)
        try "behind 0700\n".write(toFile: hidden + "/dir/note.txt", atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(hidden, 0o700), 0)
        let dir = try bundle("userns-bind", args: ["cat", "/mnt/note.txt"]) { config in
            Self.mapRootAndBind(hidden + "/dir", options: ["bind", "ro"], in: &config)
        }
        let result = try runtime(["run", "--bundle", dir, "ub\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "behind 0700\n")
    }

    /// The same bind, seen from the host: the source is opened in the container's mount
    /// namespace (runc 1.1's way), so what the container mounts below it stays in there even
    /// when the host's mount is shared, and a host mount's read-only flag stays locked.
    func testABindSourceInAUserNamespaceNeitherLeaksMountsNorUnlocksFlags() throws {
        let shared = work + "/shared"
        try FileManager.default.createDirectory(atPath: shared + "/dir/inner", withIntermediateDirectories: true)
        for args in [["--bind", shared, shared], ["--make-shared", shared], ["-o", "remount,bind,ro", shared]] {
            XCTAssertEqual(try Harness.execute(["/bin/mount"] + args).status, 0, "mount \(args)")
        }
        defer { _ = try? Harness.execute(["/bin/umount", "-l", shared]) }
        let script =
            "mount -t tmpfs tmpfs /mnt/inner && echo inner=mounted; "
            + "mount -o remount,bind,rw /mnt 2>/dev/null && echo rw=allowed || echo rw=refused"
        let dir = try bundle("userns-shared", args: ["sh", "-c", script]) { config in
            Self.mapRootAndBind(shared + "/dir", options: ["bind"], in: &config)
            var process = config["process"] as! [String: Any]
            var caps = process["capabilities"] as! [String: Any]
            for set in ["bounding", "effective", "permitted"] {
                caps[set] = (caps[set] as? [String] ?? []) + ["CAP_SYS_ADMIN"]
            }
            process["capabilities"] = caps
            config["process"] = process
        }
        var leaked = false
        let result = try runtime(["run", "--bundle", dir, "ush\(Self.tag)"])
        leaked = (Sys.readText("/proc/self/mountinfo") ?? "").contains(" " + shared + "/dir/inner ")
        if leaked { _ = try? Harness.execute(["/bin/umount", "-l", shared + "/dir/inner"]) }
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("inner=mounted"), "the container may mount inside: \(result.stdout)")
        XCTAssertFalse(leaked, "a mount made in the container appeared on the host")
        XCTAssertTrue(result.stdout.contains("rw=refused"), "the host's read-only flag is locked: \(result.stdout)")
    }

    /// dev.bats: the device rules are runc's (the spec's, then the defaults), written once the
    /// init has made /dev: a node of linux.devices is denied unless a rule names it.
    func testANodeOfLinuxDevicesIsDeniedUnlessARuleAllowsIt() throws {
        let probe = "(exec 3<>/dev/labfuse) && echo opened || echo refused"
        func run(_ name: String, rules: [[String: Any]]) throws -> Harness.Result {
            let dir = try bundle(name, args: ["sh", "-c", probe]) { config in
                var linux = config["linux"] as! [String: Any]
                linux["devices"] = [["path": "/dev/labfuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666]]
                var resources = linux["resources"] as? [String: Any] ?? [:]
                resources["devices"] = rules
                linux["resources"] = resources
                config["linux"] = linux
            }
            return try runtime(["run", "--bundle", dir, name + Self.tag])
        }
        let denied = try run("dev-deny", rules: [["allow": false, "access": "rwm"]])
        XCTAssertEqual(denied.status, 0, denied.stderr)
        XCTAssertTrue(
            denied.stdout.contains("refused") && denied.stderr.contains("Operation not permitted"),
            "the device cgroup denies it: \(denied.stdout) \(denied.stderr)")
        let allowed = try run(
            "dev-allow",
            rules: [
                ["allow": false, "access": "rwm"],
                ["allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"]
            ])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        XCTAssertFalse(allowed.stderr.contains("Operation not permitted"), "a rule names it: \(allowed.stderr)")
    }

    /// debug.bats: --debug without --log writes logrus-style lines to stderr, the init's steps
    /// among them; without --debug there are none.
    func testDebugGoesToStderrWithoutALog() throws {
        let dir = try bundle("debug", args: ["true"])
        let debugged = try Harness.run(["runc", "--root", root, "--debug", "run", "--bundle", dir, "dbg\(Self.tag)"])
        XCTAssertEqual(debugged.status, 0, debugged.stderr)
        for words in [
            "level=debug", "nsexec container setup", "child process in init()",
            "init: closing the pipe to signal completion",
            "init: pivot_root("
        ] {
            XCTAssertTrue(debugged.stderr.contains(words), "\(words) in: \(debugged.stderr)")
        }
        let quiet = try runtime(["run", "--bundle", dir, "dbg2\(Self.tag)"])
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertFalse(quiet.stderr.contains("level=debug"), quiet.stderr)
    }

    /// exec.bats and cgroups.bats: with a writable cgroup mount the container is in every
    /// hierarchy (a hybrid host's cgroup2 tree too), an exec'd process joins it there, and
    /// `exec --cgroup` starts one in a sub-cgroup, never above.
    func testExecJoinsEveryHierarchyAndASubCgroupOnRequest() throws {
        let id = "cgx\(Self.tag)"
        let dir = try bundle("cgx", args: ["sleep", "30"]) { config in
            config["mounts"] = (config["mounts"] as! [[String: Any]]).map { mount in
                guard mount["type"] as? String == "cgroup" else { return mount }
                var writable = mount
                writable["options"] = (mount["options"] as? [String] ?? []).filter { $0 != "ro" }
                return writable
            }
        }
        XCTAssertEqual(try runtime(["create", "--bundle", dir, id]).status, 0)
        let path = "contlab-runc/" + id
        let lines = try runtime(["exec", id, "cat", "/proc/self/cgroup"]).stdout.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        // Seen from the container's cgroup namespace, its own cgroup is the root.
        XCTAssertTrue(lines.allSatisfy { $0.hasSuffix(":/") }, "every hierarchy, the container's: \(lines)")
        let hostLines = (Sys.readText("/proc/self/cgroup") ?? "").split(separator: "\n")
        XCTAssertEqual(lines.count, hostLines.count, "as many hierarchies as the host's: \(lines) vs \(hostLines)")
        if let memory = CgroupHierarchyProbe.v1Mounts()["memory"] {
            XCTAssertEqual(mkdir(memory + "/" + path + "/sub", 0o755), 0)
            let sub = try runtime(["exec", "--cgroup", "memory:sub", id, "cat", "/proc/self/cgroup"])
            XCTAssertEqual(sub.status, 0, sub.stderr)
            XCTAssertTrue(sub.stdout.split(separator: "\n").contains { $0.hasSuffix(":memory:/sub") }, sub.stdout)
        }
        let parent = try runtime(["exec", "--cgroup", "..", id, "true"])
        XCTAssertNotEqual(parent.status, 0)
        XCTAssertTrue(parent.stderr.contains(".. is not a sub cgroup path"), parent.stderr)
        let missing = try runtime(["exec", "--cgroup", "nonexistent", id, "true"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/cgroup.procs: no such file"), missing.stderr)
    }

    /// cgroups.bats: a second container given a cgroup that has processes shares it with runc's
    /// warning (runc 1.1), rather than being refused.
    func testABusyCgroupIsSharedWithAWarning() throws {
        let cgroupsPath = "/contlab-shared\(Self.tag)"
        let dir = try bundle("shared", args: ["sleep", "30"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["cgroupsPath"] = cgroupsPath
            config["linux"] = linux
        }
        XCTAssertEqual(try runtime(["create", "--bundle", dir, "sh1\(Self.tag)"]).status, 0)
        let second = try runtime(["create", "--bundle", dir, "sh2\(Self.tag)"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("container's cgroup is not empty"), second.stderr)
        // Deleting the one that joined leaves the first one's process, and the cgroup it is in.
        let first = inspectJSON(try runtime(["state", "sh1\(Self.tag)"]).stdout)["pid"] as? Int ?? 0
        XCTAssertGreaterThan(first, 0)
        XCTAssertEqual(try runtime(["delete", "--force", "sh2\(Self.tag)"]).status, 0)
        XCTAssertEqual(kill(pid_t(first), 0), 0, "the first container's process lives on")
        if let memory = CgroupHierarchyProbe.v1Mounts()["memory"] {
            XCTAssertTrue(Sys.exists(memory + cgroupsPath), "still holding the first container")
        }
        XCTAssertEqual(try runtime(["delete", "--force", "sh1\(Self.tag)"]).status, 0)
        for mount in CgroupHierarchyProbe.v1Mounts().values {
            XCTAssertFalse(Sys.exists(mount + cgroupsPath), "removed with the last container: \(mount + cgroupsPath)")
        }
    }

    /// A cgroup someone else uses (here a process in a child of it, so the cgroup itself holds
    /// no process: busy all the same) is shared, never emptied: neither a create that fails in
    /// it nor the delete of a container that joined it kills the stranger.
    func testAStrangerInASharedCgroupSurvivesAFailedCreateAndADelete() throws {
        guard let memory = CgroupHierarchyProbe.v1Mounts()["memory"] else {
            throw XCTSkip("this host keeps memory on cgroup v2; the v1 case is the one checked here")
        }
        let name = "contlab-stranger\(Self.tag)"
        XCTAssertEqual(mkdir(memory + "/" + name, 0o755), 0)
        XCTAssertEqual(mkdir(memory + "/" + name + "/child", 0o755), 0)
        let stranger = Process()
        stranger.executableURL = URL(fileURLWithPath: "/bin/sleep")
        stranger.arguments = ["60"]
        try stranger.run()
        defer {
            stranger.terminate()
            stranger.waitUntilExit()
            rmdir(memory + "/" + name + "/child")
            for mount in CgroupHierarchyProbe.v1Mounts().values + ["/sys/fs/cgroup/unified"] {
                rmdir(mount + "/" + name)
            }
        }
        try "\(stranger.processIdentifier)".write(
            toFile: memory + "/" + name + "/child/cgroup.procs", atomically: false, encoding: .utf8)
        func bundle(_ label: String, _ args: [String]) throws -> String {
            try self.bundle(label, args: args) { config in
                var linux = config["linux"] as! [String: Any]
                linux["cgroupsPath"] = "/" + name
                config["linux"] = linux
            }
        }
        let failing = try runtime([
            "create", "--bundle", try bundle("stranger-fail", ["/no/such/program"]), "sf\(Self.tag)"
        ])
        XCTAssertNotEqual(failing.status, 0, "the program does not exist")
        XCTAssertTrue(failing.stderr.contains("container's cgroup is not empty"), failing.stderr)
        XCTAssertTrue(stranger.isRunning, "a failed create killed a process that was not its own")
        let joined = try runtime(["create", "--bundle", try bundle("stranger-ok", ["sleep", "30"]), "so\(Self.tag)"])
        XCTAssertEqual(joined.status, 0, joined.stderr)
        XCTAssertEqual(try runtime(["delete", "--force", "so\(Self.tag)"]).status, 0)
        XCTAssertTrue(stranger.isRunning, "delete killed a process that was not its container's")
        XCTAssertTrue(Sys.isDirectory(memory + "/" + name), "the stranger's cgroup stays")
        // The directories the container made itself (every hierarchy but memory) went with it.
        let made = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n")
            .compactMap { line -> String? in
                let fields = line.split(separator: " ")
                guard let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count,
                    fields[dash + 1].hasPrefix("cgroup"), String(fields[4]) != memory
                else { return nil }
                return String(fields[4]) + "/" + name
            }.filter { Sys.exists($0) }
        XCTAssertEqual(made, [], "left by the container that joined the stranger's cgroup")
    }

    /// A user namespace mapping root to host uid 100000, and `source` bound at /mnt.
    static func mapRootAndBind(_ source: String, options: [String], in config: inout [String: Any]) {
        var linux = config["linux"] as! [String: Any]
        linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]) + [["type": "user"]]
        linux["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65_536]]
        linux["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65_536]]
        config["linux"] = linux
        config["mounts"] =
            (config["mounts"] as! [[String: Any]])
            + [["destination": "/mnt", "type": "bind", "source": source, "options": options]]
    }
}

/// This host's cgroup mounts, read as the tests need them (not through contlab's own parser).
enum CgroupHierarchyProbe {
    /// v1 hierarchies by the name /proc/self/cgroup gives them (`cpu`, `name=systemd`).
    static func v1Mounts() -> [String: String] {
        var out: [String: String] = [:]
        for line in (Sys.readText("/proc/self/mountinfo") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 3 < fields.count, fields[dash + 1] == "cgroup" else {
                continue
            }
            let options = fields[dash + 3].split(separator: ",").filter { $0 != "rw" && $0 != "ro" }
            out[options.joined(separator: ",")] = String(fields[4])
        }
        return out
    }
}
