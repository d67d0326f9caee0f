import CLinux
import Cgroups
import ContlabCore
import Foundation
import OCI

/// The runtime-spec lifecycle (create, start, state, kill, delete) and runc's run, list, ps,
/// over a `StateStore`. The container's process is the init, which execs the spec's process and
/// so is PID 1 of its namespace, as under runc.
public struct OCIRuntime {
    public let store: StateStore
    public var record = false
    /// Where warnings go: a failing poststart or poststop hook is one (runtime-spec), not an
    /// error. contlab-runc sends them to stderr and its --log.
    public var warning: (String) -> Void = { Sys.warn("contlab-runc: warning: " + $0) }
    /// Where --debug's lines go (contlab-runc: its log).
    public var debug: (String) -> Void = { _ in }

    public init(store: StateStore) { self.store = store }

    public struct CreateOptions: Equatable, Sendable {
        public var id: String
        public var bundle: String
        public var pidFile: String?
        public var consoleSocket: String?
        /// Descriptors 3 … 3+N-1 of this process that the container's process keeps.
        public var preserveFDs = 0

        public init(
            id: String, bundle: String, pidFile: String? = nil, consoleSocket: String? = nil, preserveFDs: Int = 0
        ) {
            self.preserveFDs = preserveFDs
            self.id = id
            self.bundle = bundle
            self.pidFile = pidFile
            self.consoleSocket = consoleSocket
        }
    }

    /// What create learned: the record saved, and the init's record of system calls.
    public struct Created {
        public var record: StateStore.Record
        public var calls: [String]
    }

    /// Read and check `<bundle>/config.json`; returns the spec and the absolute rootfs.
    public static func loadBundle(_ bundle: String) throws -> (Spec, String) {
        let (spec, rootfs, _) = try loadBundleDocument(bundle)
        return (spec, rootfs)
    }

    /// loadBundle, and config.json's tree as read (which the init is handed).
    static func loadBundleDocument(_ bundle: String) throws -> (Spec, String, JSONValue) {
        guard let data = FileManager.default.contents(atPath: bundle + "/config.json") else {
            throw RuntimeError.bundle(bundle)
        }
        let spec: Spec
        let document: JSONValue
        do { (spec, document) = try SpecCheck.decodeDocument(data) } catch let error as SpecError {
            throw RuntimeError.spec(error)
        }
        guard let root = spec.root else {
            throw RuntimeError.spec(SpecError("root.path", "required by the spec but missing"))
        }
        let rootfs = URL(fileURLWithPath: root.path.hasPrefix("/") ? root.path : bundle + "/" + root.path)
            .standardizedFileURL.path
        guard Sys.isDirectory(rootfs) else { throw RuntimeError.rootfs(rootfs) }
        return (spec, rootfs, document)
    }

