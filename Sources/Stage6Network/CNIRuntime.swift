import CLinux
import ContlabCore
import Foundation

/// The runtime's half of CNI: contlab makes no interface itself here; it runs the plugins the
/// configuration names, each a separate program, with the protocol's variables, the
/// configuration on stdin, and the result read back from stdout. Lesson: stage6-network.
///
/// The plugins run in the host side of the lab network named by the configuration (the process
/// is spawned while this thread is in that namespace, and a new process starts in its creator's
/// thread's namespaces), so what a plugin thinks of as "the host" — where the bridge plugin
/// makes its bridge and the host end of the veth pair, where it would enable ip_forward or add
/// masquerade rules — is that lab namespace. The host's own network is never touched.
///
/// As libcni does, the last ADD result is kept (in the network's folder, `cni-results/`) and
/// given back as `prevResult` to CHECK and DEL.
public struct CNIRuntime {
    public var store: NetworkStore
    public var config: CNINetworkConfig
    /// CNI_PATH: the folders, separated by ':', where the plugins (and the IPAM plugins they
    /// run themselves) are found.
    public var cniPath: String
    public var containerID: String
    public var ifname: String
    /// CNI_NETNS: the container's network namespace file, or "" on a DEL whose container is gone.
    public var netns: String
    /// `-p`: handed to plugins with the portMappings capability (portmap) as runtimeConfig.
    public var portMappings: [PortMapping] = []
    /// Each exchange with a plugin, as text, for --explain.
    public var onExchange: ((String) -> Void)?

    public static let defaultPath = "/usr/lib/cni"

    public init(
        store: NetworkStore = NetworkStore(), config: CNINetworkConfig, cniPath: String, containerID: String,
        ifname: String, netns: String
    ) {
        self.store = store
        self.config = config
        self.cniPath = cniPath
        self.containerID = containerID
        self.ifname = ifname
        self.netns = netns
    }

    var network: String { config.name }
    var hostSide: String { store.namespacePath(network) }
    /// host-local's leases: in the lab network's folder, so `network rm` removes them too.
    public var ipamDataDir: String { store.folder(network) + "/cni-ipam" }
    var resultsFolder: String { store.folder(network) + "/cni-results" }
    public var resultPath: String { resultsFolder + "/\(containerID)@\(ifname).json" }
    /// ADD's `-p`, kept beside the result: portmap's DEL removes its rules only when told the
    /// ports again (libcni keeps its runtimeConfig the same way).
    var portsPath: String { resultsFolder + "/\(containerID)@\(ifname).ports" }

    /// `-p` as given, else the ports kept at ADD.
    func keptPortMappings() -> [PortMapping] {
        guard portMappings.isEmpty, let text = Sys.readText(portsPath) else { return portMappings }
        return text.split(separator: "\n").compactMap { try? PortMapping(parsing: String($0)) }
    }

    /// The program for plugin type `name`: the first in CNI_PATH.
    public func program(_ name: String) throws -> String {
        for folder in cniPath.split(separator: ":") where access("\(folder)/\(name)", X_OK) == 0 {
            return "\(folder)/\(name)"
        }
        throw NetworkError.cniPluginMissing(plugin: name, cniPath: cniPath)
    }

    /// Every program there and speaking the configuration's version (CNI_COMMAND=VERSION), and
    /// the configuration fit for the lab network it names; before anything is changed.
    func prepare() throws -> NetworkRecord {
        let record = try store.record(network)
        try config.check(against: record)
        for name in config.programs {
            let path = try program(name)
            let output = try CNIPluginProcess.run(
                program: path, environment: CNIEnvironment.version, input: "{}", namespacePath: hostSide)
            guard output.succeeded,
                case .array(let versions)? = try? JSONValue.parse(output.stdout)["supportedVersions"]
            else {
                throw NetworkError.cniFailed(
                    plugin: name, command: "VERSION", code: nil, message: output.failure, details: nil)
            }
            let supported = versions.compactMap { value -> String? in
                if case .string(let text) = value { return text }
                return nil
            }
            guard supported.contains(config.cniVersion) else {
                throw NetworkError.cniVersion(
                    plugin: name, version: config.cniVersion, supported: supported, path: config.path)
            }
        }
        return record
    }

