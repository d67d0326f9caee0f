import CLinux
import CSeccomp
import ContlabCore
import Foundation
import XCTest

/// linux.seccomp.listenerPath with SCMP_ACT_NOTIFY: an agent in this test receives the filter's
/// descriptor and the container process state from contlab-runc, and answers the container's
/// mkdir calls through it — one refused with EXDEV (an errno neither the kernel nor a missing
/// capability would give mkdir here), one let through. The effects are checked from the host.
final class OCISeccompNotifyTests: XCTestCase {
    var work = ""
    var root = ""
    var agent: NotifyAgent?

    override func setUpWithError() throws {
        try Harness.requireRoot()
        work =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "contlab-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            ).path
        root = work + "/state"
        try FileManager.default.createDirectory(atPath: work + "/out", withIntermediateDirectories: true)
    }

    override func tearDown() {
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            _ = try? runtime(["delete", "--force", id])
        }
        agent?.stop()
        try? FileManager.default.removeItem(atPath: work)
    }

    @discardableResult
    func runtime(_ args: [String]) throws -> Harness.Result {
        try Harness.run(["runc", "--root", root] + args)
    }

    /// A bundle running `script` on the busybox tree with the test's `out` at /tmp, mkdir and
    /// mkdirat notified to the agent at `listener`.
    func bundle(_ id: String, _ script: String, listener: String) throws -> String {
        let dir = work + "/" + id
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.run(["runc", "spec", "--bundle", dir]).status, 0)
        var config =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json")))
            as! [String: Any]
        config["root"] = ["path": try Harness.busyboxRootfs(), "readonly": true]
        var process = config["process"] as! [String: Any]
        process["args"] = ["sh", "-c", script]
        process["terminal"] = false
        config["process"] = process
        var mounts = config["mounts"] as! [[String: Any]]
        mounts.append(["destination": "/tmp", "type": "bind", "source": work + "/out", "options": ["rbind", "rw"]])
        config["mounts"] = mounts
        var linux = config["linux"] as! [String: Any]
        linux["seccomp"] = [
            "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "listenerPath": listener, "listenerMetadata": "contlab-test",
            "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"]]
        ]
        config["linux"] = linux
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        return dir
    }

    func waitForLine(_ path: String) -> String? {
        let deadline = Date().addingTimeInterval(10)
        // The shell's `>` makes the file before it writes: wait for the whole line.
        while Sys.readText(path)?.hasSuffix("\n") != true && Date() < deadline { usleep(20_000) }
        return Sys.readText(path)
    }

    func testTheAgentGetsTheDescriptorAndStateAndAnswersTheContainersCalls() throws {
        let agent = try NotifyAgent(path: work + "/agent.sock", refuse: "/tmp/refused", errno: EXDEV)
        self.agent = agent
        let script =
            "mkdir /tmp/refused 2>/tmp/refused.err; echo $? > /tmp/refused.status; mkdir /tmp/allowed; echo $? > "
            + "/tmp/allowed.status; sleep 60"
        let dir = try bundle("notify-run", script, listener: agent.path)
        let pidFile = work + "/init.pid"
        let created = try runtime(["run", "-d", "--bundle", dir, "--pid-file", pidFile, "notify-run"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let initPID = Int((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "") ?? 0
        XCTAssertGreaterThan(initPID, 0)

        // The agent's answers, seen from the host: EXDEV for one, the real mkdir for the other.
        XCTAssertEqual(waitForLine(work + "/out/refused.status"), "1\n")
        XCTAssertTrue(
            Sys.readText(work + "/out/refused.err")?.contains("ross-device link") == true,
            Sys.readText(work + "/out/refused.err") ?? "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/out/refused"))
        XCTAssertEqual(waitForLine(work + "/out/allowed.status"), "0\n")
        XCTAssertTrue(
            Sys.isDirectory(work + "/out/allowed"),
            "the agent let this mkdir through (SECCOMP_USER_NOTIF_FLAG_CONTINUE)")

        // What came with the descriptor: runtime-spec's container process state.
        let first = try XCTUnwrap(agent.connections.first)
        XCTAssertEqual(first.descriptors, 1, "exactly the listener, as `fds` names it")
        XCTAssertEqual(first.state["ociVersion"] as? String, "1.2.1")
        XCTAssertEqual(first.state["fds"] as? [String], ["seccompFd"])
        XCTAssertEqual(first.state["pid"] as? Int, initPID, "the init loaded the filter")
        XCTAssertEqual(first.state["metadata"] as? String, "contlab-test")
        let state = try XCTUnwrap(first.state["state"] as? [String: Any])
        XCTAssertEqual(state["id"] as? String, "notify-run")
        XCTAssertEqual(state["status"] as? String, "creating")
        XCTAssertEqual(state["pid"] as? Int, initPID)
        XCTAssertEqual(state["bundle"] as? String, dir)
        XCTAssertTrue(first.paths.contains("/tmp/refused") && first.paths.contains("/tmp/allowed"), "\(first.paths)")
        let containerPIDNamespace = Sys.readLink("/proc/\(initPID)/ns/pid")
        XCTAssertNotNil(containerPIDNamespace)
        XCTAssertNotEqual(containerPIDNamespace, Sys.readLink("/proc/self/ns/pid"))
        XCTAssertEqual(
            first.callerNamespaces, Array(repeating: containerPIDNamespace, count: 2),
            "the calls came from the container")

        // An exec'd process loads the filter again, with a listener of its own for the agent.
        let exec = try runtime(["exec", "notify-run", "sh", "-c", "mkdir /tmp/refused"])
        XCTAssertNotEqual(exec.status, 0)
        XCTAssertTrue(exec.stderr.contains("ross-device link"), exec.stderr)
        XCTAssertEqual(agent.connections.count, 2)
        let second = try XCTUnwrap(agent.connections.last)
        let execState = try XCTUnwrap(second.state["state"] as? [String: Any])
        XCTAssertEqual(execState["status"] as? String, "running")
        XCTAssertEqual(execState["pid"] as? Int, initPID, "the state is the container's")
        XCTAssertNotEqual(second.state["pid"] as? Int, initPID, "the process is the exec'd one")
        XCTAssertEqual(second.paths, ["/tmp/refused"])
        XCTAssertEqual(try runtime(["delete", "--force", "notify-run"]).status, 0)
    }

    /// An agent that is not there: create fails saying so, and leaves no container, cgroup,
    /// process or mount behind.
    func testAMissingAgentFailsTheCreateAndLeavesNothing() throws {
        let before = Harness.hostTraces()
        let missing = work + "/no-agent.sock"
        let dir = try bundle("notify-none", "true", listener: missing)
        let run = try runtime(["run", "--bundle", dir, "notify-none"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("linux.seccomp.listenerPath \(missing)"), run.stderr)
        XCTAssertTrue(run.stderr.contains("failed to connect with seccomp agent"), run.stderr)
        XCTAssertTrue(run.stderr.contains("start the seccomp agent first"), run.stderr)
        XCTAssertNotEqual(try runtime(["state", "notify-none"]).status, 0, "no container on record")
        let cgroups = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        for hierarchy in cgroups {
            XCTAssertFalse(
                FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(hierarchy)/contlab-runc/notify-none"),
                hierarchy)
        }
        // Other containers may come and go on this machine: only this run's paths are looked for.
        let rootfs = try Harness.busyboxRootfs()
        let after = Harness.hostTraces()
        XCTAssertFalse(after.mounts.contains(work), "no mount of this test's folders is left")
        XCTAssertEqual(
            after.mounts.components(separatedBy: rootfs).count, before.mounts.components(separatedBy: rootfs).count,
            "no mount of the container's root is left")
        XCTAssertFalse(after.processes.contains { $0.contains(dir) }, "\(after.processes)")
    }
}

/// A small seccomp agent: listens on a unix socket, takes each message (the container process
/// state, and the descriptor sent with it), and answers the notifications on every descriptor:
/// a mkdir of `refuse` fails with `errno`, anything else goes on as if not filtered.
final class NotifyAgent: @unchecked Sendable {
    struct Connection {
        var state: [String: Any]
        var descriptors: Int
        var paths: [String] = []
        /// The PID namespace of each caller, read while it waits for the answer.
        var callerNamespaces: [String?] = []
    }

    let path: String
    let refuse: String
    let errnoValue: Int32
    private let listener: Int32
    private let lock = NSLock()
    private var received: [Connection] = []
    private var stopped = false
    private var threads: [Thread] = []

    var connections: [Connection] { lock.withLock { received } }

    init(path: String, refuse: String, errno: Int32) throws {
        self.path = path
        self.refuse = refuse
        errnoValue = errno
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(listener, 4) == 0 else { throw SystemCallError("bind/listen \(path)", errno: errno) }
        let acceptor = Thread { [self] in acceptLoop() }
        threads.append(acceptor)
        acceptor.start()
    }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop() {
        while !isStopped {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0, poller.revents & Int16(POLLIN) != 0 else { continue }
            let connection = accept(listener, nil, nil)
            if connection < 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            var fds = [Int32](repeating: -1, count: 8)
            var count: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { bytes in
                fds.withUnsafeMutableBufferPointer {
                    cl_recv_bytes_and_fds(connection, bytes.baseAddress, bytes.count, $0.baseAddress, 8, &count)
                }
            }
            close(connection)
            let state = n > 0 ? (try? JSONSerialization.jsonObject(with: Data(buffer[0..<n]))) as? [String: Any] : nil
            let index: Int = lock.withLock {
                received.append(Connection(state: state ?? [:], descriptors: Int(count)))
                return received.count - 1
            }
            for extra in fds[..<Int(count)].dropFirst() { close(extra) }
            guard count > 0 else { continue }
            let notifications = fds[0]
            let handler = Thread { [self] in answer(notifications, index: index) }
            lock.withLock { threads.append(handler) }
            handler.start()
        }
    }

    /// Answer notifications on `fd` until every process under its filter is gone (POLLHUP).
    private func answer(_ fd: Int32, index: Int) {
        defer { close(fd) }
        var request: UnsafeMutablePointer<seccomp_notif>?
        var response: UnsafeMutablePointer<seccomp_notif_resp>?
        guard seccomp_notify_alloc(&request, &response) == 0, let request, let response else { return }
        defer { seccomp_notify_free(request, response) }
        let mkdirat = seccomp_syscall_resolve_name("mkdirat")
        while !isStopped {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            if poller.revents & Int16(POLLIN) == 0 { return }
            memset(request, 0, MemoryLayout<seccomp_notif>.size)
            guard seccomp_notify_receive(fd, request) == 0 else { continue }
            // The path argument, read from the caller's memory (as runc's agent does).
            let address = request.pointee.data.nr == mkdirat ? request.pointee.data.args.1 : request.pointee.data.args.0
            let target = Self.string(pid: request.pointee.pid, address: address)
            lock.withLock {
                received[index].paths.append(target)
                received[index].callerNamespaces.append(Sys.readLink("/proc/\(request.pointee.pid)/ns/pid"))
            }
            memset(response, 0, MemoryLayout<seccomp_notif_resp>.size)
            response.pointee.id = request.pointee.id
            if target == refuse {
                response.pointee.error = -errnoValue
            } else {
                response.pointee.flags = UInt32(SECCOMP_USER_NOTIF_FLAG_CONTINUE)
            }
            _ = seccomp_notify_respond(fd, response)
        }
    }

    static func string(pid: UInt32, address: UInt64) -> String {
        let fd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = pread(fd, &bytes, bytes.count, off_t(Int64(bitPattern: address)))
        guard n > 0 else { return "" }
        return String(decoding: bytes[0..<n].prefix { $0 != 0 }, as: UTF8.self)
    }
}
