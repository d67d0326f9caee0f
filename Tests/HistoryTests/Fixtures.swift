// Loading the real data from the checkout, relative to this file, so tests read exactly what
// a student's `contlab history` reads.
import Foundation
import XCTest
@testable import History

enum Fixtures {
    /// Tests/HistoryTests/ → ../../lessons/history
    static let dataDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("lessons/history", isDirectory: true)

    static func text(_ name: String) throws -> String {
        try String(contentsOf: dataDirectory.appendingPathComponent(name), encoding: .utf8)
    }

    /// The checked data and its problems; loaded once per test run.
    static let checked: (HistoryData?, [DataIssue]) = {
        do {
            return try HistoryData.check(directory: dataDirectory)
        } catch {
            return (
                nil,
                [
                    DataIssue(
                        file: dataDirectory.path, line: nil, entry: "directory", field: "",
                        message: String(describing: error))
                ]
            )
        }
    }()

    /// The real data; fails the calling test with every problem listed if it does not load.
    static func data(file: StaticString = #filePath, line: UInt = #line) throws -> HistoryData {
        let (data, issues) = checked
        guard let data, issues.isEmpty else {
            XCTFail(
                "the history data has problems:\n" + issues.map(\.description).joined(separator: "\n"),
                file: file, line: line)
            throw XCTSkip("history data did not load")
        }
        return data
    }
}
