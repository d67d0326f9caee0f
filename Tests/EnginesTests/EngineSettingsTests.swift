import Foundation
import XCTest
@testable import Engines

final class EngineSettingsTests: XCTestCase {
    let directories = EngineDirectories(data: "/var/lib/contlab")

    func testTheLabsDockerdIsPrivateAndRegistersContlab() {
        let docker = directories.docker
        let argv = docker.daemonArguments(runtimePath: "/opt/contlab/bin/contlab-runc")
        XCTAssertEqual(argv.first, "/usr/sbin/dockerd")
        func value(_ flag: String) -> String? { argv.firstIndex(of: flag).map { argv[$0 + 1] } }
        XCTAssertEqual(value("--host"), "unix:///var/lib/contlab/engines/docker/docker.sock")
        XCTAssertEqual(value("--data-root"), "/var/lib/contlab/engines/docker/data")
        XCTAssertEqual(value("--exec-root"), "/var/lib/contlab/engines/docker/exec")
        XCTAssertEqual(value("--pidfile"), "/var/lib/contlab/engines/docker/dockerd.pid")
        XCTAssertEqual(value("--storage-driver"), "vfs")
        XCTAssertEqual(value("--config-file"), "/var/lib/contlab/engines/docker/daemon.json")
        let config =
            try? JSONSerialization.jsonObject(
                with: Data(docker.daemonConfig(runtimePath: "/opt/contlab/bin/contlab-runc").utf8)) as? [String: Any]
        let contlab = (config?["runtimes"] as? [String: Any])?["contlab"] as? [String: Any]
        XCTAssertEqual(contlab?["path"] as? String, "/opt/contlab/bin/contlab-runc")
        XCTAssertEqual(
            contlab?["runtimeArgs"] as? [String],
            ["--journal", "/var/lib/contlab/engines/docker/contlab-runc-calls.log"])
        let withCrun =
            try? JSONSerialization.jsonObject(
                with: Data(docker.daemonConfig(runtimePath: "/c", crunPath: "/usr/bin/crun").utf8)) as? [String: Any]
        XCTAssertEqual(
            ((withCrun?["runtimes"] as? [String: Any])?["crun"] as? [String: String])?["path"], "/usr/bin/crun")
        XCTAssertNil(value("--seccomp-profile"), "Docker's default seccomp profile applies")
        for flag in ["--iptables=false", "--ip-masq=false", "--bridge=none"] {
            XCTAssertTrue(argv.contains(flag), flag)
        }
        // containerd's socket lives below the exec root, and unix socket paths must fit in 108 bytes.
        XCTAssertLessThan((docker.execRoot + "/containerd/containerd-debug.sock").utf8.count, 108)
        XCTAssertEqual(docker.clientArguments(["ps"]), ["/usr/bin/docker", "--host", docker.host, "ps"])
    }

    func testDaemonJSONIsJSONWithTheRuntimesEntry() throws {
        let text = DockerLab.daemonJSON(runtimePath: "/x/contlab-runc")
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String: [String: String]]]
        XCTAssertEqual(object?["runtimes"]?["contlab"]?["path"], "/x/contlab-runc")
    }

    func testPodmanKeepsEverythingUnderTheLabsDirectory() {
        let argv = directories.podman.globalArguments(runtimePath: "/x/contlab-runc")
        func value(_ flag: String) -> String? { argv.firstIndex(of: flag).map { argv[$0 + 1] } }
        XCTAssertEqual(value("--runtime"), "/x/contlab-runc")
        XCTAssertEqual(value("--runtime-flag"), "journal=/var/lib/contlab/engines/podman/contlab-runc-calls.log")
        for flag in ["--root", "--runroot", "--tmpdir"] {
            XCTAssertEqual(value(flag)?.hasPrefix("/var/lib/contlab/engines/podman/"), true, flag)
        }
        XCTAssertEqual(value("--cgroup-manager"), "cgroupfs")
        XCTAssertEqual(value("--events-backend"), "file")
        XCTAssertTrue(PodmanLab.runArguments.contains("nofile=1024:20000"))
        XCTAssertEqual(
            PodmanLab.containersConf(runtimePath: "/x/contlab-runc"),
            "[engine.runtimes]\ncontlab = [\"/x/contlab-runc\"]")
    }
}

final class JournalViewTests: XCTestCase {
    func testTheJournalReadsShortOnAScreen() {
        let id = String(repeating: "ab", count: 32)
        let text =
            "2026-11-24T13:46:58Z contlab-runc --journal /lab/calls.log --root /lab/exec/runtime-runc/contlab "
            + "start \(id)\n"
            + "2026-11-24T13:46:58Z   init: pivot_root(\".\", \".\")\n"
        XCTAssertEqual(
            JournalView.condense(text, lab: "/lab"),
            "contlab-runc --root $LAB/exec/runtime-runc/contlab start abababababab…\n  init: pivot_root(\".\", \".\")\n"
        )
    }
}
