// The small pieces the history explorer relies on: dates and the unfolding of Chinese YAML lines.
import ContlabCore
import TextKit
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

    func testFoldedChineseLinesLoseTheirSpace() {
        XCTAssertEqual(TextForm.unfold("进程 可以"), "进程可以")
        XCTAssertEqual(TextForm.unfold("调用， 说明"), "调用，说明")
        XCTAssertEqual(TextForm.unfold("docker-containerd、 docker-runc"), "docker-containerd、docker-runc")
        XCTAssertEqual(TextForm.unfold("Linux 主线 内核"), "Linux 主线内核")
        XCTAssertEqual(TextForm.unfold("a Linux kernel"), "a Linux kernel")
    }
}