    /// ADD, plugin by plugin, each given the previous one's result; on a failure, DEL for those
    /// that ran (the spec's cleanup), and the error. Returns the last result, also kept.
    public func add() throws -> (result: CNIResult, json: String) {
        _ = try prepare()
        return try store.locked {
            _ = try store.record(network)  // still there now that we hold the lock
            var previous: JSONValue?
            for index in config.plugins.indices {
                do {
                    previous = try invoke("ADD", plugin: index, prevResult: previous)
                } catch {
                    for ran in (0...index).reversed() { _ = try? invoke("DEL", plugin: ran, prevResult: nil) }
                    throw error
                }
            }
            let json = previous?.serialized ?? "{}"
            do {
                let result = try CNIResult(parsing: json, plugin: Self.type(config.plugins.last))
                try Sys.mkdir(resultsFolder, mode: 0o700, existOK: true)
                try store.atomicWrite(resultPath, json)
                if !portMappings.isEmpty {
                    try store.atomicWrite(portsPath, portMappings.map(\.description).joined(separator: "\n"))
                }
                return (result, json)
            } catch {
                for ran in config.plugins.indices.reversed() { _ = try? invoke("DEL", plugin: ran, prevResult: nil) }
                throw error
            }
        }
    }

    /// CHECK, in order, each plugin given the kept ADD result: an error when what the plugins
    /// made is no longer as they made it.
    public func check() throws {
        _ = try prepare()
        guard config.cniVersion >= "0.4.0" else {
            throw NetworkError.cniConfig(
                path: config.path, why: "CHECK came with CNI 0.4.0; write \"cniVersion\": \"1.0.0\"")
        }
        try store.locked {
            guard let kept = Sys.readText(resultPath), let previous = try? JSONValue.parse(kept) else {
                throw NetworkError.cniNotAttached(container: containerID, ifname: ifname, network: network)
            }
            var runtime = self
            runtime.portMappings = keptPortMappings()
            for index in config.plugins.indices { _ = try runtime.invoke("CHECK", plugin: index, prevResult: previous) }
        }
    }

    /// DEL, in reverse order, each plugin given the kept ADD result (if any): the plugins
    /// release the address and remove what they made. Every plugin is asked even when one
    /// fails; the result is forgotten only when all succeeded.
    public func delete() throws {
        let record = try store.record(network)
        try config.check(against: record)
        for name in config.programs { _ = try program(name) }
        try store.locked {
            let previous = Sys.readText(resultPath).flatMap { try? JSONValue.parse($0) }
            var runtime = self
            runtime.portMappings = keptPortMappings()
            var failure: Error?
            for index in config.plugins.indices.reversed() {
                do { _ = try runtime.invoke("DEL", plugin: index, prevResult: previous) } catch {
                    failure = failure ?? error
                }
            }
            if let failure { throw failure }
            unlink(resultPath)
            unlink(portsPath)
            rmdir(resultsFolder)  // when it is empty
        }
    }

    static func type(_ plugin: JSONValue?) -> String {
        if case .string(let type)? = plugin?["type"] { return type }
        return "?"
    }

    /// One plugin, one command: its result (ADD) or nil.
    func invoke(_ command: String, plugin index: Int, prevResult: JSONValue?) throws -> JSONValue? {
        let type = Self.type(config.plugins[index])
        let path = try program(type)
        let environment = CNIEnvironment.variables(
            command: command, containerID: containerID, netns: netns, ifname: ifname, cniPath: cniPath)
        let input = config.stdin(
            plugin: index, prevResult: prevResult, ipamDataDir: ipamDataDir, portMappings: portMappings)
        CallRecord.shared.note(
            "setns(open(\"\(hostSide)\"), CLONE_NEWNET); posix_spawn(\"\(path)\") with CNI_COMMAND=\(command); setns "
                + "back"
        )
        onExchange?(
            "\(path), in \(network)'s host side:\n  " + environment.joined(separator: "\n  ") + "\n  stdin: \(input)")
        let output = try CNIPluginProcess.run(
            program: path, environment: environment, input: input, namespacePath: hostSide)
        onExchange?(
            "  exit \(output.status), stdout: \(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))"
                + (output.stderr.isEmpty
                    ? "" : "\n  stderr: \(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"))
        guard output.succeeded else {
            let error = try? JSONDecoder().decode(CNIErrorResult.self, from: Data(output.stdout.utf8))
            throw NetworkError.cniFailed(
                plugin: type, command: command, code: error?.code, message: error?.msg ?? output.failure,
                details: error?.details.flatMap { $0.isEmpty ? nil : $0 })
        }
        guard command == "ADD" else { return nil }
        guard let result = try? JSONValue.parse(output.stdout), case .object = result else {
            throw NetworkError.cniFailed(
                plugin: type, command: command, code: nil, message: "it printed no result JSON",
                details: String(output.stdout.prefix(200)))
        }
        return result
    }
}

