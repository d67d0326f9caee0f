import ContlabCore
import Foundation
import XCTest

/// What the engines' own commands show when contlab-runc is their runtime. Each class starts the
/// lab's private engine once (`contlab engines setup`), and stops it when done.
enum EngineHarness {
    static let data = "/var/lib/contlab/engines"
    static let dockerHost = "unix://\(data)/docker/docker.sock"

    static func docker(_ args: [String], timeout: TimeInterval = 60) throws -> Harness.Result {
        try spawn(["/usr/bin/docker", "--host", dockerHost] + args, timeout: timeout)
    }

    /// posix_spawn and waitpid, not Foundation's Process: after `podman run -d` (whose conmon
    /// daemonizes), Process was seen never to reap the exited podman, and waited forever.
    static func spawn(_ argv: [String], timeout: TimeInterval) throws -> Harness.Result {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "contlab-engine-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        defer {
            unlink(base + ".out")
            unlink(base + ".err")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var pid: pid_t = 0
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" } + ["NO_COLOR=1"]
        let rc = withCStrings(argv) { args in
            withCStrings(environment) { env in posix_spawn(&pid, argv[0], &actions, nil, args, env) }
        }
        guard rc == 0 else { throw SystemCallError("posix_spawn(\(argv[0]))", errno: rc) }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                XCTFail("\(argv.joined(separator: " ")) did not finish in \(timeout)s")
                break
            }
            usleep(2_000)
        }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Harness.Result(
            status: code, stdout: Sys.readText(base + ".out") ?? "", stderr: Sys.readText(base + ".err") ?? "")
    }

    static var podmanGlobals: [String] {
        let runtime = (Harness.binary as NSString).deletingLastPathComponent + "/contlab-runc"
        return [
            "/usr/bin/podman", "--runtime", runtime, "--root", data + "/podman/storage", "--runroot",
            data + "/podman/run",
            "--tmpdir", data + "/podman/tmp", "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
            "--events-backend", "file"
        ]
    }
    static let podmanRun = ["--network", "none", "--ulimit", "nofile=1024:20000", "--ulimit", "nproc=1024:1024"]

    static func podman(_ args: [String], timeout: TimeInterval = 60) throws -> Harness.Result {
        try spawn(podmanGlobals + args, timeout: timeout)
    }

    static func setup(_ engine: String) throws {
        try Harness.requireRoot()
        let result = try Harness.run(["engines", "setup", engine, "--private"], timeout: 120)
        guard result.status == 0 else {
            XCTFail("contlab engines setup \(engine) failed: \(result.stderr)")
            throw XCTSkip("the engine did not start")
        }
    }

    /// Whatever the engines' containers could leave on the host: mounts under the engines'
    /// directory, their cgroups, processes in those cgroups.
    static func traces() -> [String] {
        var found: [String] = []
        for line in (Sys.readText("/proc/self/mountinfo") ?? "").split(separator: "\n") where line.contains(data) {
            found.append("mount: \(line)")
        }
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            for name in ["docker", "libpod_parent"] where Sys.isDirectory("/sys/fs/cgroup/\(hierarchy)/\(name)") {
                found.append("cgroup: /sys/fs/cgroup/\(hierarchy)/\(name)")
            }
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
            let cgroups = Sys.readText("/proc/\(entry)/cgroup") ?? ""
            if cgroups.contains(":/docker/") || cgroups.contains(":/libpod_parent/") {
                found.append(
                    "process \(entry): \((Sys.readText("/proc/\(entry)/cmdline") ?? "").replacingOccurrences(of: "\0", with: " "))"
                )
            }
        }
        return found
    }

    static func alive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 }
}

final class DockerEngineTests: XCTestCase {
    let runtime = ["--runtime", "contlab", "--network", "none"]

    override func setUpWithError() throws { try EngineHarness.setup("docker") }

    override class func tearDown() {
        _ = try? Harness.run(["engines", "stop", "docker"])
        super.tearDown()
    }

    func docker(_ args: [String], timeout: TimeInterval = 60) throws -> Harness.Result {
        try EngineHarness.docker(args, timeout: timeout)
    }

