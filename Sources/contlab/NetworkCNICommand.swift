import ArgumentParser
import ContlabCore
import Foundation
import Stage4OCI
import Stage6Network

/// What attach, check and detach share: the configuration, the stage-4 container, the
/// interface, where the plugins are.
struct CNIOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The CNI network configuration (.conf or .conflist).", valueName: "CONF"))
    var cni: String

    @Option(help: "The interface to make in the container.") var ifname = "eth0"

    @Option(help: ArgumentHelp("Where the plugins are (CNI_PATH).", valueName: "DIR[:DIR]"))
    var cniPath = CNIRuntime.defaultPath

    @Option(help: ArgumentHelp("contlab-runc's --root (default: /run/contlab-runc).", valueName: "DIR"))
    var runcRoot: String?

    @Option(
        name: [.customShort("p"), .customLong("publish")],
        help: ArgumentHelp(
            "ADD: a port for plugins with the portMappings capability (portmap), in runtimeConfig (repeatable; kept "
                + "for CHECK and DEL).",
            valueName: "HOSTPORT:CONTAINERPORT"))
    var publish: [String] = []

    @Flag(help: "Print each plugin run (CNI_* variables, stdin, stdout) to stderr.") var explain = false

    @Argument(help: "The stage-4 container's id (contlab runc list).") var id: String

    func config() throws -> CNINetworkConfig {
        guard let text = Sys.readText(cni) else {
            throw NetworkError.cniConfig(path: cni, why: "cannot be read (\(String(cString: strerror(errno))))")
        }
        return try CNINetworkConfig(parsing: text, path: cni)
    }

    /// The container's network namespace file, /proc/PID/ns/net; nil when it no longer runs
    /// (a DEL may still release what ADD took). A container without a network namespace of
    /// its own is refused: the plugins would wire the host's own network.
    func containerNamespace(required: Bool) throws -> String? {
        let store = StateStore(root: runcRoot ?? StateStore.defaultRoot())
        let record: StateStore.Record
        do { record = try store.load(id) } catch {
            guard required else { return nil }
            throw NetworkError.cniContainer(
                id: id, why: "no such stage-4 container in \(store.root) (contlab runc list; --runc-root DIR)")
        }
        let status = store.status(of: record)
        guard ["created", "running", "paused"].contains(status) else {
            guard required else { return nil }
            throw NetworkError.cniContainer(
                id: id, why: "it is \(status); create or start it first (contlab runc create)")
        }
        let path = "/proc/\(record.pid)/ns/net"
        var theirs = stat()
        var ours = stat()
        guard stat(path, &theirs) == 0, stat("/proc/self/ns/net", &ours) == 0 else {
            throw NetworkError.system("stat(\"\(path)\")", errno: errno)
        }
        if theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev {
            throw NetworkError.cniContainer(
                id: id,
                why:
                    "it has no network namespace of its own, so a plugin would wire the host's network; add "
                    + "{\"type\": \"network\"} to linux.namespaces in its config.json"
            )
        }
        return path
    }

    func runtime(netns: String) throws -> CNIRuntime {
        try CNIEnvironment.validate(containerID: id, ifname: ifname)
        var runtime = CNIRuntime(
            config: try config(), cniPath: cniPath, containerID: id, ifname: ifname, netns: netns)
        runtime.portMappings = try PortMapping.parseAll(publish)
        if explain { runtime.onExchange = { Sys.warn($0) } }
        return runtime
    }
}

extension NetworkCommand {
    static let cniDiscussion = """
        The plugins run in the host side of the lab network the configuration's \
        "name" names (contlab network create NAME first), so their bridge and the \
        host ends of their veth pairs are there, never on the host; host-local's \
        leases are kept in that network's folder. The last ADD result is kept and \
        given to CHECK and DEL as prevResult.

        Example:
          contlab network create cnilab
          contlab bundle create b -- sleep 600
          contlab runc create --bundle b web
          contlab network attach --cni cnilab.conflist web
          contlab runc start web
          contlab network check --cni cnilab.conflist web
          contlab network detach --cni cnilab.conflist web
        """

    struct Attach: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attach",
            abstract: "CNI ADD: wire a stage-4 container with the CNI plugins.",
            discussion: NetworkCommand.cniDiscussion)
        @OptionGroup var options: CNIOptions
        @Flag(help: "Print the result JSON as the plugins gave it.") var json = false
        func run() throws {
            try reportingErrors {
                let netns = try options.containerNamespace(required: true) ?? ""
                let runtime = try options.runtime(netns: netns)
                let (result, text) = try runtime.add()
                if json {
                    print(text)
                    return
                }
                print(
                    "\(options.id): \(options.ifname) from CNI network \(runtime.config.name) "
                        + "(cniVersion \(runtime.config.cniVersion))"
                )
                for line in result.lines(hostSide: "\(runtime.config.name)'s host side") { print(line) }
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "CNI CHECK: ask the plugins whether a container is still as ADD left it.",
            discussion: NetworkCommand.cniDiscussion)
        @OptionGroup var options: CNIOptions
        func run() throws {
            try reportingErrors {
                let netns = try options.containerNamespace(required: true) ?? ""
                let runtime = try options.runtime(netns: netns)
                try runtime.check()
                print("\(options.id): \(options.ifname) from CNI network \(runtime.config.name) is as ADD left it")
            }
        }
    }

    struct Detach: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "detach",
            abstract: "CNI DEL: unwire a container and release its address.",
            discussion: NetworkCommand.cniDiscussion)
        @OptionGroup var options: CNIOptions
        func run() throws {
            try reportingErrors {
                // A container that has ended can still be detached: the plugins then release
                // the address and what they made on the host side (CNI_NETNS empty).
                let netns = try options.containerNamespace(required: false) ?? ""
                let runtime = try options.runtime(netns: netns)
                try runtime.delete()
                print("\(options.id): \(options.ifname) detached from CNI network \(runtime.config.name)")
            }
        }
    }
}
