import Cgroups
import Foundation

/// runc's command line, parsed by hand: containerd and the engines call it on every container
/// start, so it skips a general parser's cost. Global flags come before the verb, as runc takes
/// them; `--flag value` and `--flag=value` both work. Pure, so it is tested without a runtime.
public struct RuncCommandLine: Equatable, Sendable {
    public struct Globals: Equatable, Sendable {
        public var root: String?
        public var log: String?
        public var logFormat = "text"
        public var debug = false
        public var systemdCgroup = false
        /// contlab's own: append every call, and the system calls its init made, to this file
        /// (how `contlab engines` shows what Docker and Podman asked of the runtime).
        public var journal: String?
    }

    public enum Verb: Equatable, Sendable {
        case create(id: String, bundle: String, pidFile: String?, consoleSocket: String?)
        case start(id: String)
        /// `keep`: the stopped container stays for `state` and `delete`, as runc's --keep.
        case run(id: String, bundle: String, pidFile: String?, consoleSocket: String?, detach: Bool, keep: Bool = false)
        case state(id: String)
        case kill(id: String, signal: Int32, all: Bool)
        case delete(id: String, force: Bool)
        case list(quiet: Bool, json: Bool)
        /// `psArguments`: given to ps(1) (runc's default -ef), whose table is filtered to the
        /// container's processes.
        case ps(id: String, json: Bool, psArguments: [String] = [])
        /// runc's events: one stats event (`stats`), or one every `interval` seconds until the
        /// container stops, with an oom event for each OOM kill.
        case events(id: String, stats: Bool, interval: Double)
        case exec(ExecOptions)
        case pause(id: String)
        case resume(id: String)
        case update(id: String, resources: UpdateSource)
        case features
        case spec(bundle: String, rootless: Bool)
        /// `--help`, `help`, `COMMAND --help`: runc's screen for the whole runtime or one command.
        case help(topic: String?)
        case version
    }

    public var globals: Globals
    public var verb: Verb
    /// create and run: descriptors 3 … 3+N-1 of the caller stay open in the container's
    /// process (runc's --preserve-fds, for socket activation).
    public var preserveFDs = 0

    /// `exec`: the process comes from `--process FILE` (a runtime-spec process object, as
    /// containerd and conmon write it) or from the arguments after the id, with `--tty`, `--cwd`,
    /// `--env` and `--user` shaping it as runc's do.
    public struct ExecOptions: Equatable, Sendable {
        public var id: String
        public var processFile: String?
        public var args: [String] = []
        public var detach = false
        public var pidFile: String?
        public var consoleSocket: String?
        public var tty = false
        public var cwd: String?
        public var env: [String] = []
        public var user: String?
        /// `--ignore-paused`: exec into a paused container; the process starts frozen and runs once resumed.
        public var ignorePaused = false
        /// `--additional-gids`: groups added to the process's own.
        public var additionalGids: [UInt32] = []
        /// `--preserve-fds N`: the caller's descriptors 3 … 3+N-1 stay open in the process.
        public var preserveFDs = 0
        /// `--cgroup [CONTROLLERS:]PATH` (repeatable): a sub-cgroup of the container's to start in.
        public var cgroups: [String] = []
    }

    /// `update`: the resources as JSON (`--resources FILE`, `-` for stdin, as Docker sends them),
    /// or runc's single-value flags.
    public enum UpdateSource: Equatable, Sendable {
        case json(path: String)
        case flags(UpdateFlags)
    }

    /// runc update's single-value flags; nil where not given.
    public struct UpdateFlags: Equatable, Sendable {
        public var memory: Int64?
        public var memorySwap: Int64?
        public var memoryReservation: Int64?
        public var pidsLimit: Int64?
        public var cpuQuota: Int64?
        public var cpuPeriod: UInt64?
        public var cpuShares: UInt64?
        public var cpusetCpus: String?
        public var cpusetMems: String?
        public var cpuRealtimePeriod: UInt64?
        public var cpuRealtimeRuntime: Int64?

