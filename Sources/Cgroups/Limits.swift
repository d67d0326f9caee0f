import Foundation

/// The resource limits of stage 3, as a user gives them (`--memory 64M --pids 64 --cpus 0.5`).
public struct CgroupLimits: Equatable, Sendable, Codable {
    public var memoryBytes: UInt64?
    public var pids: Int?
    /// CPUs as a fraction: 0.5 is half of one CPU's time.
    public var cpus: Double?

    public init(memoryBytes: UInt64? = nil, pids: Int? = nil, cpus: Double? = nil) {
        self.memoryBytes = memoryBytes
        self.pids = pids
        self.cpus = cpus
    }

    public var isEmpty: Bool { memoryBytes == nil && pids == nil && cpus == nil }

    /// The CFS period both versions use by default (100 ms), and the quota for `cpus` of it.
    public static let cpuPeriod = 100_000
    public var cpuQuota: Int? { cpus.map { Int(($0 * Double(Self.cpuPeriod)).rounded()) } }

    /// Below this the kernel may refuse the limit or the container cannot start at all.
    public static let minimumMemory: UInt64 = 4 * 1024 * 1024
}

/// Sizes as `docker run --memory` reads them: a number with an optional b, k, m, g (any case,
/// powers of 1024), like `512k`, `64M`, `1G`, or plain bytes.
public enum ByteSize {
    public static func parse(_ text: String) throws -> UInt64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { throw LimitError.size(text) }
        var digits = trimmed
        var multiplier: UInt64 = 1
        if last.isLetter {
            digits = String(trimmed.dropLast())
            switch last.lowercased() {
            case "b": multiplier = 1
            case "k": multiplier = 1 << 10
            case "m": multiplier = 1 << 20
            case "g": multiplier = 1 << 30
            case "t": multiplier = 1 << 40
            default: throw LimitError.size(text)
            }
            if digits.last?.lowercased() == "i" { throw LimitError.size(text) }
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let value = UInt64(digits) else {
            throw LimitError.size(text)
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw LimitError.size(text) }
        return bytes
    }

    /// `64 MiB`, `1.5 GiB`, `512 KiB`, `100 B`.
    public static func format(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded)) \(units[unit])" : "\(rounded) \(units[unit])"
    }
}

public enum LimitError: Error, CustomStringConvertible, Equatable {
    case size(String)
    case memoryTooSmall(String, UInt64)
    case pids(String)
    case cpus(String)

    public var description: String {
        switch self {
        case .size(let text):
            return "--memory \"\(text)\": give bytes or a number with k, m or g, as Docker reads them (512k, 64M, 1G)"
        case .memoryTooSmall(let text, let bytes):
            return
                "--memory \(text) (\(ByteSize.format(bytes))): too small for a process to start; give at "
                + "least \(ByteSize.format(CgroupLimits.minimumMemory))"
        case .pids(let text):
            return "--pids \"\(text)\": give a whole number of processes, at least 1"
        case .cpus(let text):
            return "--cpus \"\(text)\": give a positive number of CPUs, such as 0.5 or 2"
        }
    }
}

extension CgroupLimits {
    /// Check and combine the command-line values; every refusal names the flag and the fix.
    public static func parse(memory: String?, pids: String?, cpus: String?) throws -> CgroupLimits {
        var limits = CgroupLimits()
        if let memory {
            let bytes = try ByteSize.parse(memory)
            guard bytes >= minimumMemory else { throw LimitError.memoryTooSmall(memory, bytes) }
            limits.memoryBytes = bytes
        }
        if let pids {
            guard let n = Int(pids), n >= 1 else { throw LimitError.pids(pids) }
            limits.pids = n
        }
        if let cpus {
            guard let n = Double(cpus), n.isFinite, n > 0, n <= 1024 else { throw LimitError.cpus(cpus) }
            guard Int((n * Double(cpuPeriod)).rounded()) >= 1000 else { throw LimitError.cpus(cpus) }
            limits.cpus = n
        }
        return limits
    }
}
