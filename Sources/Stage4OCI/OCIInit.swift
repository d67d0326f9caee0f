import CCap
import CLinux
import ContlabCore
import Foundation
import OCI

/// The init of an OCI container (`contlab __oci-init`): inside the new namespaces, it builds the
/// root the spec describes, reports "ready" to the host, waits on the exec fifo until `start`,
/// then becomes the container's process by exec — PID 1, as runc's init does. Lesson: stage4-oci.
public enum OCIInit {
    public static func main() -> Never {
        // The process runc's command line starts is the container's own, signals and all: the
        // mask of the contlab that cloned it (which blocks what it forwards) is not its.
        InitHandshake.unblockSignals()
        guard let text = PlanHandoff.read(key: OCIInitPlan.environmentKey),
            let plan = try? OCIInitPlan.decode(payload: text)
        else {
            Sys.warn(
                "contlab: __oci-init is the internal entry point of an OCI container's first process; use "
                    + "contlab-runc create or run"
            )
            exit(125)
        }
        // Keep stdio and our two pipes; whatever else the creator had open (its caller's
        // bookkeeping sockets, say) would otherwise live as long as the container.
        let handed = [plan.fifoFD, plan.consoleFD].compactMap { $0 }
        let keep = [plan.toHostFD, plan.fromHostFD] + handed + (0..<Int32(plan.preserveFDs)).map { 3 + $0 }
        _ = keep.withUnsafeBufferPointer { cl_close_others($0.baseAddress, Int32($0.count)) }
        // The user's process must not inherit them.
        handed.forEach { Sys.setCloexec($0, true) }
        Timing.mark("init plan decoded")
        CallRecord.shared.enabled = plan.record
        let channel = Channel(toHost: plan.toHostFD, fromHost: plan.fromHostFD)
        do {
            try run(plan, channel: channel)
        } catch {
            channel.send("error " + "\(error)".replacingOccurrences(of: "\n", with: " "))
            exit(1)
        }
        exit(1)
    }

    /// The bind sources the host opened in this mount namespace (OCIInitPlan.bindSources), as
    /// they come down the socket to the host, in order.
    static func receiveBindSources(_ plan: OCIInitPlan) throws -> [Int: Int32] {
        var fds: [Int: Int32] = [:]
        guard CallRecord.shared.callsKernel else { return fds }
        for index in plan.bindSources {
            let fd = cl_recv_fd(plan.toHostFD)
            guard fd >= 0 else {
                throw InitError.message(
                    "mounts[\(index)]: the runtime did not send the bind source it opened"
                        + " (\(String(cString: strerror(-fd))))")
            }
            fds[index] = fd
        }
        return fds
    }

    /// The line protocol to the host: the init says "hooks" (run yours, then answer), "record …",
    /// "ready" or "error …"; the host answers "go".
    struct Channel {
        let toHost: Int32
        let fromHost: Int32

        func send(_ line: String) { Sys.writeAll(toHost, Array((line + "\n").utf8)) }

        func waitForGo() throws {
            var byte: UInt8 = 0
            var line = ""
            while read(fromHost, &byte, 1) == 1 {
                if byte == 10 { break }
                line.append(Character(Unicode.Scalar(byte)))
            }
            guard line == "go" else { throw InitError.message("the runtime stopped before the container was set up") }
        }

        func close() {
            Glibc.close(toHost)
            Glibc.close(fromHost)
        }
    }

