import ContlabCore
import Foundation
import History
import XCTest
@testable import Walkthrough

final class WalkthroughDataTests: XCTestCase {
    static let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../lessons").standardizedFileURL

    func testEveryStageHasBothLanguagesRealLessonsAndRealHistory() throws {
        let all = try StageWalkthrough.loadAll(from: Self.lessons.appendingPathComponent("walkthrough"))
        XCTAssertEqual(all.map(\.stage), [0, 1, 2, 3, 4])
        let history = try HistoryData.load(from: Self.lessons.appendingPathComponent("history"))
        let commands: Set<String> = ["inspect", "run", "escape", "oom-demo", "rootfs", "runc", "bundle", "hog", "engines"]
        for stage in all {
            for text in [stage.title, stage.summary] + stage.steps.flatMap({ [$0.title, $0.text] + ($0.lookFor.map { [$0] } ?? []) }) {
                XCTAssertFalse(text.en.isEmpty, "stage \(stage.stage): an English text is empty")
                XCTAssertFalse(text.zh.isEmpty, "stage \(stage.stage): a Chinese text is empty")
            }
            if let lesson = stage.lesson {
                XCTAssertTrue(FileManager.default.fileExists(atPath: Self.lessons.appendingPathComponent("en/\(lesson).md").path), "stage \(stage.stage): no lesson \(lesson)")
            }
            for id in stage.history ?? [] {
                XCTAssertTrue(history.events.contains { $0.id == id }, "stage \(stage.stage): no history event \(id)")
            }
            for step in stage.steps {
                if let first = step.run?.first { XCTAssertTrue(commands.contains(first), "stage \(stage.stage): \(first) is not a contlab command") }
            }
        }
    }

    func testStepsReadAsTheyShouldWithoutColour() throws {
        let stage = StageWalkthrough(
            stage: 2, title: .init(en: "Namespaces", zh: "命名空间"), summary: .init(en: "own view", zh: "自己的视图"),
            lesson: "stage2-namespaces", history: nil,
            steps: [.init(title: .init(en: "PID 1", zh: "1 号进程"), text: .init(en: "Why.", zh: "为什么。"),
                          byHand: ["unshare --pid --fork sh"], run: ["run", "--stage", "2", "--", "sh", "-c", "echo $$"],
                          lookFor: .init(en: "2", zh: "2"))],
            exercises: nil)
        let text = stage.describe(step: 0, language: "en", style: Style(enabled: false), prose: true)
        XCTAssertTrue(text.contains("Step 1/1: PID 1"))
        XCTAssertTrue(text.contains("$ unshare --pid --fork sh"))
        XCTAssertTrue(text.contains("contlab run --stage 2 -- sh -c 'echo $$'"), text)
        XCTAssertFalse(stage.describe(step: 0, language: "en", style: Style(enabled: false), prose: false).contains("Why."))
        XCTAssertTrue(stage.describe(step: 0, language: "zh", style: Style(enabled: false), prose: true).contains("第 1/1 步：1 号进程"))
        XCTAssertTrue(stage.header(language: "en", style: Style(enabled: false), history: ["1979: chroot"]).contains("1979: chroot"))
    }
}
