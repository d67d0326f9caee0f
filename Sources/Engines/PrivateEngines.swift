import ContlabCore
import Foundation

public enum EngineError: Error, CustomStringConvertible {
    case notInstalled(Engine, String)
    case noRuntimeLink(String)
    case daemonDidNotStart(String, log: String)
    case command([String], String)

    public var description: String {
        switch self {
        case .notInstalled(let engine, let path):
            let package = engine == .docker ? "docker.io" : "podman"
            return
                "\(engine.rawValue) is not installed (no \(path)): install Debian's \(package) (make setup does), "
                + "then run this again"
        case .noRuntimeLink(let path):
            return
                "no runc-compatible entry point at \(path): make build makes bin/contlab-runc (a link to contlab); or "
                + "ln -s contlab \(path)"
        case .daemonDidNotStart(let why, let log):
            return "the lab's dockerd did not start: \(why); its log is \(log)"
        case .command(let argv, let output):
            let last = output.split(separator: "\n").last.map(String.init) ?? ""
            return "\(argv.prefix(4).joined(separator: " ")) … failed: \(last)"
        }
    }
}

/// Starting and stopping the lab's own engines, and giving them a busybox image made from the
/// busybox recipe's tree (no registry).
public struct PrivateEngines {
    public let directories: EngineDirectories
    /// contlab-runc's absolute path: what the engines are told to run.
    public let runtimePath: String

    public init(directories: EngineDirectories, runtimePath: String) {
        self.directories = directories
        self.runtimePath = runtimePath
    }

    /// contlab-runc beside the running binary (make build's bin/contlab-runc).
    public static func runtimeBesideSelf() throws -> String {
        let me = Sys.readLink("/proc/self/exe") ?? CommandLine.arguments[0]
        let path = (me as NSString).deletingLastPathComponent + "/contlab-runc"
        guard Sys.exists(path) else { throw EngineError.noRuntimeLink(path) }
        return path
    }

    @discardableResult
    static func run(_ argv: [String]) throws -> String {
        let result = try HostCommand.run(argv)
        guard result.succeeded else { throw EngineError.command(argv, result.output) }
        return result.output
    }

    // MARK: Docker

    /// Whether a Docker daemon answers on `host` (through Debian's client).
    public static func dockerAnswers(client: String, host: String) -> Bool {
        (try? HostCommand.run([client, "--host", host, "version", "--format", "{{.Server.Version}}"]).succeeded) == true
    }

    /// The pid in dockerd's pid file, if that process is alive.
    public func dockerPID() -> pid_t? {
        let docker = directories.docker
        guard
            let pid = Sys.readText(docker.pidFile).flatMap({ pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            ),
            pid > 0, kill(pid, 0) == 0
        else { return nil }
        return pid
    }

    /// Start the lab's dockerd (unless it runs already) and wait until it answers; returns
    /// whether it was started now.
    @discardableResult
    public func startDocker() throws -> Bool {
        let docker = directories.docker
        guard Sys.exists(docker.daemon) else { throw EngineError.notInstalled(.docker, docker.daemon) }
        guard Sys.exists(docker.client) else { throw EngineError.notInstalled(.docker, docker.client) }
        let crun = Sys.exists("/usr/bin/crun") ? "/usr/bin/crun" : nil
        let config = docker.daemonConfig(runtimePath: runtimePath, crunPath: crun)
        if dockerPID() != nil {
            // One started for another contlab (another checkout's contlab-runc) is restarted for this one.
            if Sys.readText(docker.configFile) == config && Self.dockerAnswers(client: docker.client, host: docker.host)
            {
                return false
            }
            try stopDocker()
        }
        for dir in [docker.base, docker.dataRoot, docker.execRoot] {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        }
        try Data(config.utf8).write(to: URL(fileURLWithPath: docker.configFile))
        // Its own session (setsid), so a Ctrl-C at the terminal that ran setup does not reach it;
        // its output to a log file, never a pipe that someone would wait on.
        FileManager.default.createFile(atPath: docker.logFile, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: docker.logFile))
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = docker.daemonArguments(runtimePath: runtimePath)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do { try process.run() } catch { throw EngineError.daemonDidNotStart("\(error)", log: docker.logFile) }
        let deadline = Date().addingTimeInterval(60)
        while !Self.dockerAnswers(client: docker.client, host: docker.host) {
            if !process.isRunning && dockerPID() == nil {
                let tail = (Sys.readText(docker.logFile) ?? "").split(separator: "\n").suffix(1).joined()
                throw EngineError.daemonDidNotStart("it exited: \(tail)", log: docker.logFile)
            }
            if Date() > deadline {
                throw EngineError.daemonDidNotStart(
                    "it did not answer on \(docker.socket) within 60 s", log: docker.logFile)
            }
            usleep(100_000)
        }
        return true
    }

    /// `docker import` of the busybox tree as `busybox`, unless the image is there already.
    public func importDockerImage(tree: String) throws {
        let docker = directories.docker
        if (try? HostCommand.run(docker.clientArguments(["image", "inspect", docker.image])).succeeded) == true {
            return
        }
        try Self.run([
            "/bin/sh", "-c", "tar -C \"$0\" -c . | \"$1\" --host \"$2\" import - \"$3\"", tree, docker.client,
            docker.host, docker.image
        ])
    }