    /// The container set up (`setUp`), then the handshake: "ready" to the host, the exec fifo
    /// until `start`, the startContainer hooks, and exec.
    static func run(_ plan: OCIInitPlan, channel: Channel) throws -> Never {
        let command = try setUp(
            plan,
            hostHooks: {
                channel.send("hooks")
                try channel.waitForGo()
            },
            handOver: { listener in
                try SeccompAgent.sendListener(listener, over: channel.toHost)
            })
        if plan.record {
            for call in CallRecord.shared.entries { channel.send("record " + call) }
        }
        Timing.mark("init ready")
        channel.send("ready")
        // The exec fifo came open from the host (see OCIInitPlan).
        let fifoFD = plan.fifoFD ?? -1
        // poststart must follow the user's process (runtime-spec), and startContainer's hooks
        // come between: the host learns of the exec by the end of a descriptor the exec closes.
        // Without a fifo (run), that is the pipe to the host; with one, the fifo itself.
        // If there is no exec, an "error …" line on it says why, for start (or run) to report.
        var execWatch = plan.toHostFD
        if fifoFD < 0 {
            // Without a fifo to wait on, the host's "go" says the device rules are in place.
            try channel.waitForGo()
            Sys.setCloexec(plan.toHostFD, true)
            Glibc.close(plan.fromHostFD)
        } else {
            channel.close()
            // Blocks until `start` opens the fifo for reading: created → running.
            let fd = open("/proc/self/fd/\(fifoFD)", O_WRONLY | O_CLOEXEC)
            if fd < 0 { Sys.warn("contlab: cannot open the exec fifo: \(String(cString: strerror(errno)))"); exit(1) }
            Sys.writeAll(fd, [48])
            close(fifoFD)
            execWatch = fd
        }
        do {
            try HookRunner.run(
                plan.spec.hooks?.startContainer, kind: "startContainer",
                state: state(plan, "startContainer"))
            Timing.mark("init exec")
            try command.exec(cwd: nil, identity: nil, keepingDescriptors: Int32(plan.preserveFDs))
        } catch {
            let line = "error " + "\(error)".replacingOccurrences(of: "\n", with: " ") + "\n"
            Sys.writeAll(execWatch, Array(line.utf8))
            Sys.warn("contlab: \(error)")
            exit(127)
        }
    }

    /// Everything the init does inside the container's namespaces before it says "ready", in
    /// the lesson's order: the root built and entered, hostname and sysctls, masked and read-only
    /// paths, limits, the terminal, then the process's identity and seccomp. Every kernel call
    /// goes through `Sys`, so in the recording mode (`CallRecord.callsKernel == false`) a unit
    /// test runs this without root and reads the order back. `hostHooks` has the host run its
    /// createRuntime and prestart hooks; `handOver` takes a seccomp notification descriptor to
    /// the agent. Returns the command to exec.
    static func setUp(
        _ plan: OCIInitPlan, hostHooks: () throws -> Void,
        handOver: (Int32) throws -> Void
    ) throws -> ContainerCommand {
        let spec = plan.spec
        guard let process = spec.process else { throw InitError.message("config.json has no process to run") }
        let namespaces = spec.linux?.namespaces ?? []
        // Joined namespaces were entered before the clone that made us (they must be: a PID
        // namespace only takes children); our pid as the host sees it is read while /proc is the host's.
        _ = hostPID
        if namespaces.contains(where: { $0.type == "cgroup" && $0.path == nil }) {
            try Sys.unshare(.cgroup)
        }
        // The console socket came open from the host (see OCIInitPlan).
        let consoleFD = process.terminal == true ? plan.consoleFD ?? -1 : -1
        // A joined mount namespace gets the container's root built in it, at root.path as that
        // namespace sees it, as runc does; there the host's check of the path proves nothing.
        if let index = namespaces.firstIndex(where: { $0.type == "mount" && $0.path != nil }),
            !Sys.isDirectory(plan.rootfs)
        {
            throw InitError.message(
                "root.path \(plan.rootfs) is no directory in the mount namespace the container joins"
                    + " (linux.namespaces[\(index)].path \(namespaces[index].path ?? "")): the root is built"
                    + " there; give a root.path that namespace has, or let the container make its own")
        }
        // With a mount namespace (new or joined) the root is built there and pivot_root'ed into.
        // With no namespace at all the container is the host's in every way but its root: the
        // mounts are made in the host's table and the root is entered with chroot, as runc does
        // (pivot_root would move the host's own root). Some namespaces without a mount one is
        // more likely a mistake than that, and is refused.
        let hostMounts = namespaces.isEmpty
        guard hostMounts || namespaces.contains(where: { $0.type == "mount" }) else {
            throw InitError.field(
                "linux.namespaces",
                "contlab needs a mount namespace to build the container's root in;"
                    + " add {\"type\": \"mount\"} (or list no namespace at all, to share every one of the host's)")
        }
        var rootfs = RootfsSetup(plan: plan, hostMounts: hostMounts)
        rootfs.sourceFDs = try receiveBindSources(plan)
        try rootfs.prepare()
        if plan.hostHooks { try hostHooks() }
        // In the container's namespaces, before pivot_root, started in the container's root
        // (runc chdirs there first), so a hook can use paths relative to it.
        try HookRunner.run(
            spec.hooks?.createContainer, kind: "createContainer",
            state: state(plan, "createContainer"), cwd: plan.rootfs)
        Timing.mark("init mounts made")
        try rootfs.enterRoot()
        // A uts namespace joined by path takes the hostname as a new one does; the host refused
        // a path to its own (see OCIRuntime.create).
        if namespaces.contains(where: { $0.type == "uts" }) {
            if let hostname = spec.hostname, !hostname.isEmpty { try Sys.sethostname(hostname) }
            if let domain = spec.domainname, !domain.isEmpty { try Sys.setdomainname(domain) }
        }
        for (key, value) in (spec.linux?.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            try Sys.writeFile("/proc/sys/" + key.replacingOccurrences(of: ".", with: "/"), value)
        }
        try rootfs.finish()
        try applyLimits(process)
        let command = try resolveCommand(process)
        if consoleFD >= 0 { try takeTerminal(consoleFD, process: process, asConsole: true) }
        // A read-only /dev is made so last, once the console is bound on it (runc's order).
        try rootfs.lockDev()
        // The user's identity and linux.seccomp now, before "ready" and the exec fifo, in runc's
        // order: a notification descriptor then reaches the host while create still listens,
        // and the startContainer hooks run as the process will, under the filter.
        try takeIdentity(process, dieWithCaller: plan.dieWithCaller, seccomp: spec.linux?.seccomp, handOver: handOver)
        return command
    }

