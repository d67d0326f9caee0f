import ContlabCore
// The lessons and the history data were written side by side: every event id a lesson lists in
// its front matter (`events: [...]`) must be an event in lessons/history/events.yaml, and that
// event must link back to the lesson, so a student following either one lands on the other.
import Foundation
import TextKit
import XCTest
import Yams
@testable import History

final class LessonEventsTests: XCTestCase {
    /// Tests/HistoryTests/ → ../../lessons, the checkout's lessons directory.
    static let lessonsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("lessons", isDirectory: true)

    /// One lesson file's front matter, as far as these tests need it.
    struct LessonFile {
        /// e.g. lessons/en/history-docker.md, as messages show it.
        let path: String
        let id: String
        let events: [String]
    }

    /// Every lessons/<language>/*.md file, sorted by path. A file whose front matter cannot be
    /// read fails the calling test by name.
    private func lessonFiles(file: StaticString = #filePath, line: UInt = #line) throws -> [LessonFile] {
        let manager = FileManager.default
        let languages = try manager.contentsOfDirectory(atPath: Self.lessonsDirectory.path).sorted()
        var lessons: [LessonFile] = []
        for language in languages {
            let directory = Self.lessonsDirectory.appendingPathComponent(language, isDirectory: true)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                continue
            }
            for name in try manager.contentsOfDirectory(atPath: directory.path).sorted() where name.hasSuffix(".md") {
                let path = "lessons/\(language)/\(name)"
                let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                guard let yaml = Self.frontMatter(text) else {
                    XCTFail("\(path): no YAML front matter between --- lines", file: file, line: line)
                    continue
                }
                guard let fields = try Yams.load(yaml: yaml) as? [String: Any] else {
                    XCTFail("\(path): the front matter is not a mapping of fields", file: file, line: line)
                    continue
                }
                let id = fields["id"] as? String ?? ""
                let events: [String]
                switch fields["events"] {
                case nil:
                    events = []
                case let list as [String]:
                    events = list
                case let other?:
                    XCTFail("\(path): `events` should be a list of event ids, not \(other)", file: file, line: line)
                    events = []
                }
                lessons.append(LessonFile(path: path, id: id, events: events))
            }
        }
        return lessons
    }

    /// The text between the opening `---` line and the next `---` (or `...`) line.
    static func frontMatter(_ text: String) -> String? {
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = String(first.dropFirst()) }
        guard lines.first?.trimmingCharacters(in: .whitespaces) == "---" else { return nil }
        guard
            let end = lines.indices.dropFirst().first(where: {
                ["---", "..."].contains(lines[$0].trimmingCharacters(in: .whitespaces))
            })
        else { return nil }
        return lines[1..<end].joined(separator: "\n")
    }

    func testTheLessonsAreFound() throws {
        let lessons = try lessonFiles()
        XCTAssertGreaterThanOrEqual(lessons.count, 16, "expected the lessons under \(Self.lessonsDirectory.path)")
        for language in ["en", "zh"] {
            XCTAssertTrue(
                lessons.contains { $0.path.hasPrefix("lessons/\(language)/") }, "no lessons in lessons/\(language)")
        }
        XCTAssertTrue(lessons.contains { !$0.events.isEmpty }, "no lesson lists any events; is the front matter read?")
    }

    /// The test this file exists for: a lesson may only name events the timeline has.
    func testEveryEventALessonListsExists() throws {
        let data = try Fixtures.data()
        let known = data.events.map(\.id)
        let ids = Set(known)
        for lesson in try lessonFiles() {
            for id in lesson.events where !ids.contains(id) {
                let near = Suggestions.nearest(to: id, among: known)
                XCTFail(
                    "\(lesson.path): events lists \(id), which is not an event in lessons/history/events.yaml"
                        + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?"))
            }
            XCTAssertEqual(Set(lesson.events).count, lesson.events.count, "\(lesson.path): events lists an id twice")
        }
    }

    func testEveryLessonIsAnIdTheDataMayLinkTo() throws {
        let data = try Fixtures.data()
        let known = Set(data.labels.lessons)
        for lesson in try lessonFiles() {
            XCTAssertTrue(
                known.contains(lesson.id),
                "\(lesson.path): lesson id \(lesson.id) is not in the lessons list of lessons/history/labels.yaml")
        }
    }

    func testEveryListedEventLinksBackToItsLesson() throws {
        let data = try Fixtures.data()
        let events = Dictionary(data.events.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for lesson in try lessonFiles() {
            for id in lesson.events {
                guard let event = events[id] else { continue }  // reported by testEveryEventALessonListsExists
                XCTAssertTrue(
                    event.lessons.contains(lesson.id),
                    "\(lesson.path) lists \(id), but that event's lessons in lessons/history/events.yaml are [\(event.lessons.joined(separator: ", "))]; add \(lesson.id)"
                )
            }
        }
    }
}
