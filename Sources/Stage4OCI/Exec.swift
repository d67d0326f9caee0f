import CLinux
import Cgroups
import ContlabCore
import Foundation
import OCI

/// What `exec` hands its helper (`contlab __oci-exec`) in `CONTLAB_OCI_EXEC`: whose namespaces
/// to enter, and the process to become there.
public struct OCIExecPlan: Codable, Sendable {
    /// The container's init, as the host sees it: its /proc/PID/ns/* are the ones to enter.
    public var containerPID: Int32
    /// The namespaces that differ from the caller's, in the order they are entered.
    public var namespaces: [ContlabCore.Namespace]
    public var process: Spec.Process
    /// The container's linux.seccomp: an exec'd process runs under the same filter.
    public var seccomp: Spec.Seccomp?
    /// A unix socket to send the new pty's master to, when process.terminal is set.
    public var consoleSocket: String?
    /// The helper reports here: "pid N" (the process, as the host numbers it) or "error …". The
    /// process's exec closes it (close-on-exec), so EOF means it runs.
    public var reportFD: Int32
    /// The caller's descriptors 3 … 3+N-1 stay open into the process (`exec --preserve-fds`).
    public var preserveFDs = 0

    public static let environmentKey = "CONTLAB_OCI_EXEC"
    public static let argument = "__oci-exec"

    /// The order runc's nsexec uses: the user namespace first (it grants the rights to enter the
    /// others), the mount namespace last but the cgroup one (entering it changes what /proc is).
    public static let joinOrder: [ContlabCore.Namespace] = [.user, .ipc, .uts, .network, .pid, .cgroup, .mount]

    /// The namespaces to enter: those whose inode differs between the caller and the container
    /// (one that the container shares with the host is entered already). `inode` reads
    /// /proc/<pid>/ns/<name>; pure otherwise.
    public static func namespacesToJoin(containerPID: Int32, inode: (String) -> UInt64?) -> [ContlabCore.Namespace] {
        joinOrder.filter { ns in
            guard let theirs = inode("/proc/\(containerPID)/ns/\(ns.procName)") else { return false }
            return inode("/proc/self/ns/\(ns.procName)") != theirs
        }
    }

    static func inode(_ path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }
}

/// runc exec's options that shape a process given as arguments rather than as a file.
public struct ExecProcessOptions: Equatable, Sendable {
    public var args: [String]
    public var tty = false
    public var cwd: String?
    public var env: [String] = []
    public var user: String?
    public var additionalGids: [UInt32] = []

    public init(args: [String], tty: Bool = false, cwd: String? = nil, env: [String] = [], user: String? = nil) {
        self.args = args
        self.tty = tty
        self.cwd = cwd
        self.env = env
        self.user = user
    }

    /// The container's own process (config.json) with these changes, as runc builds it: the
    /// arguments replaced, `--env` added to the environment, `--user uid[:gid]`, `--cwd`, `--tty`.
    public func apply(to base: Spec.Process) throws -> Spec.Process {
        var process = base
        process.args = args
        process.terminal = tty
        process.consoleSize = nil
        if let cwd { process.cwd = cwd }
        for entry in env {
            guard entry.contains("=") else { throw RuntimeError.usage("exec: --env \(entry): give KEY=VALUE") }
            let key = entry.prefix { $0 != "=" } + "="
            process.env = (process.env ?? []).filter { !$0.hasPrefix(key) } + [entry]
        }
        if let user {
            let parts = user.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil
            else {
                throw RuntimeError.usage("exec: --user \(user): give numeric uid[:gid], such as 1000:1000")
            }
            process.user = Spec.User(uid: uid, gid: parts.count == 2 ? UInt32(parts[1])! : 0, umask: base.user.umask)
        }
        // Added to the container's own, as runc adds them.
        if !additionalGids.isEmpty {
            process.user.additionalGids = (process.user.additionalGids ?? []) + additionalGids
        }
        return process
    }
}