    /// process.rlimits and process.oomScoreAdj, set while still root (the container's init, or
    /// an exec'd process).
    static func applyLimits(_ process: Spec.Process) throws {
        for (index, limit) in (process.rlimits ?? []).enumerated() {
            let resource = ResourceLimits.value(of: limit.type) ?? 0
            let raising =
                "raising a hard limit needs CAP_SYS_RESOURCE, which this environment does not grant;"
                + " lower it to the current hard limit (ulimit -Hn)"
            try InitError.on("process.rlimits[\(index)]", hints: [EPERM: raising]) {
                try Sys.setrlimit(resource, name: limit.type, soft: limit.soft, hard: limit.hard)
            }
        }
        if let adj = process.oomScoreAdj {
            try InitError.on("process.oomScoreAdj \(adj)", hint: "lowering it needs CAP_SYS_RESOURCE") {
                try Sys.writeFile("/proc/self/oom_score_adj", "\(adj)")
            }
        }
    }

    /// process.args[0] found in the container's PATH, with runc's defaults for PATH and HOME.
    static func resolveCommand(_ process: Spec.Process) throws -> ContainerCommand {
        var env = process.env ?? []
        if !env.contains(where: { $0.hasPrefix("PATH=") }) { env.append("PATH=\(ContainerPlan.defaultPath)") }
        if !env.contains(where: { $0.hasPrefix("HOME=") }) { env.append("HOME=/") }
        let searchPath =
            env.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ContainerPlan.defaultPath
        do {
            return try ContainerCommand.resolve(args: process.args ?? [], env: env, searchPath: searchPath, selfFD: nil)
        } catch let error as CommandError {
            // Docker and Podman choose their exit code (127, 126) by looking for runc's words
            // in the message; say them too.
            let words =
                error.exitCode == 127
                ? " (executable file not found)" : error.exitCode == 126 ? " (permission denied)" : ""
            throw InitError.field("process.args[0]", "\(error)\(words)")
        }
    }

