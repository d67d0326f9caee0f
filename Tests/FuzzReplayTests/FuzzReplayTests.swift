import Foundation
import FuzzTargets
import XCTest

/// Every saved input of every fuzz target, run again: the seeds, what libFuzzer found
/// interesting, and any crash it found (kept in Tests/FuzzCorpus/TARGET after the fix), so
/// what was found once stays fixed. A trap here ends the test process: the suite fails.
final class FuzzReplayTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../FuzzCorpus"
    ).standardizedFileURL

    func testEveryTargetHasSeedsAndRunsThemAll() throws {
        let folders = Set(try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path))
        XCTAssertEqual(
            folders, Set(FuzzTargets.all.map(\.name)), "one corpus folder per target, and a target per folder")
        for (name, run) in FuzzTargets.all {
            let folder = Self.corpus.appendingPathComponent(name)
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            XCTAssertGreaterThanOrEqual(files.count, 3, "\(name): seeds to start from")
            for file in files {
                run([UInt8](try Data(contentsOf: folder.appendingPathComponent(file))))
            }
        }
    }
}