    /// create: everything up to the init waiting for `start` (or, with `startAtOnce`, going on to
    /// exec as soon as it is ready — `run`'s way, with no exec fifo).
    public func create(_ options: CreateOptions, startAtOnce: Bool = false, dieWithCaller: Bool = false) throws
        -> Created
    {
        try StateStore.validate(id: options.id)
        Timing.mark("create")
        let bundle = URL(fileURLWithPath: options.bundle).standardizedFileURL.path
        let (spec, rootfs, document) = try Self.loadBundleDocument(bundle)
        guard spec.process != nil else {
            throw RuntimeError.spec(SpecError("process", "create needs a process to run"))
        }
        if spec.process?.terminal == true && options.consoleSocket == nil && !startAtOnce {
            throw RuntimeError.usage(
                "process.terminal is true: create needs --console-socket to hand the terminal to (or set terminal to "
                    + "false)"
            )
        }
        Timing.mark("bundle read")
        try store.reserve(options.id)
        var record = StateStore.Record(
            id: options.id, pid: 0, startTime: nil, bundle: bundle, rootfs: rootfs,
            created: Timestamp.rfc3339(), annotations: spec.annotations,
            cgroupPath: nil, cgroupDirectories: [], hooks: spec.hooks, creating: true)
        record.hostMounts = spec.linux?.namespaces?.isEmpty ?? true
        var cgroup: ContainerCgroup?
        var pid: pid_t = 0
        do {
            // The cgroup's path goes on record before the cgroup exists: if this create is
            // killed at any point from here, delete finds the cgroup by it.
            record.cgroupPath = try CgroupSettings.plannedPath(for: spec, id: options.id)
            try store.save(record)
            if !startAtOnce { try Self.makeExecFifo(store.fifo(options.id), spec: spec) }
            Timing.mark("state saved")
            cgroup = try CgroupSettings.create(for: spec, id: options.id)
            Timing.mark("cgroup made")
            if let busy = cgroup?.busyDirectories, !busy.isEmpty {
                // runc 1.1's word and choice: shared, not refused. kill --all then reaches the
                // processes of both; delete kills only this container's own.
                record.sharesCgroup = true
                warning(
                    "container's cgroup is not empty: \(busy.joined(separator: ", ")) already has processes;"
                        + " this container shares it: kill --all reaches the processes of both, delete only its own")
            }
            if let cgroup {
                record.cgroupPath = cgroup.relativePath
                record.cgroupDirectories = cgroup.directories.map {
                    .init(path: $0.path, version: $0.version, controllers: $0.controllers)
                }
                // On record before the init exists: a create killed from here leaves delete
                // the directories it made, and whether they were shared, so it kills no stranger.
                try store.save(record)
            }
            // The init's reports travel on a socket: a seccomp notification descriptor comes with one.
            let toHost = try Sys.socketPair(), fromHost = try Sys.pipe()
            Sys.setCloexec(toHost.write, false)
            Sys.setCloexec(fromHost.read, false)
            // The exec fifo and the console socket are reached here, on the host, and handed to
            // the init open: in a joined mount namespace their paths may lead nowhere.
            var handed: [Int32] = []
            defer { handed.forEach { close($0) } }
            let fifoFD = startAtOnce ? nil : try Self.openExecFifo(store.fifo(options.id))
            if let fifoFD { handed.append(fifoFD) }
            var consoleFD: Int32?
            if spec.process?.terminal == true, let socket = options.consoleSocket {
                // Reached with the runtime's rights, as runc reaches it: an init in a user
                // namespace may not reach a socket in the caller's 0700 folder.
                consoleFD = try OCIInit.connectUnixSocket(socket)
                handed.append(consoleFD!)
            }
            let bindSources = Self.bindSources(spec, bundle: bundle)
            handed.forEach { Sys.setCloexec($0, false) }
            let joined: [ContainerProcess.JoinedNamespace]
            do { joined = try NamespacePaths.open(spec) } catch let error as SpecError {
                throw RuntimeError.spec(error)
            }
            defer { for namespace in joined { close(namespace.fd) } }
            if let refusal = Self.hostnameRefusal(spec, joined: joined.map(\.namespace)) {
                throw RuntimeError.spec(refusal)
            }
            // Device nodes made in a user namespace other than the host's cannot be opened.
            let inUserNamespace = spec.newNamespaces.contains(.user) || joined.contains { $0.namespace == .user }
            let hostHooks = !(spec.hooks?.prestart ?? []).isEmpty || !(spec.hooks?.createRuntime ?? []).isEmpty
            let plan = OCIInitPlan(
                id: options.id, bundle: bundle, rootfs: rootfs, spec: spec,
                fifoFD: fifoFD, toHostFD: toHost.write, fromHostFD: fromHost.read,
                consoleFD: consoleFD, cgroupDirectories: record.cgroupDirectories,
                inUserNamespace: inUserNamespace, hostHooks: hostHooks, record: self.record,
                dieWithCaller: dieWithCaller,
                preserveFDs: options.preserveFDs, bindSources: bindSources.map(\.index))
            let planFD = try PlanHandoff.write(plan.payload(specDocument: document))
            defer { close(planFD) }
            // Maps are written for a new user namespace only: a joined one has its own already.
            let idMaps = spec.newNamespaces.contains(.user) ? Self.idMaps(spec) : nil
            do {
                pid = try ContainerProcess.clone(
                    argument: OCIInitPlan.initArgument,
                    environment: ["\(OCIInitPlan.environmentKey)=\(planFD)"]
                        + (getenv("CONTLAB_TIMING") != nil ? ["CONTLAB_TIMING=1"] : []),
                    namespaces: spec.newNamespaces, joining: joined, idMaps: idMaps, dieWithParent: dieWithCaller,
                    rootless: geteuid() != 0,
                    beforeRelease: [
                        { pid in try cgroup?.add(pid: pid) },
                        { pid in try Self.sendBindSources(bindSources, openedIn: pid, over: toHost.read) }
                    ])
            } catch {
                for fd in [toHost.read, toHost.write, fromHost.read, fromHost.write] { close(fd) }
                throw error
            }
            Timing.mark("init released")
            close(toHost.write)
            close(fromHost.read)
            handed.forEach { close($0) }
            handed = []
            record.pid = pid
            record.startTime = StateStore.startTime(of: pid)
            try store.save(record)
            let calls = try converse(
                pid: pid, toHost: toHost.read, fromHost: fromHost.write, record: record,
                seccomp: spec.linux?.seccomp, untilExec: startAtOnce
            ) {
                if let cgroup { try CgroupSettings.applyDevices(spec.linux?.resources, to: cgroup) }
            }
            Timing.mark("init ready")
            record.creating = false
            try store.save(record)
            if let pidFile = options.pidFile { try Self.writePidFile(pidFile, pid: pid) }
            return Created(record: record, calls: calls)
        } catch {
            if pid > 0 {
                Glibc.kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            if record.sharesCgroup == true { cgroup?.removeIfEmpty() } else { cgroup?.destroy() }
            store.remove(options.id)
            // A create that got as far as the container's process (a failing prestart,
            // createRuntime or createContainer hook among the reasons) goes on to the spec's
            // last steps: destroyed, then its poststop hooks, as runc's destroy does.
            if pid > 0 { runPoststop(record) }
            throw error
        }
    }

    /// Listen to the init until it is ready: run the host's hooks when it asks, hand its seccomp
    /// notification descriptor to the agent, collect its record, and turn "error …" into the
    /// error create reports. At "hooks" (or else "ready"), `whenReady` (the device rules) runs
    /// while the init waits: for the hooks' "go", on the exec fifo, or (`untilExec`, run) for a
    /// "go" from here. `untilExec`: then on
    /// until the socket ends, which is the init's exec of the user's process (or its death).
    func converse(
        pid: pid_t, toHost: Int32, fromHost: Int32, record: StateStore.Record,
        seccomp: Spec.Seccomp? = nil, untilExec: Bool = false,
        whenReady: () throws -> Void = {}
    ) throws -> [String] {
        var report = ProcessReport(fd: toHost)
        defer {
            report.closeDescriptors()
            close(toHost)
            close(fromHost)
        }
        var calls: [String] = []
        // The device rules go in before the host's prestart and createRuntime hooks when there
        // are any (runc sets the cgroup then, so a hook may add a device rule of its own), else
        // at ready: /dev is made by either point.
        var rulesWritten = false
        while let line = report.nextLine() {
            if line == "ready" {
                if !rulesWritten { try whenReady() }
                if untilExec { Self.tell(fromHost, "go") }
                // A startContainer hook or the exec itself may still fail: run's error, then
                // (runtime-spec: stop the container, destroy it, poststop).
                while untilExec, let late = report.nextLine() {
                    if late.hasPrefix("error ") { throw RuntimeError.initFailed(String(late.dropFirst(6))) }
                }
                return calls
            }
            if line == SeccompAgent.line {
                guard let fd = report.takeDescriptor() else {
                    throw RuntimeError.initFailed(
                        "the init announced its seccomp notification descriptor, but none"
                            + " came with it")
                }
                // The spec was checked: a notifying filter has a listenerPath.
                guard let seccomp, let path = seccomp.listenerPath else {
                    close(fd)
                    throw RuntimeError.initFailed(
                        "the init sent a seccomp descriptor, but linux.seccomp names no"
                            + " listenerPath")
                }
                // runc's state for the init's filter: still creating, the init's pid.
                let state = ContainerState(
                    id: record.id, status: "creating", pid: pid, bundle: record.bundle,
                    annotations: record.annotations)
                try SeccompAgent.handOver(
                    fd, listenerPath: path,
                    message: ContainerProcessState(pid: pid, seccomp: seccomp, state: state))
            } else if line == "hooks" {
                try whenReady()
                rulesWritten = true
                let state = ContainerState(
                    id: record.id, status: HookRunner.status["prestart"]!, pid: pid,
                    bundle: record.bundle, annotations: record.annotations)
                try HookRunner.run(record.hooks?.prestart, kind: "prestart", state: state)
                try HookRunner.run(record.hooks?.createRuntime, kind: "createRuntime", state: state)
                Self.tell(fromHost, "go")
            } else if line.hasPrefix("record ") {
                calls.append(String(line.dropFirst(7)))
            } else if line.hasPrefix("error ") {
                throw RuntimeError.initFailed(String(line.dropFirst(6)))
            }
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        throw RuntimeError.initDied(ExitStatus(waitStatus: status))
    }

    /// The bind sources of `mounts` the init cannot reach by itself: all of them when the
    /// container gets a user namespace of its own and this runtime is root (its root is an
    /// unprivileged id on the host, which may not enter a 0700 folder of the host's root).
    static func bindSources(_ spec: Spec, bundle: String) -> [(index: Int, path: String)] {
        guard geteuid() == 0, spec.newNamespaces.contains(.user) else { return [] }
        return (spec.mounts ?? []).enumerated().compactMap { index, mount in
            guard MountOptions(mount.options ?? []).isBind || mount.type == "bind" else { return nil }
            let source = mount.source ?? ""
            return (index, source.hasPrefix("/") ? source : bundle + "/" + source)
        }
    }

    /// Open the bind sources with O_PATH inside the init's mount namespace, with this runtime's
    /// rights, and send them down the init's socket, in order: runc 1.1's way. Opened there, they
    /// name the namespace's own mounts, so what the init binds from them is its own: a slave of
    /// the host's once it has made / rslave, with the host's mount flags locked.
    static func sendBindSources(_ sources: [(index: Int, path: String)], openedIn pid: pid_t, over socket: Int32) throws
    {
        guard !sources.isEmpty else { return }
        var fds = [Int32](repeating: -1, count: sources.count)
        let paths = sources.map { strdup($0.path) }
        defer { paths.forEach { free($0) } }
        let rc = paths.map { UnsafePointer($0) }.withUnsafeBufferPointer { buffer in
            cl_open_paths_in_mount_ns("/proc/\(pid)/ns/mnt", buffer.baseAddress, Int32(sources.count), &fds)
        }
        defer { fds.filter { $0 >= 0 }.forEach { close($0) } }
        if rc != 0 { throw SystemCallError("open the bind sources in the container's mount namespace", errno: -rc) }
        for (source, fd) in zip(sources, fds) {
            guard fd >= 0 else {
                throw RuntimeError.spec(
                    SpecError(
                        "mounts[\(source.index)].source",
                        "\(source.path): \(String(cString: strerror(-fd))) — a bind mount's source must exist on the host"
                    ))
            }
            let sent = cl_send_fd(socket, fd)
            if sent != 0 { throw SystemCallError("send a bind source to the init", errno: -sent) }
        }
    }

    /// A line to the init that cannot end this process by SIGPIPE when the init has died: the
    /// read that follows reports its death, and create cleans up after it.
    static func tell(_ fd: Int32, _ line: String) {
        var pipeSignal = sigset_t(), before = sigset_t(), pending = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &before)
        Sys.writeAll(fd, Array((line + "\n").utf8))
        sigpending(&pending)
        if sigismember(&pending, SIGPIPE) == 1 && sigismember(&before, SIGPIPE) == 0 {
            var now = timespec()
            sigtimedwait(&pipeSignal, nil, &now)
        }
        pthread_sigmask(SIG_SETMASK, &before, nil)
    }

    static func idMaps(_ spec: Spec) -> ContainerProcess.IDMaps {
        func lines(_ maps: [Spec.IDMapping]?) -> String {
            (maps ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
        }
        return ContainerProcess.IDMaps(
            uidMap: lines(spec.linux?.uidMappings), gidMap: lines(spec.linux?.gidMappings),
            denySetgroups: geteuid() != 0)
    }

    /// The fifo the init opens for writing once ready, as whatever user it is then: in a new
    /// user namespace, the host uid mapped to its root (100000, say), which neither owns it nor
    /// belongs to root's group. mkfifo's mode passes through the umask (0022 takes the others'
    /// write bit), so the mode is set again, and the fifo given to that root, as runc does.
    static func makeExecFifo(_ path: String, spec: Spec) throws {
        guard mkfifo(path, 0o622) == 0 else {
            throw RuntimeError.system(SystemCallError("mkfifo(\"\(path)\")", errno: errno))
        }
        guard chmod(path, 0o622) == 0 else {
            throw RuntimeError.system(SystemCallError("chmod(\"\(path)\", 0622)", errno: errno))
        }
        guard spec.newNamespaces.contains(.user) else { return }
        let uid = Self.hostID(ofRoot: spec.linux?.uidMappings) ?? geteuid()
        let gid = Self.hostID(ofRoot: spec.linux?.gidMappings) ?? getegid()
        guard chown(path, uid, gid) == 0 else {
            throw RuntimeError.system(SystemCallError("chown(\"\(path)\", \(uid), \(gid))", errno: errno))
        }
    }

    /// The exec fifo as the init gets it: O_PATH, which neither blocks nor lets anyone read or
    /// write; the init reopens it for writing through /proc/self/fd once it is ready.
    static func openExecFifo(_ path: String) throws -> Int32 {
        let fd = open(path, Sys.openPath | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError.system(SystemCallError("open(\"\(path)\", O_PATH)", errno: errno)) }
        return fd
    }

    /// The host id that a mapping makes the container's id 0, if it maps 0.
    static func hostID(ofRoot mappings: [Spec.IDMapping]?) -> UInt32? {
        guard let range = (mappings ?? []).first(where: { $0.containerID == 0 && $0.size > 0 }) else { return nil }
        return range.hostID
    }

    static func writePidFile(_ path: String, pid: pid_t) throws {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        do {
            try Sys.replaceFile(absolute, Array("\(pid)".utf8))
        } catch {
            throw RuntimeError.usage("--pid-file \(path): cannot write it: \(error)")
        }
    }

    /// start: open the exec fifo, which lets the init's blocked open return and exec.
    public func start(id: String) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status == "created" else { throw RuntimeError.wrongStatus(id: id, status: status, operation: "start") }
        let fd = open(store.fifo(id), O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw RuntimeError.system(SystemCallError("open(\"\(store.fifo(id))\")", errno: errno)) }
        defer { close(fd) }
        var byte: UInt8 = 0
        let deadline = Date().addingTimeInterval(10)
        while true {
            let n = read(fd, &byte, 1)
            if n == 1 { break }
            if !StateStore.isAlive(pid: record.pid, startTime: record.startTime) {
                // A quick command (`true`) may have taken the signal, run and exited between the
                // read above and this check: its byte is waiting in the fifo.
                if read(fd, &byte, 1) == 1 { break }
                throw RuntimeError.noProcess(id)
            }
            if Date() > deadline {
                throw RuntimeError.initFailed("the container's init did not take the start signal in 10 s")
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&poller, 1, 50)
        }
        unlink(store.fifo(id))
        // The init holds the fifo open, close-on-exec, through the startContainer hooks: its end
        // is the exec of the user's process, which poststart must follow. Before it, an
        // "error …" line means there was none (a startContainer hook failed): start's error,
        // and the container is stopped (runtime-spec).
        var late: [UInt8] = []
        while true {
            let n = read(fd, &byte, 1)
            if n == 1 { late.append(byte); continue }
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&poller, 1, 50)
        }
        let message = String(decoding: late, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if message.hasPrefix("error ") { throw RuntimeError.initFailed(String(message.dropFirst(6))) }
        runPoststart(record)
    }

    /// poststart, once the user's process runs: a failing hook is a warning and the rest still
    /// run (runtime-spec 1.2); start succeeds and the container runs on.
    func runPoststart(_ record: StateStore.Record) {
        let state = ContainerState(
            id: record.id, status: HookRunner.status["poststart"]!, pid: record.pid,
            bundle: record.bundle, annotations: record.annotations)
        for failure in HookRunner.runAll(record.hooks?.poststart, kind: "poststart", state: state) {
            warning("\(failure)")
        }
    }

    /// poststop, once the container is gone: a failing hook is a warning, the rest still run.
    func runPoststop(_ record: StateStore.Record) {
        let state = ContainerState(
            id: record.id, status: HookRunner.status["poststop"]!, pid: nil,
            bundle: record.bundle, annotations: record.annotations)
        for failure in HookRunner.runAll(record.hooks?.poststop, kind: "poststop", state: state) {
            warning("\(failure)")
        }
    }

    public func state(id: String) throws -> ContainerState {
        store.state(of: try store.load(id))
    }

    public func kill(id: String, signal: Int32, all: Bool) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard ["created", "running", "paused"].contains(status) else {
            // Every process of a stopped container is already gone: `kill --all` has nothing
            // left to do (containerd's shim sends it when a pod's sandbox has died), as with runc.
            if all && status == "stopped" { return }
            throw RuntimeError.wrongStatus(id: id, status: status, operation: "kill")
        }
        if all, let cgroup = store.cgroup(of: record) {
            for pid in cgroup.processes() { Glibc.kill(pid, signal) }
            if status == "paused" { thaw(record) }
        } else if Glibc.kill(record.pid, signal) != 0 {
            throw RuntimeError.system(SystemCallError("kill(\(record.pid), \(Signals.name(signal)))", errno: errno))
        }
    }

