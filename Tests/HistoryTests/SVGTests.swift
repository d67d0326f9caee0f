// `history timeline --svg`: the picture is well-formed XML and shows every event in range.
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
    private var open: [String] = []

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        if root == nil { root = name }
        if name == "g", let id = attributes["id"], id.hasPrefix("event-") {
            eventIDs.append(String(id.dropFirst("event-".count)))
        }
        if name == "text" || name == "title" { open.append("") }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if !open.isEmpty { open[open.count - 1] += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" || name == "title", let text = open.popLast() { texts.append(text) }
    }

    /// Parses `svg`; fails the test with the parser's line and message if it is not well-formed.
    static func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGScan {
        let scan = SVGScan()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = scan
        if !parser.parse() {
            XCTFail("SVG is not well-formed XML at line \(parser.lineNumber): \(parser.parserError.map { "\($0)" } ?? "?")",
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
            XCTAssertEqual(scan.eventIDs, data.events.map(\.id), "\(language)")
            for era in data.eras {
                XCTAssertTrue(scan.texts.contains { $0.contains(era.title[language]) }, era.id)
            }
            for event in data.events {
                let title = event.title[language]
                XCTAssertTrue(scan.texts.contains { $0.hasPrefix(String(title.prefix(12))) }, "\(language) \(event.id)")
            }
        }
    }

    func testFilteredTimelineHasExactlyTheEventsInRange() throws {
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(from: 2005, to: 2009, tag: "kernel"), currentYear: year)
        let scan = SVGScan.parse(SVGRenderer(data: data, language: .en).timeline(selection))
        let expected = data.events.filter { (2005...2009).contains($0.date.year) && $0.tags.contains("kernel") }.map(\.id)
        XCTAssertFalse(expected.isEmpty)
        XCTAssertEqual(scan.eventIDs, expected)
    }

    func testMarkupInTextIsEscaped() throws {
        // LISA '04 carries an apostrophe; make sure markup characters survive as text too.
        XCTAssertEqual(SVGRenderer.escape(#"<a & "b" 'c'>"#), "&lt;a &amp; &quot;b&quot; &#39;c&#39;&gt;")
        let data = try Fixtures.data()
        let selection = try data.timeline(TimelineQuery(technology: "zones"), currentYear: year)
        let scan = SVGScan.parse(SVGRenderer(data: data, language: .en).timeline(selection))
        XCTAssertTrue(scan.texts.contains("Sun presents Solaris Zones at LISA '04"))
    }

    func testEveryKindHasItsOwnColour() {
        let colours = EventKind.allCases.map(SVGRenderer.color)
        XCTAssertEqual(Set(colours).count, EventKind.allCases.count)
    }
}
