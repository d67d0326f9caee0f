import CCap
import Cgroups
import ContlabCore
import Foundation
import OCI

/// `contlab-runc` (a link to contlab; also `contlab runc …`): the runc-compatible entry point
/// that containerd, Docker and Podman can call. Errors go to stderr and, as JSON lines or
/// text, to `--log`, where containerd reads them.
public enum RuncMain {
    public static func main(_ arguments: [String]) -> Never {
        let commandLine: RuncCommandLine
        do {
            commandLine = try RuncCommandLine.parse(arguments)
        } catch {
            Sys.warn("contlab-runc: \(error)")
            exit(1)
        }
        let journal = commandLine.globals.journal.map { RuntimeJournal(path: $0) }
        journal?.append("contlab-runc " + arguments.joined(separator: " "))
        journal?.appendCallers()
        var log = RuntimeLog(path: commandLine.globals.log, format: commandLine.globals.logFormat)
        log.journal = journal
        log.debugging = commandLine.globals.debug
        if commandLine.globals.systemdCgroup {
            log.error("--systemd-cgroup: contlab drives cgroupfs directly; configure the engine for cgroupfs")
            exit(1)
        }
        var runtime = OCIRuntime(store: StateStore(root: commandLine.globals.root ?? StateStore.defaultRoot()))
        runtime.record = commandLine.globals.debug || journal != nil
        let warningLog = log
        runtime.warning = { warningLog.warning($0) }
        runtime.debug = { warningLog.debug($0) }
        do {
            let status = try perform(commandLine.verb, runtime: runtime, log: log, preserveFDs: commandLine.preserveFDs)
            journal?.append("  → exit \(status)")
            exit(status)
        } catch {
            log.error("\(error)")
            // exec's own failures end in 255, as runc's do: any other code is the process's.
            if case .exec = commandLine.verb { exit(255) }
            exit(1)
        }
    }

    static func perform(_ verb: RuncCommandLine.Verb, runtime: OCIRuntime, log: RuntimeLog, preserveFDs: Int = 0) throws
        -> Int32
    {
        switch verb {
        case .create(let id, let bundle, let pidFile, let consoleSocket):
            let created = try runtime.create(
                .init(id: id, bundle: bundle, pidFile: pidFile, consoleSocket: consoleSocket, preserveFDs: preserveFDs))
            log.debugInit(created.calls)
        case .start(let id):
            try runtime.start(id: id)
        case .run(let id, let bundle, let pidFile, let consoleSocket, let detach, let keep):
            return try runtime.run(
                .init(id: id, bundle: bundle, pidFile: pidFile, consoleSocket: consoleSocket, preserveFDs: preserveFDs),
                detach: detach, keep: keep
            ) { created in
                log.debugInit(created.calls)
            }
        case .state(let id):
            print(try json(runtime.state(id: id)))
        case .kill(let id, let signal, let all):
            try runtime.kill(id: id, signal: signal, all: all)
        case .delete(let id, let force):
            try runtime.delete(id: id, force: force)
        case .list(let quiet, let asJSON):
            try list(runtime, quiet: quiet, asJSON: asJSON)
        case .ps(let id, let asJSON, let psArguments):
            let pids = try runtime.processes(id: id)
            if asJSON {
                print(try json(pids))
            } else {
                // runc's way: ps(1)'s own table (what docker top shows), filtered to our pids.
                let arguments = psArguments.isEmpty ? ["-ef"] : psArguments
                let command = (["ps"] + arguments).joined(separator: " ")
                let ps = try HostCommand.run(["ps"] + arguments)
                guard ps.succeeded else { throw RuntimeError.usage("\(command) failed: \(ps.output)") }
                guard let lines = ProcessTable.filter(ps.output, pids: Set(pids)) else {
                    throw RuntimeError.usage("\(command): its table has no PID column to filter by; add pid to -o")
                }
                for line in lines { print(line) }
            }
        case .events(let id, let stats, let interval):
            try events(runtime, id: id, statsOnly: stats, interval: interval)
        case .exec(let options):
            return try runtime.exec(
                .init(
                    id: options.id, process: try execProcess(options, runtime: runtime), detach: options.detach,
                    pidFile: options.pidFile, consoleSocket: options.consoleSocket,
                    ignorePaused: options.ignorePaused, preserveFDs: options.preserveFDs,
                    subCgroups: options.cgroups))
        case .pause(let id):
            try runtime.pause(id: id)
        case .resume(let id):
            try runtime.resume(id: id)
        case .update(let id, let source):
            let resources: Spec.Resources
            switch source {
            case .json(let path):
                let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : readWhole(path)
                guard let data else { throw RuntimeError.usage("update --resources \(path): cannot read it") }
                resources = try ResourceUpdate.decode(data)
            case .flags(let flags):
                resources = ResourceUpdate.resources(flags)
            }
            try runtime.update(id: id, resources: resources)
        case .features:
            print(try json(Features.current()))
        case .spec(let bundle, let rootless):
            let path = bundle + "/config.json"
            guard !FileManager.default.fileExists(atPath: path) else {
                throw RuntimeError.usage("\(path) exists already: remove it first, or give another --bundle")
            }
            var spec = DefaultSpec.make(rootless: rootless || geteuid() != 0, uid: getuid(), gid: getgid())
            // runc 1.1's spec asks for a cgroup namespace only where every controller is v2; on
            // a v1 or hybrid host its users add one themselves (runc's own tests do), and a second
            // entry for the same type is refused by runc and contlab alike.
            if CgroupHierarchy.current().mode != "v2" {
                spec.linux?.namespaces?.removeAll { $0.type == "cgroup" }
            }
            try DefaultSpec.encode(spec).write(to: URL(fileURLWithPath: path))
        case .help(let topic):
            print(topic.flatMap(RuncHelp.screen) ?? RuncHelp.main)
        case .version:
            print(version)
        }
        return 0
    }

