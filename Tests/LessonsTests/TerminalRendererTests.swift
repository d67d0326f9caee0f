import ContlabCore
import TextKit
import XCTest
@testable import Lessons

final class TerminalRendererTests: XCTestCase {
    // The fixture lessons use every node cmark produces; each rendering is compared with a
    // committed snapshot, with and without colour.
    func testSnapshotsOfEveryNodeType() throws {
        let cases: [(id: String, language: Language, width: Int)] = [
            ("fixture-everything", .en, 60), ("fixture-everything", .zh, 40),
            ("fixture-history", .en, 80), ("fixture-history", .zh, 30)
        ]
        for (id, language, width) in cases {
            let lesson = try fixtureLesson(id, language)
            for color in [false, true] {
                let text = TerminalRenderer(width: width, color: color).render(lesson)
                assertSnapshot(text, named: "\(id).\(language.rawValue).w\(width).\(color ? "color" : "plain").txt")
            }
        }
    }

    func testPlainOutputHasNoEscapesAndColourOutputHasThem() throws {
        let lesson = try fixtureLesson("fixture-everything", .en)
        let plain = TerminalRenderer(width: 70, color: false).render(lesson)
        XCTAssertFalse(plain.contains("\u{1B}"))
        let coloured = TerminalRenderer(width: 70, color: true).render(lesson)
        XCTAssertTrue(coloured.contains("\u{1B}[1;35m"), "level-1 heading is bold magenta")
        XCTAssertTrue(coloured.contains("\u{1B}[3mroot directory\u{1B}[0m"), "emphasis is italic")
        XCTAssertTrue(coloured.contains("\u{1B}[1;32mchroot\u{1B}[0m"), "code inside strong keeps both styles")
        // Styles never run across a line end, so a pager or a narrower terminal shows them right.
        for line in coloured.split(separator: "\n") {
            let escapes = line.components(separatedBy: "\u{1B}[").count - 1
            let resets = line.components(separatedBy: "\u{1B}[0m").count - 1
            XCTAssertEqual(
                escapes - resets, resets, "every style opened is closed on its line: \(line.debugDescription)")
        }
    }

    func testLinksBecomeNumberedReferencesListedOnceUnderTheirSection() throws {
        let document = MarkdownDocument(
            parsing: """
                Read [the page](https://example.org/a) and [again](https://example.org/a), or
                <https://example.org/auto>, or [next lesson](stage2-namespaces.md#mounts).

                ## Later

                [Back](https://example.org/a) and [elsewhere](https://example.org/b).
                """)
        let lines = TerminalRenderer(width: 80, color: false).render(document)
        let text = lines.joined(separator: "\n")
        XCTAssertTrue(text.contains("the page[1] and again[1], or https://example.org/auto, or next lesson[2]."), text)
        XCTAssertEqual(lines.filter { $0.hasPrefix("[1] ") }, ["[1] https://example.org/a"])
        XCTAssertEqual(lines.filter { $0.hasPrefix("[2] ") }, ["[2] contlab lessons show stage2-namespaces"])
        // The first section's references come before the next heading; a URL already listed
        // keeps its number and is not listed again.
        XCTAssertLessThan(
            lines.firstIndex(of: "[2] contlab lessons show stage2-namespaces")!, lines.firstIndex(of: "Later")!)
        XCTAssertTrue(text.contains("Back[1] and elsewhere[3]."))
        XCTAssertEqual(lines.last, "[3] https://example.org/b")
    }

    func testNestedListsIndentUnderTheirMarkers() {
        let document = MarkdownDocument(
            parsing: """
                - one
                  1. first
                  2. second
                     - deep
                - two
                """)
        XCTAssertEqual(
            TerminalRenderer(width: 40, color: false).render(document),
            [
                "• one",
                "  1. first",
                "  2. second",
                "     ▪ deep",
                "• two"
            ])
    }

    func testCodeBlocksAreNeverWrapped() {
        let long = String(repeating: "x", count: 100)
        let document = MarkdownDocument(parsing: "```sh\necho \(long)\n```\n")
        XCTAssertEqual(
            TerminalRenderer(width: 30, color: false).render(document),
            ["  ┌─ sh", "  │ echo \(long)", "  └─"])
    }

