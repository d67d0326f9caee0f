import ContlabCore
import Foundation

/// How a program the grader ran ended, and what it printed (as bytes: students print anything).
public struct ChildResult: Sendable {
    public var exitCode: Int32?
    public var signal: Int32?
    public var timedOut: Bool
    public var stdout: Data
    public var stderr: Data
    public var seconds: Double

    /// "exited with 0", "was killed by signal 9", "did not finish within 20 s and was killed".
    public var status: String {
        if timedOut { return "did not finish within its time limit and was killed" }
        if let signal { return "was killed by signal \(signal)" }
        return "exited with \(exitCode ?? -1)"
    }
}

enum ChildProcess {
    /// Run `argv` with its output in temporary files (not pipes: a daemonizing child would keep a
    /// pipe open), stdin from /dev/null, and `timeout` seconds. The program goes through
    /// coreutils' timeout(1), which signals its whole process group (TERM, then KILL two seconds
    /// later); a deadline of our own kills timeout itself should that not be enough. Once a
    /// Ctrl-C has asked the grading to stop, only a `cleanUp` program still starts.
    static func run(
        _ argv: [String], environment: [String: String] = [:], timeout: Int,
        replacingEnvironment: Bool = false, cleanUp: Bool = false
    ) throws -> ChildResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        // No file it writes may pass fileLimit (SIGXFSZ stops the writer): its output files are
        // on the host's disk, where a student's program would fill them without end.
        process.arguments = ["--kill-after=2", "\(timeout)", "prlimit", "--fsize=\(Self.fileLimit)", "--"] + argv
        var env = replacingEnvironment ? [:] : ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let base = NSTemporaryDirectory() + "contlab-grade-out-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // 0600: what a student's program printed is theirs, not the other users' of the server.
        guard
            FileManager.default.createFile(
                atPath: base + ".out", contents: nil, attributes: [.posixPermissions: 0o600]),
            FileManager.default.createFile(atPath: base + ".err", contents: nil, attributes: [.posixPermissions: 0o600])
        else {
            throw GradingError.temporary("cannot create \(base).out")
        }
        defer {
            unlink(base + ".out")
            unlink(base + ".err")
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let start = Date()
        // Asked to stop already: no new program starts.
        if !cleanUp, let signal = GradingInterruption.signal {
            throw GradingError.temporary("stopped by \(Signals.name(signal))")
        }
        try process.run()
        GradingInterruption.running(process.processIdentifier)
        defer { GradingInterruption.running(nil) }
        try? out.close()
        try? err.close()
        let deadline = start.addingTimeInterval(Double(timeout) + 6)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        // timeout(1) exits 124 when it had to stop the program, 137 when it had to KILL it.
        let code = process.terminationReason == .exit ? process.terminationStatus : nil
        let timedOut = (code == 124 || code == 137) && seconds >= Double(timeout) - 0.2
        var signal: Int32? = process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil
        var exitCode = code
        // A shell reports a child killed by signal N as 128+N; timeout passes that on.
        if let c = code, c > 128, c < 160, !timedOut {
            signal = c - 128
            exitCode = nil
        }
        return ChildResult(
            exitCode: exitCode, signal: signal, timedOut: timedOut,
            stdout: Self.head(of: base + ".out"), stderr: Self.head(of: base + ".err"),
            seconds: seconds)
    }

    /// The most a graded program may write to one file, its output included.
    static let fileLimit = 256 << 20
    /// The most of its output read back: what a grader parses is far less.
    static let readLimit = 16 << 20

    /// The start of an output file, at most `readLimit` bytes of it.
    static func head(of path: String) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: readLimit)) ?? Data()
    }

    /// This program: the static contlab binary, which the probes run inside containers too.
    static var contlab: String { Sys.readLink("/proc/self/exe") ?? CommandLine.arguments[0] }
}