    /// Frozen processes cannot act on a signal, SIGKILL included, until thawed.
    func thaw(_ record: StateStore.Record) {
        try? Freezer.of(record.cgroupDirectories)?.thaw()
    }

    /// delete: remove a stopped (or created) container; --force kills a running one first. A
    /// create that died half-way leaves a record that this cleans up too.
    public func delete(id: String, force: Bool) throws {
        let record: StateStore.Record
        do { record = try store.load(id) } catch RuntimeError.notFound(_) where force { return }
        try remove(record, force: force)
    }

    /// Tear down what `record` describes (the process if forced, the cgroup, the state), with the
    /// poststop hooks.
    func remove(_ record: StateStore.Record, force: Bool) throws {
        let id = record.id
        let status = store.status(of: record)
        // A creating container may still be in its create's hands: only --force takes it.
        if status == "running" || status == "paused" || (status == "creating" && record.pid > 0) {
            guard force else { throw RuntimeError.wrongStatus(id: id, status: status, operation: "delete") }
        }
        if status != "stopped" && record.pid > 0 {
            Glibc.kill(record.pid, SIGKILL)
        }
        let cgroup = store.cgroup(of: record)
        // A cgroup shared with another container, or one found only by its path (a create
        // killed before it recorded its directories, which may have joined a busy one), keeps
        // what is not this container's: only its init is killed, below.
        let shared = record.sharesCgroup == true || record.cgroupDirectories.isEmpty
        if let cgroup {
            // Thawed in any case: a frozen init cannot die of the SIGKILL it is sent.
            thaw(record)
            if !shared { for pid in cgroup.processes() { Glibc.kill(pid, SIGKILL) } }
        }
        let deadline = Date().addingTimeInterval(5)
        while record.pid > 0 && StateStore.isAlive(pid: record.pid, startTime: record.startTime) && Date() < deadline {
            var status: Int32 = 0
            _ = waitpid(record.pid, &status, WNOHANG)
            usleep(1_000)
        }
        // A shared cgroup keeps the other container's processes, and stays while they live.
        if shared { cgroup?.removeIfEmpty(dying: record.pid) } else { cgroup?.destroy() }
        if record.hostMounts { Self.unmountHostMounts(under: record.rootfs) }
        store.remove(id)
        // After the container is deleted, before delete returns (runtime-spec); the state is
        // gone first, as runc removes its own, so a hook that looks finds no container.
        runPoststop(record)
    }

