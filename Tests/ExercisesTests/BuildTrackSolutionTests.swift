import Foundation
import XCTest

@testable import Exercises

/// When a build-track level's reference opens, and from where.
final class BuildTrackSolutionTests: XCTestCase {
    let home = URL(fileURLWithPath: "/lab")
    let levels = ["B.1", "B.2", "B.3"]
    let python = Workspace.Track(language: "python")

    func progress(_ id: String, _ status: ExerciseStatus, _ points: Int, of max: Int) -> Workspace.Progress {
        var progress = Workspace.Progress()
        progress[id] = Workspace.Entry(status: status, points: points, maxPoints: max)
        return progress
    }

    func testAPassedLevelOpensItsReferenceInTheWorkspacesLanguage() throws {
        let source = try BuildTrackSolution.source(
            for: "b.2", track: python, levels: levels, progress: progress("B.2", .passed, 6, of: 6), home: home,
            exists: { _ in true })
        XCTAssertEqual(source.path, "/lab/Tests/ExerciseSolutions/B.2/reference-python")
    }

    /// A level whose references are there, but not in the workspace's language (a checkout
    /// missing Go's): the refusal says so and where the others are, instead of asking for a checkout.
    func testALevelWithoutAReferenceInTheLanguageSaysWhereTheOthersAre() {
        XCTAssertThrowsError(
            try BuildTrackSolution.source(
                for: "B.2", track: Workspace.Track(language: "go"), levels: levels,
                progress: progress("B.2", .passed, 8, of: 8), home: home,
                exists: { !$0.hasSuffix("/reference-go") })
        ) { error in
            let refusal = error as? BuildTrackSolution.Refusal
            XCTAssertEqual(
                refusal, .noReference(id: "B.2", language: "go", folder: "/lab/Tests/ExerciseSolutions/B.2"))
            XCTAssertTrue(refusal?.text.en.contains("no reference runtime in go") ?? false)
        }
    }

    func testWhatKeepsItClosed() {
        func refusal(_ id: String, _ track: Workspace.Track?, _ progress: Workspace.Progress, exists: Bool = true)
            -> BuildTrackSolution.Refusal?
        {
            do {
                _ = try BuildTrackSolution.source(
                    for: id, track: track, levels: levels, progress: progress, home: home, exists: { _ in exists })
                return nil
            } catch { return error as? BuildTrackSolution.Refusal }
        }
        XCTAssertEqual(refusal("B.2", nil, Workspace.Progress()), .notBuildTrack)
        XCTAssertEqual(refusal("B.9", python, Workspace.Progress()), .notALevel("B.9"))
        XCTAssertEqual(refusal("B.2", python, Workspace.Progress()), .notPassed(id: "B.2", points: 0, of: 0))
        XCTAssertEqual(
            refusal("B.2", python, progress("B.2", .failing, 4, of: 6)), .notPassed(id: "B.2", points: 4, of: 6))
        XCTAssertEqual(
            refusal("B.2", python, progress("B.1", .passed, 3, of: 3)), .notPassed(id: "B.2", points: 0, of: 0),
            "another level's pass opens nothing")
        XCTAssertEqual(
            refusal("B.2", python, progress("B.2", .passed, 6, of: 6), exists: false),
            .missing("/lab/Tests/ExerciseSolutions/B.2/reference-python"))
        XCTAssertTrue(
            BuildTrackSolution.Refusal.notPassed(id: "B.2", points: 4, of: 6).text.en.contains("contlab verify B.2"))
    }

    /// Every level has a reference in both starter languages, where the command looks.
    func testEveryLevelHasAReferenceInEachLanguage() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let build = root.appendingPathComponent("exercises/build")
        let levels = try FileManager.default.contentsOfDirectory(atPath: build.path).filter { $0.hasPrefix("B.") }
        XCTAssertGreaterThanOrEqual(levels.count, 4)
        for folder in levels {
            let id = String(folder.prefix { $0 != "-" })
            for language in ["c", "python"] {
                let reference = root.appendingPathComponent("Tests/ExerciseSolutions/\(id)/reference-\(language)")
                XCTAssertTrue(FileManager.default.fileExists(atPath: reference.path), reference.path)
            }
        }
    }
}
