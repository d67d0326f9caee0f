import XCTest
@testable import Exercises

final class HistoryQuizTests: XCTestCase {
    func testReferenceAnswersScoreFullAndWrongOnesFail() throws {
        let data = try Fixtures.history()
        for exercise in try Fixtures.catalog().exercises where exercise.stage == nil {
            let reference = try String(
                contentsOf: Fixtures.solutionsDirectory.appendingPathComponent("\(exercise.id)/reference/answers.yaml"),
                encoding: .utf8)
            XCTAssertTrue(HistoryQuiz.grade(exercise, answers: reference, data: data).allSatisfy(\.passed), exercise.id)
            let starter = try String(contentsOfFile: exercise.directory + "/starter/answers.yaml", encoding: .utf8)
            XCTAssertTrue(
                HistoryQuiz.grade(exercise, answers: starter, data: data).allSatisfy { !$0.passed }, exercise.id)
        }
    }

    func testBrokenAnswersFileFailsWithTheReason() throws {
        let exercise = try Fixtures.catalog().exercise("H.3")
        let data = try Fixtures.history()
        XCTAssertTrue(
            HistoryQuiz.grade(exercise, answers: "kubernetes: [", data: data)[0].seen.contains("does not parse"))
        XCTAssertTrue(HistoryQuiz.grade(exercise, answers: nil, data: data)[0].seen.contains("missing"))
    }

    func testQuestionsLetterEventsWithoutGivingTheOrder() throws {
        let exercise = try Fixtures.catalog().exercise("H.1")
        let text = HistoryQuiz.questions(exercise, data: try Fixtures.history(), language: .zh)
        XCTAssertTrue(text.contains("  - A: "))
        XCTAssertFalse(text.contains("1979-chroot"), "event ids start with their year")
    }

    func testVersionsAreComparedLoosely() {
        XCTAssertEqual(HistoryQuiz.normalizeVersion("v2.6.24"), "2.6.24")
        XCTAssertEqual(HistoryQuiz.normalizeVersion("Linux 4.5.0"), "4.5")
        XCTAssertEqual(HistoryQuiz.normalizeVersion("3.0"), "3.0")
    }
}

extension HistoryQuizTests {
    /// Found by make fuzz: a key that is a list made Yams.load trap, ending the grading.
    func testAnswersWhoseKeysAreNotWordsAreGradedNotCrashedOn() throws {
        let exercise = try Fixtures.catalog().exercise("H.1")
        let data = try Fixtures.history()
        let outcomes = HistoryQuiz.grade(
            exercise, answers: "[e52.1 C, B]: 1\n{a: b}: [C]\njails: [D, A, B, C]\n", data: data)
        XCTAssertEqual(outcomes.first { $0.check == "jails" }?.passed, true, "the ordinary keys are still read")
        let kernel = try Fixtures.catalog().exercise("H.2")
        let versions = HistoryQuiz.grade(kernel, answers: "user-namespaces: 3.10\n", data: data)
        XCTAssertEqual(
            versions.first { $0.check == "user-namespaces" }?.seen, "3.10 (not the version that first had it)",
            "3.10 is read as written, not as the number 3.1")
    }
}