extension OCIRuntime {
    public struct ExecRequest: Sendable {
        public var id: String
        public var process: Spec.Process
        public var detach: Bool
        public var pidFile: String?
        public var consoleSocket: String?
        /// Exec into a paused container too: the helper joins the frozen cgroup and stops there,
        /// so the process starts, and exec returns, only once the container is resumed.
        public var ignorePaused: Bool
        /// The caller's descriptors 3 … 3+N-1 reach the process, as with create's --preserve-fds.
        public var preserveFDs: Int
        /// `--cgroup`'s values: `[CONTROLLER,...:]PATH`, below the container's cgroup.
        public var subCgroups: [String]

        public init(
            id: String, process: Spec.Process, detach: Bool, pidFile: String? = nil, consoleSocket: String? = nil,
            ignorePaused: Bool = false, preserveFDs: Int = 0, subCgroups: [String] = []
        ) {
            self.subCgroups = subCgroups
            self.preserveFDs = preserveFDs
            self.id = id
            self.process = process
            self.detach = detach
            self.pidFile = pidFile
            self.consoleSocket = consoleSocket
            self.ignorePaused = ignorePaused
        }
    }

    /// exec: run another process in a running container — in its namespaces and its cgroups,
    /// with its own user, capabilities and limits. As runc does, the work happens in a fresh
    /// process (this binary re-executed), because only a single-threaded process may enter a
    /// user or mount namespace, and a PID namespace is entered only by the children of whoever
    /// joins it: the helper joins, forks the process, reports its pid and exits. Detached, the
    /// process is then the child of the nearest subreaper (containerd's shim, conmon);
    /// otherwise this command is that subreaper and waits for it. Returns its exit code.
    public func exec(_ request: ExecRequest) throws -> Int32 {
        let record = try store.load(request.id)
        let status = store.status(of: record)
        guard status == "running" || status == "created" || (status == "paused" && request.ignorePaused) else {
            throw RuntimeError.wrongStatus(id: request.id, status: status, operation: "exec in")
        }
        // A terminal and nowhere to send it: in the foreground, this command's own terminal is
        // the process's, as with run; detached, nobody would hold it.
        var relay: TerminalRelay?
        var consoleSocket = request.consoleSocket
        if request.process.terminal == true && consoleSocket == nil {
            guard !request.detach else {
                throw RuntimeError.usage(
                    "exec --detach: process.terminal is true: give --console-socket to hand the terminal to (or drop "
                        + "--tty)"
                )
            }
            relay = try TerminalRelay()
            consoleSocket = relay?.socketPath
        }
        // A socket, not a pipe: a seccomp notification descriptor comes back on it too.
        // The container's seccomp filter binds every process in it, so a config.json that can no
        // longer be read stops the exec: never one without the filter.
        let seccomp: Spec.Seccomp?
        do { seccomp = try Self.loadBundle(record.bundle).0.linux?.seccomp } catch {
            throw RuntimeError.usage(
                "cannot exec in \(record.id): its config.json (\(record.bundle)), whose seccomp filter every process "
                    + "of the container takes, cannot be read: \(error)")
        }
        let report = try Sys.socketPair()
        Sys.setCloexec(report.write, false)
        let plan = OCIExecPlan(
            containerPID: record.pid,
            namespaces: OCIExecPlan.namespacesToJoin(containerPID: record.pid, inode: OCIExecPlan.inode),
            process: request.process, seccomp: seccomp,
            consoleSocket: consoleSocket, reportFD: report.write, preserveFDs: request.preserveFDs)
        let planFD = try PlanHandoff.write(plan.payload)
        defer { close(planFD) }
        if !request.detach {
            // The process is the helper's child; once the helper exits it must become ours to wait for.
            _ = cl_prctl(Int32(CL_PR_SET_CHILD_SUBREAPER), 1, 0, 0, 0)
            Signals.block(Signals.forwarded + [SIGCHLD])
        }
        let cgroup = store.cgroup(of: record)
        let targets = try SubCgroups.targets(
            request.subCgroups, directories: cgroup?.directories ?? [],
            hierarchy: request.subCgroups.isEmpty ? nil : .current())
        let helper: pid_t
        do {
            // The helper enters the container's cgroups before it runs, so the process (its
            // child) starts in them: ps, pause, the limits and delete all see it.
            helper = try ContainerProcess.clone(
                argument: OCIExecPlan.argument, environment: ["\(OCIExecPlan.environmentKey)=\(planFD)"],
                namespaces: [], idMaps: nil, dieWithParent: false, rootless: geteuid() != 0,
                beforeRelease: [{ pid in try SubCgroups.add(pid, to: targets) }])
        } catch {
            close(report.read)
            close(report.write)
            throw error
        }
        close(report.write)
        let (lines, agentFailure) = readReport(report.read, record: record, seccomp: plan.seccomp)
        close(report.read)
        var helperStatus: Int32 = 0
        while waitpid(helper, &helperStatus, 0) < 0 && errno == EINTR {}
        let pid = lines.first { $0.hasPrefix("pid ") }.flatMap { pid_t($0.dropFirst(4)) }
        if let pid {
            // In the words of runc's debug lines for the same steps (see RuntimeLog.debugInit).
            debug(
                "nsexec container setup: contlab's exec helper was cloned and exec'd to join container"
                    + " \(request.id) (pid \(record.pid))")
            debug(
                "child process in init(): setns into \(plan.namespaces.map(\.procName).joined(separator: ", ")), then its"
                    + " cgroups, then the process's identity")
            debug("setns_init: about to exec \(request.process.args?.first ?? "?") as pid \(pid)")
        }
        if let agentFailure {
            // The process waits for an agent that will never answer: it must not run.
            if let pid {
                Glibc.kill(pid, SIGKILL)
                if !request.detach {
                    var ignored: Int32 = 0
                    waitpid(pid, &ignored, 0)
                }
            }
            throw agentFailure
        }
        if let failure = lines.first(where: { $0.hasPrefix("error ") }) {
            if let pid, !request.detach {
                var ignored: Int32 = 0
                waitpid(pid, &ignored, 0)
            }
            throw RuntimeError.initFailed("exec failed: " + failure.dropFirst(6))
        }
        guard let pid else { throw RuntimeError.initDied(ExitStatus(waitStatus: helperStatus)) }
        if let pidFile = request.pidFile { try Self.writePidFile(pidFile, pid: pid) }
        if request.detach { return 0 }
        do {
            try relay?.start()
        } catch {
            Glibc.kill(pid, SIGKILL)
            var ignored: Int32 = 0
            waitpid(pid, &ignored, 0)
            throw error
        }
        let ended = waitForwarding(pid: pid)
        relay?.finish()
        return ended.shellCode
    }
}

