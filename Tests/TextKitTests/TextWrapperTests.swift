import XCTest
@testable import TextKit

final class TextWrapperTests: XCTestCase {
    static let mixed = """
        Linux 容器并不是一种单独的内核功能：它是 chroot、命名空间（namespaces）、控制组（cgroups）\
        和 capabilities 的组合。runc 读取 OCI 的 config.json，然后调用 clone(2)、pivot_root(2) 和 \
        execve(2)。“容器”这个词，直到 2013 年 Docker 出现才流行起来！A container is a process \
        with a different view of the system, nothing more. 就这么简单？是的。\
        https://github.com/opencontainers/runtime-spec/blob/main/config.md#linux-process
        """

    // Property: at every width from 20 to 100, no line of mixed Chinese and English is wider than
    // the width, no text is lost, and no line starts with closing punctuation.
    func testMixedChineseAndEnglishNeverExceedsTheWidth() {
        let closing: Set<Character> = ["，", "。", "、", "：", "！", "？", "）", "”"]
        let original = Self.mixed.filter { $0 != " " }
        for width in 20...100 {
            let lines = TextWrapper.wrap(Self.mixed, width: width)
            XCTAssertGreaterThan(lines.count, 1)
            for line in lines {
                XCTAssertLessThanOrEqual(Terminal.displayWidth(line), width, "width \(width): \(line)")
                if let first = line.first {
                    XCTAssertFalse(closing.contains(first), "width \(width): line starts with \(first): \(line)")
                }
                XCTAssertFalse(line.hasPrefix(" ") || line.hasSuffix(" "), "width \(width): \(line.debugDescription)")
            }
            XCTAssertEqual(lines.joined().filter { $0 != " " }, original, "width \(width) lost or added text")
        }
    }

    func testStyledRunsWrapWithTheirStyles() {
        let runs: [TextRun] = [
            .text("容器", [.strong]), .text("是进程，", []), .text("chroot", [.code]), .text(" 改变根目录。", [])
        ]
        for width in 4...30 {
            let lines = TextWrapper.wrap(runs, width: width)
            XCTAssertTrue(lines.allSatisfy { $0.width <= width }, "width \(width)")
            XCTAssertEqual(
                lines.map(\.plainText).joined(separator: " ").filter { $0 != " " },
                "容器是进程，chroot改变根目录。")
        }
        let lines = TextWrapper.wrap(runs, width: 12)
        XCTAssertEqual(lines.map(\.plainText), ["容器是进程，", "chroot 改变", "根目录。"])
        XCTAssertEqual(lines[0].pieces.first?.style, [.strong])
        XCTAssertEqual(lines[1].pieces.first?.style, [.code])
    }

    func testChineseBreaksBetweenCharactersButNotBeforeClosingOrAfterOpeningPunctuation() {
        XCTAssertEqual(TextWrapper.wrap("命名空间隔离功能", width: 10), ["命名空间隔", "离功能"])
        // The comma would start the second line: the character before it goes down with it.
        XCTAssertEqual(TextWrapper.wrap("命名空间隔，离", width: 10), ["命名空间", "隔，离"])
        // The opening parenthesis would end the first line: it goes down with what it opens.
        XCTAssertEqual(TextWrapper.wrap("一二三四（五六）", width: 10), ["一二三四", "（五六）"])
        for line in TextWrapper.wrap("甲乙丙丁（戊己庚）辛", width: 9) {
            XCTAssertFalse(line.hasSuffix("（"), line)
            XCTAssertFalse(line.hasPrefix("）"), line)
        }
    }

    func testEnglishBreaksOnlyAtSpacesAndLongWordsAreCut() {
        XCTAssertEqual(
            TextWrapper.wrap("the quick brown fox jumps", width: 10),
            ["the quick", "brown fox", "jumps"])
        XCTAssertEqual(
            TextWrapper.wrap("see /usr/share/contlab/lessons/en", width: 12),
            ["see", "/usr/share/", "contlab/", "lessons/en"])
    }

    func testHardBreaksEndTheLine() {
        XCTAssertEqual(
            TextWrapper.wrap([.text("one", []), .lineBreak, .text("two three", [])], width: 40)
                .map(\.plainText), ["one", "two three"])
    }

