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
    }

    public enum Verb: Equatable, Sendable {
        case create(id: String, bundle: String, pidFile: String?, consoleSocket: String?)
        case start(id: String)
        case run(id: String, bundle: String, pidFile: String?, consoleSocket: String?, detach: Bool)
        case state(id: String)
        case kill(id: String, signal: Int32, all: Bool)
        case delete(id: String, force: Bool)
        case list(quiet: Bool, json: Bool)
        case ps(id: String, json: Bool)
        case features
        case spec(bundle: String, rootless: Bool)
        case help
        case version
    }

    public var globals: Globals
    public var verb: Verb

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var description: String
        init(_ text: String) { description = text }
    }

    /// Flags of each verb: whether each takes a value. Aliases map to the long name.
    static let flags: [String: [String: Bool]] = [
        "create": ["bundle": true, "pid-file": true, "console-socket": true, "no-pivot": false, "no-new-keyring": false, "preserve-fds": true],
        "run": ["bundle": true, "pid-file": true, "console-socket": true, "detach": false, "no-pivot": false, "no-new-keyring": false,
                "preserve-fds": true, "keep": false, "no-subreaper": false],
        "start": [:], "state": [:],
        "kill": ["all": false],
        "delete": ["force": false],
        "list": ["quiet": false, "format": true],
        "ps": ["format": true],
        "features": [:],
        "spec": ["bundle": true, "rootless": false],
    ]
    static let aliases: [String: String] = ["b": "bundle", "d": "detach", "a": "all", "f": "force", "q": "quiet"]
    static let unimplemented: Set<String> = ["exec", "pause", "resume", "update", "events", "checkpoint", "restore"]

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
                guard ["text", "json"].contains(globals.logFormat) else { throw ParseError("--log-format must be text or json") }
            case "debug": globals.debug = true
            case "systemd-cgroup": globals.systemdCgroup = true
            case "rootless", "criu": _ = try value(name, inline)
            case "help", "h": return RuncCommandLine(globals: globals, verb: .help)
            case "version", "v": return RuncCommandLine(globals: globals, verb: .version)
            default: throw ParseError("unknown global flag \(word) (contlab-runc takes --root, --log, --log-format, --debug)")
            }
        }
        guard let verbName = rest.popFirst() else { return RuncCommandLine(globals: globals, verb: .help) }
        if verbName == "help" { return RuncCommandLine(globals: globals, verb: .help) }
        if unimplemented.contains(verbName) { throw ParseError("\(verbName) is not implemented by contlab-runc yet") }
        guard let known = flags[verbName] else {
            throw ParseError("unknown command \"\(verbName)\" (commands: create, start, run, state, kill, delete, list, ps, features, spec)")
        }
        var options: [String: String] = [:]
        var positional: [String] = []
        while let word = rest.popFirst() {
            if word == "--" { positional += rest; break }
            guard word.hasPrefix("-"), word.count > 1, !(verbName == "kill" && positional.count == 1 && Int(word.dropFirst()) != nil) else {
                positional.append(word)
                continue
            }
            var (name, inline) = split(word)
            name = aliases[name] ?? name
            guard let takesValue = known[name] else { throw ParseError("\(verbName): unknown flag \(word)") }
            options[name] = takesValue ? try value(name, inline) : "true"
        }
        if let preserved = options["preserve-fds"], preserved != "0" {
            throw ParseError("\(verbName): --preserve-fds is not implemented by contlab-runc yet; pass no extra descriptors")
        }
        func id() throws -> String {
            guard let id = positional.first, !id.isEmpty else { throw ParseError("\(verbName) needs a container id") }
            return id
        }
        let bundle = options["bundle"] ?? FileManager.default.currentDirectoryPath
        let verb: Verb
        switch verbName {
        case "create":
            verb = .create(id: try id(), bundle: bundle, pidFile: options["pid-file"], consoleSocket: options["console-socket"])
        case "run":
            verb = .run(id: try id(), bundle: bundle, pidFile: options["pid-file"], consoleSocket: options["console-socket"],
                        detach: options["detach"] != nil)
        case "start": verb = .start(id: try id())
        case "state": verb = .state(id: try id())
        case "kill":
            var name = positional.count > 1 ? positional[1] : "TERM"
            if name.hasPrefix("-") { name.removeFirst() }
            guard let signal = Signals.parse(name) else { throw ParseError("kill: unknown signal \"\(name)\" (a name like TERM or KILL, or a number)") }
            verb = .kill(id: try id(), signal: signal, all: options["all"] != nil)
        case "delete": verb = .delete(id: try id(), force: options["force"] != nil)
        case "list":
            let format = options["format"] ?? "table"
            guard ["table", "json"].contains(format) else { throw ParseError("list: --format must be table or json") }
            verb = .list(quiet: options["quiet"] != nil, json: format == "json")
        case "ps":
            let format = options["format"] ?? "table"
            guard ["table", "json"].contains(format) else { throw ParseError("ps: --format must be table or json") }
            verb = .ps(id: try id(), json: format == "json")
        case "features": verb = .features
        default: verb = .spec(bundle: options["bundle"] ?? ".", rootless: options["rootless"] != nil)
        }
        return RuncCommandLine(globals: globals, verb: verb)
    }

    /// `--name=value` → ("name", "value"); `-d` → ("d", nil).
    static func split(_ word: String) -> (String, String?) {
        let body = word.drop { $0 == "-" }
        if let eq = body.firstIndex(of: "=") { return (String(body[..<eq]), String(body[body.index(after: eq)...])) }
        return (String(body), nil)
    }
}

import ContlabCore
