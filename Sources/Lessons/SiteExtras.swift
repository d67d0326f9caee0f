import ContlabCore
import TextKit
import Foundation

/// What the lessons site shows beside the lessons, handed in by the command that has the data
/// (the timeline picture, the exercises, the history events): this target reads only lessons.
public struct SiteExtras: Sendable {
    public struct Exercise: Sendable {
        public var id: String
        public var title: String
        public init(id: String, title: String) {
            self.id = id
            self.title = title
        }
    }

    /// One thing the site's search finds: its title, the text searched, and where it leads
    /// (relative to the language's folder).
    public struct SearchEntry: Sendable, Encodable {
        public var title: String
        public var text: String
        public var url: String
        public init(title: String, text: String, url: String) {
            self.title = title
            self.text = text
            self.url = url
        }
    }

    /// The timeline picture per language: an SVG whose marks link to lesson pages.
    public var timeline: [Language: String] = [:]
    /// Each stage's exercises, per language.
    public var exercises: [Language: [Int: [Exercise]]] = [:]
    /// The history events, searched beside the lessons, per language.
    public var events: [Language: [SearchEntry]] = [:]
    /// Drawings as SVG, by the data file a lesson's ```diagram:FILE block names, per language;
    /// the block's text drawing stays where there is none.
    public var diagrams: [Language: [String: String]] = [:]

    public init() {}
}

extension HTMLSite {
    /// cmark's `<h2>` headings with ids (a slug of the text, or s1, s2… where the text has no
    /// Latin letters), and the table of contents that links to them.
    static func anchorHeadings(_ html: String) -> (html: String, contents: [(id: String, text: String)]) {
        let pattern = try! NSRegularExpression(pattern: #"<h2>(.*?)</h2>"#)
        var contents: [(String, String)] = []
        var used: Set<String> = []
        var result = ""
        var last = html.startIndex
        for match in pattern.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            guard let whole = Range(match.range, in: html), let inner = Range(match.range(at: 1), in: html) else {
                continue
            }
            let text = plainText(String(html[inner]))
            var slug = String(
                text.lowercased().unicodeScalars.map {
                    ("a"..."z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "-"
                }
            )
            .split(separator: "-").joined(separator: "-")
            if slug.count < 2 { slug = "s\(contents.count + 1)" }
            var id = slug
            var n = 2
            while used.contains(id) { id = "\(slug)-\(n)"; n += 1 }
            used.insert(id)
            contents.append((id, text))
            result += html[last..<whole.lowerBound] + "<h2 id=\"\(id)\">\(html[inner])</h2>"
            last = whole.upperBound
        }
        result += html[last...]
        return (result, contents)
    }

    /// Each `diagram:FILE` code block replaced by its SVG, in a figure that scrolls if narrow.
    static func drawDiagrams(_ html: String, _ svgs: [String: String]) -> String {
        let pattern = try! NSRegularExpression(
            pattern: #"<pre data-lang="diagram:([^"]+)"><code class="[^"]*">.*?</code></pre>"#,
            options: [.dotMatchesLineSeparators])
        var result = ""
        var last = html.startIndex
        for match in pattern.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            guard let whole = Range(match.range, in: html), let name = Range(match.range(at: 1), in: html),
                let svg = svgs[String(html[name])]
            else { continue }
            result += html[last..<whole.lowerBound] + "<figure class=\"diagram\">" + svg + "</figure>"
            last = whole.upperBound
        }
        return result + html[last...]
    }

    /// Text without tags and with the five escaped characters read back.
    static func plainText(_ html: String) -> String {
        let stripped = html.replacingOccurrences(of: #"<[^>]+>"#, with: "", options: .regularExpression)
        return stripped.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The search, in plain JavaScript over an index loaded as a script (a page opened from
    /// disk may not fetch files): every word typed must appear in the title or the text.
    /// Without JavaScript the box stays hidden and the pages read as they are.
    static let searchScript = #"""
        (function () {
          var box = document.getElementById("search");
          var list = document.getElementById("results");
          if (!box || !list || typeof CONTLAB_INDEX === "undefined") return;
          box.hidden = false;
          function search() {
            var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
            list.textContent = "";
            if (!words.length) return;
            CONTLAB_INDEX.filter(function (entry) {
              var hay = (entry.title + " " + entry.text).toLowerCase();
              return words.every(function (w) { return hay.indexOf(w) >= 0; });
            }).slice(0, 20).forEach(function (entry) {
              var item = document.createElement("li");
              var link = document.createElement("a");
              link.href = entry.url;
              link.textContent = entry.title;
              item.appendChild(link);
              list.appendChild(item);
            });
          }
          box.addEventListener("input", search);
          // index.html#q=words opens with that search done: a link can carry a search.
          var asked = /^#q=(.*)$/.exec(location.hash);
          if (asked) { box.value = decodeURIComponent(asked[1]); search(); }
        })();
        """#
}
