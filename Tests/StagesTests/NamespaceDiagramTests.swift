import ContlabCore
import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import Inspect
import TextKit
import XCTest

/// `contlab inspect --diagram` and the site's picture of the same report, and the drawing in
/// stage 2's lesson, which must be what the saved report draws today.
final class NamespaceDiagramTests: XCTestCase {
    static let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../lessons"
    ).standardizedFileURL

    func report() throws -> IsolationReport {
        let data = try Data(contentsOf: Self.lessons.appendingPathComponent("diagrams/stage2-inspect.json"))
        return try JSONDecoder().decode(IsolationReport.self, from: data)
    }

    func testTheTextDrawingJoinsSharedNamespacesAndFitsEightyColumns() throws {
        let diagram = NamespaceDiagram(report: try report())
        XCTAssertEqual(
            diagram.rows.filter { $0.shared == true }.map(\.kind), ["user"],
            "root's stage 2 shares only the user namespace")
        XCTAssertEqual(diagram.rows.filter { $0.shared == false }.count, 6)
        for language in Language.allCases {
            let text = diagram.text(style: Style(enabled: false), language: language)
            XCTAssertFalse(text.contains("\u{1B}"), "no colour when the style is off")
            for line in text.split(separator: "\n") {
                XCTAssertLessThanOrEqual(Terminal.displayWidth(String(line)), 80, String(line))
                if line.contains("│ user") {
                    XCTAssertTrue(line.contains("═"), "a shared namespace is joined: \(line)")
                }
                if line.contains("│ mnt") { XCTAssertFalse(line.contains("═"), "an own one stands apart: \(line)") }
            }
        }
        let coloured = diagram.text(style: Style(enabled: true), language: .en)
        XCTAssertTrue(coloured.contains("\u{1B}["), "colour when asked")
    }

    func testTheSVGIsWellFormedAndJoinsEachSharedNamespace() throws {
        let diagram = NamespaceDiagram(report: try report())
        for language in Language.allCases {
            let svg = diagram.svg(language: language)
            let parser = XMLParser(data: Data(svg.utf8))
            XCTAssertTrue(parser.parse(), "\(language): \(parser.parserError.map { "\($0)" } ?? "")")
            XCTAssertEqual(
                svg.components(separatedBy: "<line ").count - 1, diagram.rows.filter { $0.shared == true }.count)
            XCTAssertEqual(svg.components(separatedBy: "class=\"namespace own\"").count - 1, 6)
        }
    }

    /// The lesson shows the drawing as text in the terminal; it must be the saved report's.
    func testTheLessonsDrawingIsTheSavedReports() throws {
        let diagram = NamespaceDiagram(report: try report())
        for language in Language.allCases {
            let lesson = try String(
                contentsOf: Self.lessons.appendingPathComponent("\(language.rawValue)/stage2-namespaces.md"),
                encoding: .utf8)
            guard let start = lesson.range(of: "```diagram:stage2-inspect.json\n"),
                let end = lesson.range(of: "\n```", range: start.upperBound..<lesson.endIndex)
            else {
                return XCTFail("\(language): stage 2's lesson has no diagram:stage2-inspect.json block")
            }
            let drawn = diagram.text(style: Style(enabled: false), language: language)
            XCTAssertEqual(
                String(lesson[start.upperBound..<end.lowerBound]) + "\n", drawn,
                "\(language): redraw it with contlab inspect --diagram --from lessons/diagrams/stage2-inspect.json")
        }
    }
}
