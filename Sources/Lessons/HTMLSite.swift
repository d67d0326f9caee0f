import Foundation
import ContlabCore
import TextKit

/// A static site of every lesson in both languages: `index.html` (both languages),
/// `<lang>/index.html`, `<lang>/<id>.html` and one `style.css`. Pages link with relative URLs,
/// so the directory can be opened from disk, copied to a USB stick, or served as it is.
public struct HTMLSite: Sendable {
    public var catalog: LessonCatalog
    public var extras: SiteExtras

    public init(catalog: LessonCatalog, extras: SiteExtras = SiteExtras()) {
        self.catalog = catalog
        self.extras = extras
    }

    /// Every file of the site, by path relative to the site's directory. Pure: `write(to:)` does
    /// the I/O.
    public func files() -> [String: String] {
        var files = ["style.css": HTMLSite.stylesheet, "index.html": home(), "search.js": HTMLSite.searchScript]
        for language in Language.allCases {
            let lessons = catalog.lessons(in: language)
            files["\(language.rawValue)/index.html"] = index(language)
            files["\(language.rawValue)/search-index.js"] = searchIndex(language)
            if let picture = extras.timeline[language] {
                files["\(language.rawValue)/timeline.html"] = timelinePage(language, picture: picture)
            }
            for (position, lesson) in lessons.enumerated() {
                files["\(language.rawValue)/\(lesson.id).html"] = page(
                    lesson,
                    previous: position > 0 ? lessons[position - 1] : nil,
                    next: position + 1 < lessons.count ? lessons[position + 1] : nil)
            }
        }
        return files
    }

