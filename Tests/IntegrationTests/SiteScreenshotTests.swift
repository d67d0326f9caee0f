import Foundation
import TestSupport
import XCTest

/// The lessons site as a reader sees it: headless Chromium photographs the timeline page and a
/// lesson with a diagram, and each picture is compared with a reference kept in
/// Tests/Screenshots, block by block, within a tolerance. The comparison runs in Chromium too
/// (both pictures drawn small on a canvas), so no image library is needed.
///
/// Fonts decide where text falls. The references record the fonts they were taken with
/// (`fc-match`); on a machine whose fonts differ, only the layout is held to the reference (a
/// looser tolerance that a blank page, a missing timeline or a broken style sheet still fails).
/// CONTLAB_UPDATE_SCREENSHOTS=1 writes new references instead of comparing.
final class SiteScreenshotTests: XCTestCase {
    var site = ""
    static let references = Harness.packageRoot.appendingPathComponent("Tests/Screenshots")
    /// The page is photographed at this size; the comparison cuts both pictures into this grid.
    static let window = (width: 1200, height: 900)
    /// 50-pixel blocks, each compared by its mean brightness (a difference above 0.08 of
    /// black to white counts): measured here, the reference's own page differs in no block, the
    /// same page set in a monospace font in 1 of 432, and another lesson in 31 to 46.
    static let grid = (columns: 24, rows: 18)

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Harness.binary) else {
            throw XCTSkip("contlab is not built: run make build")
        }
        site =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("contlab-shots-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        // The timeline runs to "today": the references were taken in 2026 (1 December 2026).
        let made = try Harness.run(
            ["lessons", "export", "--html", site], environment: ["SOURCE_DATE_EPOCH": "1796083200"])
        XCTAssertEqual(made.status, 0, made.stderr)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: site)
    }

    func testTheTimelinePageLooksAsItsReference() throws {
        try compare(page: "en/timeline.html", reference: "timeline-en.png")
    }

    /// Stage 5's lesson from its overlay diagram down: a copy of the page whose script drops
    /// what comes before the figure, so the picture holds the diagram with the text after it.
    func testALessonWithADiagramLooksAsItsReference() throws {
        let lesson = try String(contentsOfFile: site + "/en/stage5-images.html", encoding: .utf8)
        XCTAssertTrue(lesson.contains("<figure class=\"diagram\"><svg"), "the overlay diagram is on the page")
        let drop =
            "<script>const f = document.querySelector('figure.diagram');"
            + "for (let n = f.previousElementSibling; n; ) { const p = n.previousElementSibling; n.remove(); n = p; "
            + "}</script>"
        try lesson.replacingOccurrences(of: "</body>", with: drop + "</body>")
            .write(toFile: site + "/en/stage5-from-diagram.html", atomically: true, encoding: .utf8)
        try compare(page: "en/stage5-from-diagram.html", reference: "stage5-diagram-en.png")
    }

    /// A machine with other fonts: the timeline set in a monospace font still passes the
    /// layout check, as it must on a student's laptop.
    func testOtherFontsPassTheLayoutCheck() throws {
        let chromium = try XCTUnwrap(Browser.find(), "chromium is not installed: apt-get install chromium")
        let page = try String(contentsOfFile: site + "/en/timeline.html", encoding: .utf8)
        let css = "<style>* { font-family: \"DejaVu Sans Mono\", monospace !important }</style></head>"
        try page.replacingOccurrences(of: "</head>", with: css).write(
            toFile: site + "/en/timeline-mono.html", atomically: true, encoding: .utf8)
        let shot = try photograph(site + "/en/timeline-mono.html", chromium: chromium)
        let reference = try Data(contentsOf: Self.references.appendingPathComponent("timeline-en.png"))
        XCTAssertLessThanOrEqual(
            try differingBlocks(shot, reference, chromium: chromium), Self.tolerance(sameFonts: false))
    }

    /// The comparison itself must fail for a page that is not the reference's.
    func testAnotherPageDoesNotPassForTheTimeline() throws {
        let chromium = try XCTUnwrap(Browser.find(), "chromium is not installed: apt-get install chromium")
        let shot = try photograph(site + "/en/stage1-chroot.html", chromium: chromium)
        let reference = try Data(contentsOf: Self.references.appendingPathComponent("timeline-en.png"))
        let differing = try differingBlocks(shot, reference, chromium: chromium)
        XCTAssertGreaterThan(differing, Self.tolerance(sameFonts: false), "a text page is not the timeline")
    }

    // MARK: helpers

    /// The share of blocks allowed to differ: tight with the reference's fonts, loose without.
    static func tolerance(sameFonts: Bool) -> Int {
        let blocks = grid.columns * grid.rows
        return sameFonts ? blocks * 2 / 100 : blocks * 4 / 100
    }

    static func fonts() -> String {
        let run = try? Harness.execute(["/usr/bin/fc-match", "sans-serif"])
        return (run?.stdout ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func compare(page: String, reference name: String) throws {
        let chromium = try XCTUnwrap(Browser.find(), "chromium is not installed: apt-get install chromium")
        let shot = try photograph(site + "/" + page, chromium: chromium)
        let referenceURL = Self.references.appendingPathComponent(name)
        let fontsURL = Self.references.appendingPathComponent("fonts.txt")
        if ProcessInfo.processInfo.environment["CONTLAB_UPDATE_SCREENSHOTS"] == "1" {
            try FileManager.default.createDirectory(at: Self.references, withIntermediateDirectories: true)
            try shot.write(to: referenceURL)
            try (Self.fonts() + "\n").write(to: fontsURL, atomically: true, encoding: .utf8)
            return
        }
        let reference = try Data(contentsOf: referenceURL)
        let recorded = (try? String(contentsOf: fontsURL, encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let sameFonts = recorded == Self.fonts()
        let differing = try differingBlocks(shot, reference, chromium: chromium)
        let allowed = Self.tolerance(sameFonts: sameFonts)
        if differing > allowed {
            let kept = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-shot-\(name)")
            try? shot.write(to: kept)
            XCTFail(
                "\(page): \(differing) of \(Self.grid.columns * Self.grid.rows) blocks differ from \(name) "
                    + "(at most \(allowed) \(sameFonts ? "with the reference's fonts" : "with other fonts")); "
                    + "the picture taken is \(kept.path)")
        }
    }

    func photograph(_ path: String, chromium: String) throws -> Data {
        let out = FileManager.default.temporaryDirectory
            .appendingPathComponent("contlab-shot-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).png")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try Browser.run(
            chromium,
            [
                "--hide-scrollbars", "--force-device-scale-factor=1",
                "--window-size=\(Self.window.width),\(Self.window.height)",
                "--screenshot=\(out.path)", URL(fileURLWithPath: path).absoluteString
            ])
        XCTAssertEqual(run.status, 0, run.output)
        let data = try Data(contentsOf: out)
        XCTAssertTrue(data.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        return data
    }

    /// How many blocks of the grid differ in mean brightness by more than 0.08. Both pictures
    /// reach the page as data: URLs, which leave the canvas readable; the load event comes once
    /// both are decoded.
    func differingBlocks(_ shot: Data, _ reference: Data, chromium: String) throws -> Int {
        let (columns, rows) = Self.grid
        let script = """
            function means(img) {
              const c = document.createElement('canvas'); c.width = \(columns); c.height = \(rows);
              const g = c.getContext('2d'); g.imageSmoothingEnabled = true; g.imageSmoothingQuality = 'high';
              g.drawImage(img, 0, 0, \(columns), \(rows));
              const d = g.getImageData(0, 0, \(columns), \(rows)).data, out = [];
              for (let i = 0; i < d.length; i += 4) out.push((0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2]) / 255);
              return out;
            }
            function compare() {
              const a = means(document.getElementById('a')), b = means(document.getElementById('b'));
              let differing = 0;
              for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 0.08) differing++;
              document.title = 'differing:' + differing;
            }
            """
        let page = """
            <!doctype html><html><head><title>waiting</title></head><body>
            <img id="a" src="data:image/png;base64,\(shot.base64EncodedString())">
            <img id="b" src="data:image/png;base64,\(reference.base64EncodedString())">
            <script>\(script)
            window.addEventListener('load', compare);</script></body></html>
            """
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("contlab-compare-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).html")
        defer { try? FileManager.default.removeItem(at: file) }
        try page.write(to: file, atomically: true, encoding: .utf8)
        let dom = try Browser.run(chromium, ["--dump-dom", file.absoluteString])
        XCTAssertEqual(dom.status, 0, dom.output)
        guard let range = dom.output.range(of: "<title>differing:"),
            let end = dom.output[range.upperBound...].firstIndex(of: "<"),
            let count = Int(dom.output[range.upperBound..<end])
        else {
            XCTFail("the comparison page did not finish: \(dom.output.prefix(200))")
            return Int.max
        }
        return count
    }
}
