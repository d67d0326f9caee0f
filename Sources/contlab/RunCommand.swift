import ArgumentParser
import ContlabCore
import Foundation
import Rootfs
import Stage2Namespaces

/// Options shared by every command that starts a container.
struct ContainerOptions: ParsableArguments {
    @Option(name: .long, help: "The stage to run at: 1 (chroot), 2 (namespaces).")
    var stage: Int = 2

    @Option(name: .long, help: "A root filesystem recipe name (contlab rootfs list) or a directory.")
    var rootfs: String = "busybox"

    @Flag(name: .long, help: "Run in a user namespace that maps you to root (automatic when not root).")
    var rootless = false

    @Flag(name: .long, help: "Print the system calls the runtime made, host's and init's, to stderr.")
    var explain = false

    func validate() throws {
        guard (1...2).contains(stage) else {
            throw ValidationError("--stage \(stage): this contlab has stages 1 (chroot) and 2 (namespaces)")
        }
    }

    var effectiveRootless: Bool { rootless || geteuid() != 0 }

    func resolveRootfs() throws -> String {
        try RootfsStore.standard().resolve(rootfs)
    }

    /// Start `request` and wait for it; returns how it ended.
    func run(_ request: RunRequest, rootfsPath: String) throws -> ExitStatus {
        var plan = try request.plan(users: UserDatabase(rootfs: rootfsPath),
                                    kernelHasCgroupNamespace: Sys.exists("/proc/self/ns/cgroup"))
        plan.hostRoot = FileIdentity(path: "/")
        plan.hostNamespaces = currentNamespaceIDs()
        let process = try ContainerProcess.start(plan: plan, explain: explain)
        if explain {
            Sys.warn("contlab: system calls for this container (host = contlab run, init = the container's first process):")
            for line in process.record { Sys.warn("  " + line) }
        }
        return process.wait()
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a container built at the given stage.",
        discussion: """
            Stage 1 chroots into the root filesystem and execs the command: nothing else is isolated.
            Stage 2 adds PID, mount, UTS, IPC, network (and cgroup) namespaces, pivot_root with the
            old root detached, a fresh /proc, a minimal /dev, a read-only /sys, and an init that is
            PID 1: it reaps orphans and passes SIGINT, SIGTERM and SIGHUP on to the command.
            The exit status is the command's (128+N when signal N killed it); 125 means contlab
            could not set the container up, 126 the command could not run, 127 it was not found.
            The word `contlab` as the command runs this contlab inside, e.g. -- contlab inspect.

            Examples:
              contlab run --stage 1 -- /bin/sh
              contlab run --stage 2 --hostname lab -e GREETING=hi -- /bin/sh -c 'echo $GREETING from $(hostname)'
              contlab run --stage 2 --explain -- contlab inspect
            """)

    @OptionGroup var container: ContainerOptions

    @Option(name: .long, help: "The container's hostname (stage 2).")
    var hostname: String?

    @Option(name: [.short, .long], help: "Set an environment variable, KEY=VALUE (repeatable).")
    var env: [String] = []

    @Option(name: [.customShort("w"), .long], help: "The working directory inside the container.")
    var cwd: String?

    @Option(name: [.short, .long], help: "Run as NAME, UID, NAME:GROUP or UID:GID from the root filesystem's /etc/passwd.")
    var user: String?

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func run() throws {
        let args = command.first == "--" ? Array(command.dropFirst()) : command
        let status = try reportingErrors(exitCode: ContainerInit.setupFailed) { () -> ExitStatus in
            let rootfs = try container.resolveRootfs()
            var request = RunRequest(stage: container.stage, rootfs: rootfs, args: args)
            request.env = env
            request.cwd = cwd
            request.user = user
            request.hostname = hostname
            request.rootless = container.effectiveRootless
            if isatty(STDIN_FILENO) == 1 { request.terminal = ProcessInfo.processInfo.environment["TERM"] }
            return try container.run(request, rootfsPath: rootfs)
        }
        throw ExitCode(status.shellCode)
    }
}
