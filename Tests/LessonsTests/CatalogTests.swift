import TextKit
import XCTest
@testable import Lessons

final class CatalogTests: XCTestCase {
    func testLanguageComesFromTheLocaleVariablesInPOSIXOrder() {
        XCTAssertEqual(Language.preferred(environment: [:]), .en)
        XCTAssertEqual(Language.preferred(environment: ["LANG": "zh_CN.UTF-8"]), .zh)
        XCTAssertEqual(Language.preferred(environment: ["LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_US.UTF-8"]), .en)
        XCTAssertEqual(Language.preferred(environment: ["LANG": "en_GB", "LC_ALL": "zh_TW.UTF-8"]), .zh)
        XCTAssertEqual(Language.preferred(environment: ["LC_ALL": "", "LANG": "zh_HK"]), .zh)
        XCTAssertEqual(Language.preferred(environment: ["LANG": "C.UTF-8"]), .en)
    }

    func testFixturesLoadInListOrder() throws {
        let catalog = try LessonCatalog.load(from: Paths.fixtureLessons)
        for language in Language.allCases {
            XCTAssertEqual(catalog.lessons(in: language).map(\.id), ["fixture-everything", "fixture-history"])
        }
        XCTAssertEqual(try catalog.lesson(id: "fixture-history", language: .zh).title, "示例：从 chroot 到 jail")
    }

    func testUnknownIdSuggestsTheNearestOnes() throws {
        let catalog = try LessonCatalog.load(from: Paths.fixtureLessons)
        XCTAssertThrowsError(try catalog.lesson(id: "fixture-histroy", language: .en)) { error in
            guard case let .unknownLesson(id, _, suggestions, _, _)? = error as? LessonsError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(id, "fixture-histroy")
            XCTAssertEqual(suggestions.first, "fixture-history")
            XCTAssertTrue("\(error)".contains("did you mean `fixture-history`"), "\(error)")
        }
        let ids = ["stage1-chroot", "stage2-namespaces", "stage3-cgroups", "history-jails"]
        XCTAssertEqual(LessonCatalog.suggestions(for: "chroot", among: ids), ["stage1-chroot"])
        XCTAssertEqual(LessonCatalog.suggestions(for: "stage2-namespace", among: ids), ["stage2-namespaces"])
        XCTAssertEqual(LessonCatalog.suggestions(for: "stage4-cgroups", among: ids), ["stage3-cgroups"])
        XCTAssertEqual(LessonCatalog.suggestions(for: "zzz", among: ids), [])
    }

    func testALessonOnlyInTheOtherLanguageSaysSo() throws {
        let catalog = try LessonCatalog.load(from: Paths.fixtureLessons, languages: [.zh])
        let onlyChinese = LessonCatalog(directory: catalog.directory, lessons: [.zh: []])
        XCTAssertThrowsError(try onlyChinese.lesson(id: "fixture-history", language: .zh)) {
            XCTAssertTrue("\($0)".contains("read it in English with `--lang en`"), "\($0)")
        }
    }

    func testEveryBrokenLessonIsReportedAtOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-broken-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("en"), withIntermediateDirectories: true)
        try "# no front matter\n".write(to: dir.appendingPathComponent("en/a.md"), atomically: true, encoding: .utf8)
        try "---\nid: b\n---\n".write(to: dir.appendingPathComponent("en/b.md"), atomically: true, encoding: .utf8)
        try "about this directory\n".write(
            to: dir.appendingPathComponent("en/README.md"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LessonCatalog.load(from: dir)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("2 lessons have problems"), message)
            XCTAssertTrue(message.contains("en/a.md: no front matter"), message)
            XCTAssertTrue(message.contains("en/b.md: front matter field `title` is missing"), message)
        }
    }

    func testAMissingLanguageDirectoryHoldsNoLessons() throws {
        let catalog = try LessonCatalog.load(from: URL(fileURLWithPath: "/nonexistent-contlab-lessons"))
        XCTAssertTrue(catalog.lessons(in: .en).isEmpty)
        XCTAssertThrowsError(try catalog.lesson(id: "stage1-chroot", language: .en)) {
            XCTAssertTrue("\($0)".contains("contlab lessons --lang en"), "\($0)")
        }
    }

    func testTheListAlignsWideTitles() throws {
        let catalog = try LessonCatalog.load(from: Paths.fixtureLessons)
        XCTAssertEqual(
            LessonList.render(catalog.lessons(in: .zh), style: .init(enabled: false)),
            """
            fixture-everything  第 1 阶段  示例：每一种 Markdown 节点
            fixture-history     1979–2000  示例：从 chroot 到 jail

            """)
    }
}