    /// A new pty from the container's /dev/ptmx: its master goes to the caller's console socket,
    /// its slave becomes our controlling terminal and standard streams.
    static func takeTerminal(_ consoleFD: Int32, process: Spec.Process, asConsole: Bool) throws {
        var master: Int32 = -1, slave: Int32 = -1
        var index: UInt32 = 0
        let rc = cl_open_pty("/dev/ptmx", &master, &slave, &index)
        if rc != 0 { throw SystemCallError("open(\"/dev/ptmx\") for the container's terminal", errno: -rc) }
        // runtime-spec's default devices: /dev/console is the container's terminal (the
        // init's; an exec'd process only gets a pty of its own).
        if asConsole && Sys.isDirectory("/dev/pts") {
            if !Sys.exists("/dev/console") { try? Sys.touch("/dev/console", mode: 0o600) }
            try Sys.mount(source: "/dev/pts/\(index)", target: "/dev/console", fstype: nil, flags: [.bind])
        }
        if let size = process.consoleSize {
            var ws = winsize(ws_row: size.height, ws_col: size.width, ws_xpixel: 0, ws_ypixel: 0)
            _ = ioctl(slave, UInt(TIOCSWINSZ), &ws)
        }
        let sent = cl_send_fd(consoleFD, master)
        if sent != 0 { throw SystemCallError("sendmsg(console socket, SCM_RIGHTS)", errno: -sent) }
        close(master)
        close(consoleFD)
        let taken = cl_take_terminal(slave)
        if taken != 0 { throw SystemCallError("ioctl(TIOCSCTTY) on the container's terminal", errno: -taken) }
        if slave > 2 { close(slave) }
    }

    /// The state handed to the init's own hooks (`kind`: createContainer or startContainer).
    static func state(_ plan: OCIInitPlan, _ kind: String) -> ContainerState {
        ContainerState(
            id: plan.id, status: HookRunner.status[kind] ?? "creating", pid: hostPID, bundle: plan.bundle,
            annotations: plan.spec.annotations)
    }

    /// Our pid as the host sees it, read before a new /proc hides it (the host's /proc is still
    /// the one mounted when the init starts).
    nonisolated(unsafe) static var hostPID: Int32 = {
        Sys.readText("/proc/self/stat").flatMap { Int32($0.split(separator: " ").first ?? "") } ?? getpid()
    }()

