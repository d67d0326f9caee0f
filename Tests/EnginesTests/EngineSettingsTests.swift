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
        XCTAssertEqual(value("--add-runtime"), "contlab=/opt/contlab/bin/contlab-runc")
        XCTAssertEqual(value("--seccomp-profile"), "/var/lib/contlab/engines/docker/seccomp-allow-all.json")
        XCTAssertEqual(try? JSONSerialization.jsonObject(with: Data(DockerLab.seccompProfileText.utf8)) as? [String: String],
                       ["defaultAction": "SCMP_ACT_ALLOW"])
        for flag in ["--iptables=false", "--ip-masq=false", "--bridge=none"] { XCTAssertTrue(argv.contains(flag), flag) }
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
        for flag in ["--root", "--runroot", "--tmpdir"] {
            XCTAssertEqual(value(flag)?.hasPrefix("/var/lib/contlab/engines/podman/"), true, flag)
        }
        XCTAssertEqual(value("--cgroup-manager"), "cgroupfs")
        XCTAssertEqual(value("--events-backend"), "file")
        XCTAssertTrue(PodmanLab.runArguments.contains("nofile=1024:20000"))
        XCTAssertEqual(PodmanLab.containersConf(runtimePath: "/x/contlab-runc"), "[engine.runtimes]\ncontlab = [\"/x/contlab-runc\"]")
    }
}
