import Foundation
import ContlabCore
import TextKit

/// A static site of every lesson in both languages: `index.html` (both languages),
/// `<lang>/index.html`, `<lang>/<id>.html` and one `style.css`. Pages link with relative URLs,
/// so the directory can be opened from disk, copied to a USB stick, or served as it is.
public struct HTMLSite: Sendable {
    public var catalog: LessonCatalog

    public init(catalog: LessonCatalog) { self.catalog = catalog }

    /// Every file of the site, by path relative to the site's directory. Pure: `write(to:)` does
    /// the I/O.
    public func files() -> [String: String] {
        var files = ["style.css": HTMLSite.stylesheet, "index.html": home()]
        for language in Language.allCases {
            let lessons = catalog.lessons(in: language)
            files["\(language.rawValue)/index.html"] = index(language)
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
        let counterpart = catalog.lessons(in: other).contains { $0.id == lesson.id }
            ? "../\(other.rawValue)/\(lesson.id).html" : "../\(other.rawValue)/index.html"
        let document = MarkdownDocument(parsing: lesson.body)
        var title = ""
        if case .heading(1, _)? = document.blocks.first {} else {
            title = "<h1>\(escape(lesson.title))</h1>\n"
        }
        let body = HTMLSite.labelCodeBlocks(CommonMark.html(lesson.body, rewriteURL: HTMLSite.exportedURL))
        let sources = lesson.metadata.sources.map { source -> String in
            if let url = source.url {
                return "<li><a href=\"\(escape(url))\">\(escape(source.title))</a></li>"
            }
            return "<li><cite>\(escape(source.title))</cite></li>"
        }.joined(separator: "\n")
        var pager = ""
        if let previous {
            pager += "<a class=\"previous\" rel=\"prev\" href=\"\(escape(previous.id)).html\"><span>← \(escape(labels.previous))</span>\(escape(previous.title))</a>\n"
        }
        if let next {
            pager += "<a class=\"next\" rel=\"next\" href=\"\(escape(next.id)).html\"><span>\(escape(labels.next)) →</span>\(escape(next.title))</a>\n"
        }
        return """
        <!doctype html>
        <html lang="\(lesson.language.htmlTag)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(lesson.title)) — contlab</title>
        <link rel="stylesheet" href="../style.css">
        <link rel="alternate" hreflang="\(other.htmlTag)" href="\(counterpart)">
        </head>
        <body>
        <nav class="top">
        <a href="index.html">↑ \(escape(labels.allLessons))</a>
        <a class="language" href="\(counterpart)" hreflang="\(other.htmlTag)" lang="\(other.htmlTag)">\(other.nativeName)</a>
        </nav>
        <main>
        <article>
        <p class="place">\(escape(labels.place(of: lesson.metadata)))</p>
        \(title)\(body)
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
                html += "<li><span class=\"place\">\(escape(labels.place(of: lesson.metadata)))</span> <a href=\"\(prefix)\(escape(lesson.id)).html\">\(escape(lesson.title))</a></li>\n"
            }
            html += "</ol>\n"
        }
        return html
    }

    func index(_ language: Language) -> String {
        let labels = Labels.of(language)
        let other = language.other
        return """
        <!doctype html>
        <html lang="\(language.htmlTag)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(labels.siteTitle))</title>
        <link rel="stylesheet" href="../style.css">
        </head>
        <body>
        <nav class="top">
        <a href="../index.html">↑ contlab</a>
        <a class="language" href="../\(other.rawValue)/index.html" hreflang="\(other.htmlTag)" lang="\(other.htmlTag)">\(other.nativeName)</a>
        </nav>
        <main>
        <h1>\(escape(labels.siteTitle))</h1>
        <p class="intro">\(escape(labels.siteIntro))</p>
        \(lessonList(language, prefix: ""))
        </main>
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
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>contlab lessons · contlab 课程</title>
        <link rel="stylesheet" href="style.css">
        </head>
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
