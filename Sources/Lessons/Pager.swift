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
    public static func show(
        _ text: String, page: Bool,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        guard page else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        let command = environment["PAGER"].flatMap { $0.isEmpty ? nil : $0 } ?? "less -R"
        var pagerEnvironment = environment
        // Like git: a bare `less` from $PAGER still shows colours and quits on a short text.
        if pagerEnvironment["LESS"] == nil { pagerEnvironment["LESS"] = "FRX" }
        guard let (pid, input) = spawn(["/bin/sh", "-c", command], environment: pagerEnvironment) else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        // Quitting the pager early closes the pipe: that is not an error, so ignore SIGPIPE
        // and the failed write it causes.
        signal(SIGPIPE, SIG_IGN)
        let handle = FileHandle(fileDescriptor: input, closeOnDealloc: true)
        try? handle.write(contentsOf: Data(text.utf8))
        try? handle.close()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// Starts `arguments` with its stdin reading from a new pipe; returns its pid and the pipe's
    /// write end. posix_spawn rather than Foundation's `Process`, because `Process` puts the
    /// child in a process group of its own: the pager would then be a background job of the
    /// terminal, and the kernel stops it (SIGTTIN) as soon as it reads the keyboard.
    static func spawn(_ arguments: [String], environment: [String: String]) -> (pid_t, Int32)? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, STDIN_FILENO)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, nil, argv, envp)
        close(readEnd)
        guard result == 0 else {
            close(writeEnd)
            return nil
        }
        return (pid, writeEnd)
    }
}
