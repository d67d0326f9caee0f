import ArgumentParser
import CLinux
import ContlabCore
import Foundation
import Stage2Namespaces
import Stage3Cgroups
import Stage6Network

/// Stage 6's lab networks: each a network namespace of its own (its "host side") holding a
/// bridge, so the host's own interfaces, routes and firewall are never touched.
struct NetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network",
        abstract: "Lab networks for stage 6: a bridge in a namespace of its own.",
        discussion: """
            Each network's bridge (clab0) and the host ends of its containers' veth \
            pairs live in a network namespace contlab makes for it, never in the \
            host's. State is under /run/contlab-net (root only). Needs root.

            Examples:
              contlab network create lab
              contlab run --stage 6 --network lab --name web -- httpd -f -p 8080
              contlab run --stage 6 --network lab -- wget -qO- http://web:8080/
              contlab network inspect lab
              contlab network shell lab -- ip -br link
              contlab network rm lab

            attach, check and detach run the CNI plugins (/usr/lib/cni) on a stage-4 \
            container instead: see contlab network attach --help.
            """,
        subcommands: [
            Create.self, List.self, Inspect.self, Remove.self, Shell.self, Attach.self, Check.self, Detach.self
        ])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Make a lab network: a namespace, a bridge, a subnet.")
        @Option(help: "The subnet, such as 10.88.7.0/24 (default: a free /24 of 10.88.0.0/16).") var subnet: String?
        @Flag(help: "Print the system calls and netlink messages that made it, to stderr.") var explain = false
        @Argument(help: "The network's name.") var name: String
        func run() throws {
            try reportingErrors {
                defer {
                    if explain {
                        Sys.warn("contlab --explain (network create):")
                        for line in CallRecord.shared.entries { Sys.warn("  " + line) }
                    }
                }
                let record = try NetworkStore().create(name: name, subnet: try subnet.map { try Subnet(parsing: $0) })
                print("\(record.name): subnet \(record.subnet), bridge \(record.bridge) \(record.gateway)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "The lab networks.", aliases: ["list"])
        func run() throws {
            try reportingErrors {
                let rows = try NetworkStore().inventory().map {
                    [$0.0.name, $0.0.subnet.description, "\($0.0.bridge) \($0.0.gateway)", String($0.1.count)]
                }
                print(Format.table([["NAME", "SUBNET", "BRIDGE", "CONTAINERS"]] + rows))
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect", abstract: "A network's subnet, bridge and which container holds which address.")
        @Flag(help: "Print JSON.") var json = false
        @Argument(help: "The network's name.") var name: String
        func run() throws {
            try reportingErrors {
                let store = NetworkStore()
                guard let (record, leases) = try store.inventory(name).first else { throw NetworkError.missing(name) }
                if json {
                    struct Report: Encodable {
                        var network: NetworkRecord
                        var namespace: String
                        var hosts: String
                        var containers: [Lease]
                        /// CNI attachments, "ID@IFNAME".
                        var cni: [String]
                    }
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    let report = Report(
                        network: record, namespace: store.namespacePath(name), hosts: store.hostsPath(name),
                        containers: leases, cni: store.cniAttachments(name))
                    print(String(decoding: try encoder.encode(report), as: UTF8.self))
                    return
                }
                print(
                    """
                    network    \(record.name)
                    subnet     \(record.subnet)
                    bridge     \(record.bridge) \(record.gateway) (the gateway)
                    namespace  \(store.namespacePath(name)) (contlab network shell \(name))
                    hosts      \(store.hostsPath(name))
                    """)
                let cni = store.cniAttachments(name)
                if !cni.isEmpty {
                    print("cni        \(cni.joined(separator: ", ")) (contlab network detach --cni CONF ID)")
                }
                let rows = leases.map {
                    [
                        $0.container, $0.address.description, $0.hostVeth, String($0.pid),
                        ($0.ports ?? []).map { "\($0.hostPort)->\($0.containerPort)/tcp" }.joined(separator: ", ")
                    ]
                }
                print(
                    rows.isEmpty
                        ? "no containers"
                        : Format.table([["CONTAINER", "ADDRESS", "HOST VETH", "CONTLAB PID", "PORTS"]] + rows))
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove a lab network: its namespace, bridge and state.")
        @Flag(name: .shortAndLong, help: "Remove it even with containers attached (they lose eth0).") var force = false
        @Argument(help: "The networks' names.") var names: [String]
        func run() throws {
            try reportingErrors {
                for name in names {
                    let cut = try NetworkStore().remove(name: name, force: force)
                    print(
                        "removed \(name)"
                            + (cut.isEmpty ? "" : " (cut off: \(cut.map(\.container).joined(separator: ", ")))"))
                }
            }
        }
    }

    struct Shell: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "shell",
            abstract: "Run a shell (or a command) in a network's host side.",
            discussion: "The host's programs in the network's namespace: try ip -br link, bridge link, ping.")
        @Argument(help: "The network's name.") var name: String
        @Argument(parsing: .captureForPassthrough, help: "A command to run instead of $SHELL, after --.") var command:
            [String] = []
        func run() throws {
            try reportingErrors {
                let store = NetworkStore()
                _ = try store.record(name)
                var args = command.first == "--" ? Array(command.dropFirst()) : command
                if args.isEmpty { args = [ProcessInfo.processInfo.environment["SHELL"] ?? "/bin/sh"] }
                let path = store.namespacePath(name)
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw NetworkError.system("open(\"\(path)\")", errno: errno) }
                let rc = cl_setns(fd, Int32(CL_CLONE_NEWNET))
                if rc != 0 { throw NetworkError.system("setns(\"\(path)\", CLONE_NEWNET)", errno: -rc) }
                setenv("CONTLAB_NETWORK", name, 1)
                _ = withCStrings(args) { execvp(args[0], $0) }
                throw NetworkError.system("execvp(\"\(args[0])\")", errno: errno)
            }
        }
    }
}

extension RunCommand {
    /// Stage 6: stage 2's container (stage 3's with limits) with eth0 on a lab network (Stage6Attachment).
    func runOnNetwork(_ args: [String]) throws {
        let status = try reportingErrors(exitCode: InitHandshake.setupFailed) { () -> ExitStatus in
            // Blocked before the lease exists, so a Ctrl-C from here on still gives it back.
            Signals.block(Signals.forwarded + [SIGCHLD])
            let containerName = name ?? Stage6Attachment.newContainerName()
            let attachment = Stage6Attachment(
                network: network ?? "", container: containerName, ports: try PortMapping.parseAll(publish))
            let (record, lease) = try attachment.lease()
            defer { attachment.release(lease) }
            // -p: the host ports bound now, so a port in use fails before the container exists;
            // forwarded once it is wired, and closed (before the lease goes) when it has ended.
            let proxy = try attachment.publish()
            defer { proxy?.stop() }
            let rootfs = try container.resolveRootfs()
            // The network's hosts file is bound over the root filesystem's own, which must exist
            // as a file (a bind mount needs a target of the same kind; contlab never writes the tree).
            var info = stat()
            guard lstat(rootfs + "/etc/hosts", &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                throw NetworkError.state(
                    path: rootfs + "/etc/hosts",
                    why:
                        "stage 6 binds the network's hosts file over it, and it is missing or not a file; add one "
                        + "(the busybox recipe has it)"
                )
            }
            // Stage 2's container, or stage 3's when limits are given.
            var request = self.request(stage: limitOptions.given ? 3 : 2, rootfs: rootfs, args: args)
            request.hostname = hostname ?? containerName
            var plan = try request.planOnThisHost()
            plan.extraMounts += Stage6Attachment.hostsMounts(hostsPath: attachment.store.hostsPath(attachment.network))
            let wire: ContainerProcess.Step = {
                try attachment.wire(pid: $0, record: record, lease: lease)
                proxy?.start(forwardingTo: lease.address)
            }
            if limitOptions.given {
                return try finish(
                    try Stage3Run.run(
                        plan: plan, limits: try limitOptions.limits(), explain: container.explaining,
                        onRecord: container.printRecord, beforeRelease: [wire]))
            }
            let process = try ContainerProcess.start(plan: plan, explain: container.explaining, beforeRelease: [wire])
            container.printRecord(process.record)
            return process.wait()
        }
        throw ExitCode(status.shellCode)
    }
}
