import Foundation
import TextKit
import XCTest
@testable import Lessons

/// Paths of the test fixtures and of the checkout's lessons, found from this file's location so
/// the tests need no resources declared in Package.swift.
enum Paths {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = testsDirectory.appendingPathComponent("Fixtures")
    static let fixtureLessons = fixtures.appendingPathComponent("lessons")
    static let snapshots = fixtures.appendingPathComponent("snapshots")
    /// The checkout's lessons/: Tests/LessonsTests/../../lessons.
    static let checkoutLessons =
        testsDirectory
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("lessons")
}

func fixtureLesson(
    _ id: String, _ language: Language, file: StaticString = #filePath,
    line: UInt = #line
) throws -> Lesson {
    try LessonCatalog.loadLesson(
        at: Paths.fixtureLessons.appendingPathComponent("\(language.rawValue)/\(id).md"), language: language)
}

/// Compares `actual` with the committed file `Fixtures/snapshots/<name>`. With
/// `CONTLAB_UPDATE_SNAPSHOTS=1` in the environment the file is (re)written instead: review the
/// diff (`git diff Tests/LessonsTests/Fixtures/snapshots`, or `cat` a colour one) and commit it.
func assertSnapshot(_ actual: String, named name: String, file: StaticString = #filePath, line: UInt = #line) {
    let url = Paths.snapshots.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["CONTLAB_UPDATE_SNAPSHOTS"] == "1" {
        try? FileManager.default.createDirectory(at: Paths.snapshots, withIntermediateDirectories: true)
        XCTAssertNoThrow(try Data(actual.utf8).write(to: url), file: file, line: line)
        print("updated snapshot \(url.path)")
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        XCTFail(
            "no snapshot \(url.path): run `CONTLAB_UPDATE_SNAPSHOTS=1 swift test --filter LessonsTests` to record it",
            file: file, line: line)
        return
    }
    guard actual != expected else { return }
    let a = actual.components(separatedBy: "\n"), e = expected.components(separatedBy: "\n")
    let index = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, e.count)
    func show(_ lines: [String]) -> String {
        index < lines.count ? lines[index].debugDescription : "(end of text)"
    }
    XCTFail(
        """
        rendering differs from \(name) at line \(index + 1):
          expected: \(show(e))
          actual:   \(show(a))
        if the change is intended, rerun with CONTLAB_UPDATE_SNAPSHOTS=1 and review the diff
        """, file: file, line: line)
}