    /// Writes the site into `directory` (created if needed; existing files of the same names
    /// are replaced, others left alone). Returns the paths written.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        let fm = FileManager.default
        var written: [URL] = []
        for (path, contents) in files().sorted(by: { $0.key < $1.key }) {
            let url = directory.appendingPathComponent(path)
            do {
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(contents.utf8).write(to: url, options: .atomic)
            } catch {
                throw LessonsError.exportFailed(path: url.path, reason: error.localizedDescription)
            }
            written.append(url)
        }
        return written
    }

    // MARK: Pages

    func page(_ lesson: Lesson, previous: Lesson?, next: Lesson?) -> String {
        let labels = Labels.of(lesson.language)
        let other = lesson.language.other
        let counterpart =
            catalog.lessons(in: other).contains { $0.id == lesson.id }
            ? "../\(other.rawValue)/\(lesson.id).html" : "../\(other.rawValue)/index.html"
        let document = MarkdownDocument(parsing: lesson.body)
        var title = ""
        if case .heading(1, _)? = document.blocks.first {
        } else {
            title = "<h1>\(escape(lesson.title))</h1>\n"
        }
        let rendered = HTMLSite.labelCodeBlocks(CommonMark.html(lesson.body, rewriteURL: HTMLSite.exportedURL))
        let anchored = HTMLSite.anchorHeadings(HTMLSite.drawDiagrams(rendered, extras.diagrams[lesson.language] ?? [:]))
        let body = anchored.html
        var contents = ""
        if anchored.contents.count > 1 {
            contents =
                "<nav class=\"toc\" aria-label=\"\(escape(labels.contents))\"><p>\(escape(labels.contents))</p><ol>\n"
                + anchored.contents.map { "<li><a href=\"#\($0.id)\">\(escape($0.text))</a></li>" }.joined(
                    separator: "\n")
                + "\n</ol></nav>\n"
        }
        var tryIt = ""
        if lesson.metadata.kind == .stage, let stage = lesson.metadata.stage {
            let exercises = extras.exercises[lesson.language]?[stage] ?? []
            tryIt =
                "<aside class=\"try\"><p><strong>\(escape(labels.tryIt))</strong> \(escape(labels.walkthrough)) "
                + "<code>contlab stage \(stage)</code></p>\n"
            if !exercises.isEmpty {
                tryIt +=
                    "<p>\(escape(labels.exercisesIntro)) <code>contlab exercises init lab</code>, <code>contlab "
                    + "verify \(escape(exercises[0].id))</code></p>\n<ul>\n"
                    + exercises.map { "<li><code>\(escape($0.id))</code> \(escape($0.title))</li>" }.joined(
                        separator: "\n") + "\n</ul>\n"
            }
            tryIt += "</aside>\n"
        }
        if lesson.metadata.kind == .history, extras.timeline[lesson.language] != nil {
            tryIt = "<aside class=\"try\"><p><a href=\"timeline.html\">\(escape(labels.timeline))</a></p></aside>\n"
        }
        let sources = lesson.metadata.sources.map { source -> String in
            if let url = source.url {
                return "<li><a href=\"\(escape(url))\">\(escape(source.title))</a></li>"
            }
            return "<li><cite>\(escape(source.title))</cite></li>"
        }.joined(separator: "\n")
        var pager = ""
        if let previous {
            pager +=
                "<a class=\"previous\" rel=\"prev\" "
                + "href=\"\(escape(previous.id)).html\"><span>← \(escape(labels.previous))</span>\(escape(previous.title))</a>\n"
        }
        if let next {
            pager +=
                "<a class=\"next\" rel=\"next\" href=\"\(escape(next.id)).html\"><span>\(escape(labels.next)) "
                + "→</span>\(escape(next.title))</a>\n"
        }
        return """
            \(HTMLSite.head(lang: lesson.language.htmlTag, title: lesson.title + " — contlab", stylesheet: "../style.css",
                        extra: "<link rel=\"alternate\" hreflang=\"\(other.htmlTag)\" href=\"\(counterpart)\">\n"))
            <body>
            <nav class="top">
            <a href="index.html">↑ \(escape(labels.allLessons))</a>
            <a class="language" href="\(counterpart)" hreflang="\(other.htmlTag)" lang="\(other.htmlTag)">\(other.nativeName)</a>
            </nav>
            <main>
            <article>
            <p class="place">\(escape(labels.place(of: lesson.metadata)))</p>
            \(title)\(tryIt)\(contents)\(body)
            <section class="sources">
            <h2>\(escape(labels.sources))</h2>
            <ol>
            \(sources)
            </ol>
            </section>
            </article>
            </main>
            <nav class="pager">
            \(pager)</nav>
            </body>
            </html>

            """
    }

    func lessonList(_ language: Language, prefix: String) -> String {
        let labels = Labels.of(language)
        let lessons = catalog.lessons(in: language)
        if lessons.isEmpty { return "<p class=\"empty\">\(escape(labels.noLessons))</p>" }
        var html = ""
        for (kind, heading) in [(LessonKind.stage, labels.stageLessons), (.history, labels.historyLessons)] {
            let group = lessons.filter { $0.metadata.kind == kind }
            guard !group.isEmpty else { continue }
            html += "<h3>\(escape(heading))</h3>\n<ol class=\"lessons\">\n"
            for lesson in group {
                html +=
                    "<li><span class=\"place\">\(escape(labels.place(of: lesson.metadata)))</span> <a "
                    + "href=\"\(prefix)\(escape(lesson.id)).html\">\(escape(lesson.title))</a></li>\n"
            }
            html += "</ol>\n"
        }
        return html
    }

    func index(_ language: Language) -> String {
        let labels = Labels.of(language)
        let other = language.other
        return """
            \(HTMLSite.head(lang: language.htmlTag, title: labels.siteTitle, stylesheet: "../style.css"))
            <body>
            <nav class="top">
            <a href="../index.html">↑ contlab</a>
            <a class="language" href="../\(other.rawValue)/index.html" hreflang="\(other.htmlTag)" lang="\(other.htmlTag)">\(other.nativeName)</a>
            </nav>
            <main>
            <h1>\(escape(labels.siteTitle))</h1>
            <p class="intro">\(escape(labels.siteIntro))</p>
            \(extras.timeline[language] == nil ? "" : "<p><a href=\"timeline.html\">\(escape(labels.timeline))</a></p>")
            <input id="search" type="search" hidden placeholder="\(escape(labels.search))" aria-label="\(escape(labels.search))">
            <ol id="results"></ol>
            \(lessonList(language, prefix: ""))
            </main>
            <script src="search-index.js"></script>
            <script src="../search.js"></script>
            </body>
            </html>

            """
    }

    func home() -> String {
        let columns = Language.allCases.map { language -> String in
            let labels = Labels.of(language)
            return """
                <section lang="\(language.htmlTag)">
                <h2><a href="\(language.rawValue)/index.html">\(escape(labels.siteTitle))</a></h2>
                <p class="intro">\(escape(labels.siteIntro))</p>
                \(lessonList(language, prefix: "\(language.rawValue)/"))
                </section>
                """
        }.joined(separator: "\n")
        return """
            \(HTMLSite.head(lang: "en", title: "contlab lessons · contlab 课程", stylesheet: "style.css"))
            <body>
            <main class="home">
            <h1>contlab</h1>
            <div class="columns">
            \(columns)
            </div>
            </main>
            </body>
            </html>

            """
    }

    /// Every page's start, up to and including </head>; `extra` goes before </head>.
    static func head(lang: String, title: String, stylesheet: String, extra: String = "") -> String {
        """
        <!doctype html>
        <html lang="\(lang)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <link rel="stylesheet" href="\(stylesheet)">
        \(extra)</head>
        """
    }

    /// The timeline picture on a page of its own, inline so that its marks link and its cards
    /// show on hover and focus.
    func timelinePage(_ language: Language, picture: String) -> String {
        let labels = Labels.of(language)
        let other = language.other
        let svg = picture.range(of: "?>").map { String(picture[$0.upperBound...]) } ?? picture
        return """
            \(HTMLSite.head(lang: language.htmlTag, title: labels.timeline + " — contlab", stylesheet: "../style.css"))
            <body>
            <nav class="top">
            <a href="index.html">↑ \(escape(labels.allLessons))</a>
            <a class="language" href="../\(other.rawValue)/timeline.html" hreflang="\(other.htmlTag)" lang="\(other.htmlTag)">\(other.nativeName)</a>
            </nav>
            <main class="timeline">
            <p class="intro">\(escape(labels.timelineIntro))</p>
            <div class="picture">\(svg)</div>
            </main>
            </body>
            </html>

            """
    }

    /// The lessons and events of `language` for search.js, as a script that sets CONTLAB_INDEX.
    func searchIndex(_ language: Language) -> String {
        var entries = catalog.lessons(in: language).map { lesson in
            SiteExtras.SearchEntry(
                title: lesson.title, text: HTMLSite.plainText(CommonMark.html(lesson.body, rewriteURL: { _ in nil })),
                url: "\(lesson.id).html")
        }
        entries += extras.events[language] ?? []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(entries)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        // A script, not JSON: "</script" cannot end it early here, but a stray "<!--" could; both are escaped.
        return "var CONTLAB_INDEX = " + json.replacingOccurrences(of: "<", with: "\\u003c") + ";\n"
    }

    /// Gives each `<pre>` whose code has a language (cmark writes `<pre><code class="language-sh">`)
    /// a `data-lang` attribute, so the stylesheet can show the language as a label.
    static func labelCodeBlocks(_ html: String) -> String {
        let pattern = try! NSRegularExpression(pattern: #"<pre><code class="language-([^"]+)">"#)
        return pattern.stringByReplacingMatches(
            in: html, range: NSRange(html.startIndex..., in: html),
            withTemplate: #"<pre data-lang="$1"><code class="language-$1">"#)
    }

    /// Links between lessons are written as `other-lesson.md` (so they also work on a Git
    /// forge); in the site they point at the exported page.
    static func exportedURL(_ url: String) -> String? {
        guard TerminalRenderer.lessonID(linkedBy: url) != nil else { return nil }
        var parts = url.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        parts[0] = String(parts[0].dropLast(3)) + ".html"
        return parts.joined(separator: "#")
    }
}

/// Escapes text for HTML element content and double-quoted attributes.
func escape(_ text: String) -> String { Markup.escape(text) }