    func testWrapKeepsLinesWithinWidth() {
        let english =
            "The CLONE_NEWNET flag appeared in 2.6.24, but splitting every part of the network stack took several "
            + "releases."
        for width in [14, 20, 33] {
            let lines = TextWrapper.wrap(english, width: width)
            XCTAssertEqual(lines.joined(separator: " "), english)
            XCTAssertTrue(lines.allSatisfy { Terminal.displayWidth($0) <= width }, "\(lines)")
        }
        XCTAssertEqual(
            TextWrapper.wrap("CLONE_NEWCGROUP", width: 8), ["CLONE_", "NEWCGROU", "P"],
            "a word longer than a line is cut, after a _ in the line's second half")
        let chinese = "从 Linux 3.8 开始，非特权进程也能创建用户命名空间，并在其中成为 UID 0。"
        let lines = TextWrapper.wrap(chinese, width: 16)
        XCTAssertTrue(lines.allSatisfy { Terminal.displayWidth($0) <= 16 }, "\(lines)")
        XCTAssertFalse(
            lines.contains { $0.hasPrefix("，") || $0.hasPrefix("。") }, "no line starts with closing punctuation")
        XCTAssertEqual(
            lines.joined().replacingOccurrences(of: " ", with: ""), chinese.replacingOccurrences(of: " ", with: ""))
    }

    func testTruncateAndPadCountChineseTwice() {
        XCTAssertEqual(Terminal.truncate("容器大事记", toWidth: 6), "容器…")
        XCTAssertEqual(Terminal.truncate("chroot", toWidth: 6), "chroot")
        XCTAssertEqual(Terminal.truncate("namespaces", toWidth: 5), "name…")
        XCTAssertEqual(Terminal.displayWidth(Terminal.pad("容器", toWidth: 6)), 6)
    }

    // Every character of the no-break-before table (。，）and the rest), at every width from 4 to
    // 24: the wrapper moves the character before it down rather than start a line with it.
    func testNoLineStartsWithClosingPunctuation() {
        for mark in TextWrapper.noBreakBefore where TextWrapper.isWide(mark) {
            let text = String(repeating: "容器是进程" + String(mark), count: 4)
            for width in 4...24 {
                let lines = TextWrapper.wrap(text, width: width)
                for line in lines.dropFirst() {
                    XCTAssertNotEqual(line.first, mark, "width \(width): \(lines)")
                }
                XCTAssertEqual(lines.joined(), text, "width \(width): nothing lost")
                XCTAssertTrue(lines.allSatisfy { Terminal.displayWidth($0) <= width }, "width \(width): \(lines)")
            }
        }
    }

    func testNoLineEndsWithOpeningPunctuation() {
        for mark in TextWrapper.noBreakAfter where TextWrapper.isWide(mark) {
            let text = String(repeating: "命名空间" + String(mark) + "隔离", count: 4)
            for width in 4...24 {
                let lines = TextWrapper.wrap(text, width: width)
                XCTAssertFalse(lines.dropLast().contains { $0.last == mark }, "width \(width): \(lines)")
            }
        }
    }

    // A line end in a folded YAML or Markdown text between two Chinese characters is no space.
    func testSoftBreaksBetweenChineseCharactersVanish() {
        XCTAssertEqual(TextWrapper.wrap("容器\n进程 and\nmore", width: 40), ["容器进程 and more"])
    }
}

/// Whole words to a width, as the cgroup tree and the call chain lay out their notes.
final class WrapWordsTests: XCTestCase {
    func testWordsFillLinesUpToTheWidthWithTheIndent() {
        let lines = Terminal.wrapWords(["mount", "×36,", "mknod", "×6,", "capset"], width: 14, indent: "  ")
        XCTAssertEqual(lines, ["  mount ×36,", "  mknod ×6,", "  capset"])
        XCTAssertTrue(lines.allSatisfy { Terminal.displayWidth($0) <= 14 })
        XCTAssertEqual(
            Terminal.wrapWords(["a-word-wider-than-the-line"], width: 8, indent: ""), ["a-word-wider-than-the-line"])
        XCTAssertEqual(Terminal.wrapWords(["中文", "字符"], width: 6, indent: ""), ["中文", "字符"], "two columns a character")
        XCTAssertEqual(Terminal.wrapWords([], width: 10, indent: "  "), [])
    }
}
