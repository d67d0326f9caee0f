import ContlabCore
import Foundation
import XCTest

/// The verbs Docker and Podman call beyond the lifecycle — exec, pause, resume, ps, update —
/// on the busybox bundle directly, each checked from the host (namespaces, cgroups, the freezer,
/// limits) or through what the container writes.
final class OCIEngineVerbsTests: XCTestCase {
    var work = ""
    var root = ""

    override func setUpWithError() throws {
        try Harness.requireRoot()
        work =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "contlab-eng-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            ).path
        root = work + "/state"
        try FileManager.default.createDirectory(atPath: work + "/out", withIntermediateDirectories: true)
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

    /// A detached container running `script` on the busybox tree, with the test's `out`
    /// directory at /tmp and a 64 MiB memory limit.
    func start(_ id: String, _ script: String, edit: (inout [String: Any]) -> Void = { _ in }) throws -> Int32 {
        let dir = work + "/" + id
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.run(["runc", "spec", "--bundle", dir]).status, 0)
        var config =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json")))
            as! [String: Any]
        config["root"] = ["path": try Harness.busyboxRootfs(), "readonly": true]
        var process = config["process"] as! [String: Any]
        process["args"] = ["sh", "-c", script]
        process["terminal"] = false
        config["process"] = process
        var mounts = config["mounts"] as! [[String: Any]]
        mounts.append(["destination": "/tmp", "type": "bind", "source": work + "/out", "options": ["rbind", "rw"]])
        config["mounts"] = mounts
        var linux = config["linux"] as! [String: Any]
        linux["resources"] = ["memory": ["limit": 64 << 20]]
        config["linux"] = linux
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        let pidFile = work + "/\(id).pid"
        let created = try runtime(["run", "-d", "--bundle", dir, "--pid-file", pidFile, id])
        XCTAssertEqual(created.status, 0, created.stderr)
        return Int32((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "") ?? 0
    }

    func status(_ id: String) throws -> String? {
        let state =
            try JSONSerialization.jsonObject(with: Data(try runtime(["state", id]).stdout.utf8)) as? [String: Any]
        return state?["status"] as? String
    }

    func namespace(_ pid: Int32, _ name: String) -> String? { Sys.readLink("/proc/\(pid)/ns/\(name)") }

    func testExecRunsInTheContainersNamespacesAndCgroups() throws {
        let initPID = try start("eng-exec", "sleep 60")
        XCTAssertGreaterThan(initPID, 0)
        // In the foreground, with the command after the id: output and exit code come back.
        let foreground = try runtime([
            "exec", "-e", "GREETING=hello", "eng-exec", "sh", "-c", "echo $GREETING $$; hostname; exit 4"
        ])
        XCTAssertEqual(foreground.status, 4, foreground.stderr)
        let words = foreground.stdout.split(whereSeparator: \.isWhitespace)
        XCTAssertEqual(words.first, "hello")
        XCTAssertNotEqual(
            words.dropFirst().first, "1",
            "PID 1 is the container's init; the exec'd shell is another process of its namespace")
        XCTAssertEqual(
            Int(words.dropFirst().first ?? "") ?? 0 > 1, true,
            "a small pid: it is numbered in the container's PID namespace")

        // Detached, from a process file, as containerd and conmon call it.
        let processFile = work + "/process.json"
        let process =
            #"{"user":{"uid":1000,"gid":1000},"args":["sleep","30"],"env":["PATH=/bin"],"cwd":"/tmp","capabilities":{"bounding":["CAP_KILL"],"effective":[],"permitted":[]}}"#
        try Data(process.utf8).write(to: URL(fileURLWithPath: processFile))
        let pidFile = work + "/exec.pid"
        let detached = try runtime(["exec", "--process", processFile, "--detach", "--pid-file", pidFile, "eng-exec"])
        XCTAssertEqual(detached.status, 0, detached.stderr)
        let pid = Int32((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "") ?? 0
        XCTAssertGreaterThan(pid, 0)
        XCTAssertEqual(Sys.readText("/proc/\(pid)/cmdline"), "sleep\u{0}30\u{0}")
        for ns in ["mnt", "pid", "net", "ipc", "uts"] {
            XCTAssertEqual(
                namespace(pid, ns), namespace(initPID, ns), "the exec'd process is in the container's \(ns) namespace")
            XCTAssertNotEqual(namespace(pid, ns), namespace(getpid(), ns))
        }
        let cgroups = Sys.readText("/proc/\(pid)/cgroup") ?? ""
        XCTAssertTrue(cgroups.contains(":memory:/contlab-runc/eng-exec\n"), cgroups)
        let status = Sys.readText("/proc/\(pid)/status") ?? ""
        XCTAssertTrue(status.contains("Uid:\t1000\t1000\t1000\t1000"), "process.user applies")
        XCTAssertTrue(
            status.contains("CapBnd:\t0000000000000020"), "only CAP_KILL is left in the bounding set: \(status)")
        XCTAssertEqual(Sys.readLink("/proc/\(pid)/cwd"), "/tmp")
        let ps = try runtime(["ps", "--format", "json", "eng-exec"]).stdout
        let pids = (try JSONSerialization.jsonObject(with: Data(ps.utf8)) as? [Int]) ?? []
        XCTAssertEqual(Set(pids), [Int(initPID), Int(pid)], "ps lists the init and the exec'd process")

        // A command that is not there fails exec with runc's words, and nothing is left running.
        let missing = try runtime(["exec", "eng-exec", "no-such-program"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("executable file not found"), missing.stderr)
        XCTAssertEqual(try runtime(["delete", "--force", "eng-exec"]).status, 0)
        XCTAssertNil(
            Sys.readText("/proc/\(pid)/cmdline").flatMap { $0.isEmpty ? nil : $0 }, "delete ends exec'd processes too")
    }

    func testASeccompFilterDeniesWhatItNamesToTheProcessAndToExec() throws {
        // mkdir is refused with EACCES (not EPERM, so the answer is the filter's, not a
        // capability's); everything else is allowed.
        let script = "mkdir /tmp/by-init 2>/tmp/init.err; echo $? > /tmp/init.status; sleep 60"
        _ = try start("eng-seccomp", script) { config in
            var linux = config["linux"] as! [String: Any]
            linux["seccomp"] = [
                "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13]]
            ]
            config["linux"] = linux
        }
        let deadline = Date().addingTimeInterval(5)
        // The shell's `>` makes the file before it writes the code: wait for the line itself.
        while Sys.readText(work + "/out/init.status")?.hasSuffix("\n") != true && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(Sys.readText(work + "/out/init.status"), "1\n")
        XCTAssertTrue(
            Sys.readText(work + "/out/init.err")?.contains("Permission denied") == true,
            Sys.readText(work + "/out/init.err") ?? "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/out/by-init"))
        let exec = try runtime([
            "exec", "eng-seccomp", "sh", "-c",
            "grep Seccomp: /proc/self/status; mkdir /tmp/by-exec; s=$?; touch /tmp/touched; exit $s"
        ])
        XCTAssertNotEqual(exec.status, 0)
        XCTAssertTrue(
            exec.stdout.contains("Seccomp:\t2"), "the exec'd process runs under the container's filter: \(exec.stdout)")
        XCTAssertTrue(exec.stderr.contains("Permission denied"), exec.stderr)
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: work + "/out/touched"), "what the filter does not name is allowed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/out/by-exec"))
        // With config.json gone (the filter's only record), exec refuses rather than run unfiltered.
        let config = work + "/eng-seccomp/config.json"
        XCTAssertEqual(rename(config, config + ".away"), 0)
        defer { rename(config + ".away", config) }
        let process = work + "/eng-seccomp-process.json"
        try #"{"args": ["sh", "-c", "touch /tmp/unfiltered"], "cwd": "/", "user": {"uid": 0, "gid": 0}}"#.write(
            toFile: process, atomically: false, encoding: .utf8)
        let blind = try runtime(["exec", "--process", process, "eng-seccomp"])
        XCTAssertNotEqual(blind.status, 0)
        XCTAssertTrue(blind.stderr.contains("seccomp filter"), blind.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/out/unfiltered"), "it did not run")
    }

    func testPauseStopsEveryProcessAndResumeGoesOn() throws {
        let counter = "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; usleep 20000; done"
        _ = try start("eng-pause", counter)
        func count() -> Int {
            Int((Sys.readText(work + "/out/n") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        let deadline = Date().addingTimeInterval(5)
        while count() < 3 && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(try runtime(["pause", "eng-pause"]).status, 0)
        XCTAssertEqual(try status("eng-pause"), "paused")
        XCTAssertEqual(
            Sys.readText("/sys/fs/cgroup/freezer/contlab-runc/eng-pause/freezer.state")?.hasPrefix("FROZEN"), true)
        let frozenAt = count()
        usleep(300_000)
        XCTAssertEqual(count(), frozenAt, "a paused container's loop does not advance")
        XCTAssertNotEqual(try runtime(["pause", "eng-pause"]).status, 0, "pausing twice is an error, as with runc")
        XCTAssertEqual(try runtime(["resume", "eng-pause"]).status, 0)
        XCTAssertEqual(try status("eng-pause"), "running")
        usleep(300_000)
        XCTAssertGreaterThan(count(), frozenAt, "resumed, it counts on")
        // A paused container is still removed by delete --force (thawed, then killed).
        XCTAssertEqual(try runtime(["pause", "eng-pause"]).status, 0)
        XCTAssertEqual(try runtime(["delete", "--force", "eng-pause"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/freezer/contlab-runc/eng-pause"))
    }

    func testUpdateChangesTheLimitsOfARunningContainer() throws {
        _ = try start("eng-update", "sleep 60")
        let memory = "/sys/fs/cgroup/memory/contlab-runc/eng-update"
        XCTAssertEqual(Sys.readText(memory + "/memory.limit_in_bytes"), "\(64 << 20)\n")
        // Docker's way: the resources JSON on stdin, zeros meaning "unchanged".
        let json =
            #"{"memory":{"limit":100663296,"reservation":0,"swap":134217728,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0},"blockIO":{"weight":0}}"#
        let piped = try Harness.execute([
            "/bin/sh", "-c", "printf '%s' '\(json)' | \"$0\" runc --root \"$1\" update --resources - eng-update",
            Harness.binary, root
        ])
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(Sys.readText(memory + "/memory.limit_in_bytes"), "\(96 << 20)\n")
        XCTAssertEqual(Sys.readText(memory + "/memory.memsw.limit_in_bytes"), "\(128 << 20)\n")
        // runc's flags; lowering memory and memory+swap together needs the other order of writes.
        XCTAssertEqual(
            try runtime(["update", "--memory", "32m", "--memory-swap", "48m", "--pids-limit", "20", "eng-update"])
                .status, 0)
        XCTAssertEqual(Sys.readText(memory + "/memory.limit_in_bytes"), "\(32 << 20)\n")
        XCTAssertEqual(Sys.readText(memory + "/memory.memsw.limit_in_bytes"), "\(48 << 20)\n")
        XCTAssertEqual(Sys.readText("/sys/fs/cgroup/pids/contlab-runc/eng-update/pids.max"), "20\n")
        // The memory controller's other files change too (its directory is there); a cpuset,
        // whose directory create made only when asked, gets one, with the container in it.
        let soft = try Harness.execute([
            "/bin/sh", "-c",
            "echo '{\"memory\":{\"reservation\":1048576}}' | \"$0\" runc --root \"$1\" update -r - eng-update",
            Harness.binary, root
        ])
        XCTAssertEqual(soft.status, 0, soft.stderr)
        XCTAssertEqual(Sys.readText(memory + "/memory.soft_limit_in_bytes"), "1048576\n")
        let cpuset = try Harness.execute([
            "/bin/sh", "-c", "echo '{\"cpu\":{\"cpus\":\"0\"}}' | \"$0\" runc --root \"$1\" update -r - eng-update",
            Harness.binary, root
        ])
        XCTAssertEqual(cpuset.status, 0, cpuset.stderr)
        XCTAssertEqual(Sys.readText("/sys/fs/cgroup/cpuset/contlab-runc/eng-update/cpuset.cpus"), "0\n")
        let procs = Sys.readText("/sys/fs/cgroup/cpuset/contlab-runc/eng-update/cgroup.procs") ?? ""
        XCTAssertFalse(procs.isEmpty, "the container's process was moved into the new cpuset")
    }
}