/// exec's `--cgroup [CONTROLLER,...:]PATH`, as runc takes it: the process starts in PATH below
/// the container's cgroup, in the hierarchies of the controllers named (in every one without
/// a name). The sub-cgroup must exist: whoever runs in the container made it.
enum SubCgroups {
    /// The cgroup.procs file for each of the container's directories. Pure, but for `hierarchy`,
    /// which only says whether a named controller exists at all.
    static func targets(
        _ values: [String], directories: [ContainerCgroup.Directory],
        hierarchy: CgroupHierarchy?
    ) throws -> [String] {
        var byController: [String: String] = [:]
        var everywhere = ""
        for value in values {
            let (controllers, path): ([String], String)
            if let colon = value.firstIndex(of: ":") {
                controllers = value[..<colon].split(separator: ",").map(String.init)
                path = String(value[value.index(after: colon)...])
            } else {
                (controllers, path) = ([], value)
            }
            let components = path.split(separator: "/")
            guard !components.contains("..") else {
                throw RuntimeError.usage(
                    "exec --cgroup \(value): \(path) is not a sub cgroup path: give a path below the container's cgroup"
                )
            }
            let clean = components.joined(separator: "/")
            if controllers.isEmpty { everywhere = clean }
            for controller in controllers {
                guard
                    hierarchy?.placement(of: controller) != nil
                        || directories.contains(where: { $0.controllers.contains(controller) })
                else {
                    throw RuntimeError.usage(
                        "exec --cgroup \(value): unknown controller \(controller) (this host's: "
                            + "\((hierarchy?.v1.keys.sorted() ?? []).joined(separator: ", ")))")
                }
                byController[controller] = clean
            }
        }
        return directories.map { directory in
            let sub = directory.controllers.lazy.compactMap { byController[$0] }.first ?? everywhere
            return directory.path + (sub.isEmpty ? "" : "/" + sub) + "/cgroup.procs"
        }
    }