    /// Remove the lab's containers (through contlab-runc, which leaves no cgroup or mount behind),
    /// stop its dockerd and wait until it and its containerd are gone. Returns whether one ran.
    @discardableResult
    public func stopDocker() throws -> Bool {
        let docker = directories.docker
        guard let pid = dockerPID() else { return false }
        if let ids = try? HostCommand.run(docker.clientArguments(["ps", "--all", "--quiet"])), ids.succeeded {
            let list = ids.output.split(whereSeparator: \.isWhitespace).map(String.init)
            if !list.isEmpty { _ = try? HostCommand.run(docker.clientArguments(["rm", "--force"] + list)) }
        }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        // dockerd stops the containerd it started; wait for that too (it holds the exec root).
        let containerdPID = Sys.readText(docker.execRoot + "/containerd/containerd.pid").flatMap {
            pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if let containerdPID, containerdPID > 0 {
            let until = Date().addingTimeInterval(10)
            while kill(containerdPID, 0) == 0 && Date() < until { usleep(50_000) }
        }
        // dockerd makes its data root a shared bind mount of itself when it is not on a shared
        // mount, and does not always undo it on the way out.
        let mountinfo = Sys.readText("/proc/self/mountinfo") ?? ""
        if mountinfo.split(separator: "\n").contains(where: {
            $0.split(separator: " ").dropFirst(4).first.map(String.init) == docker.dataRoot
        }) {
            try? Sys.umount(docker.dataRoot, detach: true)
        }
        Self.removeEmptyParents(["docker"])
        return true
    }

    /// Run `argv` with our standard streams, and wait for it (posix_spawn and waitpid: no
    /// Foundation Process, which was seen to miss the exit of a podman whose conmon daemonized).
    public static func runPassingThrough(_ argv: [String]) -> Int32 {
        var pid: pid_t = 0
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let rc = withCStrings(argv) { args in
            withCStrings(environment) { env in
                posix_spawn(
                    &pid, argv[0], nil, nil, UnsafeMutablePointer(mutating: args), UnsafeMutablePointer(mutating: env))
            }
        }
        guard rc == 0 else { return 127 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return ExitStatus(waitStatus: status).shellCode
    }

    /// The journal's lines from byte `offset` on: what the runtime was asked since then.
    public static func journal(_ path: String, from offset: Int) -> String {
        let bytes = Array((Sys.readText(path) ?? "").utf8)
        return offset < bytes.count ? String(decoding: bytes[offset...], as: UTF8.self) : ""
    }

    // MARK: Podman

    public func podmanCommand(_ args: [String]) -> [String] {
        directories.podman.globalArguments(runtimePath: runtimePath) + args
    }

    /// Podman needs no daemon: make its private directories and import the image.
    public func preparePodman(tree: String) throws {
        let podman = directories.podman
        guard Sys.exists(podman.program) else { throw EngineError.notInstalled(.podman, podman.program) }
        for dir in [podman.base, podman.base + "/storage", podman.base + "/run", podman.base + "/tmp"] {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if (try? HostCommand.run(podmanCommand(["image", "exists", podman.image])).succeeded) == true { return }
        try Self.run(
            ["/bin/sh", "-c", "tar -C \"$0\" -c . | \"$@\"", tree] + podmanCommand(["import", "-", podman.image]))
    }

    /// Remove every container of the lab's Podman (conmon and contlab-runc end them).
    public func stopPodman() {
        let podman = directories.podman
        guard Sys.isDirectory(podman.base + "/storage") else { return }
        _ = try? HostCommand.run(podmanCommand(["rm", "--all", "--force", "--time", "1"]))
        // conmon's cgroup sits below Podman's parent.
        Self.removeEmptyParents(["libpod_parent/conmon", "libpod_parent"])
        Self.removePodmanPlainFolders()
    }

    /// On a hybrid host Podman 4.3 also makes conmon's "cgroup" under controllers that no v1
    /// hierarchy mounts (hugetlb lives on cgroup2 here, net_cls is not mounted at all): plain
    /// folders and a `tasks` file on /sys/fs/cgroup's tmpfs, which rmdir cannot remove.
    static func removePodmanPlainFolders() {
        var top = stat()
        guard stat("/sys/fs/cgroup", &top) == 0 else { return }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            let tree = "/sys/fs/cgroup/\(entry)/libpod_parent"
            var folder = stat()
            // A real hierarchy is a mount of its own: another device than the tmpfs above it.
            guard Sys.isDirectory(tree), stat(tree, &folder) == 0, folder.st_dev == top.st_dev else { continue }
            _ = try? HostCommand.run(["/bin/rm", "-rf", "--one-file-system", tree])
        }
    }

    /// The engines' parent cgroups (`docker/`, `libpod_parent/`), removed once empty: the
    /// runtime removes each container's own cgroup, not the engine's parent.
    static func removeEmptyParents(_ names: [String]) {
        let hierarchies = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []).map {
            "/sys/fs/cgroup/" + $0
        }
        for dir in hierarchies + ["/sys/fs/cgroup"] {
            for name in names { rmdir(dir + "/" + name) }
        }
    }
}
