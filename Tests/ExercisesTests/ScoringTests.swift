import XCTest
@testable import Exercises

final class ScoringTests: XCTestCase {
    func testPointsAndHintsComeFromTheData() throws {
        let exercise = try Fixtures.exercise()
        let result = Scoring.score(
            exercise,
            outcomes: [
                CheckOutcome("first", passed: false, expected: "e", seen: "s"),
                CheckOutcome("second", passed: true, expected: "e", seen: "s")
            ], language: .en)
        XCTAssertEqual(result.points, 0)
        XCTAssertEqual(result.maxPoints, 3)
        XCTAssertNil(result.checks[0].hint, "no hint was asked for: a report must not give one away")
        // "second" passed on its own, but it counts only once "first" does.
        XCTAssertFalse(result.checks[1].passed)
        XCTAssertTrue(result.checks[1].seen.contains("check first fails"))
    }

    func testAReportRepeatsOnlyTheHintsAskedFor() throws {
        let exercise = try Fixtures.exercise()
        let outcomes = [CheckOutcome("first", passed: false, expected: "", seen: "")]
        XCTAssertEqual(
            Scoring.score(exercise, outcomes: outcomes, hintsShown: ["first": 1], language: .en).checks[0].hint,
            "hint one")
        XCTAssertEqual(
            Scoring.score(exercise, outcomes: outcomes, hintsShown: ["first": 2], language: .en).checks[0].hint,
            "hint two")
        XCTAssertEqual(
            Scoring.score(exercise, outcomes: outcomes, hintsShown: ["first": 5], language: .zh).checks[0].hint, "提示二")
    }

    func testAMissingOutcomeFails() throws {
        let result = Scoring.score(try Fixtures.exercise(), outcomes: [], language: .en)
        XCTAssertEqual(result.points, 0)
        XCTAssertTrue(result.checks[0].seen.contains("did not report"))
    }

    func testFullMarks() throws {
        let exercise = try Fixtures.exercise()
        let result = Scoring.score(
            exercise, outcomes: exercise.checks.map { CheckOutcome($0.id, passed: true, expected: "", seen: "") },
            language: .en)
        XCTAssertTrue(result.passed)
        XCTAssertEqual(result.points, 3)
        XCTAssertNil(result.checks[0].hint)
    }
}
