import ContlabCore
import Foundation
import TextKit
import XCTest

/// The built binary's command line, as a user meets it: the version under both names, a
/// suggestion for a mistyped command, and help that fits 80 columns. Needs no root.
final class CommandLineBinaryTests: XCTestCase {
    func requireBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: Harness.binary) else {
            XCTFail("no contlab binary at \(Harness.binary): run make build (or set CONTLAB_BIN)")
            throw XCTSkip("contlab is not built")
        }
    }

    func testVersionUnderBothNames() throws {
        try requireBinary()
        let contlab = try Harness.run(["--version"])
        XCTAssertEqual(contlab.status, 0)
        XCTAssertEqual(contlab.stdout, "contlab version \(ContlabVersion.current)\n")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-runc-name-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let link = dir.appendingPathComponent("contlab-runc").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Harness.binary)
        let runc = try Harness.execute([link, "--version"])
        XCTAssertEqual(runc.status, 0)
        let lines = runc.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "contlab-runc version \(ContlabVersion.current)")
        XCTAssertEqual(lines.last, "spec: 1.2.1")
    }

    func testAMistypedCommandGetsASuggestion() throws {
        try requireBinary()
        let result = try Harness.run(["stge", "1"])
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.contains("did you mean 'stage'?"), result.stderr)
    }

    /// Every command the help screens list, found by walking their SUBCOMMANDS sections.
    func testEveryHelpScreenFitsEightyColumns() throws {
        try requireBinary()
        var pending: [[String]] = [[]]
        var seen = 0
        while let path = pending.popLast() {
            let result = try Harness.run(path + ["--help"], environment: ["COLUMNS": "80"])
            let name = (["contlab"] + path).joined(separator: " ")
            XCTAssertEqual(result.status, 0, "\(name) --help: \(result.stderr)")
            seen += 1
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            for line in lines {
                XCTAssertLessThanOrEqual(Terminal.displayWidth(String(line)), 80, "\(name) --help: \(line)")
            }
            guard let start = lines.firstIndex(of: "SUBCOMMANDS:") else { continue }
            for line in lines[(start + 1)...] {
                if line.isEmpty { break }
                // "  list, ls    The images…": a name (and its aliases) at an indent of two.
                guard line.hasPrefix("  "), !line.hasPrefix("   "), let first = line.split(separator: " ").first else {
                    continue
                }
                let word = first.hasSuffix(",") ? String(first.dropLast()) : String(first)
                if word != "help" { pending.append(path + [word]) }
            }
        }
        XCTAssertGreaterThan(seen, 40, "the walk reached the subcommands")
    }
}
