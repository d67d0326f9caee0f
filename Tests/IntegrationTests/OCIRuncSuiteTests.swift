import Cgroups
import ContlabCore
import Foundation
import XCTest

/// Where runc 1.1.5's own integration suite (scripts/runc-bats.sh) found contlab-runc acting
/// otherwise than runc: each behaviour checked under both runtimes, from the host or inside.
extension OCIRuntimeTests {
    /// A cgroup made and frozen beforehand is refused at create, and left as it was: a process
    /// put in it would stop before it could report, and the runtime would wait for it forever.
    func testAPreFrozenCgroupIsRefusedAndLeftInPlace() throws {
        let hierarchy = CgroupHierarchy.current()
        guard let freezer = hierarchy.placement(of: "freezer") else {
            XCTFail("this host has no freezer (v1) nor cgroup v2: the test needs one")
            return
        }
        let parent = "contlab-frozen\(Self.tag)"
        defer { removeCgroupParents(parent) }
        for rt in try runtimesWithState() {
            let path = "\(parent)/\(rt.name)"
            let directory = freezer.mountPoint + "/" + path
            XCTAssertEqual(mkdir(freezer.mountPoint + "/" + parent, 0o755) == 0 || errno == EEXIST, true)
            XCTAssertEqual(mkdir(directory, 0o755), 0, "mkdir \(directory)")
            let (file, frozen, thawed) =
                freezer.version == 1 ? ("freezer.state", "FROZEN", "THAWED") : ("cgroup.freeze", "1", "0")
            try Sys.writeFile(directory + "/" + file, frozen)
            defer {
                try? Sys.writeFile(directory + "/" + file, thawed)
                rmdir(directory)
            }
            let dir = try bundle("frozen-\(rt.name)", args: ["true"]) { config in
                var linux = config["linux"] as! [String: Any]
                linux["cgroupsPath"] = "/" + path
                config["linux"] = linux
            }
            let id = "frozen-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            let created = try rt.call(["create", "--bundle", dir, id])
            XCTAssertEqual(created.status, 1, "\(rt.name): create must fail, not wait: \(created.stderr)")
            XCTAssertTrue(created.stderr.contains("cgroup unexpectedly frozen"), "\(rt.name): \(created.stderr)")
            XCTAssertTrue(Sys.isDirectory(directory), "\(rt.name): the cgroup made beforehand is still there")
        }
    }

    /// exec into a paused container is refused in runc's words and with its code; with
    /// --ignore-paused it goes ahead and the process runs once the container is resumed.
    func testExecIntoAPausedContainerWaitsForResumeOnlyWhenAsked() throws {
        for rt in try runtimesWithState() {
            let id = "paused-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            _ = try startSleeper(rt, id: id)
            XCTAssertEqual(try rt.call(["pause", id]).status, 0, rt.name)
            let refused = try rt.call(["exec", id, "echo", "ok"])
            XCTAssertEqual(refused.status, 255, rt.name)
            XCTAssertTrue(refused.stderr.contains("cannot exec in a paused container"), "\(rt.name): \(refused.stderr)")
            let resumer = Thread {
                sleep(2)
                _ = try? rt.call(["resume", id])
            }
            let asked = Date()
            resumer.start()
            let ran = try rt.call(["exec", "--ignore-paused", id, "echo", "ok"])
            XCTAssertEqual(ran.status, 0, "\(rt.name): \(ran.stderr)")
            XCTAssertEqual(ran.stdout, "ok\n", rt.name)
            XCTAssertGreaterThan(Date().timeIntervalSince(asked), 1.5, "\(rt.name): the process ran only after resume")
            XCTAssertEqual(inspectJSON(try rt.call(["state", id]).stdout)["status"] as? String, "running", rt.name)
        }
    }

