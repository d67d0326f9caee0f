import ContlabCore
import Foundation
import XCTest

/// Stage 4 for real: the runc-compatible runtime's lifecycle, config.json fields checked from
/// inside with `contlab inspect`, and the same bundles under Debian's runc.
final class OCIRuntimeTests: XCTestCase {
    /// Ids carry the test process's pid: an id is also the cgroup path contlab-runc/ID, which a
    /// second suite running at once on the machine must not share.
    static let tag = "-\(getpid())"
    var work = ""
    var root = ""

    override func setUpWithError() throws {
        try Harness.requireRoot()
        work =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "contlab-oci-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            ).path
        root = work + "/state"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            _ = try? runtime(["delete", "--force", id])
        }
        try? FileManager.default.removeItem(atPath: work)
    }

    @discardableResult
    func runtime(_ args: [String]) throws -> Harness.Result {
        try Harness.run(["runc", "--root", root] + args)
    }

    /// A bundle from `contlab spec`, on the busybox tree, with contlab bound in for inspect.
    func bundle(_ name: String, args: [String], edit: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let dir = work + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let made = try Harness.run(["runc", "spec", "--bundle", dir])
        XCTAssertEqual(made.status, 0, made.stderr)
        var config =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json")))
            as! [String: Any]
        config["root"] = ["path": try Harness.busyboxRootfs(), "readonly": true]
        var process = config["process"] as! [String: Any]
        process["args"] = args
        process["terminal"] = false
        config["process"] = process
        var mounts = config["mounts"] as! [[String: Any]]
        // The reachable copy: a container in a user namespace runs it as a mapped uid, which
        // cannot enter a checkout in a 0700 folder.
        mounts.append([
            "destination": "/usr/local/bin/contlab", "type": "bind", "source": try Harness.reachable.get() + "/contlab",
            "options": ["bind", "ro"]
        ])
        config["mounts"] = mounts
        // runc's spec, and so contlab-runc's, asks for a cgroup namespace only on a v2-only host;
        // these tests read the container's limits through one everywhere.
        var linux = config["linux"] as! [String: Any]
        var namespaces = linux["namespaces"] as? [[String: Any]] ?? []
        if !namespaces.contains(where: { $0["type"] as? String == "cgroup" }) { namespaces.append(["type": "cgroup"]) }
        linux["namespaces"] = namespaces
        config["linux"] = linux
        edit(&config)
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(
            to: URL(fileURLWithPath: dir + "/config.json"))
        return dir
    }

    func inspectJSON(_ output: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any] ?? [:]
    }

    func testTheLifecycleFollowsTheSpec() throws {
        let dir = try bundle("life", args: ["sleep", "30"])
        let pidFile = work + "/pid"
        let created = try runtime(["create", "--bundle", dir, "--pid-file", pidFile, "c1\(Self.tag)"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let pid = Int32((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "") ?? 0
        XCTAssertGreaterThan(pid, 0)
        func state() throws -> [String: Any] {
            inspectJSON(try runtime(["state", "c1\(Self.tag)"]).stdout)
        }
        XCTAssertEqual(try state()["status"] as? String, "created")
        XCTAssertEqual(try state()["pid"] as? Int, Int(pid))
        XCTAssertEqual(try state()["bundle"] as? String, dir)
        XCTAssertEqual(
            Sys.readText("/proc/\(pid)/cmdline")?.contains("__oci-init"), true, "the init waits, not the process")
        XCTAssertEqual(try runtime(["start", "c1\(Self.tag)"]).status, 0)
        XCTAssertEqual(try state()["status"] as? String, "running")
        usleep(50_000)
        XCTAssertEqual(
            Sys.readText("/proc/\(pid)/cmdline")?.hasPrefix("sleep"), true,
            "after start the init has become the process")
        let listed = try runtime(["list", "--format", "json"])
        XCTAssertTrue(listed.stdout.contains("\"id\":\"c1\(Self.tag)\""), listed.stdout)
        XCTAssertEqual(
            try runtime(["ps", "--format", "json", "c1\(Self.tag)"]).stdout.trimmingCharacters(
                in: .whitespacesAndNewlines), "[\(pid)]")
        XCTAssertNotEqual(try runtime(["delete", "c1\(Self.tag)"]).status, 0, "a running container needs --force")
        XCTAssertEqual(try runtime(["kill", "c1\(Self.tag)", "KILL"]).status, 0)
        let deadline = Date().addingTimeInterval(5)
        while (try state()["status"] as? String) != "stopped" && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(try state()["status"] as? String, "stopped")
        XCTAssertEqual(try runtime(["delete", "c1\(Self.tag)"]).status, 0)
        XCTAssertNotEqual(try runtime(["state", "c1\(Self.tag)"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/contlab-runc/c1\(Self.tag)"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/c1\(Self.tag)"))
    }

    /// --preserve-fds N: the caller's descriptors 3 … 3+N-1 reach the container's process, and
    /// without it none does (socket activation relies on both).
    func testPreserveFDsHandsDescriptorsOn() throws {
        let dir = try bundle("fds", args: ["/bin/sh", "-c", "echo kept >&3"])
        let file = work + "/fd3.txt"
        func run(_ extra: [String], _ id: String) throws -> Harness.Result {
            let command = ([Harness.binary, "runc", "--root", work + "/state", "run"] + extra + ["--bundle", dir, id])
                .joined(separator: " ")
            return try Harness.execute(["/bin/sh", "-c", "exec 3>>\(file); exec \(command)"])
        }
        let kept = try run(["--preserve-fds", "1"], "fds-kept")
        XCTAssertEqual(kept.status, 0, kept.stderr)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "kept\n")
        let closed = try run([], "fds-closed")
        XCTAssertNotEqual(closed.status, 0, "descriptor 3 is closed in the container without --preserve-fds")
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "kept\n")
    }

    func testRunReturnsTheExitCodeAndTheOutput() throws {
        let dir = try bundle("run", args: ["sh", "-c", "echo out; echo err >&2; exit 3"])
        let result = try runtime(["run", "--bundle", dir, "r1\(Self.tag)"])
        XCTAssertEqual(result.status, 3)
        XCTAssertEqual(result.stdout, "out\n")
        XCTAssertTrue(result.stderr.contains("err"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/r1\(Self.tag)"), "run deletes what it made")
        // The process is PID 1 of its namespace: a SIGKILL it sends itself is ignored by the
        // kernel (pid_namespaces(7)), so it goes on and exits normally.
        let protected = try runtime([
            "run", "--bundle", try bundle("run2", args: ["sh", "-c", "kill -KILL $$; echo still here"]), "r2\(Self.tag)"
        ])
        XCTAssertEqual(protected.status, 0)
        XCTAssertEqual(protected.stdout, "still here\n")
        // The process starts with no signal blocked, as runc's does: run blocks the signals it
        // forwards, and that mask is not the container's.
        let mask = try runtime([
            "run", "--bundle", try bundle("run3", args: ["sh", "-c", "grep SigBlk /proc/self/status"]), "r3\(Self.tag)"
        ])
        XCTAssertEqual(mask.stdout, "SigBlk:\t0000000000000000\n", mask.stderr)
    }

    /// Each config.json field, seen from inside.
    func testConfigFieldsTakeEffectInside() throws {
        let dir = try bundle("fields", args: ["contlab", "inspect", "--json"]) { config in
            config["hostname"] = "lab"
            var process = config["process"] as! [String: Any]
            process["user"] = ["uid": 1000, "gid": 1000, "additionalGids": [2000]]
            process["env"] = ["PATH=/usr/local/bin:/bin", "GREETING=hi"]
            process["cwd"] = "/tmp"
            process["capabilities"] = [
                "bounding": ["CAP_NET_BIND_SERVICE", "CAP_KILL"], "effective": ["CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_NET_BIND_SERVICE", "CAP_KILL"], "inheritable": ["CAP_NET_BIND_SERVICE"],
                "ambient": ["CAP_NET_BIND_SERVICE"]
            ]
            process["noNewPrivileges"] = true
            config["process"] = process
            var linux = config["linux"] as! [String: Any]
            linux["resources"] = [
                "memory": ["limit": 64 << 20], "pids": ["limit": 50], "devices": [["allow": false, "access": "rwm"]]
            ]
            config["linux"] = linux
        }
        let result = try runtime(["run", "--bundle", dir, "f1\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = inspectJSON(result.stdout)
        XCTAssertEqual(report["hostname"] as? String, "lab")
        XCTAssertEqual(report["uid"] as? Int, 1000)
        XCTAssertEqual(report["gid"] as? Int, 1000)
        XCTAssertEqual(report["groups"] as? [Int], [2000])
        XCTAssertEqual(report["pid"] as? Int, 1, "the process is PID 1, as under runc")
        XCTAssertEqual(report["noNewPrivileges"] as? Bool, true)
        let caps = report["capabilities"] as? [String: Any]
        XCTAssertEqual(caps?["bounding"] as? [String], ["CAP_KILL", "CAP_NET_BIND_SERVICE"])
        XCTAssertEqual(caps?["effective"] as? [String], ["CAP_NET_BIND_SERVICE"])
        // inspect is a new program run as uid 1000 with no file capabilities: capabilities(7)
        // leaves it only what was ambient, in permitted and effective alike.
        XCTAssertEqual(caps?["permitted"] as? [String], ["CAP_NET_BIND_SERVICE"])
        XCTAssertEqual(caps?["ambient"] as? [String], ["CAP_NET_BIND_SERVICE"])
        XCTAssertEqual(report["memoryLimit"] as? String, "\(64 << 20)")
        XCTAssertEqual(report["pidsLimit"] as? String, "50")
        let namespaces = (report["namespaces"] as? [[String: Any]] ?? []).map { $0["kind"] as? String ?? "" }
        XCTAssertEqual(namespaces.count, 7)
    }

    func testReadOnlyRootMaskedPathsRlimitsEnvAndCwd() throws {
        let script = """
            touch /x 2>/dev/null && echo root-writable || echo root-readonly
            cat /proc/kcore | wc -c
            touch /proc/sys/kernel/x 2>/dev/null && echo sys-writable || echo sys-readonly
            ulimit -n
            echo $GREETING $(pwd)
            echo > /dev/null && echo devnull-ok
            """
        let dir = try bundle("ro", args: ["sh", "-c", script]) { config in
            var process = config["process"] as! [String: Any]
            process["env"] = ["PATH=/bin:/usr/bin", "GREETING=hello"]
            process["cwd"] = "/tmp"
            process["rlimits"] = [["type": "RLIMIT_NOFILE", "hard": 512, "soft": 256]]
            config["process"] = process
        }
        let result = try runtime(["run", "--bundle", dir, "ro1\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(
            result.stdout.split(separator: "\n"),
            ["root-readonly", "0", "sys-readonly", "256", "hello /tmp", "devnull-ok"])
    }

    func testHooksGetTheStateOnStandardInput() throws {
        let record = work + "/hooks.log"
        let dir = try bundle("hooks", args: ["true"]) { config in
            func hook(_ name: String) -> [[String: Any]] {
                [["path": "/bin/sh", "args": ["sh", "-c", "echo \(name) $(cat) >> \(record)"]]]
            }
            config["hooks"] = [
                "prestart": hook("prestart"), "createRuntime": hook("createRuntime"),
                "poststart": hook("poststart"), "poststop": hook("poststop")
            ]
        }
        XCTAssertEqual(try runtime(["run", "--bundle", dir, "h1\(Self.tag)"]).status, 0)
        let lines =
            (try? String(contentsOfFile: record, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        XCTAssertEqual(
            lines.map { $0.split(separator: " ").first.map(String.init) ?? "" },
            ["prestart", "createRuntime", "poststart", "poststop"])
        XCTAssertTrue(lines.first?.contains("\"id\":\"h1\(Self.tag)\"") == true, lines.first ?? "")
        XCTAssertTrue(lines.first?.contains("\"status\":\"creating\"") == true, lines.first ?? "")
    }

    func testBadBundlesFailAtCreateAndLeaveNothing() throws {
        let missingRoot = try bundle("noroot", args: ["true"]) { $0["root"] = ["path": "/nonexistent/rootfs"] }
        let emptyArgs = try bundle("noargs", args: [])
        let notJSON = work + "/notjson"
        try FileManager.default.createDirectory(atPath: notJSON, withIntermediateDirectories: true)
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: notJSON + "/config.json"))
        let badCap = try bundle("badcap", args: ["true"]) { config in
            var process = config["process"] as! [String: Any]
            process["capabilities"] = ["bounding": ["CAP_KILL", "CAP_FOO"]]
            config["process"] = process
        }
        let missingCommand = try bundle("nocmd", args: ["no-such-program"])
        for (dir, message) in [
            (missingRoot, "does not exist"), (emptyArgs, "process.args"), (notJSON, "not valid JSON"),
            (badCap, "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\""),
            (missingCommand, "no-such-program: command not found")
        ] {
            let logFile = work + "/log.json"
            let result = try Harness.run([
                "runc", "--root", root, "--log", logFile, "--log-format", "json", "create", "--bundle", dir,
                "bad\(Self.tag)"
            ])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains(message), "\(dir): \(result.stderr)")
            XCTAssertTrue(
                (try? String(contentsOfFile: logFile, encoding: .utf8))?.contains("\"level\":\"error\"") == true,
                "the error reaches the JSON log containerd reads")
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/bad\(Self.tag)"), "no state left for \(dir)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/contlab-runc/bad\(Self.tag)"))
        }
    }

    func testAKilledCreateIsCleanedUpByDeleteForce() throws {
        let dir = try bundle("slow", args: ["true"]) { config in
            config["hooks"] = ["createRuntime": [["path": "/bin/sleep", "args": ["sleep", "20"]]]]
        }
        let process = try Harness.start(["runc", "--root", root, "create", "--bundle", dir, "k1\(Self.tag)"])
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/contlab-runc/k1\(Self.tag)")
            && Date() < deadline
        { usleep(10_000) }
        usleep(200_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: root + "/k1\(Self.tag)"), "the half-made container is recorded")
        let deleted = try runtime(["delete", "--force", "k1\(Self.tag)"])
        XCTAssertEqual(deleted.status, 0, deleted.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/k1\(Self.tag)"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/contlab-runc/k1\(Self.tag)"))
        XCTAssertTrue(Harness.hostTraces().processes.filter { $0.contains("__oci-init") }.isEmpty)
    }

    func testTwoHundredCyclesLeaveNothingBehind() throws {
        let dir = try bundle("cycles", args: ["true"])
        let before = Harness.hostTraces()
        for i in 0..<200 {
            let id = "cy\(i)\(Self.tag)"
            let created = try runtime(["create", "--bundle", dir, id])
            XCTAssertEqual(created.status, 0, "cycle \(i): \(created.stderr)")
            let started = try runtime(["start", id])
            XCTAssertEqual(started.status, 0, "cycle \(i): \(started.stderr)")
            var stopped = false
            for _ in 0..<200 {
                if inspectJSON(try runtime(["state", id]).stdout)["status"] as? String == "stopped" {
                    stopped = true; break
                }
                usleep(2_000)
            }
            XCTAssertTrue(stopped, "cycle \(i) never stopped")
            XCTAssertEqual(try runtime(["delete", id]).status, 0)
        }
        let after = Harness.hostTraces()
        XCTAssertEqual(after.mounts, before.mounts)
        XCTAssertEqual(after.processes, before.processes)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
        let leftover =
            (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup/memory/contlab-runc")) ?? []
        XCTAssertFalse(leftover.contains { $0.hasPrefix("cy") })
    }

    // MARK: the same bundles under Debian's runc

    func requireRunc() throws -> String {
        for path in ["/usr/sbin/runc", "/usr/bin/runc"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        XCTFail("runc is not installed: apt-get install runc (make setup installs it)")
        throw XCTSkip("no runc")
    }

    func runRunc(_ runc: String, _ args: [String]) throws -> Harness.Result {
        try Harness.execute([runc, "--root", work + "/runc-state"] + args)
    }

    /// What isolation both runtimes must agree on, from inspect's report.
    func essentials(_ report: [String: Any]) -> [String: String] {
        let caps = report["capabilities"] as? [String: Any] ?? [:]
        let kinds = (report["namespaces"] as? [[String: Any]] ?? []).map { $0["kind"] as? String ?? "" }
        return [
            "hostname": "\(report["hostname"] ?? "")", "pid": "\(report["pid"] ?? "")", "uid": "\(report["uid"] ?? "")",
            "noNewPrivileges": "\(report["noNewPrivileges"] ?? "")", "bounding": "\(caps["bounding"] ?? "")",
            "effective": "\(caps["effective"] ?? "")", "namespaces": kinds.joined(separator: ","),
            "memoryLimit": "\(report["memoryLimit"] ?? "")", "seccomp": "\(report["seccomp"] ?? "")"
        ]
    }

    func testContlabsSpecRunsTheSameUnderRunc() throws {
        let runc = try requireRunc()
        let dir = try bundle("interop", args: ["contlab", "inspect", "--json"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["resources"] = ["memory": ["limit": 96 << 20], "devices": [["allow": false, "access": "rwm"]]]
            config["linux"] = linux
        }
        let ours = try runtime(["run", "--bundle", dir, "i1\(Self.tag)"])
        XCTAssertEqual(ours.status, 0, ours.stderr)
        let theirs = try runRunc(runc, ["run", "--bundle", dir, "i2\(Self.tag)"])
        XCTAssertEqual(theirs.status, 0, theirs.stderr)
        let a = essentials(inspectJSON(ours.stdout)), b = essentials(inspectJSON(theirs.stdout))
        XCTAssertFalse(a["bounding"]?.isEmpty ?? true)
        XCTAssertEqual(a, b, "contlab and runc disagree on the same bundle")
    }

    func testRuncsSpecRunsUnderContlab() throws {
        let runc = try requireRunc()
        let dir = work + "/runcspec"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let made = try runRunc(runc, ["spec", "--bundle", dir])
        XCTAssertEqual(made.status, 0, made.stderr)
        var config =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json")))
            as! [String: Any]
        config["root"] = ["path": try Harness.busyboxRootfs(), "readonly": true]
        var process = config["process"] as! [String: Any]
        process["args"] = ["contlab", "inspect", "--json"]
        process["terminal"] = false
        config["process"] = process
        var mounts = config["mounts"] as! [[String: Any]]
        mounts.append([
            "destination": "/usr/local/bin/contlab", "type": "bind", "source": Harness.binary, "options": ["bind", "ro"]
        ])
        config["mounts"] = mounts
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        let ours = try runtime(["run", "--bundle", dir, "rs1\(Self.tag)"])
        XCTAssertEqual(ours.status, 0, ours.stderr)
        let theirs = try runRunc(runc, ["run", "--bundle", dir, "rs2\(Self.tag)"])
        XCTAssertEqual(theirs.status, 0, theirs.stderr)
        XCTAssertEqual(essentials(inspectJSON(ours.stdout)), essentials(inspectJSON(theirs.stdout)))
        XCTAssertEqual(inspectJSON(ours.stdout)["hostname"] as? String, "runc")
    }

    // MARK: documents checked against the runtime-spec's own schemas

    /// Check `document` against `schema` (a file of Debian's runtime-spec schemas, or an absolute
    /// path to one whose `$ref`s name them) with Python's jsonschema: the exit status and the
    /// problems found, one a line.
    func schemaProblems(_ document: String, schema: String, file: StaticString = #filePath, line: UInt = #line) throws
        -> (status: Int32, text: String)
    {
        let schemas = Harness.runtimeSpecSchemas
        guard FileManager.default.fileExists(atPath: schema.hasPrefix("/") ? schema : schemas + "/" + schema) else {
            XCTFail(
                "no \(schema) in \(schemas): install golang-github-opencontainers-specs-dev (make setup)", file: file,
                line: line)
            return (-1, "")
        }
        let path = work + "/document.json"
        try Data(document.utf8).write(to: URL(fileURLWithPath: path))
        let script = """
            import json, pathlib, sys
            from jsonschema import Draft4Validator, RefResolver
            d = pathlib.Path(sys.argv[1])
            schema = json.load(open(d / sys.argv[2]))
            v = Draft4Validator(schema, resolver=RefResolver(d.as_uri() + '/', schema))
            errors = [f"{list(e.path)}: {e.message}" for e in v.iter_errors(json.load(open(sys.argv[3])))]
            print("\\n".join(errors)); sys.exit(1 if errors else 0)
            """
        let result = try Harness.execute([
            "/usr/bin/python3", "-W", "ignore::DeprecationWarning", "-c", script, schemas, schema, path
        ])
        if result.stderr.contains("No module named") {
            XCTFail(
                "python3 has no jsonschema: apt-get install python3-jsonschema (make setup)", file: file, line: line)
        }
        return (result.status, result.stdout + result.stderr)
    }

    /// Validate `document` against `schema`.
    func validate(_ document: String, schema: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try schemaProblems(document, schema: schema, file: file, line: line)
        XCTAssertEqual(result.status, 0, "\(schema): \(result.text)", file: file, line: line)
    }

    /// Debian's runtime-spec (1.0.2 and 118 commits, bookworm) predates features-schema.json:
    /// `features` is checked against this schema of the fields runtime-spec's features.md defines,
    /// made of the definitions the package does have (defs.json, defs-linux.json).
    static let featuresSchema = """
        {"type": "object", "required": ["ociVersionMin", "ociVersionMax"],
         "properties": {
          "ociVersionMin": {"$ref": "defs.json#/definitions/ociVersion"},
          "ociVersionMax": {"$ref": "defs.json#/definitions/ociVersion"},
          "hooks": {"$ref": "defs.json#/definitions/ArrayOfStrings"},
          "mountOptions": {"$ref": "defs.json#/definitions/ArrayOfStrings"},
          "annotations": {"$ref": "defs.json#/definitions/annotations"},
          "potentiallyUnsafeConfigAnnotations": {"$ref": "defs.json#/definitions/ArrayOfStrings"},
          "linux": {"type": "object", "properties": {
            "namespaces": {"type": "array", "items": {"$ref": "defs-linux.json#/definitions/NamespaceType"}},
            "capabilities": {"type": "array", "items": {"type": "string", "pattern": "^CAP_[A-Z_]+$"}},
            "cgroup": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "seccomp": {"type": "object", "properties": {
              "enabled": {"type": "boolean"},
              "actions": {"type": "array", "items": {"$ref": "defs-linux.json#/definitions/SeccompAction"}},
              "operators": {"type": "array", "items": {"$ref": "defs-linux.json#/definitions/SeccompOperators"}},
              "archs": {"type": "array", "items": {"$ref": "defs-linux.json#/definitions/SeccompArch"}},
              "knownFlags": {"type": "array", "items": {"$ref": "defs-linux.json#/definitions/SeccompFlag"}},
              "supportedFlags": {"type": "array", "items": {"$ref": "defs-linux.json#/definitions/SeccompFlag"}}}},
            "apparmor": {"type": "object", "properties": {"enabled": {"type": "boolean"}}},
            "selinux": {"type": "object", "properties": {"enabled": {"type": "boolean"}}},
            "intelRdt": {"type": "object", "properties": {"enabled": {"type": "boolean"}}}}}}}
        """

    func testSpecFeaturesAndStateValidateAgainstTheSchemas() throws {
        let dir = work + "/schema"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.run(["runc", "spec", "--bundle", dir]).status, 0)
        try validate(try String(contentsOfFile: dir + "/config.json", encoding: .utf8), schema: "config-schema.json")
        XCTAssertEqual(
            try Harness.run(["runc", "spec", "--rootless", "--bundle", dir + "/x"]).status, 1, "no directory, no spec")
        try FileManager.default.createDirectory(atPath: dir + "/rootless", withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.run(["runc", "spec", "--rootless", "--bundle", dir + "/rootless"]).status, 0)
        try validate(
            try String(contentsOfFile: dir + "/rootless/config.json", encoding: .utf8), schema: "config-schema.json")
        let features = work + "/features-schema.json"
        try Data(Self.featuresSchema.utf8).write(to: URL(fileURLWithPath: features))
        try validate(try runtime(["features"]).stdout, schema: features)
        let bundleDir = try bundle("state", args: ["sleep", "5"])
        XCTAssertEqual(try runtime(["create", "--bundle", bundleDir, "s1\(Self.tag)"]).status, 0)
        try validate(try runtime(["state", "s1\(Self.tag)"]).stdout, schema: "state-schema.json")
        XCTAssertEqual(try runtime(["delete", "--force", "s1\(Self.tag)"]).status, 0)
    }

    /// The schema agrees with what Tests/OCITests/Configs says of each example: the good ones
    /// valid, each bad one invalid at the field its reason names, and nowhere else.
    func testExampleConfigsAreWhatTheySayAgainstTheSchema() throws {
        let examples = Harness.packageRoot.appendingPathComponent("Tests/OCITests/Configs").path
        for name in ["minimal", "minimal-for-start", "linux-web-server", "linux-rdma"] {
            try validate(
                try String(contentsOfFile: examples + "/good/\(name).json", encoding: .utf8),
                schema: "config-schema.json")
        }
        for (name, problem) in [
            (
                "linux-hugepage-page-size",
                "['linux', 'resources', 'hugepageLimits', 0, 'pageSize']: '2mb' does not match"
            ),
            (
                "linux-rdma-negative",
                "['linux', 'resources', 'rdma', 'mlx5_0', 'hcaHandles']: -1 is less than the minimum of 0"
            )
        ] {
            let result = try schemaProblems(
                try String(contentsOfFile: examples + "/bad/\(name).json", encoding: .utf8),
                schema: "config-schema.json")
            XCTAssertEqual(result.status, 1, name)
            let lines = result.text.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(name): one problem\n\(result.text)")
            XCTAssertTrue(lines.first?.hasPrefix(problem) ?? false, "\(name): \(result.text)")
        }
        let json = try Harness.execute([
            "/usr/bin/python3", "-c", "import json, sys; json.load(open(sys.argv[1]))",
            examples + "/bad/invalid-json.json"
        ])
        XCTAssertEqual(json.status, 1)
        XCTAssertTrue(json.stderr.contains("JSONDecodeError"), json.stderr)
    }

    func testBundleCreateMakesARunnableBundle() throws {
        let dir = work + "/made"
        let made = try Harness.run([
            "bundle", "create", "--rootfs", "busybox", dir, "--", "contlab", "inspect", "--json"
        ])
        XCTAssertEqual(made.status, 0, made.stderr)
        let result = try runtime(["run", "--bundle", dir, "b1\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(inspectJSON(result.stdout)["hostname"] as? String, "contlab")
        XCTAssertNotEqual(try Harness.run(["bundle", "create", dir]).status, 0, "an existing config.json is kept")
    }

    /// containerd's shim sends `kill --all ID 9` to a container whose process is gone and
    /// treats "container not running" as done: both runtimes answer alike.
    func testKillingAStoppedContainerAndSignalZeroAsRuncDoes() throws {
        let dir = try bundle("killed", args: ["true"])
        let sleeper = try bundle("sleeper", args: ["sleep", "30"])
        let runc = try requireRunc()
        let runtimes: [(String, ([String]) throws -> Harness.Result)] = [
            ("contlab-runc", runtime),
            ("runc", { try Harness.execute([runc, "--root", self.work + "/runc-state"] + $0) })
        ]
        for (name, run) in runtimes {
            XCTAssertEqual(try run(["create", "--bundle", dir, "k1\(Self.tag)"]).status, 0, name)
            XCTAssertEqual(try run(["start", "k1\(Self.tag)"]).status, 0, name)
            var stopped = false
            for _ in 0..<50 where !stopped {
                stopped = (try run(["state", "k1\(Self.tag)"]).stdout).contains("\"stopped\"")
                if !stopped { usleep(50_000) }
            }
            XCTAssertTrue(stopped, name)
            XCTAssertEqual(
                try run(["kill", "--all", "k1\(Self.tag)", "9"]).status, 0,
                "\(name): nothing left to kill is not an error")
            let one = try run(["kill", "k1\(Self.tag)", "9"])
            XCTAssertEqual(one.status, 1, name)
            XCTAssertTrue(one.stderr.contains("container not running"), "\(name): \(one.stderr)")
            XCTAssertEqual(try run(["delete", "k1\(Self.tag)"]).status, 0, name)
            XCTAssertEqual(try run(["create", "--bundle", sleeper, "k2\(Self.tag)"]).status, 0, name)
            XCTAssertEqual(
                try run(["kill", "k2\(Self.tag)", "0"]).status, 0, "\(name): signal 0 asks whether it exists")
            XCTAssertEqual(try run(["delete", "--force", "k2\(Self.tag)"]).status, 0, name)
            let missing = try run(["kill", "k2\(Self.tag)", "0"])
            XCTAssertNotEqual(missing.status, 0, name)
            XCTAssertTrue(missing.stderr.contains("does not exist"), "\(name): \(missing.stderr)")
        }
    }

    /// linux.devices nodes the host does not have are made with mknod (a character device with
    /// its owner and mode, a FIFO, a block device), under runc spec's deny-all device rule.
    func testDevicesTheHostLacksAreMadeWithMknod() throws {
        let dir = try bundle("mknod", args: ["sh", "-c", "ls -ln /dev/lab1 /dev/lab2 /dev/lab3"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["devices"] = [
                ["path": "/dev/lab1", "type": "c", "major": 240, "minor": 7, "fileMode": 0o620, "uid": 5, "gid": 6],
                ["path": "/dev/lab2", "type": "p"], ["path": "/dev/lab3", "type": "b", "major": 250, "minor": 1]
            ]
            config["linux"] = linux
        }
        XCTAssertFalse(Sys.exists("/dev/lab1") || Sys.exists("/dev/lab3"), "the host has no such nodes")
        let outputs = [
            try runtime(["run", "--bundle", dir, "mk1\(Self.tag)"]),
            try Harness.execute([
                try requireRunc(), "--root", work + "/runc-state", "run", "--bundle", dir, "mk2\(Self.tag)"
            ])
        ]
        for result in outputs {
            XCTAssertEqual(result.status, 0, result.stderr)
            let lines = result.stdout.split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            }
            XCTAssertEqual(lines.count, 3, result.stdout)
            guard lines.count == 3 else { continue }
            XCTAssertEqual(Array(lines[0][0...4]), ["crw--w----", "1", "5", "6", "240,"], result.stdout)
            XCTAssertEqual(lines[0][5], "7")
            XCTAssertTrue(lines[1][0].hasPrefix("p"), result.stdout)
            XCTAssertTrue(lines[2][0].hasPrefix("b") && lines[2][4] == "250,", result.stdout)
        }
    }

    func testAUserNamespaceMapsRootToAnUnprivilegedRange() throws {
        let dir = try bundle("userns", args: ["contlab", "inspect", "--json"]) { config in
            var linux = config["linux"] as! [String: Any]
            var namespaces = linux["namespaces"] as! [[String: Any]]
            namespaces.append(["type": "user"])
            linux["namespaces"] = namespaces
            linux["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65_536]]
            linux["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65_536]]
            config["linux"] = linux
        }
        let result = try runtime(["run", "--bundle", dir, "u1\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = inspectJSON(result.stdout)
        XCTAssertEqual(report["uid"] as? Int, 0, "root inside")
        XCTAssertEqual(report["uidMap"] as? [String], ["0 100000 65536"], "host uid 100000 outside")
        let caps = report["capabilities"] as? [String: Any]
        XCTAssertEqual(
            caps?["effective"] as? [String],
            ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"].sorted {
                CapabilityOrder.index($0) < CapabilityOrder.index($1)
            })
    }

    func testSysctlDevicesCPUOOMScoreAndTheContainerHooks() throws {
        let record = work + "/inner-hooks.log"
        let script = """
            cat /proc/sys/kernel/shmmax
            ls -l /dev/lab0 | cut -c1
            cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares
            cat /proc/self/oom_score_adj
            echo > /dev/full 2>/dev/null; echo full=$?
            """
        let dir = try bundle("more", args: ["sh", "-c", script]) { config in
            var process = config["process"] as! [String: Any]
            process["oomScoreAdj"] = 500
            config["process"] = process
            var linux = config["linux"] as! [String: Any]
            linux["sysctl"] = ["kernel.shmmax": "123456789"]
            linux["devices"] = [["path": "/dev/lab0", "type": "c", "major": 1, "minor": 3, "fileMode": 438]]
            linux["resources"] = [
                "cpu": ["quota": 20_000, "period": 100_000, "shares": 512],
                "devices": [["allow": false, "access": "rwm"]]
            ]
            config["linux"] = linux
            // createContainer runs in the container's namespaces before pivot_root, startContainer
            // inside the new root just before the process; both get the state on stdin.
            config["hooks"] = [
                "createContainer": [["path": "/bin/sh", "args": ["sh", "-c", "echo createContainer $$ >> \(record)"]]],
                "startContainer": [["path": "/bin/sh", "args": ["sh", "-c", "cat > /dev/null; echo startContainer"]]]
            ]
        }
        let result = try runtime(["run", "--bundle", dir, "m1\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(
            result.stdout.split(separator: "\n"), ["startContainer", "123456789", "c", "20000", "512", "500", "full=1"])
        let hooks = (try? String(contentsOfFile: record, encoding: .utf8)) ?? ""
        XCTAssertEqual(
            hooks, "createContainer 2\n", "the hook ran in the container's PID namespace, as the init's first child")
    }

    func testJoiningAnotherContainersNetworkNamespace() throws {
        let first = try bundle("netowner", args: ["sleep", "30"])
        XCTAssertEqual(try runtime(["run", "-d", "--bundle", first, "n1\(Self.tag)"]).status, 0)
        let owner = inspectJSON(try runtime(["state", "n1\(Self.tag)"]).stdout)["pid"] as? Int ?? 0
        XCTAssertGreaterThan(owner, 0)
        let second = try bundle("netjoiner", args: ["contlab", "inspect", "--json"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).map { ns in
                ns["type"] as? String == "network" ? ["type": "network", "path": "/proc/\(owner)/ns/net"] : ns
            }
            config["linux"] = linux
        }
        let result = try runtime(["run", "--bundle", second, "n2\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let joined =
            (inspectJSON(result.stdout)["namespaces"] as? [[String: Any]] ?? []).first {
                $0["kind"] as? String == "net"
            }?["id"] as? String
        XCTAssertEqual(
            joined, Sys.readLink("/proc/\(owner)/ns/net"),
            "the second container is in the first one's network namespace")
        XCTAssertEqual(try runtime(["delete", "--force", "n1\(Self.tag)"]).status, 0)
    }

    func testATerminalReachesTheConsoleSocket() throws {
        // A console socket's other end, as containerd's shim holds it: receive the pty master
        // over SCM_RIGHTS and read what the container writes to its terminal.
        let socketPath = work + "/console.sock"
        let receiver = """
            import os, socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(sys.argv[1]); s.listen(1)
            conn, _ = s.accept()
            _, fds, _, _ = socket.recv_fds(conn, 1, 1)
            out = b""
            while True:
                try:
                    data = os.read(fds[0], 4096)
                except OSError:
                    break
                if not data:
                    break
                out += data
            sys.stdout.write(out.decode(errors="replace"))
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", receiver, socketPath]
        let out = Pipe()
        python.standardOutput = out
        try python.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socketPath) && Date() < deadline { usleep(10_000) }
        let dir = try bundle("tty", args: ["sh", "-c", "tty; ls -l /dev/console | cut -c1; echo hi"]) { config in
            var process = config["process"] as! [String: Any]
            process["terminal"] = true
            config["process"] = process
        }
        let created = try runtime(["create", "--bundle", dir, "--console-socket", socketPath, "t1\(Self.tag)"])
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(try runtime(["start", "t1\(Self.tag)"]).status, 0)
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        // A terminal ends lines with CR LF ("\r\n" is one Character in Swift).
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map(String.init)
        XCTAssertEqual(
            lines, ["/dev/pts/0", "c", "hi"], "the process's terminal is the pty whose master went over the socket")
        XCTAssertEqual(try runtime(["delete", "--force", "t1\(Self.tag)"]).status, 0)
        let missing = try runtime(["create", "--bundle", dir, "t2\(Self.tag)"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("--console-socket"), missing.stderr)
    }

    func testANamespacePathOfTheWrongTypeIsRefused() throws {
        let dir = try bundle("wrongns", args: ["true"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).map { ns in
                ns["type"] as? String == "ipc" ? ["type": "ipc", "path": "/proc/self/ns/uts"] : ns
            }
            config["linux"] = linux
        }
        let result = try runtime(["run", "--bundle", dir, "w1\(Self.tag)"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(
            result.stderr.contains(
                "linux.namespaces[2].path: /proc/self/ns/uts is a namespace of type uts, where the entry's type is ipc"),
            result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/w1\(Self.tag)"))
    }

    func testAForegroundRunAsAnotherUserStillEndsWithItsCaller() throws {
        let dir = try bundle("dies", args: ["sleep", "271"]) { config in
            var process = config["process"] as! [String: Any]
            process["user"] = ["uid": 1000, "gid": 1000]
            config["process"] = process
        }
        let process = try Harness.start(["runc", "--root", root, "run", "--bundle", dir, "d1\(Self.tag)"])
        func sleeper() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).contains { entry in
                guard Int(entry) != nil, let cmd = Sys.readText("/proc/\(entry)/cmdline") else { return false }
                return cmd == "sleep\0" + "271\0"
            }
        }
        var deadline = Date().addingTimeInterval(10)
        while !sleeper() && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(sleeper())
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        deadline = Date().addingTimeInterval(5)
        while sleeper() && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(sleeper(), "setuid cleared the death signal: the container outlived contlab-runc run")
        _ = try runtime(["delete", "--force", "d1\(Self.tag)"])
    }
}

/// The kernel's order of capability names, as inspect lists them.
enum CapabilityOrder {
    static let names = ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]
    static func index(_ name: String) -> Int { names.firstIndex(of: name) ?? 99 }
}
