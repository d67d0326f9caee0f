// Ctrl-C, TERM or HUP in the middle of a grading. The signal used to end contlab at once, and
// the grading's temporary folders and cgroups stayed behind (the child under timeout(1), in a
// process group of its own, never saw the terminal's Ctrl-C). Now the child under way is told
// to stop, the grading returns through its clean-up, and contlab exits 128+N after it.
import Dispatch
import Foundation
import Glibc

public enum GradingInterruption {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var received: Int32 = 0
    nonisolated(unsafe) private static var child: pid_t = 0
    nonisolated(unsafe) private static var depth = 0
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Take INT, TERM and HUP from their default (death) for the rest of the process. Outside a
    /// grading they still end it at once, as before: nothing of a grading is left to undo.
    public static func install() {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { arrived(number) }
            source.resume()
            sources.append(source)
        }
    }

    static func arrived(_ number: Int32) {
        lock.lock()
        if received == 0 { received = number }
        let (running, grading) = (child, depth > 0)
        lock.unlock()
        guard grading else { exit(128 + number) }
        if running > 0 { kill(running, SIGTERM) }
    }

    /// The signal that asked the gradings to stop, if one did.
    public static var signal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received == 0 ? nil : received
    }

    /// Run `body`, one grading: a signal meanwhile waits for it to return.
    public static func during<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        depth += 1
        lock.unlock()
        defer {
            lock.lock()
            depth -= 1
            lock.unlock()
        }
        return try body()
    }

    /// The child a grading waits for now (nil: none), which a signal is passed on to.
    static func running(_ pid: pid_t?) {
        lock.lock()
        child = pid ?? 0
        lock.unlock()
    }
}
