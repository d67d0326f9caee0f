// `history timeline --svg`: the picture is well-formed XML, shows every event in range, and its
// geometry holds: x proportional to the date, every lane and link drawn, no label on another.
import ContlabCore
import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import TextKit
import XCTest
@testable import History

/// Collects what the tests look at while XMLParser walks the SVG.
final class SVGScan: NSObject, XMLParserDelegate {
    var root: String?
    var eventIDs: [String] = []
    /// The full text of every <text> and <title>, including nested <tspan>s.
    var texts: [String] = []
    /// Each event's mark: its date and centre.
    var marks: [(id: String, date: String, x: Double, y: Double, r: Double)] = []
    /// Each label: where it starts, its baseline, size, the width the picture gives it, its text.
    var labels: [(x: Double, y: Double, size: Double, width: Double, text: String)] = []
    var lanes: [String] = []
    var links: [(from: String, to: String)] = []
    private var open: [String] = []
    private var group: (id: String, date: String)?
    private var label: (x: Double, y: Double, size: Double, width: Double)?

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        if root == nil { root = name }
        func number(_ key: String) -> Double { Double(attributes[key] ?? "") ?? .nan }
        if name == "g", let id = attributes["id"], id.hasPrefix("event-") {
            eventIDs.append(String(id.dropFirst("event-".count)))
            group = (String(id.dropFirst("event-".count)), attributes["data-date"] ?? "")
        }
        if name == "g", let kind = attributes["data-kind"], attributes["class"] == "lane" { lanes.append(kind) }
        if name == "path", attributes["class"] == "link", let from = attributes["data-from"],
            let to = attributes["data-to"]
        {
            links.append((from, to))
        }
        if name == "circle", let group {
            marks.append((group.id, group.date, number("cx"), number("cy"), number("r")))
        }
        if name == "text", attributes["class"] == "label" {
            label = (number("x"), number("y"), number("font-size"), number("data-width"))
        }
        if name == "text" || name == "title" { open.append("") }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if !open.isEmpty { open[open.count - 1] += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" || name == "title", let text = open.popLast() {
            texts.append(text)
            if name == "text", let box = label {
                labels.append((box.x, box.y, box.size, box.width, text))
                label = nil
            }
        }
        if name == "g" { group = nil }
    }

    /// Parses `svg`; fails the test with the parser's line and message if it is not well-formed.
    static func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGScan {
        let scan = SVGScan()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = scan
        if !parser.parse() {
            XCTFail(
                "SVG is not well-formed XML at line \(parser.lineNumber): \(parser.parserError.map { "\($0)" } ?? "?")",
                file: file, line: line)
        }
        return scan
    }
}

final class SVGTests: XCTestCase {
    let year = 2026

