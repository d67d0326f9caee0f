import ContlabCore
import Foundation
import XCTest

/// Runs the built static contlab (`make build`) as a separate process, the way a student does.
/// These tests make real containers: they need root, and say so when they skip.
enum Harness {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardizedFileURL

    /// `$CONTLAB_BIN`, else `make build`'s bin/contlab, else the release build in this checkout.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["CONTLAB_BIN"], !path.isEmpty { return path }
        let made = packageRoot.appendingPathComponent("bin/contlab").path
        if FileManager.default.isExecutableFile(atPath: made) { return made }
        return packageRoot.appendingPathComponent(".build/release/contlab").path
    }

    /// The OCI JSON schemas as Debian installs them (golang-github-opencontainers-specs-dev and
    /// golang-github-opencontainers-image-spec-dev, both in the Makefile's PACKAGES).
    static let runtimeSpecSchemas = "/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema"
    static let imageSpecSchemas = "/usr/share/gocode/src/github.com/opencontainers/image-spec/schema"

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func requireRoot() throws {
        guard geteuid() == 0 else {
            throw XCTSkip("needs root to create namespaces and mounts for real containers: run make test as root (sudo)")
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            XCTFail("no contlab binary at \(binary): run make build (or set CONTLAB_BIN)")
            throw XCTSkip("contlab is not built")
        }
    }

    /// Run contlab with `args`, optionally as another user through setpriv(1).
    @discardableResult
    static func run(_ args: [String], as uid: UInt32? = nil, environment: [String: String] = [:],
                    timeout: TimeInterval = 60) throws -> Result {
        var argv = [binary] + args
        if let uid {
            argv = ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups"] + argv
        }
        return try execute(argv, environment: environment, timeout: timeout)
    }

    /// Run any program (argv[0] a path) and collect its output; what `run` does for contlab.
    @discardableResult
    static func execute(_ argv: [String], environment: [String: String] = [:], timeout: TimeInterval = 60) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        // Files, not pipes: a created container keeps its creator's stdout and stderr open
        // (runc's semantics), so waiting for end-of-file on a pipe would wait for the container.
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-out-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            unlink(base + ".out")
            unlink(base + ".err")
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? out.close()
        try? err.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(2_000) }
        if process.isRunning {
            process.terminate()
            XCTFail("\(argv.joined(separator: " ")) did not finish in \(timeout)s")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }

    /// Start contlab with `args` in the background, its output discarded (for tests that signal
    /// or kill it while it runs).
    static func start(_ args: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The busybox tree, built once (cached by contlab itself).
    static func busyboxRootfs() throws -> String {
        let result = try run(["rootfs", "build", "busybox"])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `contlab inspect --json` inside a container, decoded.
    static func inspect(_ runArgs: [String], as uid: UInt32? = nil) throws -> [String: Any] {
        let result = try run(["run"] + runArgs + ["--", "contlab", "inspect", "--json"], as: uid)
        guard result.status == 0,
              let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            XCTFail("inspect failed: status \(result.status)\n\(result.stdout)\n\(result.stderr)")
            return [:]
        }
        return object
    }

    static func namespaces(_ report: [String: Any]) -> [String: (id: String?, differs: Bool?)] {
        var out: [String: (String?, Bool?)] = [:]
        for entry in report["namespaces"] as? [[String: Any]] ?? [] {
            out[entry["kind"] as? String ?? ""] = (entry["id"] as? String, entry["differsFromHost"] as? Bool)
        }
        return out
    }

    /// What a run could leave behind on the host: mounts, and processes of contlab's.
    static func hostTraces() -> (mounts: String, processes: [String]) {
        let mounts = Sys.readText("/proc/self/mountinfo") ?? ""
        var processes: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
            guard let cmdline = Sys.readText("/proc/\(entry)/cmdline") else { continue }
            let words = cmdline.split(separator: "\0").map(String.init)
            if words.contains(ContainerProcess.initArgument) || words.contains("__escape-probe") {
                processes.append("\(entry): \(words.joined(separator: " "))")
            }
        }
        return (mounts, processes)
    }
}
