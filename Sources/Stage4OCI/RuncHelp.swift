import ContlabCore
import OCI

/// contlab-runc's help screens, in the layout runc's command-line library prints (NAME:,
/// USAGE:, COMMANDS:), which runc's own tests and people who know runc read. The words are
/// contlab's: what each command does here, in one line, and its options.
enum RuncHelp {
    struct Command {
        let name: String
        let usage: String
        let summary: String
        /// Option lines, `--flag VALUE   what it does`.
        var options: [String] = []
    }

    static let commands: [Command] = [
        Command(
            name: "checkpoint", usage: "ID", summary: "checkpoint a running container (not implemented by contlab-runc)"
        ),
        Command(
            name: "create", usage: "[command options] ID", summary: "create a container; its process waits for start",
            options: [
                "--bundle DIR, -b DIR   the bundle (default: the current directory)",
                "--pid-file FILE        write the init's host pid here",
                "--console-socket SOCK  send the terminal's master here",
                "--preserve-fds N       keep the caller's descriptors 3 … 3+N-1 open"
            ]),
        Command(
            name: "delete", usage: "[command options] ID", summary: "delete any resources held by the container",
            options: ["--force, -f   kill a running container first"]),
        Command(
            name: "events", usage: "[command options] ID", summary: "cgroup counters as JSON, once or until it stops",
            options: [
                "--stats          one stats event, then exit",
                "--interval 5s    how often to report"
            ]),
        Command(
            name: "exec", usage: "[command options] ID COMMAND [ARGS...]",
            summary: "execute a new process inside the container",
            options: [
                "--process FILE, -p FILE   the process, as config.json's process object",
                "--detach, -d              do not wait for the process",
                "--tty, -t                 give it a terminal",
                "--cwd DIR                 its working directory",
                "--env K=V, -e K=V         add to its environment",
                "--user UID[:GID], -u      its user",
                "--additional-gids GID     add a group (repeatable)",
                "--pid-file FILE           write its host pid here",
                "--console-socket SOCK     send the terminal's master here",
                "--preserve-fds N          keep descriptors 3 … 3+N-1 open",
                "--ignore-paused           exec into a paused container",
                "--cgroup [CTRL,...:]PATH  start in this sub-cgroup of the container's"
            ]),
        Command(name: "features", usage: "", summary: "what this runtime implements, as JSON"),
        Command(
            name: "kill", usage: "[command options] ID [SIGNAL]",
            summary: "signal the container's init (default TERM; 0: does it exist?)",
            options: ["--all, -a   signal every process of the container"]),
        Command(
            name: "list", usage: "[command options]", summary: "list the containers under --root",
            options: ["--format table|json, -f   output format", "--quiet, -q               only the ids"]),
        Command(name: "pause", usage: "ID", summary: "freeze the container's processes (cgroup freezer)"),
        Command(
            name: "ps", usage: "[command options] ID [PS-ARGS...]",
            summary: "ps(1)'s table (default -ef) of the container's processes",
            options: ["--format table|json, -f   json: the pids only"]),
        Command(
            name: "restore", usage: "ID", summary: "restore a checkpointed container (not implemented by contlab-runc)"),
        Command(name: "resume", usage: "ID", summary: "thaw a paused container"),
        Command(
            name: "run", usage: "[command options] ID", summary: "create and start a container",
            options: [
                "--bundle DIR, -b DIR   the bundle (default: the current directory)",
                "--detach, -d           do not wait for the container",
                "--keep                 keep the stopped container for state and delete",
                "--pid-file FILE        write the init's host pid here",
                "--console-socket SOCK  send the terminal's master here",
                "--preserve-fds N       keep the caller's descriptors 3 … 3+N-1 open"
            ]),
        Command(
            name: "spec", usage: "[command options]", summary: "write a default config.json",
            options: ["--bundle DIR, -b DIR   where to write it", "--rootless             for a user without root"]),
        Command(name: "start", usage: "ID", summary: "run the created container's process"),
        Command(name: "state", usage: "ID", summary: "output the runtime-spec state of a container, as JSON"),
        Command(
            name: "update", usage: "[command options] ID", summary: "update the container's resource limits",
            options: [
                "--resources FILE, -r FILE   linux.resources as JSON (- for stdin)",
                "--memory N                  memory limit (64m; -1 for none)",
                "--memory-swap N             memory+swap limit",
                "--memory-reservation N      soft memory limit",
                "--pids-limit N              most processes",
                "--cpu-quota N               CFS quota (µs a period)",
                "--cpu-period N              CFS period (µs)",
                "--cpu-share N               CPU shares",
                "--cpu-rt-period N           realtime period (µs; cgroup v1)",
                "--cpu-rt-runtime N          realtime time a period (µs; cgroup v1)",
                "--cpuset-cpus LIST          CPUs to run on (0-3,5)",
                "--cpuset-mems LIST          memory nodes to use"
            ])
    ]

    static func command(_ name: String) -> Command? { commands.first { $0.name == name } }

    static let main = """
        NAME:
           contlab-runc - Open Container Initiative runtime (contlab's stage 4)

        contlab-runc builds and runs containers from OCI bundles with runc's command
        line, so that containerd, Docker and Podman can call it.

        USAGE:
           contlab-runc [global options] command [command options] [arguments...]

        VERSION:
           \(ContlabVersion.current), spec: \(DefaultSpec.ociVersion)

        COMMANDS:
        \(commands.map { "   " + $0.name.padding(toLength: 11, withPad: " ", startingAt: 0) + $0.summary }
            .joined(separator: "\n"))
           help       show the commands, or one command's options

        GLOBAL OPTIONS:
           --root DIR             container state (default /run/contlab-runc; without
                                  root $XDG_RUNTIME_DIR/contlab-runc)
           --log FILE             errors and debug lines, as text or JSON lines
           --log-format text|json
           --debug                also write the system calls the init made to --log
           --journal FILE         contlab's own: every call and its system calls
           --help, -h             show help
           --version, -v          print the version
        """

    /// One command's screen; nil for a command runc does not have.
    static func screen(_ name: String) -> String? {
        guard let command = command(name) else { return nil }
        var lines = [
            "NAME:", "   contlab-runc \(command.name) - \(command.summary)", "", "USAGE:",
            "   contlab-runc \(command.name) \(command.usage)".trimmingCharacters(in: .whitespaces)
        ]
        if !command.options.isEmpty { lines += ["", "OPTIONS:"] + command.options.map { "   " + $0 } }
        return lines.joined(separator: "\n")
    }
}
