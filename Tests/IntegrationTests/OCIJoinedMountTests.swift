import ContlabCore
import Foundation
import XCTest

/// A container that joins an existing mount namespace (linux.namespaces mount with a path) where
/// the runtime's own files are not: its exec fifo and the caller's console socket live on a
/// tmpfs mounted on the host after that namespace was made. The init reaches them through
/// descriptors the runtime opened on the host, as runc's init does, not by their host paths.
extension OCIRuntimeTests {
    func testAJoinedMountNamespaceNeedsNoPathOfTheHost() throws {
        let runc = try requireRunc()
        // work becomes a private mount: what is mounted under it later stays on the host's side.
        XCTAssertEqual(try Harness.execute(["/bin/mount", "--bind", work, work]).status, 0)
        defer { _ = try? Harness.execute(["/bin/umount", "--lazy", work]) }
        XCTAssertEqual(try Harness.execute(["/bin/mount", "--make-private", work]).status, 0)
        // A mount namespace per runtime, copies of the host's made now, each kept by a bind mount
        // of its file: the container pivots its root in the one it joins, which keeps that root.
        let keepers = ["contlab-runc", "runc"].map { work + "/mnt-\($0).ns" }
        defer { for keeper in keepers { _ = try? Harness.execute(["/bin/umount", keeper]) } }
        for keeper in keepers {
            FileManager.default.createFile(atPath: keeper, contents: nil)
            let made = try Harness.execute([
                "/usr/bin/unshare", "--mount=" + keeper, "--propagation", "private",
                "/bin/true"
            ])
            XCTAssertEqual(made.status, 0, made.stderr)
        }
        // Then the runtimes' state folders and the console sockets: on a tmpfs those namespaces lack.
        let hostOnly = work + "/host-only"
        try FileManager.default.createDirectory(atPath: hostOnly, withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.execute(["/bin/mount", "-t", "tmpfs", "tmpfs", hostOnly]).status, 0)
        defer { _ = try? Harness.execute(["/bin/umount", "--lazy", hostOnly]) }
        let out = work + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        let runtimes: [(String, ([String]) throws -> Harness.Result)] = [
            ("contlab-runc", { try Harness.run(["runc", "--root", hostOnly + "/contlab-state"] + $0) }),
            ("runc", { try Harness.execute([runc, "--root", hostOnly + "/runc-state"] + $0) })
        ]
        for ((name, call), keeper) in zip(runtimes, keepers) {
            var st = stat()
            XCTAssertEqual(stat(keeper, &st), 0)
            let joinedID = "mnt:[\(st.st_ino)]"
            let script = "readlink /proc/self/ns/mnt > /out/\(name); tty >> /out/\(name)"
            let dir = try bundle("joinmnt-\(name)", args: ["sh", "-c", script]) { config in
                var process = config["process"] as! [String: Any]
                process["terminal"] = true
                config["process"] = process
                config["mounts"] =
                    (config["mounts"] as! [[String: Any]])
                    + [["destination": "/out", "type": "bind", "source": out, "options": ["bind"]]]
                self.setNamespaces(&config) {
                    ($0["type"] as? String) == "mount" ? ["type": "mount", "path": keeper] : $0
                }
            }
            let console = try ConsoleReceiver(socket: hostOnly + "/console-\(name).sock")
            let id = "joinmnt-\(name)\(Self.tag)"
            let created = try call(["create", "--bundle", dir, "--console-socket", console.socket, id])
            XCTAssertEqual(created.status, 0, "\(name): \(created.stderr)")
            defer { _ = try? call(["delete", "--force", id]) }
            XCTAssertEqual(inspectJSON(try call(["state", id]).stdout)["status"] as? String, "created", name)
            let started = try call(["start", id])
            XCTAssertEqual(started.status, 0, "\(name): \(started.stderr)")
            console.wait()
            let lines = (Sys.readText(out + "/" + name) ?? "").split(separator: "\n").map(String.init)
            XCTAssertEqual(
                lines, [joinedID, "/dev/pts/0"],
                "\(name): ran in the joined mount namespace, on the pty it sent")
        }
    }
}

extension OCIRuntimeTests {
    /// The root is built in the joined namespace at root.path as it is there: a root on a mount
    /// that namespace lacks fails create, and contlab-runc names the path and the entry.
    func testARootAJoinedMountNamespaceLacksIsNamed() throws {
        let runc = try requireRunc()
        XCTAssertEqual(try Harness.execute(["/bin/mount", "--bind", work, work]).status, 0)
        defer { _ = try? Harness.execute(["/bin/umount", "--lazy", work]) }
        XCTAssertEqual(try Harness.execute(["/bin/mount", "--make-private", work]).status, 0)
        let keeper = work + "/mnt.ns"
        FileManager.default.createFile(atPath: keeper, contents: nil)
        let made = try Harness.execute([
            "/usr/bin/unshare", "--mount=" + keeper, "--propagation", "private",
            "/bin/true"
        ])
        XCTAssertEqual(made.status, 0, made.stderr)
        defer { _ = try? Harness.execute(["/bin/umount", keeper]) }
        // The busybox tree, bound at a folder of a tmpfs only the host has.
        let hostOnly = work + "/host-only", hostOnlyRoot = work + "/host-only/root"
        try FileManager.default.createDirectory(atPath: hostOnly, withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.execute(["/bin/mount", "-t", "tmpfs", "tmpfs", hostOnly]).status, 0)
        defer { _ = try? Harness.execute(["/bin/umount", "--lazy", "--recursive", hostOnly]) }
        try FileManager.default.createDirectory(atPath: hostOnlyRoot, withIntermediateDirectories: true)
        let tree = try Harness.busyboxRootfs()
        XCTAssertEqual(try Harness.execute(["/bin/mount", "--bind", tree, hostOnlyRoot]).status, 0)
        let runtimes: [(String, ([String]) throws -> Harness.Result)] = [
            ("contlab-runc", { try self.runtime($0) }), ("runc", { try self.runRunc(runc, $0) })
        ]
        for (name, call) in runtimes {
            let dir = try bundle("lackingroot-\(name)", args: ["true"]) { config in
                config["root"] = ["path": hostOnlyRoot, "readonly": true]
                self.setNamespaces(&config) {
                    ($0["type"] as? String) == "mount" ? ["type": "mount", "path": keeper] : $0
                }
            }
            let id = "lackingroot-\(name)\(Self.tag)"
            let created = try call(["create", "--bundle", dir, id])
            defer { _ = try? call(["delete", "--force", id]) }
            XCTAssertNotEqual(created.status, 0, name)
            if name == "contlab-runc" {
                XCTAssertTrue(
                    created.stderr.contains(
                        "root.path \(hostOnlyRoot) is no directory in the mount namespace"
                            + " the container joins (linux.namespaces["), created.stderr)
                XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/" + id), "no state is left")
            }
        }
    }
}

/// The far end of a --console-socket, as containerd's shim holds it: it takes the pty master
/// sent over SCM_RIGHTS and reads the terminal until the container's process closes it.
struct ConsoleReceiver {
    let socket: String
    let process: Process

    init(socket: String) throws {
        self.socket = socket
        let receiver = """
            import os, socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(sys.argv[1]); s.listen(1)
            conn, _ = s.accept()
            _, fds, _, _ = socket.recv_fds(conn, 1, 1)
            while True:
                try:
                    if not os.read(fds[0], 4096):
                        break
                except OSError:
                    break
            """
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", receiver, socket]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(10_000) }
    }

    /// Until the terminal closes (the process ended), at most 10 s.
    func wait() {
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
