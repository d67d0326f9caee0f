/// The record of system calls a runtime made, in order, for `--explain` and the walk-through.
/// Each wrapper in `Sys` appends the call as a C programmer would write it; the container's init
/// sends its part to the host over a pipe, so one run's record covers both processes.
public final class CallRecord: @unchecked Sendable {
    /// The record of this process. Runtimes are single-threaded where they record calls (the
    /// host before it waits, the init before it execs), so no lock is taken.
    public static let shared = CallRecord()

    public private(set) var entries: [String] = []
    public var enabled = true

    public init() {}

    public func note(_ call: String) {
        if enabled { entries.append(call) }
    }

    public func reset() { entries.removeAll() }
}