    /// A file read to its end by read(2): also a pipe, such as the shell's `-p <(echo …)`
    /// (/dev/fd/63), which FileManager does not read.
    static func readWhole(_ path: String) -> Data? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return Data(Sys.readAll(fd))
    }

    /// exec's process: the `--process` file, or the container's own process with the arguments
    /// and flags given.
    static func execProcess(_ options: RuncCommandLine.ExecOptions, runtime: OCIRuntime) throws -> Spec.Process {
        if let file = options.processFile {
            guard let data = readWhole(file) else { throw RuntimeError.usage("exec --process \(file): cannot read it") }
            do { return try SpecCheck.decodeProcess(data) } catch let error as SpecError {
                throw RuntimeError.usage("exec --process \(file): \(error.path): \(error.message)")
            }
        }
        let record = try runtime.store.load(options.id)
        let (spec, _) = try OCIRuntime.loadBundle(record.bundle)
        guard let base = spec.process else {
            throw RuntimeError.spec(SpecError("process", "the container has no process to copy"))
        }
        var shaping = ExecProcessOptions(
            args: options.args, tty: options.tty, cwd: options.cwd, env: options.env, user: options.user)
        shaping.additionalGids = options.additionalGids
        return try shaping.apply(to: base)
    }

    static func list(_ runtime: OCIRuntime, quiet: Bool, asJSON: Bool) throws {
        let records = runtime.store.ids().compactMap { try? runtime.store.load($0) }
        let users = UserDatabase.host
        if quiet {
            for record in records { print(record.id) }
            return
        }
        struct Entry: Codable {
            var ociVersion: String, id: String, pid: Int32, status: String, bundle: String, rootfs: String,
                created: String, owner: String
            var annotations: [String: String]?
        }
        let entries = records.map { r -> Entry in
            let status = runtime.store.status(of: r)
            return Entry(
                ociVersion: DefaultSpec.ociVersion, id: r.id, pid: status == "stopped" ? 0 : r.pid, status: status,
                bundle: r.bundle, rootfs: r.rootfs, created: r.created,
                owner: owner(of: runtime.store.directory(r.id), users: users), annotations: r.annotations)
        }
        if asJSON {
            print(
                listJSON(
                    entries.map {
                        ListEntry(
                            id: $0.id, pid: $0.pid, status: $0.status, bundle: $0.bundle, rootfs: $0.rootfs,
                            created: $0.created, annotations: $0.annotations, owner: $0.owner)
                    }))
            return
        }
        let rows =
            [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
            + entries.map { [$0.id, String($0.pid), $0.status, $0.bundle, $0.created, $0.owner] }
        for line in ProcessTable.columns(rows) { print(line) }
    }

    /// One container in `list --format json`.
    struct ListEntry {
        var id: String, pid: Int32, status: String, bundle: String, rootfs: String, created: String
        var annotations: [String: String]?
        var owner: String
    }

    /// `list --format json` with runc's fields in runc's order (ociVersion, id, pid, status,
    /// bundle, rootfs, created, annotations when there are some, owner): tools and runc's own
    /// list.bats match the text, not only the values. Pure, for the tests.
    static func listJSON(_ entries: [ListEntry]) -> String {
        JSONValue.array(
            entries.map { entry in
                var fields: [(String, JSONValue)] = [
                    ("ociVersion", .string(DefaultSpec.ociVersion)), ("id", .string(entry.id)),
                    ("pid", .number(String(entry.pid))),
                    ("status", .string(entry.status)), ("bundle", .string(entry.bundle)),
                    ("rootfs", .string(entry.rootfs)),
                    ("created", .string(entry.created))
                ]
                if let annotations = entry.annotations, !annotations.isEmpty {
                    fields.append(
                        (
                            "annotations",
                            .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
                        ))
                }
                fields.append(("owner", .string(entry.owner)))
                return .object(fields)
            }
        ).serialized
    }

    /// runc's events, one JSON object a line, flushed as each comes (a reader follows them).
    static func events(_ runtime: OCIRuntime, id: String, statsOnly: Bool, interval: Double) throws {
        try runtime.events(id: id, statsOnly: statsOnly, interval: interval) { event in
            Sys.writeAll(1, Array((event.line + "\n").utf8))
        }
    }

    /// Who owns a container: its state directory's owner, by name, "#UID" without one (runc's).
    static func owner(of directory: String, users: UserDatabase) -> String {
        var info = stat()
        guard stat(directory, &info) == 0 else { return "" }
        return users.users.first { $0.uid == info.st_uid }?.name ?? "#\(info.st_uid)"
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// `--version`, in runc's shape ("runc version 1.1.5", "commit: …", "spec: 1.0.2-dev"):
    /// engines read the first line for the runtime's name and version. contlab's binary carries
    /// no record of the commit it was built from, and says so rather than invent one.
    static let version = """
        contlab-runc version \(ContlabVersion.current)
        commit: unknown (contlab \(ContlabVersion.current) records no build commit)
        spec: \(DefaultSpec.ociVersion)
        """
}

/// Errors and debug lines to stderr and to `--log` (JSON lines: level, msg, time).
public struct RuntimeLog {
    let path: String?
    let format: String

    public func error(_ message: String) {
        Sys.warn("contlab-runc: \(message)")
        append(level: "error", message)
        journal?.append("  → error: " + message)
    }

    /// What the spec calls a warning (a failing poststart or poststop hook): said, and the
    /// operation goes on. logrus's level name, as runc writes it.
    public func warning(_ message: String) {
        Sys.warn("contlab-runc: warning: \(message)")
        append(level: "warning", message)
        journal?.append("  warning: " + message)
    }

    /// Under --debug, to the log (stderr without --log, as runc); always to the journal.
    public func debug(_ message: String) {
        if debugging { append(level: "debug", message, orStderr: true) }
        journal?.append("  " + message)
    }

    /// What a container's init did, under --debug. Each step opens with the words runc's debug
    /// log gives its matching step, which scripts and runc's own tests look for; what follows
    /// them is contlab's.
    public func debugInit(_ calls: [String]) {
        guard debugging || journal != nil else { return }
        debug(
            "nsexec container setup: contlab's init was cloned into the container's new namespaces and exec'd"
                + " before any setup (runc's nsexec)")
        debug("child process in init(): the root, mounts, limits and identity, one system call a line")
        for call in calls { debug("init: " + call) }
        debug("init: closing the pipe to signal completion: the init reported ready to the runtime")
    }

    var journal: RuntimeJournal?
    var debugging = false

    func append(level: String, _ message: String, orStderr: Bool = false) {
        guard path != nil || orStderr else { return }
        let time = Timestamp.rfc3339()
        let line: String
        if format == "json" && path != nil {
            let object = ["level": level, "msg": message, "time": time]
            let data =
                (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
                ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            line = "time=\"\(time)\" level=\(level) msg=\"\(message.replacingOccurrences(of: "\"", with: "\\\""))\""
        }
        // No --log: standard error itself (whatever it is: a terminal, a pipe, a socket).
        guard let path else { return Sys.writeAll(STDERR_FILENO, Array((line + "\n").utf8)) }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        Sys.writeAll(fd, Array((line + "\n").utf8))
        close(fd)
    }
}

