import CLinux
import ContlabCore
import Foundation
import XCTest

extension OCIRuntimeTests {
    /// A process that traps TERM and exits, in a PID namespace that still holds an exec'd
    /// process whose parent outside has not reaped it (this test, as the subreaper that
    /// inherits it, stands for a host PID 1 or a shim that reaps late): the namespace's PID 1
    /// then waits in exit, sleeping, until that reaping. It has stopped: state says so, and
    /// delete removes it with its cgroup. (runc 1.1.5 reads it running until the reaping.)
    func testAProcessThatExitsOnTERMReadsStoppedAndDeletes() throws {
        XCTAssertEqual(cl_prctl(Int32(CL_PR_SET_CHILD_SUBREAPER), 1, 0, 0, 0), 0)
        defer { _ = cl_prctl(Int32(CL_PR_SET_CHILD_SUBREAPER), 0, 0, 0, 0) }
        let dir = try bundle("trap", args: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"])
        let id = "trap\(Self.tag)"
        let started = try runtime(["run", "--detach", "--bundle", dir, id])
        XCTAssertEqual(started.status, 0, started.stderr)
        let pid = Int32(inspectJSON(try runtime(["state", id]).stdout)["pid"] as? Int ?? 0)
        XCTAssertEqual(try runtime(["exec", "--detach", id, "sleep", "1000"]).status, 0)
        let listed = inspectJSONArray(try runtime(["ps", "--format", "json", id]).stdout)
        guard let straggler = listed.first(where: { $0 != pid }) else {
            return XCTFail("no exec'd process in \(listed)")
        }
        defer {
            var ignored: Int32 = 0
            Glibc.kill(straggler, SIGKILL)
            waitpid(straggler, &ignored, 0)
        }
        XCTAssertEqual(try runtime(["kill", id, "TERM"]).status, 0)
        let deadline = Date().addingTimeInterval(5)
        var status = ""
        repeat {
            usleep(50_000)
            status = inspectJSON(try runtime(["state", id]).stdout)["status"] as? String ?? ""
        } while status != "stopped" && Date() < deadline
        XCTAssertEqual(status, "stopped")
        let state = Sys.readText("/proc/\(pid)/stat").map {
            $0[$0.index(after: $0.lastIndex(of: ")")!)...].split(separator: " ")[0]
        }
        XCTAssertEqual(state, "S", "PID 1 is still there, waiting in exit for the straggler to be reaped")
        let deleted = try runtime(["delete", id])
        XCTAssertEqual(deleted.status, 0, deleted.stderr)
        XCTAssertNotEqual(try runtime(["state", id]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/contlab-runc/\(id)"))
    }

    func inspectJSONArray(_ text: String) -> [Int32] {
        ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [Int] ?? []).map(Int32.init)
    }
}