    static func add(_ pid: pid_t, to files: [String]) throws {
        for file in files {
            let fd = open(file, O_WRONLY | O_CLOEXEC)
            let text = Array("\(pid)".utf8)
            if fd < 0 || write(fd, text, text.count) < 0 {
                let saved = errno
                if fd >= 0 { close(fd) }
                throw RuntimeError.initFailed(
                    "exec: adding pid \(pid) to \(file): \(String(cString: strerror(saved)).lowercased())"
                        + (saved == ENOENT ? " (make the sub-cgroup in the container first)" : ""))
            }
            close(fd)
        }
    }
}

extension OCIRuntime {
    /// The helper's and the process's report, to its end (the process's exec, or their exits).
    /// The process's seccomp notification descriptor goes to the agent as soon as both it and the
    /// process's pid (which the helper reports) are here: the process may be waiting on the agent
    /// already, and its exec, which ends the report, may itself be a notified call.
    func readReport(
        _ fd: Int32, record: StateStore.Record,
        seccomp: Spec.Seccomp?
    ) -> (lines: [String], agentFailure: Error?) {
        var report = ProcessReport(fd: fd)
        defer { report.closeDescriptors() }
        var lines: [String] = []
        var announced = false
        var failure: Error?
        while let line = report.nextLine() {
            lines.append(line)
            if line == SeccompAgent.line { announced = true }
            guard announced, failure == nil,
                let pid = lines.first(where: { $0.hasPrefix("pid ") }).flatMap({ pid_t($0.dropFirst(4)) }),
                let listener = report.takeDescriptor()
            else { continue }
            announced = false
            guard let seccomp, let path = seccomp.listenerPath else {
                close(listener)
                failure = RuntimeError.initFailed(
                    "exec: the process sent a seccomp descriptor, but linux.seccomp names"
                        + " no listenerPath")
                continue
            }
            // runc's state for an exec'd process's filter: the container runs; `pid` is the new
            // process, the state's pid the container's init.
            let state = ContainerState(
                id: record.id, status: "running", pid: record.pid, bundle: record.bundle,
                annotations: record.annotations)
            do {
                try SeccompAgent.handOver(
                    listener, listenerPath: path,
                    message: ContainerProcessState(pid: pid, seccomp: seccomp, state: state))
            } catch {
                failure = error
            }
        }
        if announced && failure == nil && report.descriptors.isEmpty {
            failure = RuntimeError.initFailed(
                "exec: the process announced its seccomp notification descriptor, but"
                    + " none came with it")
        }
        return (lines, failure)
    }
}

