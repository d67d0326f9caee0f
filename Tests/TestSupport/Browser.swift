import Foundation

/// Headless Chromium with a time limit, for the tests that look at pages contlab writes (the
/// lessons site, the gradebook).
public enum Browser {
    public static func find() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin"] {
            for name in ["chromium", "chromium-browser"] {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// Runs chromium headless with `arguments`; stdout (the DOM for --dump-dom) in `output`,
    /// stderr appended when it failed.
    public static func run(_ chromium: String, _ arguments: [String], timeout: TimeInterval = 120) throws
        -> (status: Int32, output: String)
    {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "contlab-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        // --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--user-data-dir=\(profile.path)"
            ] + arguments
        // Output goes to files, which cannot fill up and stall Chromium the way a pipe can.
        let outFile = profile.appendingPathExtension("out"), errFile = profile.appendingPathExtension("err")
        defer { try? FileManager.default.removeItem(at: outFile); try? FileManager.default.removeItem(at: errFile) }
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return (-1, "chromium did not finish within \(Int(timeout)) s")
        }
        let output = (try? Data(contentsOf: outFile)) ?? Data()
        let errors = (try? Data(contentsOf: errFile)) ?? Data()
        let text = String(decoding: output, as: UTF8.self)
        return process.terminationStatus == 0
            ? (0, text) : (process.terminationStatus, text + String(decoding: errors, as: UTF8.self))
    }
}
