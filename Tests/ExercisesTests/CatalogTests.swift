import History
import Lessons
import TextKit
import XCTest
@testable import Exercises

final class CatalogTests: XCTestCase {
    func testTheCatalogHasThreeExercisesPerStageAndAHistorySet() throws {
        let catalog = try Fixtures.catalog()
        for stage in 1...4 {
            XCTAssertGreaterThanOrEqual(catalog.exercises.filter { $0.stage == stage }.count, 3, "stage \(stage)")
        }
        XCTAssertGreaterThanOrEqual(catalog.exercises.filter { $0.stage == nil }.count, 3)
        XCTAssertEqual(catalog.exercises.map(\.id).first, "1.1")
        XCTAssertEqual(catalog.exercises.last?.id.first, "H")
    }

    func testEveryExerciseIsCompleteInBothLanguages() throws {
        for exercise in try Fixtures.catalog().exercises {
            for language in Language.allCases {
                let task = try String(
                    contentsOfFile: exercise.directory + "/task.\(language.rawValue).md", encoding: .utf8)
                XCTAssertTrue(
                    task.hasPrefix("# \(exercise.id) "),
                    "\(exercise.id) task.\(language.rawValue).md starts with its heading")
                XCTAssertFalse(exercise.title[language].isEmpty)
                for check in exercise.checks {
                    XCTAssertFalse(check.title[language].isEmpty, "\(exercise.id) \(check.id)")
                    XCTAssertTrue(check.hints.allSatisfy { !$0[language].isEmpty }, "\(exercise.id) \(check.id) hints")
                }
            }
            for file in exercise.files {
                XCTAssertTrue(
                    FileManager.default.fileExists(atPath: exercise.directory + "/starter/" + file),
                    "\(exercise.id): starter/\(file) is what the student edits")
            }
        }
    }

    func testHistoryQuestionsAreAnswerableFromTheData() throws {
        let data = try Fixtures.history()
        for exercise in try Fixtures.catalog().exercises where exercise.stage == nil {
            XCTAssertEqual(HistoryQuiz.validate(exercise, data: data), [], exercise.id)
        }
    }

    func testReferenceSolutionsStayOutOfTheStarterFiles() throws {
        for exercise in try Fixtures.catalog().exercises {
            for file in exercise.files {
                let starter = try Data(contentsOf: URL(fileURLWithPath: exercise.directory + "/starter/" + file))
                let reference = Fixtures.solutionsDirectory.appendingPathComponent("\(exercise.id)/reference/\(file)")
                XCTAssertNotEqual(starter, try Data(contentsOf: reference), "\(exercise.id)/\(file)")
            }
        }
    }

    func testEveryExerciseHasAReferenceAndAWrongAnswerInTheTests() throws {
        for exercise in try Fixtures.catalog().exercises {
            let dir = Fixtures.solutionsDirectory.appendingPathComponent(exercise.id)
            let entries = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            XCTAssertTrue(entries.contains("reference"), exercise.id)
            XCTAssertTrue(entries.contains { $0.hasPrefix("wrong-") }, exercise.id)
        }
    }

    /// The build track: every level offers C, Python, Go and Swift, each with its skeleton and
    /// its files, and C, Python and Go a reference runtime in the tests that differs from the
    /// skeleton (Swift's, where it has one, too); the track stays out of the usual catalog.
    func testTheBuildTrackIsCompleteInEachLanguage() throws {
        XCTAssertFalse(
            try Fixtures.catalog().exercises.contains { $0.track != nil }, "a usual workspace has no build levels")
        let programs = [
            "c": ["runtime.c"], "python": ["runtime.py"], "go": ["runtime.go", "go.mod"], "swift": ["runtime.swift"]
        ]
        for (language, files) in programs {
            let track = try ExerciseCatalog.loadBuildTrack(from: Fixtures.exercisesDirectory, language: language)
            XCTAssertEqual(track.exercises.map(\.id), ["B.1", "B.2", "B.3", "B.4", "B.5"])
            for exercise in track.exercises {
                XCTAssertEqual(exercise.files, files, exercise.id)
                for file in exercise.files {
                    let starter = exercise.directory + "/starter/\(language)/" + file
                    XCTAssertTrue(FileManager.default.fileExists(atPath: starter), starter)
                }
                let program = files[0]
                let reference = Fixtures.solutionsDirectory.appendingPathComponent(
                    "\(exercise.id)/reference-\(language)/\(program)")
                if language != "swift" || FileManager.default.fileExists(atPath: reference.path) {
                    XCTAssertNotEqual(
                        try Data(
                            contentsOf: URL(fileURLWithPath: exercise.directory + "/starter/\(language)/" + program)),
                        try Data(contentsOf: reference), "\(exercise.id) \(language)")
                }
                for language in Language.allCases {
                    let task = try String(
                        contentsOfFile: exercise.directory + "/task.\(language.rawValue).md", encoding: .utf8)
                    XCTAssertTrue(task.hasPrefix("# \(exercise.id) "), "\(exercise.id) task.\(language.rawValue).md")
                    XCTAssertTrue(
                        exercise.checks.allSatisfy {
                            !$0.title[language].isEmpty && $0.hints.allSatisfy { !$0[language].isEmpty }
                        })
                }
            }
        }
        XCTAssertThrowsError(try ExerciseCatalog.loadBuildTrack(from: Fixtures.exercisesDirectory, language: "cobol")) {
            error in
            XCTAssertEqual(
                error as? ExerciseError, .unknownTrackLanguage("cobol", offered: ["c", "go", "python", "swift"]))
            XCTAssertTrue("\(error)".hasSuffix("choose --lang c, go, python or swift"), "\(error)")
        }
        XCTAssertThrowsError(
            try ExerciseCatalog.parse(
                """
                id: "B.1"
                slug: x
                stage: 1
                track: build
                title: {en: "x", zh: "x"}
                grader: build-runtime
                timeout: 5
                files: []
                checks:
                  - {id: a, points: 1, title: {en: "a", zh: "a"}, hints: [{en: "h", zh: "h"}]}
                """, file: "x")
        ) { error in
            XCTAssertTrue("\(error)".contains("names its languages"), "\(error)")
        }
    }