    /// A connection to a --console-socket, close-on-exec: made by create on the host for the init,
    /// and by exec's helper before it enters the container's namespaces.
    static func connectUnixSocket(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemCallError("socket(AF_UNIX)", errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw RuntimeError.consoleSocket(path, "too long for a unix socket address (108 bytes): use a shorter path")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 {
            let why = errno
            close(fd)
            throw RuntimeError.consoleSocket(
                path,
                "connect failed: \(String(cString: strerror(why))) (\(Errno.name(why)));"
                    + " give a listening unix socket, as containerd's shim and conmon make")
        }
        return fd
    }

    /// The process's identity, in the order capabilities(7) needs: drop the bounding set while
    /// CAP_SETPCAP is still held, keep capabilities across setuid, switch user, then set the
    /// three process sets and the ambient one; then no_new_privs. linux.seccomp is loaded where
    /// runc loads it: with no_new_privs, last; without, first, while CAP_SYS_ADMIN (which loading
    /// then needs) is still held. A notifying filter's descriptor goes to `handOver`, then is
    /// closed here: the agent must end up with the only copy.
    static func takeIdentity(
        _ process: Spec.Process, dieWithCaller: Bool, seccomp: Spec.Seccomp?,
        handOver: (Int32) throws -> Void
    ) throws {
        func loadFilter(_ seccomp: Spec.Seccomp) throws {
            guard let listener = try SeccompFilter.load(seccomp) else { return }
            defer { close(listener) }
            try handOver(listener)
        }
        Sys.umask(mode_t(process.user.umask ?? 0o022))
        // process.cwd is entered twice if need be, as runc does: first with the runtime's own
        // rights, which reach a directory the user may not search (root's 0700 /root for uid 42,
        // or a user's 0700 home for an exec as root without CAP_DAC_OVERRIDE); then, if that
        // failed, as the user, who may reach one the runtime cannot (rootless, root squashed).
        let enteredCwd = (try? Sys.chdir(process.cwd)) != nil
        if let seccomp, process.noNewPrivileges != true { try loadFilter(seccomp) }
        if let caps = process.capabilities {
            let bounding = Set((caps.bounding ?? []).compactMap(CapabilityNames.value(of:)))
            let dropped = (0..<Int(cap_max_bits())).filter { !bounding.contains($0) }.map {
                Capability(Int32($0), CapabilityNames.all[safe: $0] ?? "\($0)")
            }
            try InitError.on(
                "process.capabilities.bounding",
                hints: [EPERM: "dropping from the bounding set needs CAP_SETPCAP"]
            ) {
                try Sys.dropFromBoundingSet(dropped)
            }
            try? Sys.keepCapabilities(true)
        }
        let user = process.user
        if user.uid != 0 { giveStdio(to: user.uid, terminal: process.terminal == true) }
        let groups = user.additionalGids ?? []
        try InitError.on(
            "process.user.additionalGids",
            hints: [EPERM: "this user namespace denies setgroups (rootless); remove additionalGids"]
        ) {
            do {
                try Sys.setgroups(groups)
            } catch let error as SystemCallError where error.errno == EPERM && groups.isEmpty {
                // Where setgroups is denied (rootless), there are no groups to clear either.
            }
        }
        try InitError.on("process.user.gid \(user.gid)", hint: "is it mapped in linux.gidMappings?") {
            try Sys.setgid(user.gid)
        }
        try InitError.on("process.user.uid \(user.uid)", hint: "is it mapped in linux.uidMappings?") {
            try Sys.setuid(user.uid)
        }
        // The kernel clears the parent-death signal on a change of credentials; a foreground
        // run's container must still end with its caller.
        if dieWithCaller { try? Sys.setParentDeathSignal(SIGKILL) }
        if let caps = process.capabilities {
            try setProcessCapabilities(caps)
            try? Sys.keepCapabilities(false)
        }
        if !enteredCwd {
            let hint =
                "neither the runtime nor uid \(user.uid) can enter it: create it in the root filesystem,"
                + " or give the user search rights on it"
            try InitError.on("process.cwd \(process.cwd)", hint: hint) {
                try Sys.chdir(process.cwd)
            }
        }
        if process.noNewPrivileges == true {
            // Asked for and not set is a container that could gain privileges: fatal, as in runc.
            try InitError.on("process.noNewPrivileges") { try Sys.setNoNewPrivileges() }
            if let seccomp { try loadFilter(seccomp) }
        }
    }

    /// A process that is not root must be able to use its standard streams by name
    /// (/dev/stdout, $(tty) — /proc/self/fd/N is checked against the file's owner): the pty
    /// this runtime made for it, and pipes and sockets, get its uid, keeping their group (the
    /// pty's is devpts' gid=5, tty), as runc does. Unlike runc, a terminal or device the caller
    /// passed in is left alone: it is the host's, not the container's. Best effort: a stream
    /// whose owner is not mapped here (EPERM, EINVAL) or on a read-only /dev (EROFS) stays as it is.
    static func giveStdio(to uid: UInt32, terminal: Bool) {
        for fd: Int32 in 0...2 {
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_uid != uid else { continue }
            let kind = st.st_mode & S_IFMT
            guard kind == S_IFIFO || kind == S_IFSOCK || (kind == S_IFCHR && terminal && isatty(fd) == 1) else {
                continue
            }
            try? Sys.fchown(fd, uid: uid, gid: st.st_gid)
        }
    }

    /// process.capabilities' effective, permitted and inheritable sets, then the ambient one.
    static func setProcessCapabilities(_ caps: Spec.Capabilities) throws {
        func named(_ names: [String]?) -> [Capability] {
            (names ?? []).compactMap { name in CapabilityNames.value(of: name).map { Capability(Int32($0), name) } }
        }
        let hint = "effective must be within permitted, and permitted within the bounding set"
        try InitError.on("process.capabilities", hint: hint) {
            try Sys.setCapabilities(
                effective: named(caps.effective), permitted: named(caps.permitted),
                inheritable: named(caps.inheritable))
        }
        // Ambient capabilities must also be permitted and inheritable; runc's default spec lists
        // ambient ones without inheritable, and like runc we go on where the kernel refuses.
        for capability in named(caps.ambient) { try? Sys.raiseAmbient(capability) }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