    func testWholeTimelineIsWellFormedAndHasEveryEvent() throws {
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(), currentYear: year)
        for language in Language.allCases {
            let svg = SVGRenderer(data: data, language: language).timeline(selection)
            let scan = SVGScan.parse(svg)
            XCTAssertEqual(scan.root, "svg")
            XCTAssertEqual(scan.eventIDs.sorted(), data.events.map(\.id).sorted(), "\(language)")
            for era in data.eras {
                XCTAssertTrue(scan.texts.contains { $0.contains(era.title[language]) }, era.id)
            }
            for event in data.events {
                let title = event.title[language]
                XCTAssertTrue(scan.texts.contains { $0.contains(" — " + title) }, "\(language) \(event.id): its card")
            }
        }
    }

    func testFilteredTimelineHasExactlyTheEventsInRange() throws {
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(from: 2005, to: 2009, tag: "kernel"), currentYear: year)
        let scan = SVGScan.parse(SVGRenderer(data: data, language: .en).timeline(selection))
        let expected = data.events.filter { (2005...2009).contains($0.date.year) && $0.tags.contains("kernel") }.map(
            \.id)
        XCTAssertFalse(expected.isEmpty)
        XCTAssertEqual(scan.eventIDs.sorted(), expected.sorted())
    }

    func testMarkupInTextIsEscaped() throws {
        // LISA '04 carries an apostrophe; make sure markup characters survive as text too.
        XCTAssertEqual(SVGRenderer.escape(#"<a & "b" 'c'>"#), "&lt;a &amp; &quot;b&quot; &#39;c&#39;&gt;")
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(technology: "zones"), currentYear: year)
        let scan = SVGScan.parse(SVGRenderer(data: data, language: .en).timeline(selection))
        XCTAssertTrue(scan.texts.contains { $0.contains("Sun presents Solaris Zones at LISA '04") })
    }

    /// x = a + b·(date as a fractional year), the same a and b for every mark, b > 0.
    func testXIsProportionalToTheDate() throws {
        let data = try Fixtures.data()
        for query in [TimelineQuery(), TimelineQuery(from: 2005, to: 2016)] {
            let selection = try data.timeline(query, currentYear: year)
            let scan = SVGScan.parse(SVGRenderer(data: data, language: .en).timeline(selection))
            let points = scan.marks.map { (t: TimeAxisLayout.position(HistoryDate(parsing: $0.date)!), x: $0.x) }
                .sorted { $0.t < $1.t }
            XCTAssertEqual(points.count, selection.events.count)
            guard let first = points.first, let last = points.last, last.t > first.t else {
                return XCTFail("too few marks")
            }
            let slope = (last.x - first.x) / (last.t - first.t)
            XCTAssertGreaterThan(slope, 0)
            for point in points {
                XCTAssertEqual(
                    point.x, first.x + slope * (point.t - first.t), accuracy: 0.15, "a mark off the time scale")
            }
            // A year is as wide everywhere: the picture spans from..to+1 over the same plot width.
            XCTAssertEqual(slope * Double(selection.to + 1 - selection.from), 1600 - 40 - 190, accuracy: 0.5)
        }
    }

    func testEveryLaneAndEveryLinkIsDrawn() throws {
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(), currentYear: year)
        let scan = SVGScan.parse(SVGRenderer(data: data, language: .zh).timeline(selection))
        XCTAssertEqual(scan.lanes, EventKind.allCases.map(\.rawValue))
        let present = Set(selection.events.flatMap(\.technologies))
        var expected: [String] = []
        for technology in data.technologies where present.contains(technology.id) {
            for source in technology.borrowedFrom where present.contains(source) {
                expected.append("\(source)>\(technology.id)")
            }
        }
        XCTAssertGreaterThan(expected.count, 20)
        XCTAssertEqual(Set(scan.links.map { "\($0.from)>\($0.to)" }), Set(expected))
    }

    /// No label touches another label or any mark, in either language, and each label's width
    /// is the estimate of its own text (so the check cannot be fooled by a small number).
    func testNoLabelOverlapsAnotherOrAMark() throws {
        let data = try Fixtures.data()
        for language in Language.allCases {
            for query in [TimelineQuery(), TimelineQuery(from: 2010, to: 2020)] {
                let selection = try data.timeline(query, currentYear: year)
                let scan = SVGScan.parse(SVGRenderer(data: data, language: language).timeline(selection))
                XCTAssertGreaterThan(scan.labels.count, 10)
                typealias Box = (x0: Double, x1: Double, y0: Double, y1: Double)
                let labels: [Box] = scan.labels.map { label in
                    XCTAssertEqual(
                        label.width, SVGRenderer.estimate(label.text, size: label.size), accuracy: 0.06, label.text)
                    return (label.x, label.x + label.width, label.y - label.size, label.y + label.size * 0.25)
                }
                let marks: [Box] = scan.marks.map { ($0.x - $0.r, $0.x + $0.r, $0.y - $0.r, $0.y + $0.r) }
                func meet(_ a: Box, _ b: Box) -> Bool { a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 }
                for (i, a) in labels.enumerated() {
                    for b in labels[(i + 1)...] where meet(a, b) {
                        XCTFail("\(language): labels overlap at \(a) and \(b)")
                    }
                    for (j, mark) in marks.enumerated() where meet(a, mark) {
                        XCTFail("\(language): label \(scan.labels[i].text) covers the mark of \(scan.marks[j].id)")
                    }
                }
            }
        }
    }

    func testEveryKindHasItsOwnColour() {
        let colours = EventKind.allCases.map(SVGRenderer.color)
        XCTAssertEqual(Set(colours).count, EventKind.allCases.count)
    }
}