/// One run of a plugin program: posix_spawn (no Swift code runs in the child) with a minimal
/// environment, its stdin a pipe already holding the whole input (so nothing can block or take
/// SIGPIPE writing it), stdout and stderr read to their end.
public enum CNIPluginProcess {
    public struct Output {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var succeeded: Bool { status == 0 }
        /// What went wrong, from stderr or the exit status.
        public var failure: String {
            let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? "exit status \(status)" : text
        }
    }

    /// Run `program` with `environment` (and nothing else of ours), in the network namespace at
    /// `namespacePath` when given.
    public static func run(program: String, environment: [String], input: String, namespacePath: String?) throws
        -> Output
    {
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        var made: [Int32] = []
        defer { for fd in made where fd >= 0 { close(fd) } }
        for index in 0..<3 {
            var fds: [Int32] = [-1, -1]
            let rc = cl_pipe2(&fds, O_CLOEXEC)
            guard rc == 0 else { throw NetworkError.system("pipe2(O_CLOEXEC)", errno: -rc) }
            made += fds
            if index == 0 { stdinPipe = fds } else if index == 1 { stdoutPipe = fds } else { stderrPipe = fds }
        }
        let bytes = Array(input.utf8)
        guard bytes.count < 65536 else {
            throw NetworkError.cniArgument(
                "the configuration for \(program) is \(bytes.count) bytes; CNI configurations are small, keep it "
                    + "under 64 KiB"
            )
        }
        Sys.writeAll(stdinPipe[1], bytes)
        close(stdinPipe[1])
        made.removeAll { $0 == stdinPipe[1] }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        var pid: pid_t = 0
        let spawn = { () -> Int32 in
            withCStrings([program]) { argv in
                withCStrings(environment) { envp in
                    posix_spawn(
                        &pid, program, &actions, &attributes, UnsafeMutablePointer(mutating: argv),
                        UnsafeMutablePointer(mutating: envp))
                }
            }
        }
        let rc = try namespacePath.map { try InNetworkNamespace.run(path: $0, spawn) } ?? spawn()
        guard rc == 0 else { throw NetworkError.system("posix_spawn(\"\(program)\")", errno: rc) }
        for fd in [stdinPipe[0], stdoutPipe[1], stderrPipe[1]] {
            close(fd)
            made.removeAll { $0 == fd }
        }
        // Both outputs read together, so neither can fill its pipe while we wait on the other.
        var collected: [[UInt8]] = [[], []]
        var fds = [
            pollfd(fd: stdoutPipe[0], events: Int16(POLLIN), revents: 0),
            pollfd(fd: stderrPipe[0], events: Int16(POLLIN), revents: 0)
        ]
        var buffer = [UInt8](repeating: 0, count: 16384)
        while fds.contains(where: { $0.fd >= 0 }) {
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in 0..<2 where fds[index].fd >= 0 && fds[index].revents != 0 {
                let count = read(fds[index].fd, &buffer, buffer.count)
                if count > 0 {
                    collected[index] += buffer[0..<count]
                } else if count == 0 || errno != EINTR {
                    fds[index].fd = -1
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = cl_wait_termsig(status) != 0 ? 128 + cl_wait_termsig(status) : cl_wait_exitcode(status)
        return Output(
            status: code, stdout: String(decoding: collected[0], as: UTF8.self),
            stderr: String(decoding: collected[1], as: UTF8.self))
    }
}