/// The helper of `exec` (`contlab __oci-exec`), a fresh single-threaded process: it enters the
/// container's namespaces, forks the process into them, reports its pid and exits.
public enum OCIExec {
    public static func main() -> Never {
        // The process runc's command line starts is the container's own, signals and all: the
        // mask of the contlab that cloned it (which blocks what it forwards) is not its.
        InitHandshake.unblockSignals()
        guard let text = PlanHandoff.read(key: OCIExecPlan.environmentKey),
            let plan = try? OCIExecPlan.decode(payload: text)
        else {
            Sys.warn("contlab: __oci-exec is the internal helper of contlab-runc exec; use contlab-runc exec")
            exit(125)
        }
        let keep = [plan.reportFD] + (0..<Int32(plan.preserveFDs)).map { 3 + $0 }
        _ = keep.withUnsafeBufferPointer { cl_close_others($0.baseAddress, Int32($0.count)) }
        // The process's exec must close it, so that the caller reads EOF.
        Sys.setCloexec(plan.reportFD, true)
        func report(_ line: String) {
            Sys.writeAll(plan.reportFD, Array((line.replacingOccurrences(of: "\n", with: " ") + "\n").utf8))
        }
        do {
            let threads = (Sys.readText("/proc/self/status") ?? "").split(separator: "\n").first {
                $0.hasPrefix("Threads:")
            }
            guard threads?.split(whereSeparator: \.isWhitespace).last == "1" else {
                throw InitError.message(
                    "the exec helper must be single-threaded to enter namespaces (\(threads ?? "Threads: ?"))")
            }
            // The console socket is a host path: connect before the mount namespace changes.
            let consoleFD =
                plan.process.terminal == true && plan.consoleSocket != nil
                ? try OCIInit.connectUnixSocket(plan.consoleSocket!) : -1
            // Open every namespace first: once in the container's mount namespace, /proc is the
            // container's, where the init's host pid means nothing.
            var opened: [(namespace: ContlabCore.Namespace, fd: Int32, path: String)] = []
            for ns in plan.namespaces {
                let path = "/proc/\(plan.containerPID)/ns/\(ns.procName)"
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                if fd < 0 {
                    throw InitError.message(
                        "cannot open \(path): \(String(cString: strerror(errno))) — has the container stopped?")
                }
                opened.append((ns, fd, path))
            }
            for joined in opened {
                defer { close(joined.fd) }
                do {
                    try Sys.setns(joined.fd, joined.namespace, path: joined.path)
                } catch let error as SystemCallError {
                    throw InitError.system(error)
                }
            }
            // Only children enter the PID namespace joined above; this process is single-threaded,
            // so the child may go on in Swift.
            let child = cl_fork()
            if child < 0 { throw InitError.system(SystemCallError("fork()", errno: errno)) }
            if child == 0 { becomeTheProcess(plan, consoleFD: consoleFD, report: report) }
            report("pid \(child)")
            exit(0)
        } catch {
            report("error \(error)")
            exit(1)
        }
    }

    static func becomeTheProcess(_ plan: OCIExecPlan, consoleFD: Int32, report: (String) -> Void) -> Never {
        do {
            try OCIInit.applyLimits(plan.process)
            let command = try OCIInit.resolveCommand(plan.process)
            if consoleFD >= 0 { try OCIInit.takeTerminal(consoleFD, process: plan.process, asConsole: false) }
            try OCIInit.takeIdentity(plan.process, dieWithCaller: false, seccomp: plan.seccomp) { listener in
                try SeccompAgent.sendListener(listener, over: plan.reportFD)
            }
            try command.exec(cwd: nil, identity: nil, keepingDescriptors: Int32(plan.preserveFDs))
        } catch {
            report("error \(error)")
            exit(127)
        }
    }
}

/// The helper's plan as JSON built and read by hand, as the init's is (see `JSONValue`).
extension OCIExecPlan {
    public var payload: String {
        JSONValue.object([
            ("containerPID", .number(String(containerPID))),
            ("namespaces", .array(namespaces.map { .string($0.rawValue) })),
            ("process", SpecWriter.process(process)), ("seccomp", seccomp.map(SpecWriter.seccomp) ?? .null),
            ("consoleSocket", consoleSocket.map { .string($0) } ?? .null), ("reportFD", .number(String(reportFD))),
            ("preserveFDs", .number(String(preserveFDs)))
        ]).serialized
    }

    public static func decode(payload: String) throws -> OCIExecPlan {
        let plan = try JSONValue.parse(payload)
        let seccomp = plan["seccomp"].flatMap { $0 == .null ? nil : $0 }
        return OCIExecPlan(
            containerPID: try plan.number("containerPID"),
            namespaces: try plan.texts("namespaces").map {
                guard let namespace = ContlabCore.Namespace(rawValue: $0) else {
                    throw JSONValue.AccessError(path: "namespaces", expected: "a namespace name")
                }
                return namespace
            },
            process: try SpecReader.process(try plan.member("process")), seccomp: try seccomp.map(SpecReader.seccomp),
            consoleSocket: try plan.optionalText("consoleSocket"), reportFD: try plan.number("reportFD"),
            preserveFDs: plan["preserveFDs"] == nil ? 0 : try plan.number("preserveFDs"))
    }
}
