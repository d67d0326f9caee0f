import Foundation

/// The tables runc prints, made from text: `ps` filters ps(1)'s own table to a container's
/// processes, `list` aligns its columns as Go's tabwriter does. Pure, so tested without ps.
public enum ProcessTable {
    /// ps(1)'s header, then the lines whose PID column holds one of `pids`; nil when the header
    /// has no PID column (a `-o` without pid).
    public static func filter(_ output: String, pids: Set<Int32>) -> [String]? {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let header = lines.first,
            let column = header.split(whereSeparator: \.isWhitespace).firstIndex(of: "PID")
        else { return nil }
        return [header]
            + lines.dropFirst().filter { line in
                let fields = line.split(whereSeparator: \.isWhitespace)
                return column < fields.count && Int32(fields[column]).map(pids.contains) == true
            }
    }

    /// Rows aligned as runc's list aligns them (tabwriter: minimum width 12, padding 3); the
    /// last column is not padded.
    public static func columns(_ rows: [[String]]) -> [String] {
        let count = rows.map(\.count).max() ?? 0
        let widths = (0..<count).map { index in
            max(12, (rows.compactMap { index < $0.count ? $0[index].count : nil }.max() ?? 0) + 3)
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined()
        }
    }
}