/// `--journal FILE`: one line per call of the runtime (as the engine made it), the system calls
/// of each container's init indented below its create, and how each call ended. Appended with
/// O_APPEND, so the calls of concurrent invocations do not overwrite each other.
struct RuntimeJournal {
    let path: String

    func append(_ line: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        Sys.writeAll(fd, Array((Timestamp.rfc3339() + " " + line + "\n").utf8))
        close(fd)
    }

    /// Who ran the runtime, below its call: the caller's pid and command line (containerd's
    /// shim, conmon, podman, or a wrapper script of the engine's) and up to three of its
    /// ancestors', short of pid 1, so the journal shows the engine's chain.
    func appendCallers() {
        var pid = getppid()
        // Each "its parent" is the parent of the process on the line above.
        for name in ["caller", "caller's parent", "its parent", "its parent"] {
            guard pid > 1 else { break }
            append("  \(name): \(pid) " + Self.commandLine(pid))
            guard let next = Self.parent(of: pid) else { break }
            pid = next
        }
    }

    /// /proc/PID/cmdline with spaces for its NULs, cut to 1000 characters; the comm name in
    /// brackets for a process without one (a kernel thread, or one that exited meanwhile).
    static func commandLine(_ pid: pid_t) -> String {
        let words = (Sys.readText("/proc/\(pid)/cmdline") ?? "").split(separator: "\0").joined(separator: " ")
        if !words.isEmpty { return String(words.prefix(1000)).trimmingCharacters(in: .whitespaces) }
        return "[" + (Sys.readText("/proc/\(pid)/comm") ?? "?").trimmingCharacters(in: .whitespacesAndNewlines) + "]"
    }

