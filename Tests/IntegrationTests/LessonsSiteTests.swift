import Foundation
import TestSupport
import XCTest

/// `contlab lessons export` on the checkout's own lessons, history and exercises: every link
/// resolves, the timeline page holds every event, and a mark shows its card only while it has
/// the keyboard's focus, with no script of the site's own.
final class LessonsSiteTests: XCTestCase {
    var site = ""

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Harness.binary) else {
            throw XCTSkip("contlab is not built: run make build")
        }
        site =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "contlab-site-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            ).path
        let made = try Harness.run(["lessons", "export", "--html", site])
        XCTAssertEqual(made.status, 0, made.stderr)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: site)
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: site + "/" + path, encoding: .utf8) }

    func testEveryLinkResolvesAndTheTimelineHasEveryEvent() throws {
        XCTAssertEqual(try SiteLinks.broken(in: URL(fileURLWithPath: site)), [])
        let events = try String(
            contentsOf: Harness.packageRoot.appendingPathComponent("lessons/history/events.yaml"), encoding: .utf8)
        let ids = events.split(separator: "\n").compactMap { line -> String? in
            let text = line.trimmingCharacters(in: .whitespaces)
            return text.hasPrefix("- id: ") && text.dropFirst(6).first?.isNumber == true
                ? String(text.dropFirst(6)) : nil
        }
        XCTAssertGreaterThan(ids.count, 80)
        for language in ["en", "zh"] {
            let page = try read("\(language)/timeline.html")
            for id in ids {
                XCTAssertTrue(
                    page.contains("<a id=\"event-\(id)\""), "\(language): \(id) is not a link on the timeline")
                XCTAssertTrue(page.contains("id=\"card-\(id)\""), "\(language): \(id) has no card")
            }
            let stage = try read("\(language)/stage2-namespaces.html")
            XCTAssertGreaterThanOrEqual(
                stage.components(separatedBy: "<li><a href=\"#").count - 1, 4, "a contents list")
            XCTAssertTrue(stage.contains("<code>contlab stage 2</code>") && stage.contains("<code>2.1</code>"))
            XCTAssertTrue(
                stage.contains("<figure class=\"diagram\"><svg") && !stage.contains("data-lang=\"diagram:"),
                "\(language): the namespaces diagram is drawn as SVG")
            for (page, kind) in [("stage3-cgroups", "cgroups"), ("stage4-oci", "callchain")] {
                let html = try read("\(language)/\(page).html")
                XCTAssertTrue(
                    html.contains(
                        "<figure class=\"diagram\"><svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram \(kind)\"")
                        && !html.contains("data-lang=\"diagram:"),
                    "\(language): \(page)'s \(kind) diagram is drawn as SVG")
            }
        }
    }

    /// A card is hidden until its mark has the focus: the page is opened as it is, with one line
    /// added that focuses a mark and writes what the browser computed into the title.
    func testAMarksCardShowsOnFocusOnly() throws {
        guard let chromium = Browser.find() else {
            return XCTFail("chromium is not installed: apt-get install chromium")
        }
        let page = try read("en/timeline.html")
        let id = "2019-runc-cve-2019-5736"
        for focus in [false, true] {
            let probe =
                (focus ? "document.getElementById('event-\(id)').focus();" : "")
                + "document.title = 'card:' + getComputedStyle(document.getElementById('card-\(id)')).display;"
            let path = site + "/en/probe-\(focus).html"
            try page.replacingOccurrences(of: "</body>", with: "<script>\(probe)</script></body>")
                .write(toFile: path, atomically: true, encoding: .utf8)
            let dom = try Browser.run(chromium, ["--dump-dom", URL(fileURLWithPath: path).absoluteString])
            XCTAssertEqual(dom.status, 0, dom.output)
            XCTAssertTrue(
                dom.output.contains("<title>card:\(focus ? "inline" : "none")</title>"),
                "focus \(focus): \(dom.output.prefix(300))")
        }
    }
}