    func testRunGivesTheOutputAndTheExitCode() throws {
        let result = try docker(["run", "--rm"] + runtime + ["busybox", "sh", "-c", "echo out; echo err >&2; exit 3"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertEqual(result.stdout, "out\n")
        XCTAssertEqual(result.stderr, "err\n")
        // With -t the process's terminal is a pty whose master went back over the console socket.
        let tty = try docker(["run", "--rm", "-t"] + runtime + ["busybox", "sh", "-c", "tty; exit 5"])
        XCTAssertEqual(tty.status, 5, tty.stderr)
        XCTAssertEqual(tty.stdout, "/dev/pts/0\r\n")
        // Docker's default seccomp profile is loaded by contlab, as by runc.
        let filtered = try docker(["run", "--rm"] + runtime + ["busybox", "grep", "Seccomp:", "/proc/self/status"])
        XCTAssertEqual(filtered.stdout, "Seccomp:\t2\n", filtered.stderr)
    }

    func testABadCommandGivesDockersErrorWithContlabsMessage() throws {
        let result = try docker(["run", "--rm"] + runtime + ["busybox", "no-such-program"])
        XCTAssertEqual(result.status, 127, "Docker's code for a command that is not there")
        XCTAssertTrue(result.stderr.contains("OCI runtime create failed"), result.stderr)
        XCTAssertTrue(
            result.stderr.contains("no-such-program: command not found in the container's root filesystem"),
            result.stderr)
    }

    func testExecTopPauseUpdateAndStop() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-docker-\(getpid())").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let counter =
            "trap 'exit 7' TERM; i=0; while true; do i=$((i+1)); echo $i > /out/n.new; mv /out/n.new /out/n; usleep "
            + "20000; done"
        let started = try docker(
            ["run", "-d", "--name", "eng-docker-c1", "-v", "\(out):/out", "--memory", "64m"] + runtime
                + ["busybox", "sh", "-c", counter])
        XCTAssertEqual(started.status, 0, started.stderr)
        defer { _ = try? docker(["rm", "--force", "eng-docker-c1"]) }
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // The counter renames each number into place: a read never meets the file just truncated.
        func count() -> Int {
            Int((Sys.readText(out + "/n") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        let deadline = Date().addingTimeInterval(5)
        while count() < 3 && Date() < deadline { usleep(20_000) }
        XCTAssertGreaterThanOrEqual(count(), 3, "the container runs")

        // exec: output, exit code, and the process in the container's cgroup (docker top sees it).
        let exec = try docker([
            "exec", "eng-docker-c1", "sh", "-c", "echo in $(cat /proc/1/cmdline | head -c 2); exit 4"
        ])
        XCTAssertEqual(exec.status, 4, exec.stderr)
        XCTAssertEqual(exec.stdout, "in sh\n", "PID 1 of the namespace the exec'd shell sees is the container's shell")
        XCTAssertEqual(
            try docker(["exec", "eng-docker-c1", "grep", "Seccomp:", "/proc/self/status"]).stdout, "Seccomp:\t2\n")
        // exec -t: the exec'd process gets a pty of its own, its master sent over the console socket.
        let ttyExec = try docker(["exec", "-t", "eng-docker-c1", "sh", "-c", "tty; exit 2"])
        XCTAssertEqual(ttyExec.status, 2, ttyExec.stderr)
        XCTAssertTrue(ttyExec.stdout.hasPrefix("/dev/pts/"), ttyExec.stdout)
        let sleeper = try docker(["exec", "-d", "eng-docker-c1", "sleep", "300"])
        XCTAssertEqual(sleeper.status, 0, sleeper.stderr)
        var top = ""
        for _ in 0..<50 {
            top = try docker(["top", "eng-docker-c1"]).stdout
            if top.contains("sleep 300") { break }
            usleep(20_000)
        }
        XCTAssertTrue(top.contains("sleep 300"), "docker top lists the exec'd process: \(top)")
        XCTAssertTrue(top.contains("sh -c"), top)

        // pause: the loop stops for real; unpause: it goes on.
        XCTAssertEqual(try docker(["pause", "eng-docker-c1"]).status, 0)
        XCTAssertEqual(try docker(["inspect", "-f", "{{.State.Paused}}", "eng-docker-c1"]).stdout, "true\n")
        let frozenAt = count()
        usleep(300_000)
        XCTAssertEqual(count(), frozenAt, "a paused container does not run")
        XCTAssertEqual(try docker(["unpause", "eng-docker-c1"]).status, 0)
        usleep(300_000)
        XCTAssertGreaterThan(count(), frozenAt, "unpaused, it runs on")

        // update: the new limit lands in the cgroup Docker named in linux.cgroupsPath.
        let updated = try docker(["update", "--memory", "48m", "--memory-swap", "96m", "eng-docker-c1"])
        XCTAssertEqual(updated.status, 0, updated.stderr)
        XCTAssertEqual(Sys.readText("/sys/fs/cgroup/memory/docker/\(id)/memory.limit_in_bytes"), "\(48 << 20)\n")

        // stop: TERM first; this shell traps it and exits 7.
        let stopped = try docker(["stop", "-t", "10", "eng-docker-c1"])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        XCTAssertEqual(try docker(["inspect", "-f", "{{.State.ExitCode}}", "eng-docker-c1"]).stdout, "7\n")

        // contlab-runc's journal holds every call the shim made for this container, as recorded
        // from Docker 20.10 here, and the system calls of its init.
        let journal = (Sys.readText(EngineHarness.data + "/docker/contlab-runc-calls.log") ?? "").split(separator: "\n")
            .filter { $0.contains(id) || $0.contains("  init: ") }.joined(separator: "\n")
        for call in [
            "create --bundle ", "start \(id)", "exec --process ", "--detach --pid-file ", "pause \(id)", "resume \(id)",
            "ps --format json \(id)", "update --resources - \(id)", "kill \(id) 15", "init: pivot_root"
        ] {
            XCTAssertTrue(journal.contains(call), "the journal records \(call)")
        }
    }

    func testStopSendsKillAfterTheTimeoutToAProcessThatIgnoresTerm() throws {
        // PID 1 ignores signals it has no handler for: TERM does nothing, KILL (from outside) ends it.
        XCTAssertEqual(
            try docker(["run", "-d", "--name", "eng-docker-c2"] + runtime + ["busybox", "sleep", "300"]).status, 0)
        defer { _ = try? docker(["rm", "--force", "eng-docker-c2"]) }
        let begun = Date()
        XCTAssertEqual(try docker(["stop", "-t", "1", "eng-docker-c2"]).status, 0)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(begun), 1.0, "docker waited for the timeout before KILL")
        XCTAssertEqual(try docker(["inspect", "-f", "{{.State.ExitCode}}", "eng-docker-c2"]).stdout, "137\n")
    }

    func testAMemoryLimitEndsAHogAboveItOOMKilled() throws {
        // busybox's shell doubling a string: above 32 MiB the OOM killer ends it.
        let above = try docker(
            ["run", "--name", "eng-docker-oom", "--memory", "32m"] + runtime
                + ["busybox", "sh", "-c", "x=0123456789abcdef; while true; do x=$x$x; done"], timeout: 120)
        defer { _ = try? docker(["rm", "--force", "eng-docker-oom"]) }
        XCTAssertEqual(above.status, 137, above.stderr)
        XCTAssertEqual(
            try docker(["inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "eng-docker-oom"]).stdout,
            "true 137\n")
        let below = try docker(
            ["run", "--rm", "--memory", "32m"] + runtime
                + [
                    "busybox", "sh", "-c",
                    "x=0123456789abcdef; i=0; while [ $i -lt 16 ]; do x=$x$x; i=$((i+1)); done; echo ${#x}"
                ])
        XCTAssertEqual(below.status, 0, below.stderr)
        XCTAssertEqual(below.stdout, "1048576\n")
    }

    func testStopLeavesNoContainerMountCgroupOrProcess() throws {
        XCTAssertEqual(
            try docker(["run", "-d", "--name", "eng-docker-c3"] + runtime + ["busybox", "sleep", "300"]).status, 0)
        let pid =
            pid_t(
                try docker(["inspect", "-f", "{{.State.Pid}}", "eng-docker-c3"]).stdout.trimmingCharacters(
                    in: .whitespacesAndNewlines)) ?? 0
        XCTAssertTrue(EngineHarness.alive(pid))
        let dockerd =
            pid_t(
                (Sys.readText(EngineHarness.data + "/docker/dockerd.pid") ?? "").trimmingCharacters(
                    in: .whitespacesAndNewlines)) ?? 0
        XCTAssertTrue(EngineHarness.alive(dockerd))
        let stopped = try Harness.run(["engines", "stop", "docker"])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        XCTAssertFalse(EngineHarness.alive(pid), "the container's process is gone")
        XCTAssertFalse(EngineHarness.alive(dockerd), "dockerd is gone")
        XCTAssertEqual(EngineHarness.traces(), [])
    }
}

final class PodmanEngineTests: XCTestCase {
    override func setUpWithError() throws { try EngineHarness.setup("podman") }

    override class func tearDown() {
        _ = try? Harness.run(["engines", "stop", "podman"])
        super.tearDown()
    }

    func podman(_ args: [String], timeout: TimeInterval = 60) throws -> Harness.Result {
        try EngineHarness.podman(args, timeout: timeout)
    }

    /// Stage 5's images leave contlab as OCI archives that Podman loads and runs (issue 11).
    func testLoadsAndRunsAnImageContlabExported() throws {
        let data = NSTemporaryDirectory() + "contlab-podman-load-\(getpid())"
        defer { _ = try? Harness.execute(["/bin/rm", "-rf", data]) }
        let env = ["CONTLAB_DATA": data]
        let build = try Harness.run(
            [
                "image", "build", "--dir", try Harness.busyboxRootfs(), "--cmd", "/bin/echo", "--cmd", "from-contlab",
                "lab/loaded:v1"
            ], environment: env)
        XCTAssertEqual(build.status, 0, build.stderr)
        XCTAssertEqual(
            try Harness.run(["image", "export", "lab/loaded:v1", data + "/loaded.tar"], environment: env).status, 0)
        let load = try podman(["load", "-i", data + "/loaded.tar"])
        XCTAssertEqual(load.status, 0, load.stderr)
        XCTAssertTrue(load.stdout.contains("localhost/lab/loaded:v1"), load.stdout)
        defer { _ = try? podman(["rmi", "--force", "localhost/lab/loaded:v1"]) }
        let run = try podman(["run", "--rm"] + EngineHarness.podmanRun + ["localhost/lab/loaded:v1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "from-contlab\n", "the image config's Cmd, as contlab wrote it")
    }

    func testRunExecAndStop() throws {
        let run = try podman(
            ["run", "--rm"] + EngineHarness.podmanRun + ["localhost/busybox", "sh", "-c", "echo out; exit 3"])
        XCTAssertEqual(run.status, 3, run.stderr)
        XCTAssertEqual(run.stdout, "out\n")

        let started = try podman(
            ["run", "-d", "--name", "eng-podman-c1"] + EngineHarness.podmanRun
                + ["localhost/busybox", "sh", "-c", "trap 'exit 7' TERM; while true; do usleep 20000; done"])
        XCTAssertEqual(started.status, 0, started.stderr)
        defer { _ = try? podman(["rm", "--force", "eng-podman-c1"]) }
        let exec = try podman(["exec", "eng-podman-c1", "sh", "-c", "echo in $(head -c 2 /proc/1/cmdline); exit 6"])
        XCTAssertEqual(exec.status, 6, exec.stderr)
        XCTAssertEqual(exec.stdout, "in sh\n")
        let stopped = try podman(["stop", "-t", "10", "eng-podman-c1"])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        XCTAssertEqual(try podman(["inspect", "-f", "{{.State.ExitCode}}", "eng-podman-c1"]).stdout, "7\n")
        XCTAssertEqual(try podman(["rm", "eng-podman-c1"]).status, 0)
        XCTAssertEqual(try podman(["ps", "--all", "--quiet"]).stdout, "")

        XCTAssertEqual(try Harness.run(["engines", "stop", "podman"]).status, 0)
        XCTAssertEqual(EngineHarness.traces(), [])
    }
}
