import Foundation
import TestSupport
import TextKit
import XCTest
@testable import Lessons

final class HTMLExportTests: XCTestCase {
    var site: URL!

    override func setUpWithError() throws {
        site = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-site-\(UUID().uuidString)")
        try HTMLSite(catalog: LessonCatalog.load(from: Paths.fixtureLessons)).write(to: site)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: site)
    }

    func read(_ path: String) throws -> String {
        try String(contentsOf: site.appendingPathComponent(path), encoding: .utf8)
    }

    func testTheSiteHasEveryPageInBothLanguages() throws {
        let files = try FileManager.default.subpathsOfDirectory(atPath: site.path).filter {
            $0.hasSuffix(".html") || $0.hasSuffix(".css")
        }
        XCTAssertEqual(
            Set(files),
            [
                "index.html", "style.css", "en/index.html", "zh/index.html",
                "en/fixture-everything.html", "en/fixture-history.html",
                "zh/fixture-everything.html", "zh/fixture-history.html"
            ])
    }

    func testALessonPageHasNavigationLanguageSwitchAndSources() throws {
        let page = try read("en/fixture-everything.html")
        XCTAssertTrue(page.contains("<html lang=\"en\">"))
        XCTAssertTrue(page.contains("<title>Fixture: every Markdown node — contlab</title>"))
        XCTAssertTrue(page.contains("href=\"../zh/fixture-everything.html\""), "switch to the same lesson in Chinese")
        XCTAssertTrue(page.contains("rel=\"next\" href=\"fixture-history.html\""))
        XCTAssertFalse(page.contains("rel=\"prev\""), "the first lesson has no previous one")
        XCTAssertTrue(page.contains("<h1>A root of your own</h1>"), "cmark's HTML for the body")
        XCTAssertTrue(
            page.contains(
                "<li><a href=\"https://man7.org/linux/man-pages/man2/chroot.2.html\">chroot(2), Linux manual "
                    + "page</a></li>"
            ))
        XCTAssertTrue(page.contains("<li><cite>Version 7 Unix Programmer&#39;s Manual</cite></li>"))
        XCTAssertTrue(
            page.contains("<a href=\"fixture-history.html\">stage 2</a>"), "links between lessons point at pages")
        XCTAssertTrue(page.contains("<pre data-lang=\"sh\"><code class=\"language-sh\">"))
        XCTAssertFalse(page.contains("A note for the lesson writers"), "HTML comments stay out")

        let chinese = try read("zh/fixture-history.html")
        XCTAssertTrue(chinese.contains("<html lang=\"zh-Hans\">"))
        XCTAssertTrue(chinese.contains("rel=\"prev\" href=\"fixture-everything.html\""))
        XCTAssertTrue(chinese.contains("第七版 Unix 加入了 <code>chroot</code>。二十一年后"))
        // A line end between two Chinese characters does not become a space.
        XCTAssertTrue(try read("zh/fixture-everything.html").contains("。请把"))
    }

    func testTheIndexesListTheLessonsInOrder() throws {
        let index = try read("zh/index.html")
        let first = try XCTUnwrap(index.range(of: "fixture-everything.html"))
        let second = try XCTUnwrap(index.range(of: "fixture-history.html"))
        XCTAssertLessThan(first.lowerBound, second.lowerBound)
        XCTAssertTrue(index.contains("href=\"../en/index.html\""))
        let home = try read("index.html")
        XCTAssertTrue(
            home.contains("href=\"en/fixture-everything.html\"") && home.contains("href=\"zh/fixture-history.html\""))
    }

    /// The site as `contlab lessons export` makes it: a picture whose marks link to a lesson and
    /// to the timeline itself, exercises for stage 1, events to search.
    func siteWithExtras() throws -> URL {
        var extras = SiteExtras()
        for language in Language.allCases {
            extras.timeline[language] =
                #"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><a id="event-1979-chroot" href="fixture-history.html"><circle r="4"/></a><a id="event-x" href="timeline.html#event-1979-chroot"><circle r="4"/></a></svg>"#
            extras.exercises[language] = [
                1: [
                    SiteExtras.Exercise(id: "1.1", title: "A root of your own"),
                    SiteExtras.Exercise(id: "1.2", title: "Escape")
                ]
            ]
            extras.events[language] = [
                SiteExtras.SearchEntry(title: "1979 — chroot", text: "Version 7 Unix", url: "fixture-history.html")
            ]
        }
        let place = site.appendingPathComponent("with-extras")
        try HTMLSite(catalog: LessonCatalog.load(from: Paths.fixtureLessons), extras: extras).write(to: place)
        return place
    }

    func testEveryLinkInTheSiteResolves() throws {
        // The fixture shows an image, tree.png, that it does not ship: the only link that may fail.
        func broken(_ place: URL) throws -> [String] {
            try SiteLinks.broken(in: place).filter { !$0.contains("tree.png") }
        }
        XCTAssertEqual(try broken(site), [])
        let place = try siteWithExtras()
        XCTAssertEqual(try broken(place), [])
        // The checker itself: a page with a dangling link and a missing anchor is caught.
        let bad = place.appendingPathComponent("en/bad.html")
        try #"<a href="nowhere.html">x</a> <a href="index.html#no-such-id">y</a> <a href="https://example.org/">z</a>"#
            .write(to: bad, atomically: true, encoding: .utf8)
        XCTAssertEqual(try broken(place).count, 2)
    }

    func testStageLessonsSayHowToRunThemAndHaveAContentsList() throws {
        let place = try siteWithExtras()
        let page = try String(contentsOf: place.appendingPathComponent("en/fixture-everything.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<code>contlab stage 1</code>"), "the walk-through's command")
        XCTAssertTrue(
            page.contains("<li><code>1.1</code> A root of your own</li>")
                && page.contains("<code>contlab verify 1.1</code>"))
        let zh = try String(contentsOf: place.appendingPathComponent("zh/fixture-history.html"), encoding: .utf8)
        XCTAssertTrue(zh.contains("href=\"timeline.html\""), "a history lesson links to the timeline")
        // Headings get ids, and the contents list links each (the fixtures have one h2: a page
        // with several is checked on the real lessons in IntegrationTests).
        let (html, contents) = HTMLSite.anchorHeadings("<h2>What it is</h2><p>x</p><h2>What it is</h2><h2>它是什么</h2>")
        XCTAssertEqual(contents.map(\.id), ["what-it-is", "what-it-is-2", "s3"])
        XCTAssertEqual(
            html,
            #"<h2 id="what-it-is">What it is</h2><p>x</p><h2 id="what-it-is-2">What it is</h2><h2 id="s3">它是什么</h2>"#)
    }

    /// Search runs in the page: index.html#q=… opens with the results of that search.
    func testTheSearchFindsLessonsAndEvents() throws {
        guard let chromium = Browser.find() else {
            return XCTFail("chromium is not installed: apt-get install chromium")
        }
        let place = try siteWithExtras()
        let url = place.appendingPathComponent("en/index.html").absoluteString + "#q=version%207"
        let dom = try Browser.run(chromium, ["--dump-dom", url])
        XCTAssertEqual(dom.status, 0, dom.output)
        XCTAssertTrue(
            dom.output.contains(#"<li><a href="fixture-history.html">1979 — chroot</a></li>"#),
            String(dom.output.prefix(2000)))
        let none = try Browser.run(
            chromium, ["--dump-dom", place.appendingPathComponent("en/index.html").absoluteString + "#q=zzzqqq"])
        XCTAssertTrue(none.output.contains(#"<ol id="results"></ol>"#), "nothing matches a word that is nowhere")
    }

    // A real browser opens the site: the pages load (a PNG is drawn) and the lesson's title is
    // in the DOM Chromium built.
    func testChromiumRendersTheSite() throws {
        guard let chromium = Browser.find() else {
            XCTFail(
                "chromium is not installed, so the exported site cannot be checked in a browser: apt-get install "
                    + "chromium (the Makefile's setup installs it)"
            )
            return
        }
        for (page, title) in [
            ("index.html", "contlab lessons"), ("en/fixture-everything.html", "Fixture: every Markdown node"),
            ("zh/fixture-everything.html", "示例：每一种 Markdown 节点")
        ] {
            let url = site.appendingPathComponent(page)
            let png = site.appendingPathComponent(page.replacingOccurrences(of: "/", with: "-") + ".png")
            let shot = try Browser.run(
                chromium, ["--screenshot=\(png.path)", "--window-size=1280,900", url.absoluteString])
            XCTAssertEqual(shot.status, 0, shot.output)
            let data = try Data(contentsOf: png)
            XCTAssertGreaterThan(data.count, 1000, "\(page): screenshot is too small to show anything")
            XCTAssertEqual(
                Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(page): not a PNG")
            if let keep = ProcessInfo.processInfo.environment["CONTLAB_KEEP_SCREENSHOTS"], !keep.isEmpty {
                try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
                try? data.write(to: URL(fileURLWithPath: keep).appendingPathComponent(png.lastPathComponent))
            }

            let dom = try Browser.run(chromium, ["--dump-dom", url.absoluteString])
            XCTAssertEqual(dom.status, 0, dom.output)
            XCTAssertTrue(
                dom.output.contains("<title>\(title)"), "\(page): title not in the DOM:\n\(dom.output.prefix(500))")
        }
    }
}
