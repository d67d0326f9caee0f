import Foundation
import Lessons
import TextKit

/// What a grader saw for one check: passed or not, what it expected and what it found. Graders
/// produce these; points and hints are added by `Scoring` from the exercise's data.
public struct CheckOutcome: Codable, Equatable, Sendable {
    public var check: String
    public var passed: Bool
    public var expected: String
    public var seen: String

    public init(_ check: String, passed: Bool, expected: String, seen: String) {
        self.check = check
        self.passed = passed
        self.expected = expected
        self.seen = seen
    }

    /// Every check of `exercise` failed for one reason (a timeout, a file missing, a build error).
    public static func allFailed(_ exercise: Exercise, expected: String? = nil, seen: String) -> [CheckOutcome] {
        exercise.checks.map { CheckOutcome($0.id, passed: false, expected: expected ?? "", seen: seen) }
    }
}

public struct CheckResult: Codable, Equatable, Sendable {
    public var id: String
    public var title: String
    public var passed: Bool
    public var points: Int
    public var maxPoints: Int
    public var expected: String
    public var seen: String
    /// The last hint asked for, for a failing check; nil when it passed or none was asked for.
    public var hint: String?
}

public enum ExerciseStatus: String, Codable, Sendable {
    case passed, failing, notStarted = "not-started"
}

public struct ExerciseResult: Codable, Equatable, Sendable {
    public var id: String
    public var title: String
    public var group: String
    public var points: Int
    public var maxPoints: Int
    public var checks: [CheckResult]
    /// Wall time of the grading, in seconds.
    public var seconds: Double

    public var passed: Bool { points == maxPoints }

    public init(
        id: String, title: String, group: String, points: Int, maxPoints: Int, checks: [CheckResult], seconds: Double
    ) {
        self.id = id
        self.title = title
        self.group = group
        self.points = points
        self.maxPoints = maxPoints
        self.checks = checks
        self.seconds = seconds
    }
}

public struct GradeReport: Codable, Equatable, Sendable {
    public var exercises: [ExerciseResult]
    /// Hints the student asked for on these exercises, when the grader knows (verify does, from
    /// the workspace): a gradebook merged from reports keeps the count.
    public var hintsUsed: Int?
    public var points: Int { exercises.reduce(0) { $0 + $1.points } }
    public var maxPoints: Int { exercises.reduce(0) { $0 + $1.maxPoints } }
    public var passed: Bool { exercises.allSatisfy(\.passed) }

    public init(exercises: [ExerciseResult], hintsUsed: Int? = nil) {
        self.exercises = exercises
        self.hintsUsed = hintsUsed
    }
}

/// Turns a grader's outcomes into points and hints. Pure.
public enum Scoring {
    /// `hintsShown[checkID]` is how many hints the student asked for; a failing check's report
    /// repeats the last of them, and has none when none was asked for. A check whose `requires` failed fails too,
    /// saying so.
    public static func score(
        _ exercise: Exercise, outcomes: [CheckOutcome], hintsShown: [String: Int] = [:],
        language: Language, seconds: Double = 0
    ) -> ExerciseResult {
        var passed: [String: Bool] = [:]
        var checks: [CheckResult] = []
        for check in exercise.checks {
            var outcome =
                outcomes.first { $0.check == check.id }
                ?? CheckOutcome(
                    check.id, passed: false, expected: "a result", seen: "the grader did not report this check")
            if let missing = (check.requires ?? []).first(where: { passed[$0] != true }), outcome.passed {
                outcome.passed = false
                outcome.seen = "check \(missing) fails, and this one counts only after it passes"
            }
            passed[check.id] = outcome.passed
            // Only a hint the student asked for (`contlab hint`, which counts it) is in the report:
            // JSON, TAP and JUnit files are read by students too.
            let shown = min(hintsShown[check.id] ?? 0, check.hints.count)
            checks.append(
                CheckResult(
                    id: check.id, title: check.title[language], passed: outcome.passed,
                    points: outcome.passed ? check.points : 0, maxPoints: check.points,
                    expected: outcome.expected, seen: outcome.seen,
                    hint: outcome.passed || shown == 0 ? nil : check.hints[shown - 1][language]))
        }
        return ExerciseResult(
            id: exercise.id, title: exercise.title[language], group: exercise.group,
            points: checks.reduce(0) { $0 + $1.points }, maxPoints: exercise.points,
            checks: checks, seconds: seconds)
    }
}