    /// A language an exercise.yaml names is offered only with its skeleton's files.
    func testABuildLanguageWithoutItsStarterIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-catalog-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let level = directory.appendingPathComponent("B.1-x")
        try FileManager.default.createDirectory(
            at: level.appendingPathComponent("starter/c"), withIntermediateDirectories: true)
        for file in ["task.en.md", "task.zh.md", "starter/c/runtime.c"] {
            try Data("# B.1 x\n".utf8).write(to: level.appendingPathComponent(file))
        }
        let yaml = """
            id: "B.1"
            slug: x
            track: build
            title: {en: "x", zh: "x"}
            grader: build-runtime
            timeout: 5
            files: []
            languages:
              c: [runtime.c]
            checks:
              - {id: a, points: 1, title: {en: "a", zh: "a"}, hints: [{en: "h", zh: "h"}]}
            """
        try Data(yaml.utf8).write(to: level.appendingPathComponent("exercise.yaml"))
        XCTAssertEqual(try ExerciseCatalog.load(from: directory).exercises.map(\.id), ["B.1"])
        try Data(
            (yaml.replacingOccurrences(of: "c: [runtime.c]", with: "c: [runtime.c]\n  go: [runtime.go, go.mod]")).utf8
        )
        .write(to: level.appendingPathComponent("exercise.yaml"))
        XCTAssertThrowsError(try ExerciseCatalog.load(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("languages.go names runtime.go, which starter/go/ lacks"), "\(error)")
        }
    }

    func testMalformedExercisesAreRefusedWithTheReason() {
        func reason(_ yaml: String) -> String {
            do {
                _ = try ExerciseCatalog.parse(yaml, file: "x.yaml")
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let head = "slug: s\ntitle: {en: a, zh: b}\ngrader: g\ntimeout: 5\nfiles: []\n"
        let check = "  - id: c\n    points: 1\n    title: {en: a, zh: b}\n    hints: [{en: h, zh: h}]\n"
        XCTAssertTrue(reason("id: \"2.1\"\nstage: 3\n" + head + "checks:\n" + check).contains("must be STAGE.N"))
        XCTAssertTrue(reason("id: \"3.1\"\nstage: 3\n" + head + "checks:\n" + check + check).contains("appears twice"))
        XCTAssertTrue(reason("id: \"3.1\"\nstage: 3\n" + head + "checks: []\n").contains("no checks"))
        XCTAssertTrue(
            reason("id: \"3.1\"\nstage: 3\n" + head + "checks:\n" + check + "    requires: [later]\n").contains(
                "earlier check"))
        XCTAssertEqual(reason("id: \"3.1\"\nstage: 3\n" + head + "checks:\n" + check), "accepted")
    }

    func testSelectingExercises() throws {
        let catalog = try Fixtures.catalog()
        XCTAssertEqual(try catalog.select(id: "3.1", stage: nil).map(\.id), ["3.1"])
        XCTAssertEqual(try catalog.select(id: "h.2", stage: nil).map(\.id), ["H.2"])
        XCTAssertEqual(try catalog.select(id: "1.2-escape", stage: nil).map(\.id), ["1.2"])
        XCTAssertEqual(try catalog.select(id: nil, stage: 2).map(\.id), ["2.1", "2.2", "2.3"])
        XCTAssertThrowsError(try catalog.select(id: "3.9", stage: nil)) { error in
            XCTAssertTrue("\(error)".contains("no exercise \"3.9\""), "\(error)")
        }
        XCTAssertThrowsError(try catalog.select(id: nil, stage: 7)) { error in
            XCTAssertEqual(error as? ExerciseError, .unknownStage(7))
        }
    }
}
