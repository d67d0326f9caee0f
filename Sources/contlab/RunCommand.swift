import ArgumentParser
import ContlabCore
import Foundation
import Cgroups
import Rootfs
import Stage2Namespaces
import Stage3Cgroups
import Images
import Stage5Images
import Stage6Network
import TextKit

/// Options shared by every command that starts a container.
struct ContainerOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The stage to run at: 1 (chroot), 2 (namespaces), 3 (cgroups), 5 (an image on overlayfs), 6 (a network).")
    var stage: Int = 2

    @Option(name: .long, help: "A root filesystem recipe name (contlab rootfs list) or a directory.")
    var rootfs: String = "busybox"

    @Flag(name: .long, help: "Run in a user namespace that maps you to root (automatic when not root).")
    var rootless = false

    @Flag(
        name: .long,
        help:
            ArgumentHelp(
                "Print the system calls that set the container up, host's and init's, to stderr (--explain=full: every "
                    + "call, with whole paths).")
    )
    var explain = false

    /// `--explain=full`, which main turns into this flag (ArgumentParser has no optional values).
    @Flag(name: .customLong("explain-full"), help: .hidden)
    var explainFull = false

    func validate() throws {
        if stage == 4 {
            throw ValidationError(
                "stage 4 is the OCI runtime, driven like runc: contlab bundle create DIR, then contlab runc run "
                    + "--bundle DIR ID"
            )
        }
        guard [1, 2, 3, 5, 6].contains(stage) else {
            throw ValidationError(
                "--stage \(stage): this contlab has stages 1 (chroot), 2 (namespaces), 3 (cgroups), 4 (contlab runc), "
                    + "5 (images) and 6 (networks)"
            )
        }
    }

    var effectiveRootless: Bool { rootless || geteuid() != 0 }

    func resolveRootfs() throws -> String {
        try RootfsStore.standard().resolve(rootfs)
    }

    var explaining: Bool { explain || explainFull }

    func printRecord(_ record: [String]) {
        guard explaining else { return }
        let zh = Language.preferred() == .zh
        Sys.warn(
            zh
                ? "contlab --explain（host：contlab run；init：容器的第一个进程）："
                : "contlab --explain (host: contlab run; init: the container's first process):")
        let lines =
            explainFull
            ? record
            : ExplainRecord.compact(record, width: isatty(STDERR_FILENO) == 1 ? Terminal.columns() - 2 : nil)
        for line in lines { Sys.warn("  " + line) }
        if !explainFull {
            Sys.warn(zh ? "  （--explain=full：每一个调用，路径完整）" : "  (--explain=full: every call, with whole paths)")
        }
    }

    /// Start `request` (stages 1 and 2) and wait for it; returns how it ended.
    func run(_ request: RunRequest) throws -> ExitStatus {
        let process = try ContainerProcess.start(plan: try request.planOnThisHost(), explain: explaining)
        printRecord(process.record)
        return process.wait()
    }

    /// Stage 3: the same in a cgroup with `limits`; returns the report.
    func runInCgroup(_ request: RunRequest, limits: CgroupLimits) throws -> Stage3Run.Report {
        try Stage3Run.run(
            plan: try request.planOnThisHost(), limits: limits, explain: explaining,
            onRecord: printRecord)
    }
}

/// Stage 3's limits on the command line.
struct LimitOptions: ParsableArguments {
    @Option(
        name: [.customShort("m"), .long],
        help: "Memory limit, as Docker reads it: 512k, 64M, 1G or bytes (stages 3, 5, 6).")
    var memory: String?

    @Option(name: .long, help: "The most processes and threads (stages 3, 5, 6).")
    var pids: String?

    @Option(name: .long, help: "CPU time as a number of CPUs, such as 0.5 (stages 3, 5, 6).")
    var cpus: String?

    var given: Bool { memory != nil || pids != nil || cpus != nil }

