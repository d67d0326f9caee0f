import ContlabCore
import Foundation

/// Shows long text through a pager when a person is reading a terminal, and writes it straight
/// out otherwise (a pipe, a file, a test).
public enum Pager {
    /// Whether `text` should go through a pager: stdout is a terminal and the text is taller
    /// than it.
    public static func isNeeded(for text: String, fd: Int32 = STDOUT_FILENO) -> Bool {
        guard isatty(fd) == 1 else { return false }
        var size = winsize()
        let rows = ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 && size.ws_row > 0 ? Int(size.ws_row) : 24
        return text.reduce(0) { $1 == "\n" ? $0 + 1 : $0 } >= rows
    }

    /// Writes `text` to stdout, through `$PAGER` (else `less -R`) if `page` is true. If the
    /// pager cannot start, the text is written out directly rather than lost.
    public static func show(_ text: String, page: Bool,
                            environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard page else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        let command = environment["PAGER"].flatMap { $0.isEmpty ? nil : $0 } ?? "less -R"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var pagerEnvironment = environment
        // Like git: a bare `less` from $PAGER still shows colours and quits on a short text.
        if pagerEnvironment["LESS"] == nil { pagerEnvironment["LESS"] = "FRX" }
        process.environment = pagerEnvironment
        let input = Pipe()
        process.standardInput = input
        do {
            try process.run()
        } catch {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        // Quitting the pager early closes the pipe: that is not an error, so ignore SIGPIPE
        // and the failed write it causes.
        signal(SIGPIPE, SIG_IGN)
        try? input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
