import Foundation

/// Run a program on the host (dpkg-query, ldd, debootstrap) and collect what it printed.
/// For the host side only: never in a container's init.
public enum HostCommand {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var succeeded: Bool { status == 0 }
    }

    /// Run `args` (args[0] looked up in PATH) and return its status and combined output. With
    /// `passThrough`, the output goes to our stderr as it comes (progress of slow builds).
    @discardableResult
    public static func run(
        _ args: [String], passThrough: Bool = false,
        environment: [String: String]? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = args
        if let environment { process.environment = environment }
        let pipe = Pipe()
        if passThrough {
            process.standardOutput = FileHandle.standardError
            process.standardError = FileHandle.standardError
        } else {
            process.standardOutput = pipe
            process.standardError = pipe
        }
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw HostCommandError.cannotStart(args.first ?? "", "\(error)")
        }
        var output = ""
        if !passThrough {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            output = String(decoding: data, as: UTF8.self)
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: output)
    }

    /// Whether `name` is a program in PATH.
    public static func exists(_ name: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { access("\($0)/\(name)", X_OK) == 0 }
    }
}

public enum HostCommandError: Error, CustomStringConvertible {
    case cannotStart(String, String)
    public var description: String {
        switch self {
        case .cannotStart(let name, let why): return "cannot run \(name): \(why)"
        }
    }
}
