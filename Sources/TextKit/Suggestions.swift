import Foundation

/// "Did you mean" for ids typed on the command line or in the data.
public enum Suggestions {
    /// Levenshtein distance, on characters.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// Up to `limit` candidates closest to `text`: those within a third of its length (at
    /// least 2 edits), plus those that contain it or that it contains, nearest first.
    public static func nearest(to text: String, among candidates: [String], limit: Int = 3) -> [String] {
        let needle = text.lowercased()
        guard !needle.isEmpty else { return [] }
        let threshold = max(2, needle.count / 3)
        let scored = candidates.compactMap { candidate -> (String, Int)? in
            let lower = candidate.lowercased()
            let distance = editDistance(needle, lower)
            if distance <= threshold { return (candidate, distance) }
            if lower.contains(needle) || (needle.count >= 3 && needle.contains(lower) && lower.count >= 2) {
                return (candidate, threshold + 1 + abs(lower.count - needle.count))
            }
            return nil
        }
        return scored.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(limit).map(\.0)
    }
}
