import Foundation
import History
import Lessons
@testable import Exercises

/// The checkout's exercises/ and lessons/history, found from this file.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL
    static var exercisesDirectory: URL { root.appendingPathComponent("exercises") }
    static var solutionsDirectory: URL { root.appendingPathComponent("Tests/ExerciseSolutions") }

    static func catalog() throws -> ExerciseCatalog { try ExerciseCatalog.load(from: exercisesDirectory) }
    static func history() throws -> HistoryData {
        try HistoryData.load(from: root.appendingPathComponent("lessons/history"))
    }

    /// A small exercise for scoring and report tests.
    static func exercise() throws -> Exercise {
        try ExerciseCatalog.parse(
            """
            id: "9.1"
            slug: sample
            stage: 9
            title: {en: "Sample", zh: "示例"}
            grader: none
            timeout: 5
            files: [a.sh]
            checks:
              - id: first
                points: 2
                title: {en: "first <check> & \\"quotes\\"", zh: "第一"}
                hints:
                  - {en: "hint one", zh: "提示一"}
                  - {en: "hint two", zh: "提示二"}
              - id: second
                points: 1
                title: {en: "second # not a directive", zh: "第二"}
                requires: [first]
                hints:
                  - {en: "only hint", zh: "唯一提示"}
            """, file: "sample.yaml")
    }
}
