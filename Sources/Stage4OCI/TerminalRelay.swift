import CLinux
import ContlabCore
import Foundation

/// The caller's own terminal for a process with process.terminal set when no --console-socket
/// is given (a foreground `run`, `exec -t`), as runc does it: the runtime is the console socket's
/// other end itself. The container's init (or exec's helper) makes the pty inside the container
/// and sends its master here; the runtime copies its standard input to the master and the
/// master to its standard output until the process ends, with its own terminal, if it has one,
/// in raw mode so that keys and output pass through untouched.
final class TerminalRelay {
    let socketPath: String
    private let listener: Int32
    private var master: Int32 = -1
    private var savedMode: termios?
    private let outputDone = DispatchSemaphore(value: 0)

    /// A listening socket at a path of this process's own in the temporary folder.
    init() throws {
        socketPath =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("contlab-console-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if listener < 0 { throw SystemCallError("socket(AF_UNIX) for the terminal", errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if bound != 0 || Glibc.listen(listener, 1) != 0 {
            let code = errno
            close(listener)
            throw SystemCallError("bind(\"\(socketPath)\") for the terminal", errno: code)
        }
    }

    deinit {
        unlink(socketPath)
        close(listener)
        if master >= 0 { close(master) }
    }

    /// Take the master the container sent (it connected and sent it while it was being made),
    /// size it as the caller's terminal, and start copying both ways.
    func start() throws {
        unlink(socketPath)
        let connection = accept(listener, nil, nil)
        if connection < 0 { throw SystemCallError("accept(the terminal's socket)", errno: errno) }
        defer { close(connection) }
        let fd = cl_recv_fd(connection)
        if fd < 0 { throw SystemCallError("recvmsg(the terminal's master, SCM_RIGHTS)", errno: -fd) }
        master = fd
        if isatty(STDIN_FILENO) == 1 {
            var size = winsize()
            if ioctl(STDIN_FILENO, UInt(TIOCGWINSZ), &size) == 0 { _ = ioctl(master, UInt(TIOCSWINSZ), &size) }
            var mode = termios()
            if tcgetattr(STDIN_FILENO, &mode) == 0 {
                savedMode = mode
                cfmakeraw(&mode)
                _ = tcsetattr(STDIN_FILENO, TCSANOW, &mode)
            }
        }
        let master = self.master
        let done = outputDone
        // Output ends when the last holder of the pty's slave is gone (read fails with EIO).
        Thread.detachNewThread {
            Self.copy(from: master, to: STDOUT_FILENO)
            done.signal()
        }
        // Input ends at end-of-file; the process may well have ended first.
        Thread.detachNewThread { Self.copy(from: STDIN_FILENO, to: master) }
    }

    /// Once the process has ended: let the rest of its output through (briefly: a process it
    /// left behind may still hold the terminal), and give the caller's terminal its mode back.
    func finish() {
        if master >= 0 { _ = outputDone.wait(timeout: .now() + 1) }
        if var mode = savedMode { _ = tcsetattr(STDIN_FILENO, TCSANOW, &mode) }
    }

    static func copy(from source: Int32, to target: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let got = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { return }
            var sent = 0
            while sent < got {
                let wrote = buffer.withUnsafeBytes { write(target, $0.baseAddress! + sent, got - sent) }
                if wrote < 0 && errno == EINTR { continue }
                if wrote <= 0 { return }
                sent += wrote
            }
        }
    }
}
