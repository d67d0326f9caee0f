import ContlabCore
import Foundation
import XCTest

/// containerd (Debian's 1.6) runs containers through contlab-runc, as it would through runc:
/// a private containerd on its own socket, a busybox image built locally with umoci, and `ctr`.
final class ContainerdTests: XCTestCase {
    var work = ""
    var daemon: Process?
    var socket: String { work + "/containerd.sock" }
    let namespace = "contlab-test-\(getpid())"

    func tool(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
        where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        XCTFail("\(name) is not installed: apt-get install containerd umoci (make setup installs them)")
        throw XCTSkip("no \(name)")
    }

    @discardableResult
    func exec(_ path: String, _ args: [String], timeout: TimeInterval = 60) throws -> Harness.Result {
        try Harness.execute([path] + args, timeout: timeout)
    }

    override func setUpWithError() throws {
        try Harness.requireRoot()
        let containerd = try tool("containerd")
        work = "/tmp/contlab-ctd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let config = """
            version = 2
            root = "\(work)/root"
            state = "\(work)/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "\(socket)"
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: work + "/config.toml"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: containerd)
        process.arguments = ["--config", work + "/config.toml"]
        process.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: work + "/containerd.log", contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: work + "/containerd.log"))
        try process.run()
        daemon = process
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: socket), "containerd did not start")
        // The runtime under the name containerd's shim calls it by: argv[0] picks the runc CLI.
        try FileManager.default.createSymbolicLink(atPath: work + "/contlab-runc", withDestinationPath: Harness.binary)
    }

    override func tearDown() {
        if let daemon, daemon.isRunning {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        // containerd's cgroupsPath is /<namespace>/<id>: the parent it made stays, empty.
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            rmdir("/sys/fs/cgroup/\(hierarchy)/\(namespace)")
        }
        // The shim's --root for contlab-runc, per namespace; empty once every container is deleted.
        rmdir("/run/containerd/runc/\(namespace)")
        try? FileManager.default.removeItem(atPath: work)
    }

    func ctr(_ args: [String]) throws -> Harness.Result {
        try exec(try tool("ctr"), ["--address", socket, "--namespace", namespace] + args)
    }

    /// An OCI image of the busybox tree, made with umoci and imported: no registry anywhere.
    func importBusyboxImage() throws -> String {
        let umoci = try tool("umoci")
        let layout = work + "/layout", unpacked = work + "/unpacked"
        for args in [
            ["init", "--layout", layout], ["new", "--image", layout + ":latest"],
            ["unpack", "--image", layout + ":latest", unpacked]
        ] {
            let r = try exec(umoci, args)
            XCTAssertEqual(r.status, 0, "umoci \(args): \(r.stderr)")
        }
        let tree = try Harness.busyboxRootfs()
        XCTAssertEqual(try exec("/bin/cp", ["-a", tree + "/.", unpacked + "/rootfs/"]).status, 0)
        XCTAssertEqual(try exec(umoci, ["repack", "--image", layout + ":latest", unpacked]).status, 0)
        XCTAssertEqual(try exec(umoci, ["config", "--image", layout + ":latest", "--config.cmd", "/bin/sh"]).status, 0)
        XCTAssertEqual(try exec("/bin/tar", ["-C", layout, "-cf", work + "/image.tar", "."]).status, 0)
        let imported = try ctr([
            "images", "import", "--base-name", "localhost/contlab-busybox", "--digests=false", work + "/image.tar"
        ])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        return "localhost/contlab-busybox:latest"
    }

    func testContainerdRunsContainersThroughContlab() throws {
        let image = try importBusyboxImage()
        let runtime = work + "/contlab-runc"
        let run = try ctr([
            "run", "--rm", "--runc-binary", runtime, image, "c1", "/bin/sh", "-c",
            "echo hello from containerd; tr '\\0' ' ' < /proc/1/cmdline; exit 7"
        ])
        XCTAssertEqual(run.status, 7, run.stderr)
        XCTAssertTrue(run.stdout.hasPrefix("hello from containerd\n"), run.stdout)
        XCTAssertTrue(run.stdout.contains("/bin/sh -c"), "the command is PID 1: \(run.stdout)")

        // Detached, then killed and deleted through ctr: contlab does each step.
        let started = try ctr(["run", "-d", "--runc-binary", runtime, image, "c2", "/bin/sleep", "300"])
        XCTAssertEqual(started.status, 0, started.stderr)
        XCTAssertTrue(try ctr(["task", "ls"]).stdout.contains("RUNNING"))
        let contlabState = "/run/containerd/runc/\(namespace)/c2/state.json"
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: contlabState),
            "the shim called contlab-runc, whose state is at \(contlabState)")
        XCTAssertEqual(try ctr(["task", "kill", "-s", "SIGKILL", "c2"]).status, 0)
        let deadline = Date().addingTimeInterval(10)
        while !(try ctr(["task", "ls"]).stdout.contains("STOPPED")) && Date() < deadline { usleep(50_000) }
        XCTAssertEqual(try ctr(["task", "delete", "c2"]).status, 0)
        XCTAssertEqual(try ctr(["containers", "delete", "c2"]).status, 0)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: "/run/containerd/runc/\(namespace)/c2"),
            "delete went through contlab")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/\(namespace)/c2"))

        // A command missing from the image: containerd reports contlab's own message.
        let missing = try ctr(["run", "--rm", "--runc-binary", runtime, image, "c3", "/no/such/program"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("/no/such/program"), missing.stderr)
    }
}
