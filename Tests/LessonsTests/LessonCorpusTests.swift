import TextKit
import XCTest
@testable import Lessons

/// The checkout's own lessons (../../lessons from this file): every file present is parsed,
/// rendered to the terminal and to HTML, paired with its translation, and its sources checked.
/// An empty or missing lessons/en passes — the texts are written separately — but every file
/// that is there is checked.
final class LessonCorpusTests: XCTestCase {
    func markdownFiles(under lessons: URL) -> [String] {
        Language.allCases.flatMap { LessonCatalog.lessonFiles(in: lessons.appendingPathComponent($0.rawValue)) }
            .map(\.path)
    }

    func checkCorpus(at lessons: URL) -> CorpusCheck.Report {
        let report = CorpusCheck.run(lessonsDirectory: lessons)
        XCTAssertEqual(
            report.checkedFiles.sorted(), markdownFiles(under: lessons).sorted(),
            "every lesson file is checked")
        for problem in report.problems { XCTFail(problem) }
        for lesson in report.lessons {
            for width in [40, 80, 120] {
                let text = TerminalRenderer(width: width, color: width == 80).render(lesson)
                XCTAssertTrue(
                    text.contains(lesson.metadata.sources[0].title.prefix(10)),
                    "\(lesson.file) at width \(width) lists its sources")
            }
            let site = HTMLSite(catalog: LessonCatalog(directory: lessons, lessons: [lesson.language: [lesson]]))
            let page = site.files()["\(lesson.language.rawValue)/\(lesson.id).html"]
            XCTAssertNotNil(page, lesson.file)
            XCTAssertTrue(page?.contains("<title>\(escape(lesson.title)) — contlab</title>") ?? false, lesson.file)
        }
        return report
    }

    func testTheCheckoutsLessons() {
        let report = checkCorpus(at: Paths.checkoutLessons)
        // The checkout's lessons, every stage and the history ones, in both languages: a folder
        // that went missing or a lesson left out of the scan must fail here, not pass empty.
        let names = Set(
            report.checkedFiles.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension })
        for stage in [
            "stage1-chroot", "stage2-namespaces", "stage3-cgroups", "stage4-oci", "stage5-images", "history-docker"
        ] {
            XCTAssertTrue(names.contains(stage), "\(stage) was checked: \(names.sorted())")
        }
        XCTAssertEqual(report.checkedFiles.count % 2, 0, "each lesson in en and zh")
        XCTAssertGreaterThanOrEqual(report.checkedFiles.count, 2 * 11)
    }

    /// The same checks on the fixtures, so they are known to run on real files even while the
    /// checkout has no lessons yet.
    func testTheFixtureLessons() {
        XCTAssertEqual(checkCorpus(at: Paths.fixtureLessons).checkedFiles.count, 4)
    }

    func testMismatchedTranslationsAreFound() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-pairs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for language in ["en", "zh"] {
            try fm.createDirectory(at: dir.appendingPathComponent(language), withIntermediateDirectories: true)
        }
        let english = try String(
            contentsOf: Paths.fixtureLessons.appendingPathComponent("en/fixture-history.md"), encoding: .utf8)
        try english.write(to: dir.appendingPathComponent("en/fixture-history.md"), atomically: true, encoding: .utf8)
        try english.replacingOccurrences(of: "id: fixture-history", with: "id: only-english")
            .write(to: dir.appendingPathComponent("en/only-english.md"), atomically: true, encoding: .utf8)
        let chinese = try String(
            contentsOf: Paths.fixtureLessons.appendingPathComponent("zh/fixture-history.md"), encoding: .utf8
        )
        .replacingOccurrences(of: "## 为什么重要", with: "### 为什么重要")
        .replacingOccurrences(of: "order: 100", with: "order: 101")
        try chinese.write(to: dir.appendingPathComponent("zh/fixture-history.md"), atomically: true, encoding: .utf8)

        let report = CorpusCheck.run(lessonsDirectory: dir)
        XCTAssertEqual(report.checkedFiles.count, 3)
        let problems = report.problems.joined(separator: "\n")
        XCTAssertTrue(
            problems.contains("lessons/en/only-english.md has no Chinese version lessons/zh/only-english.md"), problems)
        XCTAssertTrue(problems.contains("zh/fixture-history.md has 0 sections (## headings) but"), problems)
        XCTAssertTrue(problems.contains("`order` is `101`"), problems)
        XCTAssertEqual(report.problems.count, 3, problems)
    }
}