    /// A hostname for a uts namespace joined by a path that turned out to be this process's
    /// own (NamespacePaths.open leaves those out of `joined`): setting it would rename the host.
    static func hostnameRefusal(_ spec: Spec, joined: [ContlabCore.Namespace]) -> SpecError? {
        guard spec.hostname?.isEmpty == false || spec.domainname?.isEmpty == false,
            let index = spec.linux?.namespaces?.firstIndex(where: { $0.type == "uts" && $0.path != nil }),
            !joined.contains(.uts)
        else { return nil }
        return SpecError(
            "linux.namespaces[\(index)].path",
            "\(spec.linux?.namespaces?[index].path ?? "") is the host's own uts namespace,"
                + " where setting hostname would rename the host; remove hostname, or give a new uts namespace (no "
                + "path)"
        )
    }

    /// A container without a mount namespace made its mounts (proc, a /dev tmpfs…) in the
    /// host's table under its root; they outlive its processes, so delete detaches them,
    /// deepest first. Only mounts strictly below the root: the root itself is the bundle's.
    static func unmountHostMounts(under rootfs: String) {
        let mountinfo = Sys.readText("/proc/self/mountinfo") ?? ""
        let resolved =
            realpath(rootfs, nil).map { pointer in
                defer { free(pointer) }; return String(cString: pointer)
            } ?? rootfs
        for target in HostMounts.targets(below: resolved, mountinfo: mountinfo) {
            try? Sys.umount(target, detach: true)
        }
    }