    func limits() throws -> CgroupLimits { try CgroupLimits.parse(memory: memory, pids: pids, cpus: cpus) }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a container built at the given stage.",
        discussion: """
            Stage 1 chroots into the root filesystem and execs the command: nothing else \
            is isolated.

            Stage 2 adds PID, mount, UTS, IPC, network (and cgroup) namespaces, \
            pivot_root with the old root detached, a fresh /proc, a minimal /dev, a \
            read-only /sys, and an init that is PID 1: it reaps orphans and passes \
            SIGINT, SIGTERM and SIGHUP on to the command.

            Stage 3 runs stage 2's container in a cgroup of its own with --memory, \
            --pids and --cpus, and after the run prints (to stderr) the limits, the peak \
            memory, the OOM kills and limit hits the kernel counted, and how the command \
            ended.

            Stage 6 runs stage 2's container (stage 3's with --memory, --pids or \
            --cpus) with eth0 on a lab network (contlab network create NAME): an \
            address, a default route and an /etc/hosts naming the network's other \
            containers by --name. -p HOSTPORT:CONTAINERPORT publishes a container's \
            TCP port on the network's host side (127.0.0.1 and the bridge's address \
            there, never the host's own interfaces) for as long as the container runs.

            The exit status is the command's (128+N when signal N killed it); 125 means \
            contlab could not set the container up, 126 the command could not run, 127 \
            it was not found. The word `contlab` as the command runs this contlab \
            inside, e.g. -- contlab inspect.

            Examples:
              contlab run --stage 1 -- /bin/sh
              contlab run --stage 2 --hostname lab -e GREETING=hi -- \\
                  /bin/sh -c 'echo $GREETING from $(hostname)'
              contlab run --stage 2 --explain -- contlab inspect
              contlab run --stage 3 --memory 64M -- contlab hog 100M    # OOM-killed
              contlab run --stage 3 --memory 64M -- contlab hog 30M     # survives
              contlab run --stage 3 --memory 64M --diagram -- contlab hog 30M
              contlab run --diagram --from REPORT.json   # one saved with --report-json
              contlab run --stage 6 --network lab --name web -- httpd -f
              contlab run --stage 6 --network lab -p 8080:80 -- httpd -f
              contlab network shell lab -- wget -qO- http://127.0.0.1:8080/
            """)

    @OptionGroup var container: ContainerOptions

    @Option(name: .long, help: "The container's hostname (stage 2).")
    var hostname: String?

    @Option(name: [.short, .long], help: "Set an environment variable, KEY=VALUE (repeatable).")
    var env: [String] = []

    @Option(name: [.customShort("w"), .long], help: "The working directory inside the container.")
    var cwd: String?

    @Option(
        name: [.short, .long], help: "Run as NAME, UID, NAME:GROUP or UID:GID from the root filesystem's /etc/passwd.")
    var user: String?

    @OptionGroup var limitOptions: LimitOptions

    @Option(name: .long, help: "Stage 3: also write the report as JSON to this file.")
    var reportJson: String?

    @Flag(name: .long, help: "Stage 3: print no report.")
    var quiet = false

    @Flag(
        help:
            ArgumentHelp(
                "Stage 3: draw the report as the cgroup tree: the container's cgroup in each hierarchy, its limits and "
                    + "the kernel's counters.")
    )
    var diagram = false

    @Option(
        help: ArgumentHelp(
            "With --diagram: draw a report saved with --report-json instead of running a command.", valueName: "file"))
    var from: String?

    @Option(help: "Colour of the report: auto, always or never.") var color: ColorMode = .auto

    @Option(help: "Stage 5: the image to run (contlab image list).") var image: String?

    @Option(
        help:
            ArgumentHelp(
                "Stage 5: the container's id, for contlab diff and commit; stage 6: its name on the network (default: a "
                    + "random one).")
    ) var name: String?

    @Option(help: "Stage 6: the lab network to join (contlab network ls).") var network: String?

    @Option(
        name: [.customShort("p"), .customLong("publish")],
        help: ArgumentHelp(
            "Stage 6: publish the container's port on the network's host side, as HOSTPORT:CONTAINERPORT (repeatable).",
            valueName: "HOSTPORT:CONTAINERPORT"))
    var publish: [String] = []

    @Flag(name: .customLong("rm"), help: "Stage 5: remove the container and what it wrote when it exits.") var remove =
        false

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        // The command is captured as it is, so `run --help` would otherwise run "--help".
        if ["--help", "-h"].contains(command.first ?? "") { throw CleanExit.helpRequest(self) }
        if from != nil {
            guard diagram else { throw ValidationError("--from draws a saved stage-3 report: add --diagram") }
            guard command.filter({ $0 != "--" }).isEmpty else {
                throw ValidationError("--from draws a saved report and runs nothing: drop the command, or drop --from")
            }
            return
        }
        if diagram && container.stage != 3 {
            throw ValidationError("--diagram draws stage 3's cgroup tree: add --stage 3 (or --from REPORT.json)")
        }
        if limitOptions.given && ![3, 5, 6].contains(container.stage) {
            throw ValidationError("--memory, --pids and --cpus are stage 3's (and stages 5 and 6's): add --stage 3")
        }
        if container.stage == 5 && image == nil {
            throw ValidationError(
                "stage 5 runs an image: add --image NAME:TAG (contlab image list; contlab image build --rootfs "
                    + "busybox busybox)"
            )
        }
        if container.stage != 5 && (image != nil || remove || (name != nil && container.stage != 6)) {
            throw ValidationError("--image, --name and --rm are stage 5's (--name also stage 6's): add --stage 5")
        }
        if !publish.isEmpty {
            guard container.stage == 6 else {
                throw ValidationError(
                    "-p publishes a port on a lab network's host side, which is stage 6's: add --stage 6 --network NAME"
                )
            }
            do { _ = try PortMapping.parseAll(publish) } catch { throw ValidationError("\(error)") }
        }
        if (container.stage == 6) != (network != nil) {
            throw ValidationError(
                network == nil
                    ? "stage 6 runs on a lab network: add --network NAME (contlab network create NAME)"
                    : "--network is stage 6's: add --stage 6")
        }
    }

    func run() throws {
        let args = command.first == "--" ? Array(command.dropFirst()) : command
        if let from { return try drawSaved(from) }
        if container.stage == 5 { return try runImage(args) }
        if container.stage == 6 { return try runOnNetwork(args) }
        let status = try reportingErrors(exitCode: InitHandshake.setupFailed) { () -> ExitStatus in
            let rootfs = try container.resolveRootfs()
            let request = self.request(stage: container.stage, rootfs: rootfs, args: args)
            guard container.stage >= 3 else { return try container.run(request) }
            let limits = try limitOptions.limits()
            return try finish(try container.runInCgroup(request, limits: limits))
        }
        throw ExitCode(status.shellCode)
    }

    /// Stage 3's report to stderr (unless --quiet) and to --report-json; how the command ended.
    func finish(_ report: Stage3Run.Report) throws -> ExitStatus {
        if !quiet {
            let style = Style(enabled: color.enabled(fd: STDERR_FILENO))
            if diagram, let drawing = CgroupDiagram(report: report) {
                Sys.warn("\ncontlab: stage 3, the container's cgroup")
                FileHandle.standardError.write(Data(drawing.text(style: style, language: .preferred()).utf8))
            } else {
                Sys.warn("\ncontlab: stage 3 report")
                FileHandle.standardError.write(Data(report.text(style: style).utf8))
            }
        }
        if let reportJson {
            do {
                try report.json().write(to: URL(fileURLWithPath: reportJson))
            } catch {
                let folder = (reportJson as NSString).deletingLastPathComponent
                let why =
                    Sys.isDirectory(folder.isEmpty ? "." : folder)
                    ? "it cannot be written there (permissions?)" : "the folder \(folder) does not exist; make it first"
                throw ValidationError("--report-json \(reportJson): \(why)")
            }
        }
        return report.exitCode == 128 + SIGKILL ? .signaled(SIGKILL) : .exited(report.exitCode)
    }

    /// `--diagram --from FILE`: a report saved with --report-json, drawn on stdout.
    func drawSaved(_ path: String) throws {
        try reportingErrors {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError(
                    "--from \(path): cannot read it; give a file written by contlab run --stage 3 --report-json")
            }
            let report: Stage3Run.Report
            do { report = try Stage3Run.Report.decode(data) } catch {
                throw ValidationError(
                    "--from \(path): not a report of contlab run --stage 3 --report-json "
                        + "(\(error.localizedDescription))"
                )
            }
            guard let drawing = CgroupDiagram(report: report) else {
                throw ValidationError(
                    "--from \(path): this report is from a contlab that did not record the cgroup tree; run the "
                        + "command again"
                )
            }
            print(drawing.text(style: Style(enabled: color.enabled()), language: .preferred()), terminator: "")
        }
    }

    /// What the options ask for at stages 1–3 (and stage 6, which runs stage 2's container).
    func request(stage: Int, rootfs: String, args: [String]) -> RunRequest {
        var request = RunRequest(stage: stage, rootfs: rootfs, args: args)
        request.env = env
        request.cwd = cwd
        request.user = user
        request.hostname = hostname
        request.rootless = container.effectiveRootless
        if isatty(STDIN_FILENO) == 1 { request.terminal = ProcessInfo.processInfo.environment["TERM"] }
        request.language = ProcessInfo.processInfo.environment[Language.environmentKey]
        return request
    }

    /// Stage 5: the image's layers under overlayfs, run by the stage-4 runtime.
    func runImage(_ args: [String]) throws {
        let code = try reportingErrors(exitCode: InitHandshake.setupFailed) { () -> Int32 in
            do {
                var run = Stage5Run(id: name ?? Stage5Run.newID(), image: try ImageReference(parsing: image!))
                run.command = args
                run.env = env
                run.user = user
                run.workingDir = cwd
                run.remove = remove
                run.contlabBinary = Sys.readLink("/proc/self/exe")
                run.record = container.explaining
                run.limits = try limitOptions.limits()
                if !remove && name == nil {
                    Sys.warn("contlab: container \(run.id) (contlab diff \(run.id); contlab container rm \(run.id))")
                }
                var initCalls: [String] = []
                let code = try run.run { initCalls = $0 }
                container.printRecord(CallRecord.shared.entries + initCalls.map { "init: " + $0 })
                return code
            } catch let stop as Interruption.Interrupted {
                Sys.warn("contlab: \(stop)")
                return stop.exitCode
            }
        }
        throw ExitCode(code)
    }
}
