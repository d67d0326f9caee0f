import ContlabCore
import Foundation
import XCTest

/// Joined namespaces (linux.namespaces[].path) and a user namespace's mappings through create
/// and start: each under contlab-runc and runc.
extension OCIRuntimeTests {
    /// Both runtimes, each with its own state folder: a name for messages and a way to call it.
    func bothRuntimes() throws -> [(name: String, call: ([String]) throws -> Harness.Result)] {
        let runc = try requireRunc()
        return [("contlab-runc", { try self.runtime($0) }), ("runc", { try self.runRunc(runc, $0) })]
    }

    func statePID(_ call: ([String]) throws -> Harness.Result, _ id: String) throws -> Int32 {
        Int32(inspectJSON(try call(["state", id]).stdout)["pid"] as? Int ?? 0)
    }

    /// The namespaces' ids as `readlink /proc/PID/ns/KIND` gives them.
    func hostNamespaceIDs(_ pid: Int32) -> [String: String] {
        var ids: [String: String] = [:]
        for kind in ["net", "ipc", "uts", "pid", "mnt", "user"] {
            ids[kind] = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")
        }
        return ids
    }

    func setNamespaces(_ config: inout [String: Any], _ change: ([String: Any]) -> [String: Any]) {
        var linux = config["linux"] as! [String: Any]
        linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).map(change)
        config["linux"] = linux
    }

    /// A pod's way: the app container enters the sandbox's network, IPC, UTS and PID namespaces
    /// and makes its own mount namespace.
    func testAContainerJoinsAnotherContainersNamespaces() throws {
        for (name, call) in try bothRuntimes() {
            let sandbox = try bundle("sandbox-\(name)", args: ["sleep", "60"]) { $0["hostname"] = "sandbox" }
            let sandboxID = "sb-\(name)\(Self.tag)"
            let started = try call(["run", "--detach", "--bundle", sandbox, sandboxID])
            XCTAssertEqual(started.status, 0, "\(name): \(started.stderr)")
            defer { _ = try? call(["delete", "--force", sandboxID]) }
            let pid = try statePID(call, sandboxID)
            XCTAssertGreaterThan(pid, 0, name)
            let theirs = hostNamespaceIDs(pid)
            let app = try bundle("app-\(name)", args: ["contlab", "inspect", "--json"]) { config in
                config["hostname"] = nil
                self.setNamespaces(&config) { ns in
                    let type = ns["type"] as! String
                    let proc = ["network": "net", "ipc": "ipc", "uts": "uts", "pid": "pid"][type]
                    return proc.map { ["type": type, "path": "/proc/\(pid)/ns/\($0)"] } ?? ns
                }
            }
            let result = try call(["run", "--bundle", app, "app-\(name)\(Self.tag)"])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            let report = inspectJSON(result.stdout)
            let inside = Harness.namespaces(report)
            for kind in ["net", "ipc", "uts", "pid"] {
                XCTAssertEqual(inside[kind]?.id, theirs[kind], "\(name): the app is in the sandbox's \(kind) namespace")
            }
            XCTAssertNotEqual(inside["mnt"]?.id, theirs["mnt"], "\(name): the app has a mount namespace of its own")
            XCTAssertEqual(report["hostname"] as? String, "sandbox", "\(name): the UTS namespace is the sandbox's")
            XCTAssertGreaterThan(
                report["pid"] as? Int ?? 0, 1, "\(name): the sandbox's sleep is PID 1 there, not the app")
        }
    }

    /// A joined user namespace comes first: the app enters the sandbox's user and network
    /// namespaces and makes its others inside them, and runs as the root the sandbox's mappings
    /// give. (runc 1.1.5 refuses this config: it wants uidMappings even for a joined one.)
    func testAContainerJoinsAnotherContainersUserNamespace() throws {
        let sandbox = try bundle("usersandbox", args: ["sleep", "60"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]) + [["type": "user"]]
            linux["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65_536]]
            linux["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65_536]]
            config["linux"] = linux
        }
        let sandboxID = "usb\(Self.tag)"
        let started = try runtime(["run", "--detach", "--bundle", sandbox, sandboxID])
        XCTAssertEqual(started.status, 0, started.stderr)
        defer { _ = try? runtime(["delete", "--force", sandboxID]) }
        let pid = try statePID({ try self.runtime($0) }, sandboxID)
        let theirs = hostNamespaceIDs(pid)
        let app = try bundle("userapp", args: ["contlab", "inspect", "--json"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] =
                (linux["namespaces"] as! [[String: Any]]).map { ns in
                    ns["type"] as? String == "network" ? ["type": "network", "path": "/proc/\(pid)/ns/net"] : ns
                } + [["type": "user", "path": "/proc/\(pid)/ns/user"]]
            config["linux"] = linux
        }
        let result = try runtime(["run", "--bundle", app, "uapp\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = inspectJSON(result.stdout)
        let inside = Harness.namespaces(report)
        XCTAssertEqual(inside["user"]?.id, theirs["user"])
        XCTAssertEqual(inside["net"]?.id, theirs["net"])
        XCTAssertNotEqual(
            inside["pid"]?.id, theirs["pid"], "a PID namespace of its own, made in the joined user namespace")
        XCTAssertEqual(report["uid"] as? Int, 0)
        XCTAssertEqual(report["uidMap"] as? [String], ["0 100000 65536"])
    }

    /// A namespace kept by a bind mount (ip netns add): joined by its path, it is the same
    /// namespace, with the interface made in it.
    func testAContainerJoinsANamedNetworkNamespace() throws {
        let name = "contlab-test\(Self.tag)"
        XCTAssertEqual(try Harness.execute(["/usr/sbin/ip", "netns", "add", name]).status, 0)
        defer { _ = try? Harness.execute(["/usr/sbin/ip", "netns", "delete", name]) }
        let made = try Harness.execute([
            "/usr/sbin/ip", "netns", "exec", name, "/usr/sbin/ip", "link", "add", "lab0", "type", "veth", "peer",
            "name", "lab1"
        ])
        XCTAssertEqual(made.status, 0, made.stderr)
        let id = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        XCTAssertTrue(id.hasPrefix("net:["))
        var st = stat()
        XCTAssertEqual(stat("/run/netns/\(name)", &st), 0)
        let expected = "net:[\(st.st_ino)]"
        for (runtime, call) in try bothRuntimes() {
            let dir = try bundle(
                "netns-\(runtime)", args: ["sh", "-c", "contlab inspect --json; cat /proc/net/dev >&2"]
            ) { config in
                self.setNamespaces(&config) {
                    ($0["type"] as? String) == "network" ? ["type": "network", "path": "/run/netns/\(name)"] : $0
                }
            }
            let result = try call(["run", "--bundle", dir, "netns-\(runtime)\(Self.tag)"])
            XCTAssertEqual(result.status, 0, "\(runtime): \(result.stderr)")
            XCTAssertEqual(Harness.namespaces(inspectJSON(result.stdout))["net"]?.id, expected, runtime)
            XCTAssertTrue(
                result.stderr.contains("lab0:"), "\(runtime) sees the namespace's interface: \(result.stderr)")
        }
    }

    /// A path that is no namespace of the type, one that is gone, a type listed twice: create
    /// fails naming the entry, and leaves no state, cgroup or process.
    func testAWrongNamespacePathIsNamedAndLeavesNothing() throws {
        let cases: [(String, ([String: Any]) -> [String: Any], String)] = [
            (
                "wrongtype",
                { ($0["type"] as? String) == "network" ? ["type": "network", "path": "/proc/self/ns/mnt"] : $0 },
                "is a namespace of type mount, where the entry's type is network"
            ),
            (
                "gone", { ($0["type"] as? String) == "ipc" ? ["type": "ipc", "path": "/proc/2147483647/ns/ipc"] : $0 },
                "does not exist"
            ),
            (
                "notns", { ($0["type"] as? String) == "uts" ? ["type": "uts", "path": "/etc/hostname"] : $0 },
                "is not a namespace file"
            )
        ]
        for (name, change, words) in cases {
            let dir = try bundle("bad-\(name)", args: ["true"]) { config in
                config["hostname"] = nil
                self.setNamespaces(&config, change)
            }
            let id = "bad-\(name)\(Self.tag)"
            let result = try runtime(["create", "--bundle", dir, id])
            XCTAssertNotEqual(result.status, 0, name)
            XCTAssertTrue(
                result.stderr.contains("linux.namespaces[") && result.stderr.contains(words),
                "\(name): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/" + id), "\(name): no state is left")
            XCTAssertFalse(
                FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/contlab-runc/\(id)"),
                "\(name): no cgroup is left")
        }
        let twice = try bundle("bad-twice", args: ["true"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] =
                (linux["namespaces"] as! [[String: Any]]) + [["type": "network", "path": "/proc/self/ns/net"]]
            config["linux"] = linux
        }
        let result = try runtime(["create", "--bundle", twice, "bad-twice\(Self.tag)"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("the network namespace is listed twice"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/bad-twice\(Self.tag)"))
    }

    /// linux.uidMappings through create and start (not run): the container waits as created,
    /// starts, and runs as root inside, host uid 100000 outside.
    func testUserNamespaceMappingsHoldFromCreateToStart() throws {
        for (name, call) in try bothRuntimes() {
            let dir = try bundle("usermap-\(name)", args: ["sleep", "60"]) { config in
                var linux = config["linux"] as! [String: Any]
                linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]) + [["type": "user"]]
                linux["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65_536]]
                linux["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65_536]]
                config["linux"] = linux
            }
            let id = "usermap-\(name)\(Self.tag)"
            let created = try call(["create", "--bundle", dir, id])
            XCTAssertEqual(created.status, 0, "\(name): \(created.stderr)")
            defer { _ = try? call(["delete", "--force", id]) }
            XCTAssertEqual(inspectJSON(try call(["state", id]).stdout)["status"] as? String, "created", name)
            let started = try call(["start", id])
            XCTAssertEqual(started.status, 0, "\(name): \(started.stderr)")
            XCTAssertEqual(inspectJSON(try call(["state", id]).stdout)["status"] as? String, "running", name)
            let pid = try statePID(call, id)
            let uidMap = Sys.readText("/proc/\(pid)/uid_map")?.split(whereSeparator: \.isWhitespace).joined(
                separator: " ")
            XCTAssertEqual(uidMap, "0 100000 65536", name)
            let uids = Sys.readText("/proc/\(pid)/status")?.split(separator: "\n").first { $0.hasPrefix("Uid:") }
            XCTAssertEqual(
                uids?.split(whereSeparator: \.isWhitespace).dropFirst().first, "100000", "\(name): host uid outside")
            let inside = try call(["exec", id, "contlab", "inspect", "--json"])
            XCTAssertEqual(inside.status, 0, "\(name): \(inside.stderr)")
            XCTAssertEqual(inspectJSON(inside.stdout)["uid"] as? Int, 0, "\(name): root inside")
            XCTAssertEqual(inspectJSON(inside.stdout)["uidMap"] as? [String], ["0 100000 65536"], name)
        }
    }
}
