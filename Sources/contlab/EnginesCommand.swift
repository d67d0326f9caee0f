import ArgumentParser
import ContlabCore
import Engines
import Foundation
import Rootfs
import TextKit

struct EnginesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engines",
        abstract: "Docker and Podman with contlab-runc as their runtime.",
        discussion: """
              contlab engines setup docker
                  start the lab's own dockerd (contlab registered as runtime "contlab"),
                  or, where a Docker already runs, print the daemon.json entry that
                  registers contlab with it
              contlab engines setup podman
                  private Podman storage with a busybox image, and the command line and
                  containers.conf entry that use contlab
              contlab engines demo [docker]
                  one container through the engine and contlab-runc, and the runtime's
                  record of what the engine asked of it
              contlab engines chain [docker]
                  draw the chain from docker to contlab-runc, with the calls the
                  runtime got for the journal's last container
              contlab engines stop
                  remove the lab's containers and stop its dockerd
            """,
        subcommands: [Setup.self, Demo.self, Chain.self, Stop.self])

    static func lab() throws -> PrivateEngines {
        PrivateEngines(
            directories: EngineDirectories(data: ProjectFiles.dataDirectory().path),
            runtimePath: try PrivateEngines.runtimeBesideSelf())
    }

    static func busyboxTree() throws -> String {
        try RootfsStore.standard().build("busybox") { Sys.warn("rootfs busybox: \($0)") }.path
    }

    struct Setup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setup", abstract: "Make Docker or Podman run containers through contlab-runc.")

        @Argument(help: "docker or podman") var engine: String
        @Flag(help: "Docker: start the lab's own dockerd even where another Docker runs.") var `private` = false

        func validate() throws {
            guard Engine(rawValue: engine) != nil else {
                throw ValidationError("give docker or podman, for example: contlab engines setup docker")
            }
        }

        func run() throws {
            try reportingErrors {
                guard geteuid() == 0 else {
                    throw ValidationError("the lab's engines run as root: sudo contlab engines setup \(engine)")
                }
                let lab = try EnginesCommand.lab()
                switch Engine(rawValue: engine)! {
                case .docker: try docker(lab)
                case .podman: try podman(lab)
                }
            }
        }

        func docker(_ lab: PrivateEngines) throws {
            let docker = lab.directories.docker
            let system = "unix:///var/run/docker.sock"
            if !`private` && Sys.exists("/var/run/docker.sock")
                && PrivateEngines.dockerAnswers(client: docker.client, host: system)
            {
                print(
                    """
                    A Docker daemon answers on /var/run/docker.sock. To register contlab with it, add this to
                    /etc/docker/daemon.json (merge it with what is there):

                    \(DockerLab.daemonJSON(runtimePath: lab.runtimePath))

                    then make dockerd read it again (kill -HUP $(pidof dockerd), or systemctl reload docker) and run:

                      \(docker.client) run --rm --runtime \(runtimeName) busybox echo hello

                    Or run the lab's own daemon beside yours: contlab engines setup docker --private
                    """)
                return
            }
            let started = try lab.startDocker()
            try lab.importDockerImage(tree: try EnginesCommand.busyboxTree())
            print(
                """
                The lab's dockerd \(started ? "started" : "runs already") (pid \(lab.dockerPID().map(String.init) ?? "?")), its state under \(docker.base),
                with contlab-runc registered as runtime "\(runtimeName)" and a busybox image imported from the busybox recipe's tree.

                  export DOCKER_HOST=\(docker.host)
                  \(docker.client) run --rm --runtime \(runtimeName) --network none busybox echo hello
                  \(docker.client) run -d --name demo --runtime \(runtimeName) --network none busybox sleep 600
                  \(docker.client) exec demo ps; \(docker.client) top demo; \(docker.client) rm -f demo

                Every call dockerd's shim makes to contlab-runc, with the system calls of each container's init, is
                recorded in \(docker.journal) (tail -f it while you type).
                The daemon was started with: \(docker.daemonArguments(runtimePath: lab.runtimePath).joined(separator: " "))
                and \(docker.configFile). Its log: \(docker.logFile). Stop it with: contlab engines stop
                """)
        }

        func podman(_ lab: PrivateEngines) throws {
            let podman = lab.directories.podman
            try lab.preparePodman(tree: try EnginesCommand.busyboxTree())
            let command = lab.podmanCommand(["run", "--rm"] + PodmanLab.runArguments + [podman.image, "echo", "hello"])
            print(
                """
                Podman needs no daemon. The lab's Podman keeps its storage under \(podman.base), with a busybox image
                imported from the busybox recipe's tree. Run a container through contlab-runc with:

                  \(command.joined(separator: " "))

                To register contlab for every podman command, add this to /etc/containers/containers.conf:

                \(PodmanLab.containersConf(runtimePath: lab.runtimePath))

                and give podman --runtime \(runtimeName). contlab-runc records every call it gets in \(podman.journal).
                The --ulimit flags keep RLIMIT_NOFILE and RLIMIT_NPROC within
                this machine's hard limits: raising them needs CAP_SYS_RESOURCE, which this sandbox does not grant.
                Remove the lab's containers with: contlab engines stop
                """)
        }
    }

    /// The walk-through's step: Docker in front of contlab-runc, when Docker is here.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo",
            abstract: "Run one container through the lab's Docker or Podman, and show what it asked of contlab-runc.")

        @Argument(help: "docker or podman") var engine: String = "docker"

        func run() throws {
            try reportingErrors {
                guard let kind = Engine(rawValue: engine) else { throw ValidationError("give docker or podman") }
                let data = ProjectFiles.dataDirectory().path
                let directories = EngineDirectories(data: data)
                let missing =
                    kind == .docker
                    ? [directories.docker.daemon, directories.docker.client].filter { !Sys.exists($0) }
                    : [directories.podman.program].filter { !Sys.exists($0) }
                if !missing.isEmpty {
                    let package = kind == .docker ? "docker.io" : "podman"
                    print(
                        "\(kind.rawValue) is not installed on this machine (no \(missing.joined(separator: ", "))), so this step has nothing to run."
                    )
                    print(
                        "Install Debian's \(package) (make setup does) and run it again: contlab engines "
                            + "demo \(kind.rawValue)"
                    )
                    return
                }
                guard geteuid() == 0 else {
                    print("The lab's \(kind.rawValue) runs as root: run this step with sudo (sudo contlab stage 4).")
                    return
                }
                let lab = try EnginesCommand.lab()
                let tree = try EnginesCommand.busyboxTree()
                // One demo at a time on this machine: each starts the lab's dockerd (or finds it)
                // and may stop it, and shows the journal's lines from its own start on, which
                // must be its own container's.
                try FileManager.default.createDirectory(atPath: data + "/engines", withIntermediateDirectories: true)
                try Sys.withFileLock(data + "/engines/demo.lock") {
                    try show(kind, lab: lab, tree: tree, directories: directories)
                }
            }
        }

        func show(_ kind: Engine, lab: PrivateEngines, tree: String, directories: EngineDirectories) throws {
            let script = "echo hello from busybox, PID $$; grep -E ':(memory|pids):|^0::' /proc/self/cgroup"
            let argv: [String], journal: String
            var started = false
            if kind == .docker {
                started = try lab.startDocker()
                try lab.importDockerImage(tree: tree)
                journal = directories.docker.journal
                argv = directories.docker.clientArguments([
                    "run", "--rm", "--runtime", runtimeName, "--network", "none",
                    directories.docker.image, "sh", "-c", script
                ])
            } else {
                try lab.preparePodman(tree: tree)
                journal = directories.podman.journal
                argv = lab.podmanCommand(
                    ["run", "--rm"] + PodmanLab.runArguments + [directories.podman.image, "sh", "-c", script])
            }
            defer { if started { _ = try? lab.stopDocker() } }
            let offset = (Sys.readText(journal) ?? "").utf8.count
            let labDirectory = (journal as NSString).deletingLastPathComponent
            print(
                "$ "
                    + argv.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ").replacingOccurrences(
                        of: labDirectory, with: "$LAB"))
            fflush(stdout)
            let status = PrivateEngines.runPassingThrough(argv)
            print("(exit \(status))\n")
            print(
                "What \(kind == .docker ? "dockerd's containerd shim" : "conmon") asked of contlab-runc (its journal, \(journal); $LAB is \(labDirectory)):"
            )
            print(
                JournalView.condense(PrivateEngines.journal(journal, from: offset), lab: labDirectory), terminator: "")
            print(
                "\ncontlab engines chain \(kind.rawValue) draws these calls as the chain from the engine to the "
                    + "runtime."
            )
            if started { print("\nThe lab's dockerd was started for this step and is stopped again.") }
            if status != 0 { throw ExitCode(status) }
        }
    }

    /// The call chain, drawn from contlab-runc's journal: the engine's programs down to the
    /// runtime, and the calls the runtime got for one container.
    struct Chain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "chain",
            abstract: "Draw the chain from Docker or Podman to contlab-runc, from the runtime's journal.",
            discussion: """
                Reads the journal contlab-runc keeps for the lab's engine (or --from FILE) and \
                draws, for its last container, the programs a docker or podman command goes \
                through, and the runtime's calls in order: each with the program that made \
                it, and how many system calls the init made under create.
                """)

        @Argument(help: "docker or podman") var engine: String = "docker"
        @Option(
            help: ArgumentHelp(
                "A journal (contlab-runc --journal FILE), or a chain saved with --json.", valueName: "file"))
        var from: String?
        @Option(help: ArgumentHelp("The container's id (default: the journal's last created one).", valueName: "id"))
        var container: String?
        @Flag(help: "Print the data the drawing is made from, as JSON (for --from, or the lessons' diagrams).")
        var json = false
        @Option(help: "Colour: auto, always or never.") var color: ColorMode = .auto

        func validate() throws {
            guard Engine(rawValue: engine) != nil else {
                throw ValidationError("give docker or podman, for example: contlab engines chain docker")
            }
        }

        func run() throws {
            try reportingErrors {
                let directories = EngineDirectories(data: ProjectFiles.dataDirectory().path)
                let path = from ?? (engine == "podman" ? directories.podman.journal : directories.docker.journal)
                guard let text = Sys.readText(path) else {
                    throw ValidationError(
                        from == nil
                            ? "no journal at \(path) yet: run a container through the lab's \(engine) first (sudo "
                                + "contlab engines demo \(engine))"
                            : "--from \(path): cannot read it")
                }
                let chain: RuntimeCallChain
                if text.hasPrefix("{") {
                    do { chain = try JSONDecoder().decode(RuntimeCallChain.self, from: Data(text.utf8)) } catch {
                        throw ValidationError(
                            "--from \(path): not a chain saved with contlab engines chain --json "
                                + "(\(error.localizedDescription))"
                        )
                    }
                } else {
                    guard let parsed = RuntimeCallChain.parse(journal: text, engine: engine, container: container)
                    else {
                        throw ValidationError(
                            container.map { "\(path) holds no call about the container \($0)" }
                                ?? "\(path) holds no create: it is not a journal of contlab-runc --journal, or no "
                                + "container was made"
                        )
                    }
                    chain = parsed
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(chain), as: UTF8.self))
                } else {
                    print(
                        CallChainDiagram(chain: chain).text(
                            style: Style(enabled: color.enabled()), language: .preferred()), terminator: "")
                }
            }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop", abstract: "Remove the lab's containers and stop its dockerd.")

        @Argument(help: "docker or podman (default: both)") var engine: String?

        func run() throws {
            try reportingErrors {
                let lab = PrivateEngines(
                    directories: EngineDirectories(data: ProjectFiles.dataDirectory().path),
                    runtimePath: (try? PrivateEngines.runtimeBesideSelf()) ?? "contlab-runc")
                let which = try engine.map { name -> Engine in
                    guard let e = Engine(rawValue: name) else {
                        throw ValidationError("give docker or podman, or nothing for both")
                    }
                    return e
                }
                if which != .podman {
                    print(try lab.stopDocker() ? "The lab's dockerd stopped." : "The lab's dockerd was not running.")
                }
                if which != .docker {
                    lab.stopPodman()
                    print("The lab's Podman containers removed.")
                }
            }
        }
    }
}
