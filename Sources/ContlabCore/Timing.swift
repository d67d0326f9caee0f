import Foundation

/// Milestones of a runtime call, printed to stderr with CLOCK_MONOTONIC milliseconds when
/// CONTLAB_TIMING is set: how `make bench`'s numbers were taken apart. Free when unset.
public enum Timing {
    nonisolated(unsafe) static let enabled = getenv("CONTLAB_TIMING") != nil

    public static func mark(_ label: @autoclosure () -> String) {
        guard enabled else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let ms = Double(now.tv_sec % 1000) * 1000 + Double(now.tv_nsec) / 1e6
        Sys.warn("timing \(getpid()) \(String(format: "%.3f", ms)) \(label())")
    }
}
