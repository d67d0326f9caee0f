import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import Stage5Images
import TextKit
import XCTest

/// `contlab diff --diagram`: which rows a container's overlay gets, where the merged view reads
/// each path, the drawing in both languages, and the one in stage 5's lesson.
final class OverlayDiagramTests: XCTestCase {
    static let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../lessons"
    ).standardizedFileURL

    func saved() throws -> OverlayReport {
        let data = try Data(contentsOf: Self.lessons.appendingPathComponent("diagrams/stage5-overlay.json"))
        return try JSONDecoder().decode(OverlayReport.self, from: data)
    }

    func testRowsSkipParentsThatOnlyHoldAChangeAndAddAnUntouchedPath() {
        // Two layers: bin/ls and etc/passwd in the bottom one, bin/sh replaced in the top one.
        let layers: [Set<String>] = [["bin", "bin/ls", "bin/sh", "etc", "etc/passwd", "tmp"], ["bin", "bin/sh"]]
        let upper = [
            (path: "bin", kind: "directory"), (path: "bin/ls", kind: "whiteout"), (path: "etc", kind: "directory"),
            (path: "etc/passwd", kind: "file"), (path: "data", kind: "directory"), (path: "data/n", kind: "file")
        ]
        let rows = OverlayReport.rows(upper: upper, untouched: ["bin/sh", "etc/passwd", "nowhere"], layerCount: 2) {
            layers[$0].contains($1)
        }
        XCTAssertEqual(
            rows.map(\.path), ["/bin/ls", "/etc/passwd", "/data", "/data/n", "/bin/sh"],
            "bin and etc are in the layers and only hold changes; data is new; a path in no layer is no example")
        XCTAssertEqual(rows.map(\.source), [.hidden, .upper, .upper, .upper, .layer(1)])
        XCTAssertEqual(rows.last?.layers, [true, true])
        let few = OverlayReport.rows(
            upper: upper, untouched: ["bin/sh"], layerCount: 2, inLayer: { layers[$0].contains($1) }, limit: 3)
        XCTAssertEqual(
            few.map(\.path), ["/bin/ls", "/etc/passwd", "/bin/sh"],
            "changes first, but one untouched path is always shown")
    }

    func testTheTextDrawingFitsEightyColumnsAndReadsTopDown() throws {
        let diagram = OverlayDiagram(report: try saved())
        for language in Language.allCases {
            let text = diagram.text(style: Style(enabled: false), language: language)
            let lines = text.split(separator: "\n").map(String.init)
            for line in lines {
                XCTAssertLessThanOrEqual(Terminal.displayWidth(line), 80, line)
                XCTAssertFalse(line.hasSuffix(" "), "no trailing blanks: \(line)")
            }
            let merged = try XCTUnwrap(lines.firstIndex { $0.contains(language == .zh ? "合并视图" : "merged") })
            let upper = try XCTUnwrap(lines.firstIndex { $0.hasPrefix(language == .zh ? "  上层" : "  upper") })
            let bottom = try XCTUnwrap(lines.firstIndex { $0.hasPrefix(language == .zh ? "  第 1 层" : "  layer 1") })
            XCTAssertTrue(merged < upper && upper < bottom, "the merged view on top, the first layer at the bottom")
            XCTAssertTrue(lines[upper].contains(language == .zh ? "✗ 白化" : "✗ whiteout"), lines[upper])
        }
        XCTAssertTrue(diagram.text(style: Style(enabled: true), language: .en).contains("\u{1B}["))
    }

    func testTheSVGIsWellFormedAndDrawsEachLookup() throws {
        let report = try saved()
        let diagram = OverlayDiagram(report: report)
        for language in Language.allCases {
            let svg = diagram.svg(language: language)
            let parser = XMLParser(data: Data(svg.utf8))
            XCTAssertTrue(parser.parse(), "\(language): \(parser.parserError.map { "\($0)" } ?? "")")
            XCTAssertEqual(svg.components(separatedBy: "class=\"slab\"").count - 1, report.layers.count + 2)
            let seen = report.rows.filter { row in
                switch row.source {
                case .upper, .layer: return true;
                default: return false
                }
            }
            XCTAssertEqual(
                svg.components(separatedBy: "class=\"lookup\"").count - 1, seen.count,
                "one arrow per path the container reads")
            XCTAssertEqual(
                svg.components(separatedBy: "class=\"whiteout\"").count - 1,
                report.rows.filter { $0.upper == "whiteout" }.count)
        }
    }

    /// The lesson shows the drawing as text in the terminal; it must be the saved report's.
    func testTheLessonsDrawingIsTheSavedReports() throws {
        let diagram = OverlayDiagram(report: try saved())
        for language in Language.allCases {
            let lesson = try String(
                contentsOf: Self.lessons.appendingPathComponent("\(language.rawValue)/stage5-images.md"),
                encoding: .utf8)
            guard let start = lesson.range(of: "```diagram:stage5-overlay.json\n"),
                let end = lesson.range(of: "\n```", range: start.upperBound..<lesson.endIndex)
            else {
                return XCTFail("\(language): stage 5's lesson has no diagram:stage5-overlay.json block")
            }
            XCTAssertEqual(
                String(lesson[start.upperBound..<end.lowerBound]) + "\n",
                diagram.text(style: Style(enabled: false), language: language),
                "\(language): redraw it with contlab diff --diagram --from lessons/diagrams/stage5-overlay.json")
        }
    }
}
