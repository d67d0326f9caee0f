import Foundation

/// The stage-3 workload: allocate memory in chunks and write to every page, so the kernel really
/// charges it to the cgroup (untouched allocations cost nothing). It runs inside any root
/// filesystem, since it is contlab itself (`contlab hog 100M`).
public enum MemoryHog {
    /// Allocate and touch `bytes` in `chunk`-sized pieces, printing progress; returns when all is
    /// touched (the OOM killer ends it with SIGKILL first when a limit is lower).
    public static func run(
        bytes: UInt64, chunk: UInt64 = 1 << 20, hold: TimeInterval = 0.1,
        progress: (UInt64) -> Void
    ) {
        var blocks: [UnsafeMutableRawPointer] = []
        var total: UInt64 = 0
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var nextReport: UInt64 = 16 << 20
        while total < bytes {
            let size = Int(min(chunk, bytes - total))
            guard let block = malloc(size) else { break }
            // One write per page is enough to make the kernel back it with real memory.
            var offset = 0
            while offset < size {
                block.storeBytes(of: UInt8(truncatingIfNeeded: offset >> 12 | 1), toByteOffset: offset, as: UInt8.self)
                offset += page
            }
            blocks.append(block)
            total += UInt64(size)
            if total >= nextReport || total == bytes {
                progress(total)
                nextReport += 16 << 20
            }
        }
        if hold > 0 { usleep(useconds_t(hold * 1_000_000)) }
        for block in blocks { free(block) }
    }
}
