// `history timeline`: filters, errors, and its text and JSON forms.
import ContlabCore
import Foundation
import TextKit
import XCTest
@testable import History

final class TimelineTests: XCTestCase {
    let year = 2026

    func options(_ language: Language = .en, width: Int = 80, color: Bool = false) -> RenderOptions {
        RenderOptions(language: language, width: width, color: color)
    }

    func testWholeTimelineRunsFrom1979ToToday() throws {
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(), currentYear: year)
        XCTAssertEqual(selection.from, 1979)
        XCTAssertEqual(selection.to, year)
        XCTAssertEqual(selection.events.count, data.events.count)
        XCTAssertEqual(selection.groups.map(\.era.id), data.eras.map(\.id))
    }

    func testYearRangeFilter() throws {
        let selection = try Fixtures.data().timeline(TimelineQuery(from: 2013, to: 2014), currentYear: year)
        XCTAssertFalse(selection.events.isEmpty)
        XCTAssertTrue(selection.events.allSatisfy { (2013...2014).contains($0.date.year) })
        XCTAssertTrue(selection.events.contains { $0.id == "2013-docker" })
    }

    func testTechnologyFilterAcceptsIdsAndNames() throws {
        let data = try Fixtures.data()
        for typed in ["docker", "Docker", "DOCKER"] {
            let selection = try data.timeline(TimelineQuery(technology: typed), currentYear: year)
            XCTAssertEqual(selection.technology, "docker")
            XCTAssertTrue(selection.events.allSatisfy { $0.technologies.contains("docker") })
            XCTAssertEqual(selection.events.count, data.events(of: "docker").count)
        }
    }

    func testTagFilter() throws {
        let selection = try Fixtures.data().timeline(TimelineQuery(tag: "kernel"), currentYear: year)
        XCTAssertTrue(selection.events.allSatisfy { $0.tags.contains("kernel") })
        XCTAssertTrue(selection.events.contains { $0.id == "2013-user-namespaces" })
    }

    func testReversedRangeSaysItIsEmptyAndWhy() throws {
        XCTAssertThrowsError(try Fixtures.data().timeline(TimelineQuery(from: 2020, to: 2000), currentYear: year)) {
            error in
            XCTAssertEqual(error as? HistoryError, .emptyRange(from: 2020, to: 2000))
            let message = String(describing: error)
            XCTAssertTrue(message.contains("empty"), message)
            XCTAssertTrue(message.contains("--from 2000 --to 2020"), message)
        }
    }

    func testRangeWithoutEventsPointsAtTheNearestOnes() throws {
        XCTAssertThrowsError(try Fixtures.data().timeline(TimelineQuery(from: 1985, to: 1990), currentYear: year)) {
            error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("between 1985 and 1990"), message)
            XCTAssertTrue(message.contains("1983") && message.contains("1991"), message)
        }
        XCTAssertThrowsError(
            try Fixtures.data().timeline(TimelineQuery(from: 2000, to: 2005, technology: "docker"), currentYear: year)
        ) { error in
            XCTAssertTrue(String(describing: error).contains("2013"), "\(error)")
        }
    }

    func testUnknownTechnologyAndTagSuggestNearestIds() throws {
        let data = try Fixtures.data()
        XCTAssertThrowsError(try data.timeline(TimelineQuery(technology: "dokcer"), currentYear: year)) { error in
            guard case HistoryError.unknownTechnology(_, let suggestions, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(suggestions.first, "docker")
        }
        XCTAssertThrowsError(try data.timeline(TimelineQuery(tag: "kernal"), currentYear: year)) { error in
            guard case HistoryError.unknownTag(_, let suggestions, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(suggestions.first, "kernel")
        }
    }

    func testTextShowsEveryEventWithDateTechnologyAndTitle() throws {
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(), currentYear: year)
        let text = TerminalRenderer(data: data, options: options(width: 200)).timeline(selection)
        for era in data.eras { XCTAssertTrue(text.contains(era.title.en), era.id) }
        let lines = text.split(separator: "\n").map(String.init)
        for event in data.events {
            XCTAssertTrue(
                lines.contains {
                    $0.hasPrefix(event.date.description) && $0.contains(event.title.en)
                        && $0.contains(event.technologies[0])
                }, event.id)
        }
        for kind in EventKind.allCases { XCTAssertTrue(text.contains(kind.glyph + " " + data.labels.kind(kind, .en))) }
        XCTAssertFalse(text.contains("\u{1B}["), "no colour was asked for")
    }

    func testTextFitsTheTerminalWidthInBothLanguages() throws {
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(), currentYear: year)
        for language in Language.allCases {
            for width in [40, 60, 80, 132] {
                for color in [false, true] {
                    let text = TerminalRenderer(data: data, options: options(language, width: width, color: color))
                        .timeline(selection)
                    for line in text.split(separator: "\n") {
                        XCTAssertLessThanOrEqual(
                            Terminal.displayWidth(String(line)), width, "\(language) \(width): \(line)")
                    }
                }
            }
        }
    }

    func testColourFollowsTheKind() throws {
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(technology: "overlayfs"), currentYear: year)
        let text = TerminalRenderer(data: data, options: options(color: true)).timeline(selection)
        XCTAssertTrue(text.contains("\u{1B}[32m▲\u{1B}[0m"), "kernel features are green")
    }

    func testChineseTimelineUsesChineseText() throws {
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(to: 1999), currentYear: year)
        let text = TerminalRenderer(data: data, options: options(.zh, width: 120)).timeline(selection)
        XCTAssertTrue(text.contains("容器大事记 1979–1999"))
        XCTAssertTrue(text.contains("Unix 第七版加入 chroot 系统调用"))
        XCTAssertFalse(text.contains("Version 7 Unix gains"))
    }

    func testJSONListsTheSelectedEvents() throws {
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(from: 2015, to: 2016, technology: "runc"), currentYear: year)
        let json = try JSONRenderer(data: data, language: .zh).timeline(selection)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["language"] as? String, "zh")
        XCTAssertEqual(object["technology"] as? String, "runc")
        XCTAssertEqual(object["count"] as? Int, selection.events.count)
        let eras = try XCTUnwrap(object["eras"] as? [[String: Any]])
        let events = eras.flatMap { $0["events"] as? [[String: Any]] ?? [] }
        XCTAssertEqual(events.compactMap { $0["id"] as? String }, selection.events.map(\.id))
        let first = try XCTUnwrap(events.first)
        XCTAssertEqual(first["title"] as? String, selection.events[0].title.zh)
        XCTAssertNotNil(first["sources"] as? [String])
        XCTAssertNotNil(first["kind"] as? String)
    }
}

extension TimelineTests {
    func testOpenEndedRangesOutsideTheTimelineSayWhereItRuns() throws {
        let data = try Fixtures.data()
        XCTAssertThrowsError(try data.timeline(TimelineQuery(from: 2030), currentYear: year)) { error in
            XCTAssertTrue(String(describing: error).contains("runs from 1979 to 2026"), "\(error)")
        }
        XCTAssertThrowsError(try data.timeline(TimelineQuery(to: 1970), currentYear: year)) { error in
            XCTAssertTrue(String(describing: error).contains("starts in 1979"), "\(error)")
        }
    }
}
