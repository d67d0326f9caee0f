import Foundation
import XCTest

@testable import Exercises

/// B.4, judged from what the driver printed: the lifecycle's statuses and states, the
/// processes found in new namespaces at each step, and the program's report from inside.
final class BuildBundleEvaluationTests: XCTestCase {
    let request = Evaluation.BundleRequest(
        id: "b4-1", bundle: "/tmp/bundle", hostname: "box-1", token: "token-1", cwd: "/work",
        arguments: ["first", "two words"], capabilities: ["CAP_CHOWN", "CAP_KILL"],
        openFiles: (soft: 100, hard: 200), tmpfsSize: "2048k")

    func state(_ status: String, pid: Int? = 42, id: String = "b4-1", bundle: String = "/tmp/bundle") -> String {
        #"{"ociVersion": "1.0.2", "id": "\#(id)", "status": "\#(status)", "bundle": "\#(bundle)""#
            + (pid.map { #", "pid": \#($0)}"# } ?? "}")
    }

    /// A full-marks run, as the reference runtimes leave it; `changes` replaces driver lines.
    func report(
        _ changes: [String: String] = [:], namespaces: [String: Bool] = [:],
        capabilities: [String] = ["CAP_CHOWN", "CAP_KILL"],
        scratch: String = "71 69 0:42 / /scratch rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=2048k,mode=755"
    ) -> ProbeOutput {
        let differs = ["pid": true, "mnt": true, "uts": true, "ipc": true, "net": false, "cgroup": false].merging(
            namespaces
        ) { $1 }
        let kinds = differs.keys.sorted().map {
            #"{"kind": "\#($0)", "id": "\#($0):[7]", "differsFromHost": \#(differs[$0]!)}"#
        }
        let caps = capabilities.map { "\"\($0)\"" }.joined(separator: ", ")
        let inspect =
            #"{"pid": 1, "ppid": 0, "uid": 0, "gid": 0, "groups": [], "hostname": "box-1", "namespaces": [\#(kinds.joined(separator: ", "))], "#
            + #""root": "/", "procMounted": true, "noNewPrivileges": false, "seccomp": "disabled", "cgroups": [], "#
            + #""capabilities": {"effective": [\#(caps)], "permitted": [\#(caps)], "inheritable": [], "bounding": [\#(caps)], "ambient": [], "known": 41}}"#
        let inside = [
            "args=first|two words", "cwd=/work", "env_PATH=/usr/bin:/bin", "env_LAB_TOKEN=token-1", "hostname=box-1",
            "inspect-begin", inspect, "inspect-end", "mountinfo-begin", "68 60 0:40 / / rw - ext4 /dev/vda rw",
            "70 69 0:41 / /proc rw,relatime - proc proc rw", scratch,
            "72 69 254:0 /tmp/share /data rw,relatime - tmpfs tmpfs rw", "mountinfo-end",
            "data=token-1", "nofile=Max open files            100                  200                  files"
        ]
        var driver: [String: String] = [
            "create_status": "0", "create_said": "", "create_started": "no", "create_procs": "42",
            "state_created": state("created"),
            "start_status": "0", "start_said": "", "started": "yes", "running_procs": "42",
            "state_running": state("running"),
            "back": "token-1", "refuse_create": "1", "refuse_start": "1", "refuse_unknown": "1",
            "refused_state": state("running"),
            "refused_procs": "42", "kill_status": "0", "trapped": "yes", "stopped_procs": "",
            "state_stopped": state("stopped", pid: 0),
            "delete_status": "0", "gone_state": "1", "gone_left": "", "left_procs": "", "second_status": "0 0",
            "refuse_delete": "1",
            "second_state": state("running", pid: 50, id: "b4-1-2"), "second_procs": "50", "outside": "grader",
            "built": "0"
        ]
        driver.merge(changes) { $1 }
        return ProbeOutput.parse(
            (inside + driver.keys.sorted().map { "\($0)=\(driver[$0]!)" }).joined(separator: "\n") + "\n")
    }

    func failing(_ probe: ProbeOutput) -> [String] {
        Evaluation.buildBundle(probe: probe, request: request).filter { !$0.passed }.map(\.check)
    }

    func testAFullRunPassesEveryCheck() {
        let outcomes = Evaluation.buildBundle(probe: report(), request: request)
        XCTAssertEqual(outcomes.map(\.check), Evaluation.bundleChecks)
        XCTAssertEqual(outcomes.filter { !$0.passed }.map(\.check), [], "\(outcomes.filter { !$0.passed })")
    }

    /// The wrong runtimes in Tests/ExerciseSolutions/B.4, as the driver sees them: each fails
    /// the one check it should.
    func testTheWrongRuntimesFailTheirCheck() {
        // The program ran at create: its marker was there before start.
        let early = report(["create_started": "yes"])
        XCTAssertEqual(failing(early), ["create-waits"])
        XCTAssertTrue(Evaluation.buildBundle(probe: early, request: request)[0].seen.contains("already run"))
        // state without pid.
        let noPID = Evaluation.buildBundle(
            probe: report(["state_created": state("created", pid: nil), "state_running": state("running", pid: nil)]),
            request: request)
        XCTAssertEqual(noPID.filter { !$0.passed }.map(\.check), ["state"])
        XCTAssertTrue(noPID[2].seen.contains("no pid while created"), noPID[2].seen)
        // delete of a running container accepted, forgetting it.
        XCTAssertEqual(failing(report(["refuse_delete": "0", "second_state": ""])), ["refusals"])
    }

    func testStateIsCheckedAtEachStep() {
        XCTAssertEqual(
            failing(report(["state_created": state("created", pid: 41)])), ["state"],
            "a pid that is not the container's")
        XCTAssertEqual(failing(report(["state_running": state("created")])), ["state"], "still created after start")
        XCTAssertEqual(failing(report(["state_stopped": state("running")])), ["state"], "a zombie taken for running")
        XCTAssertEqual(
            failing(report(["state_created": state("created", bundle: "bundle")])), ["state"], "a relative bundle")
        XCTAssertEqual(failing(report(["state_running": "runtime: state is not written yet"])), ["state"])
        XCTAssertEqual(
            failing(
                report([
                    "state_created": state("created").replacingOccurrences(of: "\"ociVersion\": \"1.0.2\", ", with: "")
                ])),
            ["state"], "no ociVersion")
    }

    func testWhatTheProgramSawIsComparedWithConfigJSON() {
        XCTAssertEqual(failing(report(["args": "first|two"])), ["process"], "an argument split at its space")
        XCTAssertEqual(failing(report(["env_OUTSIDE_ONLY": "1"])), ["process"], "the runtime's environment leaked in")
        XCTAssertEqual(failing(report(["cwd": "/"])), ["process"])
        XCTAssertEqual(failing(report(["hostname": "grader"])), ["hostname"])
        XCTAssertEqual(failing(report(namespaces: ["net": true])), ["namespaces"], "a network namespace nobody listed")
        XCTAssertEqual(failing(report(namespaces: ["ipc": false])), ["namespaces"])
        XCTAssertEqual(
            failing(report(scratch: "71 69 0:42 / /scratch rw,relatime - tmpfs tmpfs rw,size=2048k")), ["mounts"],
            "nosuid as data")
        XCTAssertEqual(
            failing(report(scratch: "71 69 0:42 / /scratch rw,nosuid,nodev - tmpfs tmpfs rw,size=1000k")), ["mounts"],
            "no size")
        XCTAssertEqual(failing(report(["back": ""])), ["mounts"], "a bind that does not reach the runtime's folder")
        XCTAssertEqual(failing(report(["nofile": "Max open files 1024 1048576 files"])), ["rlimits"])
        XCTAssertEqual(failing(report(capabilities: ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"])), ["capabilities"])
    }

    func testKillDeleteAndRefusals() {
        XCTAssertEqual(
            failing(report(["trapped": "no"])), ["kill", "delete"], "delete is judged on a container kill stopped")
        XCTAssertEqual(failing(report(["gone_state": "0"])), ["delete"])
        XCTAssertEqual(failing(report(["gone_left": "b4-1 "])), ["delete"])
        XCTAssertEqual(failing(report(["refuse_create": "0"])), ["refusals"])
        XCTAssertEqual(failing(report(["refuse_unknown": "0"])), ["refusals"])
        XCTAssertEqual(
            failing(report(["refused_procs": ""])), ["refusals"], "a refused create that killed the running container")
    }

    /// The skeleton: every command says it is not written and exits 1; nothing passes, the
    /// refusals included (a runtime that refuses everything refuses nothing of a container).
    func testTheUntouchedSkeletonPassesNothing() {
        let said = "runtime: create is not written yet"
        let skeleton = ProbeOutput.parse(
            [
                "create_status=1", "create_said=\(said)", "create_started=no", "create_procs=", "state_created=",
                "start_status=1",
                "started=no", "running_procs=", "state_running=", "refuse_create=1", "refuse_start=1",
                "refuse_unknown=1",
                "kill_status=1", "trapped=no", "delete_status=1", "gone_state=1", "second_status=1 1",
                "refuse_delete=1",
                "outside=grader", "built=0"
            ].joined(separator: "\n"))
        let outcomes = Evaluation.buildBundle(probe: skeleton, request: request)
        XCTAssertEqual(outcomes.filter(\.passed).map(\.check), [])
        XCTAssertTrue(outcomes[0].seen.contains("not written yet"), outcomes[0].seen)
        let broken = Evaluation.buildBundle(
            probe: ProbeOutput.parse("built=1\nbuildlog=runtime.c:9: error: x\n"), request: request)
        XCTAssertTrue(broken.allSatisfy { !$0.passed && $0.seen.contains("error: x") })
    }
}
