import ContlabCore
import Foundation

/// The host's half of the escape experiment (`contlab escape`): the proof that does not take
/// the probe's word for it. The host leaves a file holding a random secret outside the root
/// filesystem, tells the probe only the file's host path, runs it as root inside a container,
/// and counts an escape only when the probe reads the secret back. Expected: escaped at stage
/// 1, contained from stage 2 on (pivot_root detached the host's root, so no path leads back).
public enum EscapeExperiment {
    public struct Result: Codable {
        public var stage: Int
        public var escaped: Bool
        public var proofOnHost: Bool
        public var probe: EscapeProbe.Report?
        public var exitStatus: String
    }

    /// `runProbe` starts `contlab __escape-probe` in a stage-`stage` container with the
    /// environment given and returns how it ended and what it printed (its report is the last
    /// line).
    public static func run(
        stage: Int, rootfs: String,
        runProbe: (_ environment: [String]) throws -> (status: ExitStatus, output: String)
    ) throws -> Result {
        let proof = "contlab-escape-proof-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let secret = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        let hostProof = try proofDirectory(outside: rootfs) + "/" + proof
        guard
            FileManager.default.createFile(
                atPath: hostProof, contents: Data(secret.utf8),
                attributes: [.posixPermissions: 0o644])
        else {
            throw EscapeError.proofFile(hostProof)
        }
        defer { unlink(hostProof) }
        let (status, output) = try runProbe(["\(EscapeProbe.proofVariable)=\(hostProof)"])
        let report = output.split(separator: "\n").last.flatMap {
            try? JSONDecoder().decode(EscapeProbe.Report.self, from: Data($0.utf8))
        }
        let proofOnHost = report?.proofRead == secret
        return Result(
            stage: stage, escaped: proofOnHost, proofOnHost: proofOnHost, probe: report,
            exitStatus: status.description)
    }

    /// A host directory this user can write that is not inside the container's root filesystem.
    static func proofDirectory(outside rootfs: String) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["TMPDIR"], "/tmp", "/dev/shm", "/var/tmp", environment["HOME"]].compactMap { $0 }
        for dir in candidates where !dir.isEmpty && access(dir, W_OK) == 0 && !(dir + "/").hasPrefix(rootfs + "/") {
            return dir
        }
        throw EscapeError.proofFile(candidates.joined(separator: ", "))
    }
}

public enum EscapeError: Error, CustomStringConvertible {
    case proofFile(String)

    public var description: String {
        switch self {
        case .proofFile(let path):
            return
                "cannot create the escape's proof file on the host (tried \(path)); set TMPDIR to a directory you can "
                + "write"
        }
    }
}
