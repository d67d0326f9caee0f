import Foundation
@testable import History
import XCTest

/// The timeline ends this year, or SOURCE_DATE_EPOCH's year when it is set.
final class QueryYearTests: XCTestCase {
    func testSourceDateEpochPinsTheYear() {
        XCTAssertEqual(HistoryData.currentYear(HistoryData.sourceDate(["SOURCE_DATE_EPOCH": "1796083200"])), 2026)
        XCTAssertEqual(HistoryData.currentYear(HistoryData.sourceDate(["SOURCE_DATE_EPOCH": "946684800"])), 2000)
        let now = Calendar(identifier: .gregorian).component(.year, from: Date())
        XCTAssertEqual(HistoryData.currentYear(HistoryData.sourceDate([:])), now)
        XCTAssertEqual(
            HistoryData.currentYear(HistoryData.sourceDate(["SOURCE_DATE_EPOCH": "soon"])), now, "not a number: now")
    }
}
