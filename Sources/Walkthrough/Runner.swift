import ContlabCore
import Foundation
import TextKit

/// Runs a walk-through: tells each step (its history, the commands by hand, contlab's command),
/// then on a terminal waits for one key before the command runs — Enter or space runs it, `s`
/// stops the prose, `q` stops (exit 0), Ctrl-C interrupts (130) — and runs it as a child (this
/// same binary). The children clean up after themselves; Ctrl-C reaches them through the
/// forwarding wait, and the walk-through's own scratch directory is removed on every way out.
public struct WalkthroughRunner {
    public var walkthrough: StageWalkthrough
    public var language: String
    public var style: Style
    public var interactive: Bool
    public var firstStep: Int
    public var history: [String]
    /// What this machine offers; steps that need more are told but not run.
    public var host: HostAbilities
    /// The servers background steps started, stopped when the walk-through ends.
    let servers = BackgroundServers()

    /// A name for this run's containers and images: the user, the process and a random part,
    /// so that thirty students (or two terminals) never share one.
    public static func runName() -> String {
        "walkthrough-\(getuid())-\(getpid())-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }

    public init(
        walkthrough: StageWalkthrough, language: String, style: Style, interactive: Bool, firstStep: Int,
        history: [String], host: HostAbilities = .probe()
    ) {
        self.walkthrough = walkthrough
        self.language = language
        self.style = style
        self.interactive = interactive
        self.firstStep = firstStep
        self.history = history
        self.host = host
    }

    enum Answer { case next, skipProse, quit, interrupted }

    /// One key, acted on at once: Enter or space goes on, s stops the prose, q quits, Ctrl-C
    /// interrupts. The terminal is in non-canonical mode without echo (and without turning
    /// Ctrl-C into a signal) only while it waits, and is restored before anything else happens.
    /// `runs`: the step's command is about to run, so the student is asked what they expect.
    func ask(runs: Bool) -> Answer {
        guard interactive else { return .next }
        let prompt =
            runs
            ? (language == "zh"
                ? "你预计会看到什么？[回车/空格] 运行 · [s] 略过讲解 · [q] 退出 "
                : "What do you expect? [Enter/space] run it · [s] skip the prose · [q] quit ")
            : (language == "zh"
                ? "[回车/空格] 继续 · [s] 略过讲解 · [q] 退出 " : "[Enter/space] continue · [s] skip the prose · [q] quit ")
        FileHandle.standardOutput.write(Data(style.dim(prompt).utf8))
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { return .next }
        defer { close(tty) }
        var saved = termios()
        let raw = tcgetattr(tty, &saved) == 0
        if raw {
            var keys = saved
            keys.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
            keys.c_cc.6 = 1  // VMIN: one byte
            keys.c_cc.5 = 0  // VTIME: no timeout
            tcsetattr(tty, TCSANOW, &keys)
        }
        defer { if raw { tcsetattr(tty, TCSANOW, &saved) } }
        while true {
            var byte: UInt8 = 0
            let count = read(tty, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { print(""); return .quit }
            switch byte {
            case UInt8(ascii: "q"), UInt8(ascii: "Q"): print("q"); return .quit
            case UInt8(ascii: "s"), UInt8(ascii: "S"): print("s"); return .skipProse
            case 0x03: print("^C"); return .interrupted
            case 0x0A, 0x0D, 0x20: print(""); return .next
            default: continue
            }
        }
    }

    /// Returns the exit status: 0 when every step that ran ended as it should, 1 when one did
    /// not, 130 when stopped.
    public func run() -> Int32 {
        setvbuf(stdout, nil, _IOLBF, 0)
        Self.removeStaleScratch()
        var template = Array((NSTemporaryDirectory() + "contlab-walkthrough-\(getpid())-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            Sys.warn(
                "contlab: cannot make a scratch folder "
                    + "in \(NSTemporaryDirectory()): \(String(cString: strerror(errno))); set TMPDIR to a writable folder"
            )
            return 1
        }
        let scratch = String(cString: made)
        servers.scratch = scratch
        var runner = self
        runner.walkthrough = walkthrough.instantiated(scratch: scratch, name: Self.runName())
        defer {
            runner.cleanUp()
            try? FileManager.default.removeItem(atPath: scratch)
        }
        return runner.runSteps()
    }

    /// Scratch folders of this user's walk-throughs that were killed (SIGKILL, a closed
    /// terminal) before they could clean up: their names carry the walk-through's pid.
    static func removeStaleScratch() {
        let temporary = NSTemporaryDirectory()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        where name.hasPrefix("contlab-walkthrough-") {
            let parts = name.split(separator: "-")
            var info = stat()
            guard parts.count == 4, let pid = pid_t(parts[2]), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH,
                lstat(temporary + name, &info) == 0, info.st_uid == geteuid()
            else { continue }
            try? FileManager.default.removeItem(atPath: temporary + name)
        }
    }

    /// Run names (`walkthrough-UID-PID-XXXX`) among `names` that belong to this user's
    /// walk-throughs whose process is gone: killed before their clean-up could run, they left
    /// their images and containers behind. `alive` is asked about each pid.
    public static func staleRunNames(
        in names: [String], uid: uid_t = getuid(),
        alive: (pid_t) -> Bool = { kill($0, 0) == 0 || errno != ESRCH }
    ) -> [String] {
        var stale = Set<String>()
        for name in names {
            let head = name.split(separator: "/", maxSplits: 1).first.map(String.init) ?? name
            let parts = head.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == "walkthrough", UInt32(parts[1]) == uid, let pid = pid_t(parts[2]),
                pid != getpid(), parts[3].count == 4, parts[3].allSatisfy(\.isHexDigit), !alive(pid)
            else { continue }
            stale.insert(head)
        }
        return stale.sorted()
    }

    /// Runs the walk-through's clean-up for each stale run name, quietly.
    public func removeStaleRuns(_ names: [String]) {
        for name in names {
            for args in walkthrough.instantiated(scratch: NSTemporaryDirectory(), name: name).cleanup ?? [] {
                _ = runContlab(args, quiet: true)
            }
        }
    }

    /// The earlier steps whose results a walk-through started at `firstStep` uses, and that
    /// this machine can run.
    var preparations: [Int] {
        walkthrough.steps.indices.filter {
            $0 < firstStep && walkthrough.steps[$0].prepares == true
                && walkthrough.steps[$0].run != nil && walkthrough.unmetNeeds(step: $0, on: host).isEmpty
        }
    }

    func runSteps() -> Int32 {
        var failed: [Int] = []
        let width = Terminal.columns()
        print(walkthrough.header(language: language, style: style, history: history, width: width), terminator: "")
        if let report = walkthrough.needsReport(on: host, language: language, style: style, from: firstStep) {
            print(report, terminator: "")
        }
        let setup = preparations
        if !setup.isEmpty {
            let list = setup.map { String($0 + 1) }.joined(separator: ", ")
            print(
                style.dim(
                    language == "zh"
                        ? "先悄悄运行第 \(list) 步：后面的步骤要用到它们做出的东西。"
                        : "Running step \(list) quietly first: later steps use what \(setup.count == 1 ? "it makes" : "they make")."
                ))
            for index in setup where !runStep(index, quiet: true) {
                Sys.warn(
                    language == "zh"
                        ? "contlab：第 \(index + 1) 步失败；不加 --step 运行以查看它的输出。"
                        : "contlab: step \(index + 1) failed; run the walk-through without --step to see its output.")
                return 1
            }
        }
        var prose = true
        for index in walkthrough.steps.indices where index >= firstStep {
            // The step is told first, its command last; the pause comes between, so the
            // student can guess what it will print before it does.
            let step = walkthrough.steps[index]
            print(
                walkthrough.describe(step: index, language: language, style: style, prose: prose, width: width),
                terminator: "")
            let byHandMissing = walkthrough.unmetByHandNeeds(step: index, on: host)
            if prose, step.byHand != nil, !byHandMissing.isEmpty {
                print(style.yellow(byHandMissing.map { $0.missing(language: language) }.joined(separator: "; ")))
            }
            let missing = walkthrough.unmetNeeds(step: index, on: host)
            switch ask(runs: missing.isEmpty && step.run != nil) {
            case .quit:
                print(
                    language == "zh"
                        ? "已停止；没有留下任何挂载、cgroup 或进程。"
                        : "Stopped; nothing is left behind (each step cleans up as it ends).")
                return 0
            case .interrupted:
                print(language == "zh" ? "已中断；没有留下任何挂载、cgroup 或进程。" : "Interrupted; nothing is left behind.")
                return 130
            case .skipProse: prose = false
            case .next: break
            }
            if !missing.isEmpty {
                print(StageWalkthrough.notRun(missing, language: language, style: style))
            } else if step.background == true {
                if !runStep(index, quiet: false) { failed.append(index + 1) }
            } else if let args = step.run {
                let status = runContlab(args)
                if status == .exited(130) || status == .signaled(SIGINT) {
                    print(language == "zh" ? "已中断；这一步的容器已清理。" : "Interrupted; this step's container was cleaned up.")
                    return 130
                }
                if status != .exited(step.exit ?? 0) {
                    failed.append(index + 1)
                    print(
                        style.red(
                            language == "zh"
                                ? "这一步没有按预期结束（\(status.description)）。"
                                : "This step did not end as it should (\(status.description))."))
                }
            }
            if let lookFor = step.lookFor, prose {
                print(
                    style.green("→ ")
                        + StageWalkthrough.wrap(lookFor(language), width: width - 2).replacingOccurrences(
                            of: "\n", with: "\n  "))
            }
        }
        if let exercises = walkthrough.exercises {
            print("\n" + style.bold(StageWalkthrough.wrap(exercises(language), width: width)))
        }
        guard failed.isEmpty else {
            let list = failed.map(String.init).joined(separator: ", ")
            Sys.warn(
                language == "zh"
                    ? "contlab：第 \(list) 步失败；上面是它们的输出。" : "contlab: step \(list) failed; their output is above.")
            return 1
        }
        return 0
    }

    func cleanUp() {
        servers.stopAll()
        for args in walkthrough.cleanup ?? [] { _ = runContlab(args, quiet: true) }
    }

    /// Runs step `index` (a preparation, quietly, or a background step's start); true when it
    /// ended as it should. A background step is started, then its `ready` command is tried
    /// until it succeeds, for at most 20 seconds.
    func runStep(_ index: Int, quiet: Bool) -> Bool {
        let step = walkthrough.steps[index]
        guard let args = step.run else { return true }
        guard step.background == true else { return runContlab(args, quiet: quiet) == .exited(step.exit ?? 0) }
        let log = servers.scratch + "/step-\(index + 1).log"
        guard let pid = spawnContlab(args, output: log, stopWithParent: true) else { return false }
        servers.add(pid)
        let deadline = Date().addingTimeInterval(20)
        while let ready = step.ready {
            if runContlab(ready, quiet: true) == .exited(0) { break }
            var status: Int32 = 0
            let ended = waitpid(pid, &status, WNOHANG) == pid
            if ended { servers.forget(pid) }
            guard !ended, Date() < deadline else {
                if !quiet {
                    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                    print(
                        style.red(
                            language == "zh"
                                ? "后台服务没有准备好\(ended ? "（它已退出）" : "（等了 20 秒）")。它的输出："
                                : "The server did not become ready\(ended ? " (it exited)" : " within 20 seconds"). Its output:"
                        ))
                    print(output.isEmpty ? "(none)" : output, terminator: output.hasSuffix("\n") ? "" : "\n")
                }
                return false
            }
            usleep(200_000)
        }
        if !quiet {
            print(
                style.dim(
                    language == "zh" ? "（它在后台运行，走读结束时停止。）" : "(It runs in the background until the walk-through ends.)")
            )
        }
        return true
    }

    /// This binary with `args`, its output straight to ours (or nowhere), Ctrl-C passed on.
    public func runContlab(_ args: [String], quiet: Bool = false) -> ExitStatus {
        Signals.block(Signals.forwarded + [SIGCHLD])
        guard let pid = spawnContlab(args, output: quiet ? "/dev/null" : nil) else { return .exited(125) }
        return waitForwarding(pid: pid)
    }

    /// Starts this binary with `args`, its stdout and stderr to `output` when given; nil when
    /// it cannot start (the reason is printed).
    func spawnContlab(_ args: [String], output: String?, stopWithParent: Bool = false) -> pid_t? {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let output {
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var pid: pid_t = 0
        let rc = withCStrings(["contlab"] + args) { argv in
            // The steps speak the walk-through's language (inspect's labels, --explain's header).
            var environment = ProcessInfo.processInfo.environment.merging([Language.environmentKey: language]) { $1 }
            if stopWithParent { environment[WalkthroughParent.environmentKey] = String(getpid()) }
            return withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envp in
                posix_spawn(
                    &pid, "/proc/self/exe", &actions, &attr,
                    UnsafeMutablePointer(mutating: argv), UnsafeMutablePointer(mutating: envp))
            }
        }
        guard rc == 0 else {
            Sys.warn("contlab: cannot run a step: \(String(cString: strerror(rc)))")
            return nil
        }
        return pid
    }
}

/// A background step's contlab finds its walk-through's pid here, and asks the kernel for
/// SIGTERM when that process dies (PR_SET_PDEATHSIG), so a killed walk-through leaves no server.
public enum WalkthroughParent {
    public static let environmentKey = "CONTLAB_WALKTHROUGH_PARENT"
}

/// The servers a walk-through's background steps started. Each is contlab running a container;
/// SIGTERM reaches the container through it, and it removes what it made as it ends.
final class BackgroundServers: @unchecked Sendable {
    var scratch = NSTemporaryDirectory()
    private(set) var pids: [pid_t] = []

    func add(_ pid: pid_t) { pids.append(pid) }
    func forget(_ pid: pid_t) { pids.removeAll { $0 == pid } }

    /// SIGTERM to each, then SIGKILL to any still running after five seconds; each is reaped.
    func stopAll() {
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        var running = pids
        while !running.isEmpty {
            var status: Int32 = 0
            running.removeAll { waitpid($0, &status, WNOHANG) != 0 }
            guard !running.isEmpty else { break }
            if Date() >= deadline {
                for pid in running { kill(pid, SIGKILL); waitpid(pid, &status, 0) }
                break
            }
            usleep(50_000)
        }
        pids = []
    }
}
