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

    /// What another user runs and reads, where that user can reach it: the checkout may sit in a
    /// folder only root may enter (a clone in /root, or a `mktemp -d` folder, both 0700). A 0755
    /// folder in /tmp holding a copy of the binary (with contlab-runc beside it) and of lessons/,
    /// rootfs-recipes/ and exercises/ (what contlab finds through CONTLAB_HOME); made on first use,
    /// shared by the tests of this process, removed when it exits.
    static let reachable: Swift.Result<String, Error> = Swift.Result {
        let fm = FileManager.default
        var template = Array("/tmp/contlab-reachable-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let place = String(cString: made)
        do {
            let binary = URL(fileURLWithPath: Harness.binary).resolvingSymlinksInPath().path
            try fm.copyItem(atPath: binary, toPath: place + "/contlab")
            try fm.createSymbolicLink(atPath: place + "/contlab-runc", withDestinationPath: "contlab")
            for folder in ["lessons", "rootfs-recipes", "exercises"] {
                try fm.copyItem(atPath: packageRoot.appendingPathComponent(folder).path, toPath: place + "/" + folder)
            }
            let chmod = try execute(["/bin/chmod", "-R", "u+rwX,go+rX,go-w", place])
            guard chmod.status == 0 else { throw POSIXError(.EPERM) }
        } catch {
            try? fm.removeItem(atPath: place)
            throw error
        }
        atexit {
            if case .success(let place) = Harness.reachable { try? FileManager.default.removeItem(atPath: place) }
        }
        return place
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func requireRoot() throws {
        guard geteuid() == 0 else {
            throw XCTSkip(
                "needs root to create namespaces and mounts for real containers: run make test as root (sudo)")
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            XCTFail("no contlab binary at \(binary): run make build (or set CONTLAB_BIN)")
            throw XCTSkip("contlab is not built")
        }
    }

    /// Run contlab with `args`, optionally as another user through setpriv(1): then the copy in
    /// `reachable`, from that folder, with CONTLAB_HOME naming it (unless `environment` does).
    @discardableResult
    static func run(
        _ args: [String], as uid: UInt32? = nil, environment: [String: String] = [:],
        timeout: TimeInterval = 60
    ) throws -> Result {
        guard let uid else { return try execute([binary] + args, environment: environment, timeout: timeout) }
        let place = try reachable.get()
        let argv = ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", place + "/contlab"] + args
        return try execute(
            argv, environment: ["CONTLAB_HOME": place].merging(environment) { $1 }, directory: place, timeout: timeout)
    }

    /// Run any program (argv[0] a path) and collect its output; what `run` does for contlab.
    /// `directory`: the working directory, else this process's.
    @discardableResult
    static func execute(
        _ argv: [String], environment: [String: String] = [:], directory: String? = nil,
        timeout: TimeInterval = 60
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory, isDirectory: true) }
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        // Files, not pipes: a created container keeps its creator's stdout and stderr open
        // (runc's semantics), so waiting for end-of-file on a pipe would wait for the container.
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "contlab-out-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        ).path
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
        return Result(
            status: process.terminationStatus,
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
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else {
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
