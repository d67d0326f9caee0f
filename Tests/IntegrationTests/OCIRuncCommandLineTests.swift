import ContlabCore
import Foundation
import XCTest

/// runc's own command line where its integration tests and the engines read it: ps, list,
/// run --keep, events and exec's exit codes, each under contlab-runc and runc.
extension OCIRuntimeTests {
    typealias Runtime = (name: String, call: ([String]) throws -> Harness.Result, stateRoot: String)

    func runtimesWithState() throws -> [Runtime] {
        let runc = try requireRunc()
        return [
            ("contlab", { try self.runtime($0) }, root), ("runc", { try self.runRunc(runc, $0) }, work + "/runc-state")
        ]
    }

    /// A detached `sleep 30` under each runtime; returns its pid.
    func startSleeper(_ rt: Runtime, id: String, edit: (inout [String: Any]) -> Void = { _ in }) throws -> Int {
        let dir = try bundle("sleeper-\(id)", args: ["sleep", "30"], edit: edit)
        let started = try rt.call(["run", "-d", "--bundle", dir, id])
        XCTAssertEqual(started.status, 0, "\(rt.name): \(started.stderr)")
        return inspectJSON(try rt.call(["state", id]).stdout)["pid"] as? Int ?? -1
    }

    /// `ps ID` is ps -ef's table cut to the container's processes, `ps ID ARGS` runs ps with
    /// those, and `--format json` is the list of pids.
    func testPsPrintsPsOwnTableOfTheContainersProcesses() throws {
        var headers: [String: [String]] = [:]
        for rt in try runtimesWithState() {
            let id = "ps-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            let pid = try startSleeper(rt, id: id)
            let table = try rt.call(["ps", id])
            XCTAssertEqual(table.status, 0, "\(rt.name): \(table.stderr)")
            let lines = table.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(
                lines.first?.split(separator: " ").map(String.init),
                ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], rt.name)
            XCTAssertEqual(lines.count, 2, "\(rt.name): the header and the container's one process: \(table.stdout)")
            XCTAssertEqual(lines.last.map { $0.split(separator: " ")[1] }, Substring("\(pid)"), rt.name)
            XCTAssertTrue(lines.last?.hasSuffix("sleep 30") == true, rt.name)
            let chosen = try rt.call(["ps", id, "-o", "pid,comm"])
            headers[rt.name] = chosen.stdout.split(separator: "\n").map {
                $0.split(separator: " ").joined(separator: " ")
            }
            XCTAssertEqual(headers[rt.name], ["PID COMMAND", "\(pid) sleep"], rt.name)
            XCTAssertEqual(
                try rt.call(["ps", "--format", "json", id]).stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                "[\(pid)]")
        }
        XCTAssertEqual(headers["contlab"]?.first, headers["runc"]?.first)
    }

    /// list's table has runc's columns, aligned as runc aligns them, with the owner's name.
    func testListHasRuncsColumns() throws {
        for rt in try runtimesWithState() {
            let id = "ls-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            let pid = try startSleeper(rt, id: id)
            let listed = try rt.call(["list"])
            XCTAssertEqual(listed.status, 0, listed.stderr)
            let lines = listed.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 2, "\(rt.name): \(listed.stdout)")
            let header = lines[0], row = lines[1]
            XCTAssertEqual(
                header.split(separator: " ").map(String.init), ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
                rt.name)
            let fields = row.split(separator: " ").map(String.init)
            XCTAssertEqual(fields.count, 6, "\(rt.name): \(row)")
            XCTAssertEqual([fields[0], fields[1], fields[2], fields[5]], [id, "\(pid)", "running", "root"], rt.name)
            XCTAssertEqual(fields[3], work + "/sleeper-\(id)", rt.name)
            // Each value starts where its heading does.
            for name in ["PID", "STATUS", "BUNDLE", "CREATED", "OWNER"] {
                let column = header.range(of: name)!.lowerBound.utf16Offset(in: header)
                let at = row.index(row.startIndex, offsetBy: column)
                XCTAssertTrue(
                    row[row.index(before: at)] == " " && row[at] != " ", "\(rt.name): \(name) column\n\(header)\n\(row)"
                )
            }
            let json = try rt.call(["list", "--format", "json"])
            let entry = ((try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) as? [[String: Any]])?.first
            XCTAssertEqual(entry?["id"] as? String, id)
            XCTAssertEqual(entry?["owner"] as? String, "root", rt.name)
        }
    }

    /// run --keep leaves the stopped container for state and delete.
    func testRunKeepLeavesTheStoppedContainer() throws {
        for rt in try runtimesWithState() {
            let id = "keep-\(rt.name)\(Self.tag)"
            let dir = try bundle("keep-\(rt.name)", args: ["sh", "-c", "exit 3"])
            let ran = try rt.call(["run", "--keep", "--bundle", dir, id])
            XCTAssertEqual(ran.status, 3, "\(rt.name): \(ran.stderr)")
            XCTAssertEqual(inspectJSON(try rt.call(["state", id]).stdout)["status"] as? String, "stopped", rt.name)
            XCTAssertEqual(try rt.call(["delete", id]).status, 0, rt.name)
            XCTAssertNotEqual(try rt.call(["state", id]).status, 0, rt.name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: rt.stateRoot + "/" + id))
        }
    }

    /// events --stats: one event in runc's shape, read from the container's cgroup.
    func testEventsStatsInRuncsShape() throws {
        for rt in try runtimesWithState() {
            let id = "ev-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            _ = try startSleeper(rt, id: id) { config in
                var linux = config["linux"] as! [String: Any]
                linux["resources"] = ["memory": ["limit": 64 << 20], "pids": ["limit": 20]]
                config["linux"] = linux
            }
            let result = try rt.call(["events", "--stats", id])
            XCTAssertEqual(result.status, 0, "\(rt.name): \(result.stderr)")
            let event = inspectJSON(result.stdout)
            XCTAssertEqual(event["type"] as? String, "stats", rt.name)
            XCTAssertEqual(event["id"] as? String, id, rt.name)
            let data = event["data"] as? [String: Any] ?? [:]
            let usage = (data["memory"] as? [String: Any])?["usage"] as? [String: Any] ?? [:]
            XCTAssertEqual(usage["limit"] as? Int, 64 << 20, "\(rt.name): \(result.stdout)")
            XCTAssertGreaterThan(usage["usage"] as? Int ?? 0, 0, rt.name)
            let pids = data["pids"] as? [String: Any] ?? [:]
            XCTAssertEqual(pids["current"] as? Int, 1, rt.name)
            XCTAssertEqual(pids["limit"] as? Int, 20, rt.name)
        }
        // Without --stats, events follow until the container stops.
        let id = "ev-follow\(Self.tag)"
        _ = try startSleeper((name: "contlab", call: { try self.runtime($0) }, stateRoot: root), id: id)
        let follower = try Harness.start(["runc", "--root", root, "events", "--interval", "100ms", id])
        usleep(350_000)
        XCTAssertEqual(try runtime(["kill", id, "KILL"]).status, 0)
        let deadline = Date().addingTimeInterval(5)
        while follower.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(follower.isRunning, "events ends when the container stops")
        if follower.isRunning { follower.terminate() }
        XCTAssertEqual(try runtime(["delete", id]).status, 0)
    }

    /// exec's own failures end in 255, as runc's do, the process's code otherwise.
    func testExecExitCodesAsRuncs() throws {
        var codes: [String: [Int32]] = [:]
        for rt in try runtimesWithState() {
            let id = "ex-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            _ = try startSleeper(rt, id: id)
            codes[rt.name] = [
                try rt.call(["exec", id, "sh", "-c", "exit 7"]).status,
                try rt.call(["exec", "--pid-file", work + "/no/such/folder/pid", id, "true"]).status,
                try rt.call(["exec", "no-such-container\(Self.tag)", "true"]).status
            ]
        }
        XCTAssertEqual(codes["contlab"], [7, 255, 255])
        XCTAssertEqual(codes["contlab"], codes["runc"])
    }
}
