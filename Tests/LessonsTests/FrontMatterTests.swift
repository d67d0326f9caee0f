import XCTest
@testable import Lessons

final class FrontMatterTests: XCTestCase {
    static let valid = """
        id: stage1-chroot
        title: "Stage 1: chroot — a root of your own"
        kind: stage
        stage: 1
        order: 10
        events: [1979-chroot, 2000-freebsd-jail]
        sources:
          - title: "chroot(2), Linux manual page"
            url: https://man7.org/linux/man-pages/man2/chroot.2.html
          - title: "Version 7 Unix Programmer's Manual"
        """

    static let file = "lessons/en/stage1-chroot.md"

    func lesson(_ yaml: String, file: String = file) throws -> Lesson {
        try FrontMatter.parseLesson(text: "---\n\(yaml)\n---\n# Heading\n\nBody.\n", file: file, language: .en)
    }

    /// The front matter with the line starting with `field:` (and its indented block) removed.
    func without(_ field: String, in yaml: String = valid) -> String {
        var out: [Substring] = []
        var skipping = false
        for line in yaml.split(separator: "\n") {
            if line.hasPrefix("\(field):") { skipping = true; continue }
            if skipping && line.hasPrefix(" ") { continue }
            skipping = false
            out.append(line)
        }
        return out.joined(separator: "\n")
    }

    func assertError(
        _ yaml: String, file: String = file, names field: String,
        line: UInt = #line
    ) {
        XCTAssertThrowsError(try lesson(yaml, file: file), line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(file), "names the file: \(message)", line: line)
            XCTAssertTrue(message.contains("`\(field)`"), "names the field \(field): \(message)", line: line)
        }
    }

    func testAValidLessonParses() throws {
        let parsed = try lesson(Self.valid)
        XCTAssertEqual(
            parsed.metadata,
            LessonMetadata(
                id: "stage1-chroot", title: "Stage 1: chroot — a root of your own", kind: .stage, stage: 1, era: nil,
                order: 10, events: ["1979-chroot", "2000-freebsd-jail"],
                sources: [
                    LessonSource(
                        title: "chroot(2), Linux manual page",
                        url: "https://man7.org/linux/man-pages/man2/chroot.2.html"),
                    LessonSource(title: "Version 7 Unix Programmer's Manual")
                ]))
        XCTAssertEqual(parsed.body, "# Heading\n\nBody.\n")
    }

    func testEachMissingRequiredFieldIsNamed() {
        for field in ["id", "title", "kind", "order", "sources", "stage"] {
            assertError(without(field), names: field)
        }
    }

    func testHistoryLessonsNeedAnEra() throws {
        let history = without("stage").replacingOccurrences(of: "kind: stage", with: "kind: history")
        assertError(history, names: "era")
        let parsed = try lesson(history + "\nera: \"1979–2000\"")
        XCTAssertEqual(parsed.metadata.era, "1979–2000")
        XCTAssertNil(parsed.metadata.stage)
    }

    func testWrongValuesAreNamed() {
        assertError(without("sources") + "\nsources: []", names: "sources")
        assertError(Self.valid.replacingOccurrences(of: "kind: stage", with: "kind: lecture"), names: "kind")
        assertError(Self.valid.replacingOccurrences(of: "order: 10", with: "order: ten"), names: "order")
        assertError(Self.valid.replacingOccurrences(of: "title: \"Stage 1", with: "title: \"\"\n#"), names: "title")
        assertError(
            Self.valid.replacingOccurrences(of: "url: https://man7", with: "url: ftp://man7"),
            names: "sources[0].url")
        assertError(
            Self.valid.replacingOccurrences(of: "  - title: \"Version 7", with: "  - url: \"https://x.org/v7"),
            names: "sources[1].title")
        assertError(Self.valid, file: "lessons/en/stage2-namespaces.md", names: "id")
    }

    func testMissingOrBrokenFrontMatterNamesTheFile() {
        for text in ["# Just Markdown\n", "---\nid: x\n# never closed\n"] {
            XCTAssertThrowsError(try FrontMatter.parseLesson(text: text, file: "lessons/zh/x.md", language: .zh)) {
                XCTAssertEqual($0 as? LessonsError, .missingFrontMatter(file: "lessons/zh/x.md"))
                XCTAssertTrue("\($0)".contains("lessons/zh/x.md"))
            }
        }
        XCTAssertThrowsError(try lesson("id: [unclosed")) {
            guard case .invalidYAML(let file, _)? = $0 as? LessonsError else { return XCTFail("\($0)") }
            XCTAssertEqual(file, Self.file)
        }
    }

    func testCRLFAndByteOrderMarkAreAccepted() throws {
        let text = "\u{FEFF}---\r\n" + Self.valid.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n---\r\nBody\r\n"
        XCTAssertEqual(try FrontMatter.parseLesson(text: text, file: Self.file, language: .en).body, "Body\n")
    }
}
