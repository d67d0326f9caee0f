import Foundation

/// Every link of a static site, checked offline: each relative href or src of each HTML file
/// names a file of the site, and each #fragment an id in the page it points at.
public enum SiteLinks {
    /// What does not resolve, as "page: href (why)"; empty when every link does.
    public static func broken(in site: URL) throws -> [String] {
        let fm = FileManager.default
        let pages = try fm.subpathsOfDirectory(atPath: site.path).filter { $0.hasSuffix(".html") }
        let attribute = try NSRegularExpression(pattern: #"(?:href|src)="([^"]*)""#)
        let idPattern = try NSRegularExpression(pattern: #"\bid="([^"]*)""#)
        var ids: [String: Set<String>] = [:]
        func idsOf(_ path: String) -> Set<String> {
            if let known = ids[path] { return known }
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let found = Set(
                idPattern.matches(in: text, range: NSRange(text.startIndex..., in: text))
                    .compactMap { Range($0.range(at: 1), in: text).map { String(text[$0]) } })
            ids[path] = found
            return found
        }
        var problems: [String] = []
        for page in pages.sorted() {
            let url = site.appendingPathComponent(page)
            let text = try String(contentsOf: url, encoding: .utf8)
            for match in attribute.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                guard let range = Range(match.range(at: 1), in: text) else { continue }
                let link = text[range].replacingOccurrences(of: "&amp;", with: "&")
                if link.hasPrefix("http://") || link.hasPrefix("https://") || link.hasPrefix("mailto:") { continue }
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let target =
                    parts[0].isEmpty
                    ? url : url.deletingLastPathComponent().appendingPathComponent(parts[0]).standardizedFileURL
                guard fm.fileExists(atPath: target.path) else {
                    problems.append("\(page): \(link) (no such file)")
                    continue
                }
                if parts.count == 2, !parts[1].isEmpty, target.pathExtension == "html",
                    !idsOf(target.path).contains(parts[1])
                {
                    problems.append("\(page): \(link) (no id \(parts[1]) there)")
                }
            }
        }
        return problems
    }
}
