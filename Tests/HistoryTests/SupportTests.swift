// The small pieces the commands rely on: dates, language choice, suggestions, text layout.
import ContlabCore
import XCTest
@testable import History

final class SupportTests: XCTestCase {
    func testDatesParseOnlyRealDays() {
        XCTAssertEqual(HistoryDate(parsing: "1979"), HistoryDate(year: 1979))
        XCTAssertEqual(HistoryDate(parsing: "1982-03"), HistoryDate(year: 1982, month: 3))
        XCTAssertEqual(HistoryDate(parsing: "2024-02-29"), HistoryDate(year: 2024, month: 2, day: 29))
        for bad in ["79", "1982-3", "1982-13", "2023-02-29", "2008-04-31", "2008-00", "soon", "2008-01-01-01", ""] {
            XCTAssertNil(HistoryDate(parsing: bad), bad)
        }
    }

    func testABareYearSortsBeforeItsMonths() {
        XCTAssertLessThan(HistoryDate(year: 2005), HistoryDate(year: 2005, month: 1))
        XCTAssertLessThan(HistoryDate(year: 2005, month: 12), HistoryDate(year: 2006))
        XCTAssertEqual(HistoryDate(year: 2005, month: 6).description, "2005-06")
    }

    func testLanguageComesFromTheLocale() {
        XCTAssertEqual(Language.fromEnvironment([:]), .en)
        XCTAssertEqual(Language.fromEnvironment(["LANG": "zh_CN.UTF-8"]), .zh)
        XCTAssertEqual(Language.fromEnvironment(["LANG": "zh_TW.UTF-8"]), .zh)
        XCTAssertEqual(Language.fromEnvironment(["LANG": "en_GB.UTF-8"]), .en)
        XCTAssertEqual(Language.fromEnvironment(["LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"]), .zh)
        XCTAssertEqual(Language.fromEnvironment(["LC_ALL": "C", "LANG": "zh_CN.UTF-8"]), .en, "LC_ALL wins")
        XCTAssertEqual(Language.fromEnvironment(["LC_ALL": "", "LANG": "zh_CN.UTF-8"]), .zh, "an empty LC_ALL is unset")
    }

    func testSuggestionsUseEditDistance() {
        let ids = ["chroot", "jail", "docker", "cri", "cri-o", "podman", "containerd", "runc"]
        XCTAssertEqual(Suggestions.editDistance("dokcer", "docker"), 2)
        XCTAssertEqual(Suggestions.nearest(to: "dokcer", among: ids).first, "docker")
        XCTAssertEqual(Suggestions.nearest(to: "podmn", among: ids), ["podman"])
        XCTAssertEqual(Suggestions.nearest(to: "Containerd", among: ids), ["containerd"])
        XCTAssertEqual(Suggestions.nearest(to: "xyzzy", among: ids), [])
    }

    func testWrapKeepsLinesWithinWidth() {
        let english = "The CLONE_NEWNET flag appeared in 2.6.24, but splitting every part of the network stack took several releases."
        for width in [14, 20, 33] {
            let lines = TextLayout.wrap(english, width: width)
            XCTAssertEqual(lines.joined(separator: " "), english)
            XCTAssertTrue(lines.allSatisfy { Terminal.displayWidth($0) <= width }, "\(lines)")
        }
        XCTAssertEqual(TextLayout.wrap("CLONE_NEWCGROUP", width: 8), ["CLONE_NE", "WCGROUP"], "a word longer than a line is cut")
        let chinese = "从 Linux 3.8 开始，非特权进程也能创建用户命名空间，并在其中成为 UID 0。"
        let lines = TextLayout.wrap(chinese, width: 16)
        XCTAssertTrue(lines.allSatisfy { Terminal.displayWidth($0) <= 16 }, "\(lines)")
        XCTAssertFalse(lines.contains { $0.hasPrefix("，") || $0.hasPrefix("。") }, "no line starts with closing punctuation")
        XCTAssertEqual(lines.joined().replacingOccurrences(of: " ", with: ""), chinese.replacingOccurrences(of: " ", with: ""))
    }

    func testTruncateAndPadCountChineseTwice() {
        XCTAssertEqual(TextLayout.truncate("容器大事记", toWidth: 6), "容器…")
        XCTAssertEqual(TextLayout.truncate("chroot", toWidth: 6), "chroot")
        XCTAssertEqual(TextLayout.truncate("namespaces", toWidth: 5), "name…")
        XCTAssertEqual(Terminal.displayWidth(TextLayout.pad("容器", toWidth: 6)), 6)
    }

    func testFoldedChineseLinesLoseTheirSpace() {
        XCTAssertEqual(TextForm.unfold("进程 可以"), "进程可以")
        XCTAssertEqual(TextForm.unfold("调用， 说明"), "调用，说明")
        XCTAssertEqual(TextForm.unfold("docker-containerd、 docker-runc"), "docker-containerd、docker-runc")
        XCTAssertEqual(TextForm.unfold("Linux 主线 内核"), "Linux 主线内核")
        XCTAssertEqual(TextForm.unfold("a Linux kernel"), "a Linux kernel")
    }
}
