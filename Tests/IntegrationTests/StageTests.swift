import ContlabCore
import Foundation
import XCTest

/// Stages 1 and 2 run for real, checked from inside with `contlab inspect` and from the host.
final class StageTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireRoot() }

    /// The command after `run` is taken as it is, but a lone --help still asks for the help.
    func testHelpIsHelpNotACommand() throws {
        for args in [["run", "--help"], ["run", "--stage", "2", "-h"], ["bundle", "create", "--help"]] {
            let result = try Harness.run(args)
            XCTAssertEqual(result.status, 0, "\(args): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("USAGE:"), "\(args): \(result.stdout)")
        }
        let asCommand = try Harness.run(["run", "--stage", "2", "--", "--help"])
        XCTAssertEqual(asCommand.status, 127, "after --, --help is the command to run: \(asCommand.stderr)")
    }

    /// A SIGTERM that reaches `contlab run` while its init is still starting (the first tens of
    /// milliseconds) is passed on, not dropped: PID 1 without a handler ignores what it is sent,
    /// unless the signal is blocked and waits. Before the fix about one start in ten, at a delay
    /// near 20 ms, ran its command to the end.
    func testASignalInTheFirstMillisecondsReachesTheCommand() throws {
        for attempt in 0..<40 {
            let run = Process()
            run.executableURL = URL(fileURLWithPath: Harness.binary)
            run.arguments = ["run", "--stage", "2", "--", "sleep", "30"]
            run.standardOutput = FileHandle.nullDevice
            run.standardError = FileHandle.nullDevice
            try run.run()
            usleep(useconds_t(attempt % 20) * 2_000)
            kill(run.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while run.isRunning && Date() < deadline { usleep(5_000) }
            if run.isRunning {
                kill(run.processIdentifier, SIGKILL)
                run.waitUntilExit()
                XCTFail(
                    "attempt \(attempt), SIGTERM after \((attempt % 20) * 2) ms: the container still ran 10 s later")
                return
            }
            // Sent before contlab blocks it (before any container), SIGTERM ends contlab itself.
            let early = run.terminationReason == .uncaughtSignal && run.terminationStatus == SIGTERM
            XCTAssertTrue(
                early || run.terminationStatus == 143,
                "attempt \(attempt): sleep ends by SIGTERM (128+15), "
                    + "not \(run.terminationReason) \(run.terminationStatus)"
            )
        }
    }

    func testStage2CommandRunsUnderAnInitThatIsPID1() throws {
        let report = try Harness.inspect(["--stage", "2"])
        XCTAssertEqual(report["pid"] as? Int, 2, "the command is the init's first child")
        XCTAssertEqual(report["ppid"] as? Int, 1, "its parent is the init, PID 1 of the new namespace")
        let result = try Harness.run([
            "run", "--stage", "2", "--", "/bin/sh", "-c", "echo $$; tr '\\0' ' ' < /proc/1/cmdline"
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "2")
        XCTAssertTrue(lines.last?.contains("contlab __init") == true, result.stdout)
    }

    func testStage2HasItsOwnNamespacesAndStage1SharesTheHosts() throws {
        let stage2 = Harness.namespaces(try Harness.inspect(["--stage", "2"]))
        for kind in ["pid", "mnt", "uts", "ipc", "net", "cgroup"] {
            XCTAssertEqual(stage2[kind]?.differs, true, "stage 2 has its own \(kind) namespace")
        }
        XCTAssertEqual(stage2["user"]?.differs, false, "as root, no user namespace")
        // Stage 1 has no /proc to read namespaces from: the host's PID namespace shows as a
        // large PID and the host's hostname.
        let result = try Harness.run([
            "run", "--stage", "1", "--", "/bin/sh", "-c", "echo $$; hostname; ls /proc | wc -l"
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertGreaterThan(Int(lines[0]) ?? 0, 1)
        XCTAssertEqual(lines[1], ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init))
        XCTAssertEqual(lines[2], "0", "no /proc is mounted at stage 1")
    }

    func testHostnameIsTheContainersOwn() throws {
        let report = try Harness.inspect(["--stage", "2", "--hostname", "lab"])
        XCTAssertEqual(report["hostname"] as? String, "lab")
        XCTAssertEqual(try Harness.inspect(["--stage", "2"])["hostname"] as? String, "contlab")
        var uts = utsname()
        uname(&uts)
        let host = withUnsafePointer(to: &uts.nodename) {
            $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) }
        }
        XCTAssertNotEqual(host, "lab", "the host's hostname is untouched")
    }

    func testMountTableIsSmallPrivateAndRootedInTheRootfs() throws {
        let rootfs = try Harness.busyboxRootfs()
        let result = try Harness.run(["run", "--stage", "2", "--", "/bin/cat", "/proc/self/mountinfo"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let points = result.stdout.split(separator: "\n").map { $0.split(separator: " ")[4] }
        XCTAssertEqual(points.first, "/")
        for expected in ["/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"] {
            XCTAssertTrue(points.contains(Substring(expected)), "\(expected) is mounted: \(points)")
        }
        XCTAssertLessThan(points.count, 12, "the host's mounts are gone with the detached old root")
        XCTAssertFalse(
            points.contains { $0.hasPrefix("/work") || $0.hasPrefix("/var") }, "no host mount point is visible")
        XCTAssertTrue(points.contains("/usr/local/bin/contlab"), "contlab is bound in for a shell inside")
        let sys = try Harness.run(["run", "--stage", "2", "--", "/bin/sh", "-c", "touch /sys/x 2>&1; echo $?"])
        XCTAssertTrue(sys.stdout.contains("Read-only file system"), "/sys is read-only: \(sys.stdout)")
        let root = try Harness.inspect(["--stage", "2"])["root"] as? String
        XCTAssertEqual(root, FileIdentity(path: rootfs)?.description, "\"/\" inside is the rootfs directory")
    }

    func testTheEscapeWorksAtStage1AndFailsAtStage2() throws {
        for (stage, expected) in [("1", true), ("2", false)] {
            let result = try Harness.run(["escape", "--stage", stage, "--json"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            XCTAssertEqual(json?["escaped"] as? Bool, expected, "stage \(stage): \(result.stdout)")
            let probe = json?["probe"] as? [String: Any]
            XCTAssertEqual(probe?["reachedHostRoot"] as? Bool, expected)
        }
    }

    func testEnvCwdAndUserWorkLikeDockerRun() throws {
        let result = try Harness.run([
            "run", "--stage", "2", "-e", "GREETING=hi", "--cwd", "/tmp", "--user", "student",
            "--", "/bin/sh", "-c", "echo $GREETING $(pwd) $(id -u) $(id -g) $(id -G) $HOME"
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "hi /tmp 1000 1000 1000 2000 /home/student\n")
        let numeric = try Harness.run([
            "run", "--stage", "1", "--user", "4242:4343", "--", "/bin/sh", "-c", "id -u; id -g"
        ])
        XCTAssertEqual(numeric.stdout, "4242\n4343\n", numeric.stderr)
    }

    func testExitCodesFollowTheShell() throws {
        for stage in ["1", "2"] {
            XCTAssertEqual(try Harness.run(["run", "--stage", stage, "--", "/bin/sh", "-c", "exit 7"]).status, 7)
            XCTAssertEqual(
                try Harness.run(["run", "--stage", stage, "--", "/bin/sh", "-c", "kill -TERM $$"]).status, 143)
            let missing = try Harness.run(["run", "--stage", stage, "--", "no-such-command"])
            XCTAssertEqual(missing.status, 127)
            XCTAssertTrue(
                missing.stderr.contains("command not found in the container's root filesystem"), missing.stderr)
            XCTAssertEqual(try Harness.run(["run", "--stage", stage, "--", "/etc/passwd"]).status, 126)
        }
    }

    func testBadInputFailsWithOneClearLine() throws {
        let noRootfs = try Harness.run(["run", "--rootfs", "no-such-recipe", "--", "true"])
        XCTAssertEqual(noRootfs.status, 125)
        XCTAssertTrue(noRootfs.stderr.contains("no root filesystem recipe named \"no-such-recipe\""), noRootfs.stderr)
        let noDir = try Harness.run(["run", "--rootfs", "/nonexistent/dir", "--", "true"])
        XCTAssertEqual(noDir.status, 125)
        XCTAssertTrue(noDir.stderr.contains("no such directory"), noDir.stderr)
        let badUser = try Harness.run(["run", "--user", "mallory", "--", "true"])
        XCTAssertEqual(badUser.status, 125)
        XCTAssertTrue(badUser.stderr.contains("no user \"mallory\""), badUser.stderr)
        let badStage = try Harness.run(["run", "--stage", "9", "--", "true"])
        XCTAssertNotEqual(badStage.status, 0)
        XCTAssertTrue(badStage.stderr.contains("--stage 9"), badStage.stderr)
        // A negative limit is refused for what it is, not read as a missing value.
        for args in [["--memory", "-1"], ["-m", "-64M"], ["--pids", "-5"]] {
            let negative = try Harness.run(["run", "--stage", "3"] + args + ["--", "true"])
            XCTAssertEqual(negative.status, 125, negative.stderr)
            XCTAssertTrue(
                negative.stderr.contains("\(args[0] == "-m" ? "--memory" : args[0]) \"\(args[1])\""), negative.stderr)
            XCTAssertFalse(negative.stderr.contains("Missing value"), negative.stderr)
        }
        let noCommand = try Harness.run(["run", "--stage", "2"])
        XCTAssertEqual(noCommand.status, 125)
        XCTAssertTrue(noCommand.stderr.contains("no command given"), noCommand.stderr)
    }

    func testExplainRecordsTheSystemCallsMade() throws {
        let result = try Harness.run(["run", "--stage", "2", "--explain", "--", "true"])
        XCTAssertEqual(result.status, 0, result.stderr)
        for call in [
            "host: clone(CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET",
            "init: pivot_root(\".\", \".\")", "init: umount2(\".\", MNT_DETACH)",
            "init: sethostname(\"contlab\"", "\"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC"
        ] {
            XCTAssertTrue(result.stderr.contains(call), "missing \(call) in:\n\(result.stderr)")
        }
        XCTAssertTrue(
            result.stderr.contains("init: mount(\"proc\", \"<rootfs>/proc\""),
            "paths relative to the root: \(result.stderr)")
        // The order the lesson teaches: the clone, mounts made private before the bind, the
        // bind before /proc, then pivot_root and the old root detached, and the chdir last.
        let lines = result.stderr.split(separator: "\n").map(String.init)
        func position(_ prefix: String) -> Int {
            lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) } ?? -1
        }
        let order = [
            "host: clone(", "init: mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE",
            "init: mount(\"<rootfs>\", \"<rootfs>\", NULL, MS_BIND",
            "init: mount(\"proc\"", "init: pivot_root(", "init: umount2(\".\", MNT_DETACH)", "init: chdir(\"/\")"
        ].map(position)
        XCTAssertFalse(order.contains(-1), "every step is recorded: \(order)\n\(result.stderr)")
        XCTAssertEqual(order, order.sorted(), "in the order the lesson tells it:\n\(result.stderr)")
        XCTAssertTrue(
            result.stderr.contains("init: mknod(\"<rootfs>/dev/{null,zero,full,random,urandom,tty}\", …) ×6"),
            result.stderr)
        let full = try Harness.run(["run", "--stage", "2", "--explain=full", "--", "echo", "--explain=full"])
        XCTAssertEqual(full.stdout, "--explain=full\n", "after --, the command's own arguments are left alone")
        let tree = try Harness.busyboxRootfs()
        XCTAssertTrue(
            full.stderr.contains("init: mknod(\"\(tree)/dev/null\", S_IFCHR|0666, makedev(1, 3))"),
            "the whole record: \(full.stderr)")
        let stage1 = try Harness.run(["run", "--stage", "1", "--explain", "--", "true"])
        XCTAssertTrue(stage1.stderr.contains("init: chroot(\"<rootfs>\")"), stage1.stderr)
        XCTAssertFalse(stage1.stderr.contains("pivot_root"), stage1.stderr)
    }
}