    /// The parent's pid, from /proc/PID/stat: the field after the state, which follows the
    /// command name's last ")" (the name itself may hold spaces and parentheses).
    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = Sys.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }
}

/// runtime-spec's features document (features.md, features-linux.md): what this runtime
/// implements, and `false` or an empty list for what it recognises but does not do.
struct Features: Codable {
    struct Linux: Codable {
        struct Enabled: Codable { var enabled: Bool }
        struct Cgroup: Codable { var v1: Bool, v2: Bool, systemd: Bool, systemdUser: Bool, rdma: Bool }
        struct Seccomp: Codable {
            var enabled: Bool
            var actions: [String], operators: [String], archs: [String]
            /// Filter flags (SECCOMP_FILTER_FLAG_*) are refused, so none is supported.
            var knownFlags: [String], supportedFlags: [String]
        }
        struct MountExtensions: Codable { var idmap: Enabled }
        var namespaces: [String]
        var capabilities: [String]
        var cgroup: Cgroup
        var seccomp: Seccomp
        var apparmor: Enabled
        var selinux: Enabled
        var intelRdt: Enabled
        var mountExtensions: MountExtensions
    }
    var ociVersionMin: String
    var ociVersionMax: String
    var hooks: [String]
    var mountOptions: [String]
    var linux: Linux
    var annotations: [String: String]

    static func current() -> Features {
        Features(
            ociVersionMin: "1.0.0", ociVersionMax: DefaultSpec.ociVersion,
            hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            mountOptions: (Array(MountOptions.setting.keys) + Array(MountOptions.clearing.keys)
                + Array(MountOptions.propagations.keys)
                + Array(MountOptions.recursive)).sorted(),
            linux: Linux(
                namespaces: ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"],
                capabilities: CapabilityNames.all,
                cgroup: .init(v1: true, v2: true, systemd: false, systemdUser: false, rdma: false),
                seccomp: .init(
                    enabled: true, actions: SeccompNames.actions, operators: SeccompNames.operators,
                    archs: SeccompNames.architectures, knownFlags: [], supportedFlags: []),
                apparmor: .init(enabled: false), selinux: .init(enabled: false),
                intelRdt: .init(enabled: false), mountExtensions: .init(idmap: .init(enabled: false))),
            // SCMP_ACT_NOTIFY among the actions means listenerPath works too (the spec ties them);
            // features-linux.md has no field of its own for it, so an annotation says it plainly.
            annotations: ["org.contlab.stage": "4", "org.contlab.seccomp.listenerPath": "true"])
    }
}