    func testSoftBreaksJoinChineseWithoutASpaceAndEnglishWithOne() {
        let document = MarkdownDocument(parsing: "容器\n技术 and\nchroot")
        XCTAssertEqual(TerminalRenderer(width: 80, color: false).render(document), ["容器技术 and chroot"])
    }

    func testEveryLineFitsTheWidthOutsideCodeBlocks() throws {
        func codeLines(_ blocks: [MarkdownBlock]) -> [String] {
            blocks.flatMap { block -> [String] in
                switch block {
                case let .codeBlock(_, code):
                    return code.split(separator: "\n").map { $0.replacingOccurrences(of: "\t", with: "    ") }
                case let .blockQuote(children): return codeLines(children)
                case let .list(_, _, _, _, items): return items.flatMap(codeLines)
                default: return []
                }
            }
        }
        for language in Language.allCases {
            let lesson = try fixtureLesson("fixture-everything", language)
            let code = Set(codeLines(MarkdownDocument(parsing: lesson.body).blocks))
            XCTAssertFalse(code.isEmpty)
            for width in stride(from: 24, through: 100, by: 7) {
                let lines = TerminalRenderer(width: width, color: false).render(lesson).split(separator: "\n")
                for line in lines {
                    if let gutter = line.range(of: "│ "), code.contains(String(line[gutter.upperBound...])) { continue }
                    XCTAssertLessThanOrEqual(
                        Terminal.displayWidth(String(line)), width,
                        "\(language) at \(width): \(line.debugDescription)")
                }
            }
        }
    }

    /// Found by `make fuzz`: 4,000 nested quotes took the renderer gigabytes. Past the limit
    /// quotes, lists and emphasis add no level, and no text is lost.
    func testDeepNestingStopsAddingLevelsAndKeepsTheText() {
        func depth(_ blocks: [MarkdownBlock]) -> Int {
            blocks.map { block -> Int in
                switch block {
                case let .blockQuote(children): return 1 + depth(children)
                case let .list(_, _, _, _, items): return 1 + (items.map(depth).max() ?? 0)
                default: return 0
                }
            }.max() ?? 0
        }
        func emphasisDepth(_ inlines: [MarkdownInline]) -> Int {
            inlines.map { inline -> Int in
                if case let .emphasis(c) = inline { return 1 + emphasisDepth(c) }
                if case let .strong(c) = inline { return 1 + emphasisDepth(c) }
                return 0
            }.max() ?? 0
        }
        let limit = MarkdownDocument.maximumDepth
        XCTAssertEqual(depth(MarkdownDocument(parsing: String(repeating: ">", count: 4000) + " deep\n").blocks), limit)
        XCTAssertEqual(depth(MarkdownDocument(parsing: String(repeating: "> ", count: 3) + "shallow\n").blocks), 3)
        let lists = (0..<40).map { String(repeating: "  ", count: $0) + "- item\($0)" }.joined(separator: "\n")
        let listDocument = MarkdownDocument(parsing: lists)
        XCTAssertEqual(depth(listDocument.blocks), limit)
        let rendered = TerminalRenderer(width: 60, color: false).render(listDocument, language: .en).joined(
            separator: "\n")
        XCTAssertTrue(rendered.contains("item39"), "the deepest item is still shown")
        guard
            case let .paragraph(inlines)? = MarkdownDocument(
                parsing: String(repeating: "*", count: 2000) + "x" + String(repeating: "*", count: 2000)
            ).blocks.first
        else {
            return XCTFail("one paragraph")
        }
        XCTAssertLessThanOrEqual(emphasisDepth(inlines), limit)
        XCTAssertEqual(MarkdownInline.plainText(inlines), "x")
        let quote = TerminalRenderer(width: 60, color: false).render(
            MarkdownDocument(parsing: String(repeating: ">", count: 4000) + " deep\n"), language: .en
        ).joined()
        XCTAssertTrue(quote.contains("deep"))
    }
}