        public init(
            memory: Int64? = nil, memorySwap: Int64? = nil, memoryReservation: Int64? = nil, pidsLimit: Int64? = nil,
            cpuQuota: Int64? = nil, cpuPeriod: UInt64? = nil, cpuShares: UInt64? = nil, cpusetCpus: String? = nil,
            cpusetMems: String? = nil, cpuRealtimePeriod: UInt64? = nil, cpuRealtimeRuntime: Int64? = nil
        ) {
            self.cpuRealtimePeriod = cpuRealtimePeriod
            self.cpuRealtimeRuntime = cpuRealtimeRuntime
            self.memory = memory
            self.memorySwap = memorySwap
            self.memoryReservation = memoryReservation
            self.pidsLimit = pidsLimit
            self.cpuQuota = cpuQuota
            self.cpuPeriod = cpuPeriod
            self.cpuShares = cpuShares
            self.cpusetCpus = cpusetCpus
            self.cpusetMems = cpusetMems
        }
    }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var description: String
        init(_ text: String) { description = text }
    }

    /// Flags of each verb: whether each takes a value. Aliases map to the long name.
    static let flags: [String: [String: Bool]] = [
        "create": [
            "bundle": true, "pid-file": true, "console-socket": true, "no-pivot": false, "no-new-keyring": false,
            "preserve-fds": true
        ],
        "run": [
            "bundle": true, "pid-file": true, "console-socket": true, "detach": false, "no-pivot": false,
            "no-new-keyring": false,
            "preserve-fds": true, "keep": false, "no-subreaper": false
        ],
        "start": [:], "state": [:],
        "kill": ["all": false],
        "delete": ["force": false],
        "list": ["quiet": false, "format": true],
        "ps": ["format": true],
        "events": ["stats": false, "interval": true],
        "exec": [
            "process": true, "detach": false, "pid-file": true, "console-socket": true, "tty": false, "cwd": true,
            "env": true,
            "user": true, "no-new-keyring": false, "preserve-fds": true, "ignore-paused": false,
            "additional-gids": true, "cgroup": true
        ],
        "pause": [:], "resume": [:],
        "update": [
            "resources": true, "memory": true, "memory-swap": true, "memory-reservation": true, "pids-limit": true,
            "cpu-quota": true, "cpu-period": true, "cpu-share": true, "cpuset-cpus": true, "cpuset-mems": true,
            "cpu-rt-period": true, "cpu-rt-runtime": true
        ],
        "features": [:],
        "spec": ["bundle": true, "rootless": false]
    ]
    static let aliases: [String: String] = [
        "b": "bundle", "d": "detach", "a": "all", "f": "force", "q": "quiet", "p": "process",
        "t": "tty", "e": "env", "u": "user", "r": "resources"
    ]
    static let unimplemented: Set<String> = ["checkpoint", "restore"]
    static let helpFlags: Set<String> = ["-h", "--help", "-help"]

    public static func parse(_ arguments: [String]) throws -> RuncCommandLine {
        var globals = Globals()
        var rest = arguments[...]
        func value(_ name: String, _ inline: String?) throws -> String {
            if let inline { return inline }
            guard let next = rest.popFirst() else { throw ParseError("--\(name) needs a value") }
            return next
        }
        // Global flags, up to the verb.
        while let word = rest.first, word.hasPrefix("-") {
            rest.removeFirst()
            let (name, inline) = split(word)
            switch name {
            case "root": globals.root = try value(name, inline)
            case "log": globals.log = try value(name, inline)
            case "log-format":
                globals.logFormat = try value(name, inline)
                guard ["text", "json"].contains(globals.logFormat) else {
                    throw ParseError("--log-format must be text or json")
                }
            case "debug": globals.debug = true
            case "journal": globals.journal = try value(name, inline)
            case "systemd-cgroup": globals.systemdCgroup = true
            case "rootless", "criu": _ = try value(name, inline)
            case "help", "h": return RuncCommandLine(globals: globals, verb: .help(topic: nil))
            case "version", "v": return RuncCommandLine(globals: globals, verb: .version)
            default:
                throw ParseError(
                    "unknown global flag \(word) (contlab-runc takes --root, --log, --log-format, --debug, --journal)")
            }
        }
        guard let verbName = rest.popFirst() else { return RuncCommandLine(globals: globals, verb: .help(topic: nil)) }
        // `help [COMMAND]`, and `COMMAND --help` before the command's own arguments (exec's and
        // ps's words after the id are the command's), as runc reads them.
        if verbName == "help" {
            return RuncCommandLine(globals: globals, verb: .help(topic: try helpTopic(rest.first)))
        }
        if let first = rest.first, helpFlags.contains(first) {
            return RuncCommandLine(globals: globals, verb: .help(topic: try helpTopic(verbName)))
        }
        if unimplemented.contains(verbName) { throw ParseError("\(verbName) is not implemented by contlab-runc yet") }
        guard let known = flags[verbName] else {
            throw ParseError(
                "unknown command \"\(verbName)\" (commands: create, start, run, state, kill, delete, exec, pause, "
                    + "resume, update, list, ps, events, features, spec)"
            )
        }
        var options: [String: String] = [:]
        var repeated: [String: [String]] = [:]
        var positional: [String] = []
        while let word = rest.popFirst() {
            if word == "--" { positional += rest; break }
            if helpFlags.contains(word) && positional.isEmpty {
                return RuncCommandLine(globals: globals, verb: .help(topic: verbName))
            }
            // exec's command follows the id, flags and all (`exec c1 sh -c 'echo hi'`), and so
            // do ps's arguments for ps(1) (`ps c1 -o pid,comm`).
            if (verbName == "exec" || verbName == "ps") && !positional.isEmpty {
                positional.append(word)
                continue
            }
            guard word.hasPrefix("-"), word.count > 1,
                !(verbName == "kill" && positional.count == 1 && Int(word.dropFirst()) != nil)
            else {
                positional.append(word)
                continue
            }
            var (name, inline) = split(word)
            // -f is delete's --force, but ps's and list's --format, as in runc.
            name = (name == "f" && (verbName == "ps" || verbName == "list")) ? "format" : aliases[name] ?? name
            guard let takesValue = known[name] else { throw ParseError("\(verbName): unknown flag \(word)") }
            let given = takesValue ? try value(name, inline) : "true"
            options[name] = given
            repeated[name, default: []].append(given)
        }
        var preserveFDs = 0
        if let preserved = options["preserve-fds"] {
            guard let count = Int(preserved), (0...1024).contains(count) else {
                throw ParseError("\(verbName): --preserve-fds takes a number of descriptors, such as 1 (descriptor 3)")
            }
            preserveFDs = count
        }
        func id() throws -> String {
            guard let id = positional.first, !id.isEmpty else { throw ParseError("\(verbName) needs a container id") }
            return id
        }
        let bundle = options["bundle"] ?? FileManager.default.currentDirectoryPath
        let verb: Verb
        switch verbName {
        case "create":
            verb = .create(
                id: try id(), bundle: bundle, pidFile: options["pid-file"], consoleSocket: options["console-socket"])
        case "run":
            verb = .run(
                id: try id(), bundle: bundle, pidFile: options["pid-file"], consoleSocket: options["console-socket"],
                detach: options["detach"] != nil, keep: options["keep"] != nil)
        case "start": verb = .start(id: try id())
        case "state": verb = .state(id: try id())
        case "kill":
            var name = positional.count > 1 ? positional[1] : "TERM"
            if name.hasPrefix("-") { name.removeFirst() }
            // Signal 0 only asks whether the process exists (kill(2)), as runc allows.
            guard let signal = name == "0" ? 0 : Signals.parse(name) else {
                throw ParseError("kill: unknown signal \"\(name)\" (a name like TERM or KILL, or a number)")
            }
            verb = .kill(id: try id(), signal: signal, all: options["all"] != nil)
        case "delete": verb = .delete(id: try id(), force: options["force"] != nil)
        case "list":
            let format = options["format"] ?? "table"
            guard ["table", "json"].contains(format) else { throw ParseError("list: --format must be table or json") }
            verb = .list(quiet: options["quiet"] != nil, json: format == "json")
        case "ps":
            let format = options["format"] ?? "table"
            guard ["table", "json"].contains(format) else { throw ParseError("ps: --format must be table or json") }
            verb = .ps(id: try id(), json: format == "json", psArguments: Array(positional.dropFirst()))
        case "events":
            let text = options["interval"] ?? "5s"
            // runc takes a Go duration; the forms people type are seconds and milliseconds.
            let seconds =
                text.hasSuffix("ms")
                ? Double(text.dropLast(2)).map { $0 / 1000 }
                : text.hasSuffix("s") ? Double(text.dropLast()) : Double(text)
            guard let seconds, seconds > 0 else {
                throw ParseError("events: --interval takes a duration such as 5s or 500ms")
            }
            verb = .events(id: try id(), stats: options["stats"] != nil, interval: seconds)
        case "exec":
            var exec = ExecOptions(id: try id())
            exec.processFile = options["process"]
            exec.args = Array(positional.dropFirst())
            exec.detach = options["detach"] != nil
            exec.pidFile = options["pid-file"]
            exec.consoleSocket = options["console-socket"]
            exec.tty = options["tty"] != nil
            exec.cwd = options["cwd"]
            exec.env = repeated["env"] ?? []
            exec.cgroups = repeated["cgroup"] ?? []
            exec.user = options["user"]
            exec.ignorePaused = options["ignore-paused"] != nil
            exec.preserveFDs = preserveFDs
            for gid in repeated["additional-gids"] ?? [] {
                guard let number = UInt32(gid) else {
                    throw ParseError("exec: --additional-gids \(gid): give a numeric group id, such as 100")
                }
                exec.additionalGids.append(number)
            }
            if exec.processFile == nil && exec.args.isEmpty {
                throw ParseError(
                    "exec needs the command to run: --process FILE, or the command after the id (exec \(exec.id) sh)")
            }
            if exec.processFile != nil && !exec.args.isEmpty {
                throw ParseError("exec: give the command either in --process or after the id, not both")
            }
            verb = .exec(exec)
        case "pause": verb = .pause(id: try id())
        case "resume": verb = .resume(id: try id())
        case "update":
            if let path = options["resources"] {
                verb = .update(id: try id(), resources: .json(path: path))
            } else {
                func number<T: FixedWidthInteger>(_ name: String, bytes: Bool = false) throws -> T? {
                    guard let text = options[name] else { return nil }
                    if text == "-1", T.isSigned { return -1 }
                    if bytes, let size = try? ByteSize.parse(text), let value = T(exactly: size) { return value }
                    guard let value = T(text) else { throw ParseError("update: --\(name) \"\(text)\" is not a number") }
                    return value
                }
                let flags = UpdateFlags(
                    memory: try number("memory", bytes: true), memorySwap: try number("memory-swap", bytes: true),
                    memoryReservation: try number("memory-reservation", bytes: true),
                    pidsLimit: try number("pids-limit"), cpuQuota: try number("cpu-quota"),
                    cpuPeriod: try number("cpu-period"),
                    cpuShares: try number("cpu-share"), cpusetCpus: options["cpuset-cpus"],
                    cpusetMems: options["cpuset-mems"],
                    cpuRealtimePeriod: try number("cpu-rt-period"), cpuRealtimeRuntime: try number("cpu-rt-runtime"))
                if flags == UpdateFlags() {
                    throw ParseError(
                        "update needs --resources FILE (- for stdin) or a flag such as --memory 64m or --pids-limit 100"
                    )
                }
                verb = .update(id: try id(), resources: .flags(flags))
            }
        case "features": verb = .features
        default: verb = .spec(bundle: options["bundle"] ?? ".", rootless: options["rootless"] != nil)
        }
        var line = RuncCommandLine(globals: globals, verb: verb)
        line.preserveFDs = preserveFDs
        return line
    }

    /// A help topic must be a command runc has (checkpoint and restore too: their screens say
    /// contlab does not implement them); runc's words for one it does not know.
    static func helpTopic(_ name: String?) throws -> String? {
        guard let name else { return nil }
        guard RuncHelp.command(name) != nil else { throw ParseError("No help topic for '\(name)'") }
        return name
    }

    /// `--name=value` → ("name", "value"); `-d` → ("d", nil).
    static func split(_ word: String) -> (String, String?) {
        let body = word.drop { $0 == "-" }
        if let eq = body.firstIndex(of: "=") { return (String(body[..<eq]), String(body[body.index(after: eq)...])) }
        return (String(body), nil)
    }
}

import ContlabCore