    /// linux.resources.unified names cgroup v2 files: where the controller is on v1 (a v1 or
    /// hybrid host) the configuration is invalid, as runc says; where it is on v2 the file is
    /// written, after memory.limit, so it wins.
    func testUnifiedResourcesAreV2FilesOnly() throws {
        let hierarchy = CgroupHierarchy.current()
        for rt in try runtimesWithState() {
            let id = "unified-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            let dir = try bundle("unified-\(rt.name)", args: ["cat", "/sys/fs/cgroup/memory.max"]) { config in
                var linux = config["linux"] as! [String: Any]
                linux["resources"] = ["memory": ["limit": 64 << 20], "unified": ["memory.max": "50331648"]]
                config["linux"] = linux
            }
            let ran = try rt.call(["run", "--bundle", dir, id])
            if hierarchy.placement(of: "memory")?.version == 2 {
                XCTAssertEqual(ran.status, 0, "\(rt.name): \(ran.stderr)")
                XCTAssertEqual(ran.stdout, "50331648\n", "\(rt.name): unified's value, written last")
            } else {
                XCTAssertNotEqual(ran.status, 0, rt.name)
                XCTAssertTrue(ran.stderr.contains("invalid configuration"), "\(rt.name): \(ran.stderr)")
            }
        }
    }

    /// process.cwd is entered with the runtime's rights first, then as the user: an exec as root
    /// (without CAP_DAC_OVERRIDE) into a directory only uid 42 may enter works, and so does a
    /// uid-42 process whose cwd only root may enter.
    func testACwdTheUserCannotEnterIsEnteredBeforeTheUserChanges() throws {
        let home = work + "/home42"
        let closed = work + "/closed"
        for (path, owner) in [(home, uid_t(42)), (closed, uid_t(0))] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            XCTAssertEqual(chown(path, owner, gid_t(owner)), 0)
            XCTAssertEqual(chmod(path, 0o700), 0)
        }
        XCTAssertEqual(chmod(work, 0o755), 0)
        func asUser42(cwd: String) -> (inout [String: Any]) -> Void {
            { config in
                var process = config["process"] as! [String: Any]
                process["user"] = ["uid": 42, "gid": 42]
                process["cwd"] = cwd
                config["process"] = process
                var mounts = config["mounts"] as! [[String: Any]]
                // Onto directories the shared busybox tree has, so that neither runtime adds one.
                mounts.append(["destination": "/opt", "type": "bind", "source": home, "options": ["bind"]])
                mounts.append(["destination": "/home/student", "type": "bind", "source": closed, "options": ["bind"]])
                config["mounts"] = mounts
            }
        }
        for rt in try runtimesWithState() {
            let id = "cwd-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            let pid = try startSleeper(rt, id: id, edit: asUser42(cwd: "/opt"))
            XCTAssertEqual(Sys.readText("/proc/\(pid)/status")?.contains("Uid:\t42\t"), true, rt.name)
            let exec = try rt.call(["exec", "--user", "0", id, "sh", "-c", "pwd; id -u"])
            XCTAssertEqual(exec.status, 0, "\(rt.name): \(exec.stderr)")
            XCTAssertEqual(exec.stdout, "/opt\n0\n", rt.name)
            let dir = try bundle("cwd-closed-\(rt.name)", args: ["pwd"], edit: asUser42(cwd: "/home/student"))
            let ran = try rt.call(["run", "--bundle", dir, "closed-\(rt.name)\(Self.tag)"])
            XCTAssertEqual(ran.status, 0, "\(rt.name): \(ran.stderr)")
            XCTAssertEqual(ran.stdout, "/home/student\n", rt.name)
        }
    }

    /// spec writes the namespaces runc 1.1's spec writes on this host (a cgroup namespace only
    /// where every controller is v2), so a bundle that adds one, as runc's tests do, runs.
    func testSpecListsACgroupNamespaceOnlyWhereRuncsDoes() throws {
        let runc = try requireRunc()
        var lists: [String: [String]] = [:]
        for (name, call) in [("contlab", { try self.runtime($0) }), ("runc", { try self.runRunc(runc, $0) })]
            as [(String, ([String]) throws -> Harness.Result)]
        {
            let dir = work + "/spec-" + name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            XCTAssertEqual(try call(["spec", "--bundle", dir]).status, 0, name)
            let config =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json")))
                as? [String: Any]
            let namespaces = (config?["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]] ?? []
            lists[name] = namespaces.compactMap { $0["type"] as? String }
        }
        XCTAssertEqual(lists["contlab"], lists["runc"])
        XCTAssertEqual(lists["contlab"]?.contains("cgroup"), CgroupHierarchy.current().mode == "v2")
        for rt in try runtimesWithState() where lists["contlab"]?.contains("cgroup") == false {
            let id = "cgns-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            let dir = try bundle("cgns-\(rt.name)", args: ["readlink", "/proc/self/ns/cgroup"]) { config in
                var linux = config["linux"] as! [String: Any]
                var namespaces = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "cgroup" }
                namespaces.append(["type": "cgroup"])
                linux["namespaces"] = namespaces
                config["linux"] = linux
            }
            let ran = try rt.call(["run", "--bundle", dir, id])
            XCTAssertEqual(ran.status, 0, "\(rt.name): \(ran.stderr)")
            XCTAssertNotEqual(
                ran.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/cgroup")) ?? "", rt.name)
        }
    }

    /// ps -f and list -f are --format, as in runc (delete's -f stays --force).
    func testDashFIsFormatForPsAndList() throws {
        for rt in try runtimesWithState() {
            let id = "psf-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "-f", id]) }
            let pid = try startSleeper(rt, id: id)
            let ps = try rt.call(["ps", "-f", "json", id])
            XCTAssertEqual(ps.status, 0, "\(rt.name): \(ps.stderr)")
            XCTAssertEqual(ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[\(pid)]", rt.name)
            let list = try rt.call(["list", "-f", "json"])
            XCTAssertEqual(
                ((try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8))) as? [[String: Any]])?.first?["id"]
                    as? String,
                id, rt.name)
        }
    }

    /// `args` run by the runtime under script(1), which gives it a terminal of its own: runc
    /// opens /dev/tty for a foreground terminal, and a test has no controlling terminal.
    func withTerminal(_ rt: Runtime, _ args: [String]) throws -> Harness.Result {
        let runtime = rt.name == "runc" ? [try requireRunc()] : [Harness.binary, "runc"]
        let words = (runtime + ["--root", rt.stateRoot] + args).map {
            "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        return try Harness.execute([
            "/usr/bin/script", "-qefc", words.joined(separator: " ") + " </dev/null", "/dev/null"
        ])
    }

    /// A foreground run or exec of a process with process.terminal and no --console-socket gets
    /// a terminal of its own, relayed to the runtime's standard streams, as runc gives it: all
    /// three streams are the pty, and what it prints arrives (CRs, which terminals add, aside).
    func testATerminalWithoutAConsoleSocketIsTheRuntimesOwn() throws {
        let script = "for f in /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; do readlink $f; done; tty"
        for rt in try runtimesWithState() {
            let id = "tty-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            let dir = try bundle("tty-\(rt.name)", args: ["sh", "-c", script]) { config in
                var process = config["process"] as! [String: Any]
                process["terminal"] = true
                config["process"] = process
            }
            let ran = try withTerminal(rt, ["run", "--bundle", dir, id])
            XCTAssertEqual(ran.status, 0, "\(rt.name): \(ran.stderr)")
            let lines = ran.stdout.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 4, "\(rt.name): \(ran.stdout)")
            XCTAssertEqual(Set(lines).count, 1, "\(rt.name): one pty for the three streams: \(lines)")
            XCTAssertTrue(lines.first?.hasPrefix("/dev/pts/") == true, "\(rt.name): \(lines)")
            let sleeper = "sleeper-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", sleeper]) }
            _ = try startSleeper(rt, id: sleeper)
            let exec = try withTerminal(rt, ["exec", "-t", sleeper, "sh", "-c", script])
            XCTAssertEqual(exec.status, 0, "\(rt.name): \(exec.stderr)")
            let execLines = exec.stdout.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map(String.init)
            XCTAssertEqual(execLines.count, 4, "\(rt.name): \(exec.stdout)")
            XCTAssertEqual(Set(execLines).count, 1, "\(rt.name): \(execLines)")
            XCTAssertTrue(execLines.first?.hasPrefix("/dev/pts/") == true, "\(rt.name): \(execLines)")
        }
    }

    /// exec --additional-gids adds groups to the process's, and --process reads a pipe too
    /// (the shell's `-p <(...)`).
    func testExecAdditionalGidsAndAProcessFromAPipe() throws {
        for rt in try runtimesWithState() {
            let id = "gids-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            _ = try startSleeper(rt, id: id)
            let groups = try rt.call([
                "exec", "--user", "1000:1000", "--additional-gids", "100", "--additional-gids", "65534",
                id, "id", "-G"
            ])
            XCTAssertEqual(groups.status, 0, "\(rt.name): \(groups.stderr)")
            XCTAssertEqual(
                groups.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.sorted(),
                ["100", "1000", "65534"], rt.name)
            let process =
                #"{"args": ["sh", "-c", "echo from-a-pipe"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin:/usr/bin"]}"#
            // bash's process substitution: the file is /dev/fd/63, a pipe.
            let runtime = rt.name == "runc" ? [try requireRunc()] : [Harness.binary, "runc"]
            let piped = try Harness.execute(
                ["/bin/bash", "-c", #""$@" exec -p <(printf '%s' "$PROCESS") "$ID""#, "bash"]
                    + runtime + ["--root", rt.stateRoot], environment: ["PROCESS": process, "ID": id])
            XCTAssertEqual(piped.status, 0, "\(rt.name): \(piped.stderr)")
            XCTAssertEqual(piped.stdout, "from-a-pipe\n", rt.name)
        }
    }

    /// A console socket in a folder only root may enter reaches a container in a user namespace:
    /// the runtime connects to it with its own rights and hands the init the connection, as runc
    /// does, where the init, a mapped uid, was refused (EACCES).
    func testAConsoleSocketInAPrivateFolderReachesAUserNamespace() throws {
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
        for rt in try runtimesWithState() {
            let folder = work + "/private-\(rt.name)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            XCTAssertEqual(chmod(folder, 0o700), 0)
            let socketPath = folder + "/console.sock"
            let python = Process()
            python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            python.arguments = ["python3", "-c", receiver, socketPath]
            let out = Pipe()
            python.standardOutput = out
            try python.run()
            let deadline = Date().addingTimeInterval(10)
            while !FileManager.default.fileExists(atPath: socketPath) && Date() < deadline { usleep(10_000) }
            let dir = try bundle("private-\(rt.name)", args: ["sh", "-c", "id -u; cat /proc/self/uid_map"]) { config in
                var process = config["process"] as! [String: Any]
                process["terminal"] = true
                config["process"] = process
                var linux = config["linux"] as! [String: Any]
                var namespaces = linux["namespaces"] as! [[String: Any]]
                namespaces.append(["type": "user"])
                linux["namespaces"] = namespaces
                linux["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65_536]]
                linux["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65_536]]
                config["linux"] = linux
            }
            let id = "private-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            let ran = try rt.call(["run", "-d", "--console-socket", socketPath, "--bundle", dir, id])
            XCTAssertEqual(ran.status, 0, "\(rt.name): \(ran.stderr)")
            if ran.status != 0 { python.terminate() }
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            python.waitUntilExit()
            let lines = text.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map {
                $0.split(separator: " ").joined(separator: " ")
            }
            XCTAssertEqual(
                lines, ["0", "0 100000 65536"], "\(rt.name): root inside, mapped outside, on the socket's pty")
        }
    }
}
