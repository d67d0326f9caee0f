// Where everything goes on the timeline picture, as numbers: a time axis where x is
// proportional to the date, one lane per kind of event, inside it one row per technology
// (shared where they do not meet, so no two labels touch), eras as bands, and the
// technologies' "borrowed from" links between their first marks. SVGRenderer only draws this; the tests check the
// geometry it produces.
import ContlabCore
import TextKit

public struct TimeAxisLayout: Sendable {
    public struct Mark: Sendable {
        public let event: Event
        public let x: Double
        public let y: Double
        /// The technology's name, on the first mark of its row only ("" on the others).
        public let label: String
        /// Where the label starts; it sits on the mark's row, before the first mark or after the last.
        public let labelX: Double
        public let labelWidth: Double
    }

    public struct Lane: Sendable {
        public let kind: EventKind
        public let top: Double
        public let height: Double
    }

    /// A technology's row inside its lane, from its first mark to its last.
    public struct Run: Sendable {
        public let technology: String
        public let kind: EventKind
        public let y: Double
        public let x0: Double
        public let x1: Double
    }

    public struct Band: Sendable {
        public let era: Era
        public let x0: Double
        public let x1: Double
    }

    /// An arrow from the technology an idea came from to the one that took it up.
    public struct Link: Sendable {
        public let from: String
        public let to: String
        public let start: (x: Double, y: Double)
        public let end: (x: Double, y: Double)
    }

    // A4 landscape in proportion (297 × 210 mm), at a size where 12 px text reads when printed.
    public static let width = 1600.0
    static let plotLeft = 190.0
    static let plotRight = width - 40
    static let plotTop = 150.0
    static let rowHeight = 17.0
    static let lanePadding = 8.0
    static let markRadius = 4.5
    static let labelSize = 11.0
    static let labelGap = 3.0

    public let fromYear: Int
    /// The axis ends at the start of the year after this one.
    public let toYear: Int
    public let marks: [Mark]
    public let lanes: [Lane]
    public let runs: [Run]
    public let bands: [Band]
    public let links: [Link]
    public let plotBottom: Double
    public var height: Double { plotBottom + 70 }

    /// A date as a fractional year: a bare year at its start, a month at its middle, a day at its
    /// own place, so that x keeps the order the timeline sorts by.
    public static func position(_ date: HistoryDate) -> Double {
        guard let month = date.month else { return Double(date.year) }
        guard let day = date.day else { return Double(date.year) + (Double(month - 1) + 0.5) / 12 }
        return Double(date.year)
            + (Double(month - 1) + (Double(day) - 0.5) / Double(HistoryDate.daysIn(month: month, year: date.year))) / 12
    }

    public func x(_ year: Double) -> Double { Self.xPosition(year, from: fromYear, to: toYear) }

    public init(data: HistoryData, selection: TimelineSelection) {
        fromYear = selection.from
        toYear = selection.to
        let names = Dictionary(data.technologies.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var marks: [Mark] = []
        var lanes: [Lane] = []
        var lines: [Run] = []
        var top = Self.plotTop
        for kind in EventKind.allCases {
            // Inside a lane each technology keeps to one row, its events along it and its name
            // before the first (after the last, where the name would leave the plot), so the
            // picture reads as lines of descent. Rows are shared where technologies do not
            // meet: greedy, in the order their extents begin.
            var runs: [(technology: String, events: [(Event, Double)])] = []
            for event in selection.events where event.kind == kind {
                let technology = event.technologies.first ?? event.id
                let x = Self.xPosition(Self.position(event.date), from: fromYear, to: toYear)
                if let index = runs.firstIndex(where: { $0.technology == technology }) {
                    runs[index].events.append((event, x))
                } else {
                    runs.append((technology, [(event, x)]))
                }
            }
            var pieces: [(run: Int, label: String, labelX: Double, width: Double, start: Double, end: Double)] = []
            for (index, run) in runs.enumerated() {
                let label = Self.shortName(names[run.technology] ?? run.technology)
                let width = SVGRenderer.estimate(label, size: Self.labelSize)
                let first = run.events.first!.1, last = run.events.last!.1
                let before = first - Self.markRadius - Self.labelGap - width
                if before >= Self.plotLeft {
                    pieces.append((index, label, before, width, before, last + Self.markRadius))
                } else {
                    let after = last + Self.markRadius + Self.labelGap
                    pieces.append((index, label, after, width, first - Self.markRadius, after + width))
                }
            }
            var rowEnds: [Double] = []
            var rowOf: [Int: Int] = [:]
            for piece in pieces.sorted(by: { $0.start < $1.start }) {
                let row = rowEnds.firstIndex { $0 + Self.labelGap * 2 <= piece.start } ?? rowEnds.count
                if row == rowEnds.count { rowEnds.append(piece.end) } else { rowEnds[row] = piece.end }
                rowOf[piece.run] = row
            }
            let height = Double(max(rowEnds.count, 1)) * Self.rowHeight + 2 * Self.lanePadding
            for piece in pieces {
                let row = rowOf[piece.run]!
                let y = top + Self.lanePadding + (Double(row) + 0.5) * Self.rowHeight
                let events = runs[piece.run].events
                lines.append(
                    Run(
                        technology: runs[piece.run].technology, kind: kind, y: y, x0: events.first!.1,
                        x1: events.last!.1))
                for (order, (event, x)) in runs[piece.run].events.enumerated() {
                    marks.append(
                        Mark(
                            event: event, x: x, y: y, label: order == 0 ? piece.label : "",
                            labelX: piece.labelX, labelWidth: order == 0 ? piece.width : 0))
                }
            }
            lanes.append(Lane(kind: kind, top: top, height: height))
            top += height
        }
        plotBottom = top
        self.lanes = lanes
        self.runs = lines
        self.marks = marks

        bands = selection.groups.map { group in
            let first = max(group.era.from, selection.from)
            let last = min(group.era.to ?? selection.to, selection.to)
            return Band(
                era: group.era, x0: Self.xPosition(Double(first), from: selection.from, to: selection.to),
                x1: Self.xPosition(Double(last + 1), from: selection.from, to: selection.to))
        }

        // A technology's anchor is its first mark here; a link needs both ends on the picture.
        var anchor: [String: Mark] = [:]
        for mark in marks.sorted(by: { $0.event.date < $1.event.date }) {
            for id in mark.event.technologies where anchor[id] == nil { anchor[id] = mark }
        }
        var links: [Link] = []
        for technology in data.technologies {
            guard let to = anchor[technology.id] else { continue }
            for source in technology.borrowedFrom {
                guard let from = anchor[source], from.event.id != to.event.id else { continue }
                links.append(Link(from: source, to: technology.id, start: (from.x, from.y), end: (to.x, to.y)))
            }
        }
        self.links = links
    }

    /// "Open Container Initiative (OCI)" is labelled OCI: the abbreviation, where a name has one.
    static func shortName(_ name: String) -> String {
        guard let open = name.lastIndex(of: "("), name.hasSuffix(")") else { return name }
        let inner = name[name.index(after: open)..<name.index(before: name.endIndex)]
        return inner.isEmpty ? name : String(inner)
    }

    static func xPosition(_ year: Double, from: Int, to: Int) -> Double {
        plotLeft + (year - Double(from)) / Double(to + 1 - from) * (plotRight - plotLeft)
    }
}
