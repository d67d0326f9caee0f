import Glibc

/// Ctrl-C (or `kill`) while contlab prepares something on disk, such as a container whose
/// layers it is unpacking. Dying at once would leave a half-made directory that blocks the name
/// next time; instead the signal is noted, the work stops at its next `check()` by throwing,
/// and the error path that already removes what was made runs as for any other failure.
public enum Interruption {
    public static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    public struct Interrupted: Error, CustomStringConvertible, Equatable {
        public let signal: Int32
        public var description: String { "stopped by \(Signals.name(signal)); what was half made is removed" }
        /// The shell's code for a process a signal ended.
        public var exitCode: Int32 { 128 + signal }
    }

    /// The signal received, or 0. A handler may only store into a plain C-sized variable.
    nonisolated(unsafe) static var received: sig_atomic_t = 0

    /// Run `body` with the signals noted rather than fatal, then put the previous handlers back.
    /// A signal that came during `body` throws at the end even if `body` never checked.
    public static func deferring<T>(_ body: () throws -> T) throws -> T {
        received = 0
        var previous: [Int32: sigaction] = [:]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in Interruption.received = signal }
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        for signal in signals {
            var old = sigaction()
            sigaction(signal, nil, &old)
            // A signal the caller ignores (a background job's SIGINT) stays ignored.
            if unsafeBitCast(old.__sigaction_handler, to: Int.self) == 1 { continue }  // SIG_IGN
            sigaction(signal, &action, nil)
            previous[signal] = old
        }
        defer {
            for (signal, old) in previous {
                var restored = old
                sigaction(signal, &restored, nil)
            }
        }
        let result = try body()
        try check()
        return result
    }

    /// Throws `Interrupted` once a signal has come.
    public static func check() throws {
        let signal = received
        if signal != 0 { throw Interrupted(signal: signal) }
    }
}