    /// run: create and start at once, then (unless detached) wait for the process, passing
    /// signals on, and delete the container; returns the exit code (128+N for signal N).
    /// `keep`: the stopped container is left for `state` and `delete` (runc's --keep).
    public func run(
        _ options: CreateOptions, detach: Bool, keep: Bool = false,
        onCreated: (Created) -> Void = { _ in }
    ) throws -> Int32 {
        if !detach { Signals.block(Signals.forwarded + [SIGCHLD]) }
        var options = options
        // A terminal and nowhere to send it: this command's own terminal is the container's.
        var relay: TerminalRelay?
        if !detach && options.consoleSocket == nil
            && (try? Self.loadBundle(options.bundle))?.0.process?.terminal == true
        {
            relay = try TerminalRelay()
            options.consoleSocket = relay?.socketPath
        }
        let created = try create(options, startAtOnce: true, dieWithCaller: !detach)
        do {
            try relay?.start()
        } catch {
            try? remove(created.record, force: true)
            throw error
        }
        onCreated(created)
        runPoststart(created.record)
        if detach { return 0 }
        let status = waitForwarding(pid: created.record.pid)
        relay?.finish()
        Timing.mark("container exited")
        // The record in hand, not re-read from disk: run owns this container from start to end.
        if !keep { try? remove(created.record, force: true) }
        Timing.mark("deleted")
        return status.shellCode
    }

    public func processes(id: String) throws -> [pid_t] {
        let record = try store.load(id)
        if let cgroup = store.cgroup(of: record) { return cgroup.processes() }
        return StateStore.isAlive(pid: record.pid, startTime: record.startTime) ? [record.pid] : []
    }
}
